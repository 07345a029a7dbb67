# SPDX-License-Identifier: Apache-2.0
"""Services shared by the tests of one module (ARP, ND): started once, Initialized, and torn
down after the module. Tests that need the maintenance timer's first cycles start their own
(see test_periodic.py)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import harness


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    """dplane on TAPs (2 PFs, 2 VFs) without --enable-ipv6-overlay, initialised."""
    with harness.running_service() as svc:
        yield svc


@pytest.fixture(scope="module")
def svc6() -> Iterator[harness.Service]:
    """The same with --enable-ipv6-overlay."""
    with harness.running_service(["--enable-ipv6-overlay"]) as svc:
        yield svc
