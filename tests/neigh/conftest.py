# SPDX-License-Identifier: Apache-2.0
"""Services shared by the tests of one module (ARP, ND): started once, Initialized, and torn
down after the module. Tests that need the maintenance timer's first cycles start their own
(see test_periodic.py)."""
from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

import harness


def _shared_service(opts: list[str]) -> Iterator[harness.Service]:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces, TAP devices)")
    ns = harness.Netns()
    svc = None
    try:
        svc = harness.start_service(ns, harness.tap_eal_args(2, f"dpt{ns.id}"), opts)
        svc.initialize()
        yield svc
    finally:
        if svc is not None:
            status, err = svc.terminate()
            if status != 0:
                print(f"dplane exited with {status}:\n{err}")
        ns.delete()


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    """dplane on TAPs (2 PFs, 2 VFs) without --enable-ipv6-overlay, initialised."""
    yield from _shared_service(list(harness.SERVICE_OPTS))


@pytest.fixture(scope="module")
def svc6() -> Iterator[harness.Service]:
    """The same with --enable-ipv6-overlay."""
    yield from _shared_service(harness.SERVICE_OPTS + ["--enable-ipv6-overlay"])
