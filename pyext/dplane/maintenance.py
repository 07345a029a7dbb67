# SPDX-License-Identifier: Apache-2.0
"""The maintenance timer (contract: "Periodic GARP / ND"): every 5 s for the first cycles,
then every 30 s once the controller has called Initialize, everything the features want
sent to each VM with an interface (the gratuitous ARP, the unsolicited NA, the RA). Features
add one sender each; a sender runs on the control thread for one interface."""
from __future__ import annotations

import logging
from collections.abc import Callable

from .control import ControlThread
from .interfaces import Interface, Interfaces
from .lifecycle import Lifecycle

log = logging.getLogger("dplane.maintenance")

FAST, FAST_CYCLES, SLOW = 5.0, 5, 30.0  # seconds, cycles, seconds

Sender = Callable[[Interface], None]


class Maintenance:
    def __init__(self, control: ControlThread, interfaces: Interfaces,
                 lifecycle: Lifecycle) -> None:
        self._control = control
        self._interfaces = interfaces
        self._lifecycle = lifecycle
        self._senders: list[Sender] = []
        self._cycles = 0

    def add(self, sender: Sender) -> None:
        """Run sender for every interface on each cycle, after those added before."""
        self._senders.append(sender)

    def start(self) -> None:
        self._control.after(FAST, self._cycle)

    def _cycle(self) -> None:
        for iface in self._interfaces:
            for send in self._senders:
                try:
                    send(iface)
                except OSError as exc:
                    log.warning("maintenance for %s: %s", iface.id, exc)
        self._cycles += 1
        fast = self._cycles < FAST_CYCLES or not self._lifecycle.initialized
        self._control.after(FAST if fast else SLOW, self._cycle)
