# SPDX-License-Identifier: Apache-2.0
"""The overlay's uplinks: the PFs' view of the underlay, kept current for the datapath: link
state (multipath falls back to the other PF when one is down) and the router's MAC (the
destination of encapsulated frames); and the share of IPv4 underlay traffic for PF0
(--wcmp). Control thread only."""
from __future__ import annotations

import ipaddress
import logging
import time

from .. import _firmware, neighbours
from ..assembly import component
from ..cmdline import Config
from ..control import ControlThread
from ..ports import Port, Ports

log = logging.getLogger("dplane.uplinks")

POLL = 1.0                             # seconds between link checks
ROUTER_RETRY_FIRST, ROUTER_RETRY_MAX = 1.0, 60.0


@component
class Uplinks:
    def __init__(self, cfg: Config, ports: Ports, control: ControlThread) -> None:
        self._wcmp = cfg.wcmp
        self._host = ipaddress.IPv6Address(cfg.ipv6).packed
        self._pfs = ports.uplinks
        self._control = control
        self._link: dict[int, bool] = {}
        self._router: dict[int, bytes] = {}
        self._backoff: dict[int, float] = {}
        self._next_lookup: dict[int, float] = {}

    def configure(self) -> None:
        _firmware.overlay_conf_set(self._wcmp)
        _firmware.overlay_host_set(self._host)

    def start(self) -> None:
        for pf in self._pfs:
            self._link[pf.port_id] = _firmware.port_link_update(pf.port_id)
            self._lookup_router(pf)
        self._control.every(POLL, self._poll)

    def router_mac(self, port_id: int) -> bytes | None:
        return self._router.get(port_id)

    def link_up(self, port_id: int) -> bool | None:
        return self._link.get(port_id)

    def _poll(self) -> None:
        now = time.monotonic()
        for pf in self._pfs:
            try:
                up = _firmware.port_link_update(pf.port_id)
            except OSError:
                continue
            if up != self._link.get(pf.port_id):
                log.info("%s: link %s", pf.name, "up" if up else "down")
                self._link[pf.port_id] = up
                if up:  # a link that came back may lead to another router: look at once
                    self._backoff[pf.port_id] = 0.0
                    self._next_lookup[pf.port_id] = now
            if now >= self._next_lookup.get(pf.port_id, now):
                self._lookup_router(pf)

    def _lookup_router(self, pf: Port) -> None:
        """Read the kernel's neighbour table for the PF's router. While none is known, look
        again with exponential back-off (1, 2, 4 ... 60 s); once known, every 60 s."""
        mac = neighbours.router_mac(pf.dev.if_index) if pf.dev.if_index else None
        if mac is not None and mac != self._router.get(pf.port_id):
            _firmware.port_set_neigh_mac(pf.port_id, mac)
            self._router[pf.port_id] = mac
            log.info("%s: underlay router %s", pf.name, mac.hex(":"))
        if mac is None:
            delay = min(max(self._backoff.get(pf.port_id, 0.0) * 2, ROUTER_RETRY_FIRST),
                        ROUTER_RETRY_MAX)
        else:
            delay = ROUTER_RETRY_MAX
        self._backoff[pf.port_id] = delay
        self._next_lookup[pf.port_id] = time.monotonic() + delay
