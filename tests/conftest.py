# SPDX-License-Identifier: Apache-2.0
from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import pytest

import harness

# Tests marked `quiet` measure what CPU contention would spoil (TCP between kernel VMs): they
# take this lock exclusively, every other test takes it shared, so with `-n 2` the other
# worker waits between its tests while a quiet test runs. (Module fixtures, such as started
# services, stay up meanwhile: their workers sleep.)
QUIET_LOCK = Path(tempfile.gettempdir()) / "dplane-tests-quiet.lock"


@pytest.fixture(autouse=True)
def _quiet(request) -> Iterator[None]:
    exclusive = request.node.get_closest_marker("quiet") is not None
    with open(QUIET_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        yield


def pytest_collection_modifyitems(config, items):
    if os.geteuid() == 0:
        return
    skip = pytest.mark.skip(reason="needs root (network namespaces, TAP devices)")
    for item in items:
        if "netns" in item.fixturenames or "start_service" in item.fixturenames:
            item.add_marker(skip)


@pytest.fixture
def netns() -> Iterator[harness.Netns]:
    ns = harness.Netns()
    try:
        yield ns
    finally:
        ns.delete()


StartService = Callable[..., harness.Service]


@pytest.fixture
def start_service(request) -> Iterator[StartService]:
    """start_service(nb_vfs=2, opts=None, eal=None, hugepages=False, memory_mb=None) -> a
    running dplane in
    a fresh netns."""
    running: list[harness.Service] = []
    namespaces: list[harness.Netns] = []

    def start(nb_vfs: int = 2, opts: Sequence[str] | None = None,
              eal: Sequence[str] | None = None, hugepages: bool = False,
              memory_mb: int | None = None) -> harness.Service:
        ns = harness.Netns()
        namespaces.append(ns)
        eal_args = list(eal) if eal is not None else harness.tap_eal_args(
            nb_vfs, f"dpt{ns.id}", hugepages, memory_mb=memory_mb)
        svc = harness.start_service(ns, eal_args,
                                    harness.SERVICE_OPTS if opts is None else opts)
        running.append(svc)
        return svc

    try:
        yield start
    finally:
        for svc in running:
            if not svc.stopped:
                status, err = svc.terminate()
                if status != 0:
                    print(f"dplane exited with {status}:\n{err}")
        for ns in namespaces:
            ns.delete()


@pytest.fixture
def service(start_service: StartService) -> harness.Service:
    """A fresh dplane on TAPs (2 PFs, 2 VFs), not yet initialised."""
    return start_service()
