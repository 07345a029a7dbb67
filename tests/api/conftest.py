# SPDX-License-Identifier: Apache-2.0
"""The API tests of a module share one initialised service; each test's `svc` fixture (in
its module) deletes what the test created and checks that nothing is left."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import harness


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        yield svc
