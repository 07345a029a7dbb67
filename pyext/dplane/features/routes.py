# SPDX-License-Identifier: Apache-2.0
"""Routes to remote next hops (CreateRoute/DeleteRoute/ListRoutes).

A route sends a prefix of a VNI out of PF0, encapsulated towards the next hop's underlay
address, and carries the next hop's VNI. The VNI's routing tables are the only record:
they belong to the VNI's users (interfaces, load balancers), so a route needs a VNI that
already has tables, and it is gone when the VNI is reset or freed, as in dpservice.
Control thread only.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Callable

from .. import _firmware
from ..errors import ErrorCode, failing_as, meanings
from ..ports import Ports
from ..vnis import Vnis

log = logging.getLogger("dplane.routes")

RemoveHook = Callable[[int, bytes, int], None]

meanings(ErrorCode.ITERATOR, ENODEV=ErrorCode.NO_VNI)  # listing a VNI without tables


@dataclasses.dataclass(frozen=True)
class Route:
    """One entry of a VNI's routing table."""

    vni: int
    prefix: bytes  # packed, host bits cleared
    length: int
    port_id: int
    nh_vni: int
    nh_ipv6: bytes  # packed

    @property
    def prefix_text(self) -> str:
        return str(ipaddress.ip_address(self.prefix))

    @property
    def nh_text(self) -> str:
        return str(ipaddress.IPv6Address(self.nh_ipv6))


def max_length(prefix: bytes) -> int:
    return len(prefix) * 8


def masked(prefix: bytes, length: int) -> bytes:
    """The prefix with its host bits cleared, as the routing table stores it."""
    bits = max_length(prefix)
    value = int.from_bytes(prefix, "big") >> (bits - length) << (bits - length)
    return value.to_bytes(len(prefix), "big")


class Routes:
    def __init__(self, ports: Ports, vnis: Vnis) -> None:
        pf0 = ports.pf(0)
        assert pf0 is not None, "a host has PF0"
        self._pf0 = pf0.port_id
        self._pfs = frozenset(p.port_id for p in ports.uplinks)
        self._vnis = vnis
        # called with (vni, prefix, length) of every route removed: flows through it go
        self.on_remove: list[RemoveHook] = []

    def create(self, vni: int, prefix: bytes, length: int, nh_vni: int,
               nh_ipv6: bytes) -> None:
        with failing_as(ErrorCode.ROUTE_INSERT):
            _firmware.route_add(vni, prefix, length, self._pf0, nh_vni, nh_ipv6)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("route %s/%d in vni %d via vni %d %s", ipaddress.ip_address(prefix),
                      length, vni, nh_vni, ipaddress.IPv6Address(nh_ipv6))

    def delete(self, vni: int, prefix: bytes, length: int) -> None:
        """Only a route of ours (to PF0) goes: an interface's or prefix's route is
        ROUTE_BAD_PORT."""
        with failing_as(ErrorCode.ROUTE_NOT_FOUND):
            _firmware.route_del(vni, prefix, length, self._pf0)
        if log.isEnabledFor(logging.DEBUG):
            log.debug("route %s/%d in vni %d deleted", ipaddress.ip_address(prefix), length,
                      vni)
        for hook in self.on_remove:
            hook(vni, masked(prefix, length), length)

    def list(self, vni: int) -> list[Route]:
        """ListRoutes: the IPv4 routes to a PF of one VNI, or of every VNI for vni 0; in
        each VNI the default route first, then table order."""
        if vni == 0:
            return [r for v in sorted(self._vnis) for r in self._list_vni(v)]
        return self._list_vni(vni)

    def _list_vni(self, vni: int) -> list[Route]:
        with failing_as(ErrorCode.ITERATOR):
            entries = _firmware.route_list(vni, 4)
        routes = [Route(vni, *entry) for entry in entries if entry[2] in self._pfs]
        routes.sort(key=lambda r: r.length != 0)  # stable: the default route first
        return routes
