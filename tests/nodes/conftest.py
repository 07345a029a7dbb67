# SPDX-License-Identifier: Apache-2.0
"""Fixtures of the node tests: one dataplane process per configuration and xdist worker,
started when a test first needs it and kept for the session (nodeutil.Dataplane)."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import nodeutil
from nodeutil import Config, Dataplane


@pytest.fixture(scope="session")
def dataplanes() -> Iterator[Callable[[Config], Dataplane]]:
    """dataplanes(config) -> the session's dataplane of that configuration, with the
    topology set up."""
    running: dict[Config, Dataplane] = {}

    def get(config: Config) -> Dataplane:
        if config in running and not running[config].alive:  # a crash ends one test only
            running.pop(config).close()
        if config not in running:
            dp = Dataplane(config)
            running[config] = dp
            if config.start:
                nodeutil.setup_topology(dp)
        return running[config]

    try:
        yield get
    finally:
        for dp in running.values():
            dp.close()


@pytest.fixture
def dp(dataplanes) -> Iterator[Dataplane]:
    """The main dataplane (IPv6 overlay on, DHCP options, 2048 flows), conntrack empty."""
    yield from _fresh(dataplanes(nodeutil.MAIN))


@pytest.fixture
def plain(dataplanes) -> Iterator[Dataplane]:
    """The dataplane with defaults (no IPv6 overlay), 8 flows, WCMP 50 %, conntrack empty."""
    yield from _fresh(dataplanes(nodeutil.PLAIN))


def _fresh(dp: Dataplane) -> Iterator[Dataplane]:
    """A test starts with no flows: what an earlier test created does not decide its
    packets' direction."""
    dp.ct_flush_all()
    yield dp
