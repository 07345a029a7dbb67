# SPDX-License-Identifier: Apache-2.0
"""Alias prefixes routed to an interface (CreatePrefix/DeletePrefix/ListPrefixes).

A prefix is a route in the interface's VNI to its VF plus an underlay address of its own
(VNF type ALIAS_PFX) through which other hosts reach it. Unlike dpservice, prefixes belong
to their interface: deleting the interface removes them, and resetting the VNI (ResetVni,
Initialize) puts their routes back, as it does the interface's own. An interface holds at
most `per_interface` prefixes (--prefixes-per-interface), so that one tenant cannot fill the
VNF table every interface needs; beyond that CreatePrefix is ROUTE_INSERT, as for a full
routing table. Control thread only.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging

from .. import _firmware, underlay
from ..cmdline import Config
from ..errors import ErrorCode, ServiceError, failing_as
from ..interfaces import Interface, Interfaces
from ..underlay import UnderlayGenerator
from ..vnis import Vnis
from .routes import RemoveHook, masked, max_length

log = logging.getLogger("dplane.prefixes")


@dataclasses.dataclass(frozen=True)
class Prefix:
    vni: int
    port_id: int
    prefix: bytes  # packed, host bits cleared
    length: int
    underlay: bytes

    @property
    def key(self) -> tuple[bytes, int]:
        return self.prefix, self.length

    @property
    def prefix_text(self) -> str:
        return str(ipaddress.ip_address(self.prefix))

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)

    def __str__(self) -> str:
        return f"{self.prefix_text}/{self.length}"


class Prefixes:
    def __init__(self, cfg: Config, interfaces: Interfaces, vnis: Vnis,
                 underlays: UnderlayGenerator) -> None:
        self._interfaces = interfaces
        self._underlays = underlays
        self.per_interface = cfg.prefixes_per_interface
        # interface id -> its prefixes in creation order
        self._by_iface: dict[str, dict[tuple[bytes, int], Prefix]] = {}
        # called with (vni, prefix, length) of every prefix removed: flows to it go
        self.on_remove: list[RemoveHook] = []
        interfaces.on_delete.append(self._drop_interface)
        vnis.on_reset.append(self._restore_routes)

    def _iface(self, iface_id: str) -> Interface:
        iface = self._interfaces.find(iface_id)
        if iface is None:
            raise ServiceError(ErrorCode.NO_VM, iface_id)
        return iface

    def create(self, iface_id: str, prefix: bytes, length: int,
               preferred_underlay: bytes | None = None) -> Prefix:
        """The route first, then the underlay address (dpservice's order: a refused route
        uses up no generated address); the route is taken back if the address is refused."""
        iface = self._iface(iface_id)
        if length > max_length(prefix):  # dpservice's table refuses such a depth
            raise ServiceError(ErrorCode.ROUTE_INSERT, f"length {length}")
        pfx = Prefix(iface.vni, iface.port.port_id, masked(prefix, length), length, b"")
        held = self._by_iface.get(iface_id, {})
        if len(held) >= self.per_interface and pfx.key not in held:  # an existing one: 301
            raise ServiceError(ErrorCode.ROUTE_INSERT,
                               f"{iface_id} holds {len(held)} prefixes, the most it may")
        with failing_as(ErrorCode.ROUTE_INSERT):
            _firmware.route_add(pfx.vni, pfx.prefix, length, pfx.port_id)
        address = preferred_underlay or self._underlays.generate()
        try:
            with failing_as(ErrorCode.VNF_INSERT):
                _firmware.vnf_add(address, _firmware.VNF_ALIAS_PFX, pfx.port_id, pfx.vni,
                                  pfx.prefix, length)
        except ServiceError:
            _firmware.route_del(pfx.vni, pfx.prefix, length, pfx.port_id)
            raise
        pfx = dataclasses.replace(pfx, underlay=address)
        self._by_iface.setdefault(iface_id, {})[pfx.key] = pfx
        log.info("prefix %s on %s (vni %d), underlay %s", pfx, iface_id, pfx.vni,
                 pfx.underlay_text)
        return pfx

    def delete(self, iface_id: str, prefix: bytes, length: int) -> None:
        """A route error (ROUTE_NOT_FOUND, ROUTE_BAD_PORT) comes before a VNF error, as in
        dpservice; but a route that is not a prefix (the interface's own /32 or /128) is
        left alone: NOT_FOUND."""
        iface = self._iface(iface_id)
        if length > max_length(prefix):
            raise ServiceError(ErrorCode.ROUTE_NOT_FOUND, f"length {length}")
        key = (masked(prefix, length), length)
        pfx = self._by_iface.get(iface_id, {}).pop(key, None)
        if pfx is None:
            raise self._missing(iface, *key)
        self._remove(pfx)
        if not self._by_iface[iface_id]:
            del self._by_iface[iface_id]
        log.info("prefix %s on %s deleted", pfx, iface_id)

    def _missing(self, iface: Interface, prefix: bytes, length: int) -> ServiceError:
        """What dpservice reports for a prefix the interface does not have, found without
        removing anything."""
        entry = _firmware.route_get(iface.vni, prefix, length)
        if entry is None:
            return ServiceError(ErrorCode.ROUTE_NOT_FOUND, "no such route")
        if entry[2] != iface.port.port_id:
            return ServiceError(ErrorCode.ROUTE_BAD_PORT, "route leads elsewhere")
        return ServiceError(ErrorCode.NOT_FOUND, "not a prefix")

    def _remove(self, pfx: Prefix) -> None:
        """Route and underlay address both go, whatever fails."""
        try:
            _firmware.route_del(pfx.vni, pfx.prefix, pfx.length, pfx.port_id)
        except OSError as exc:
            log.warning("prefix %s: route was missing (%s)", pfx, exc)
        try:
            _firmware.vnf_del(pfx.underlay)
        except OSError as exc:
            log.warning("prefix %s: underlay %s was missing (%s)", pfx, pfx.underlay_text,
                        exc)
        for hook in self.on_remove:
            hook(pfx.vni, pfx.prefix, pfx.length)

    def list(self, iface_id: str) -> list[Prefix]:
        self._iface(iface_id)
        return list(self._by_iface.get(iface_id, {}).values())

    def _drop_interface(self, iface: Interface) -> None:
        for pfx in self._by_iface.pop(iface.id, {}).values():
            self._remove(pfx)
            log.info("prefix %s removed with interface %s", pfx, iface.id)

    def _restore_routes(self, vni: int) -> None:
        """After a reset of the VNI: every prefix's route back, the others even if one
        fails (the reset is then reported as failed)."""
        failed: OSError | None = None
        for prefixes in self._by_iface.values():
            for pfx in prefixes.values():
                if pfx.vni != vni:
                    continue
                try:
                    _firmware.route_add(vni, pfx.prefix, pfx.length, pfx.port_id)
                except OSError as exc:
                    log.error("prefix %s: route not restored (%s)", pfx, exc)
                    failed = failed or exc
        if failed is not None:
            raise failed
