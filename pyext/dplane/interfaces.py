# SPDX-License-Identifier: Apache-2.0
"""Interfaces: a VF port bound to an interface id, a VNI and overlay addresses.

Creating one registers its underlay address (VNF table), takes a reference on the VNI's
tables, adds the /32 and /128 routes to the VF, binds the VF for the datapath and starts
the port; any failure undoes what was done. Deleting undoes all of it. Control thread only.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
from collections.abc import Callable, Iterator

from . import _firmware, underlay
from .errors import ErrorCode, ServiceError, failing_as
from .ports import Port, Ports
from .tables import Tables
from .underlay import UnderlayGenerator
from .vnis import Vnis

log = logging.getLogger("dplane.interfaces")

MAX_INTERFACES = 128  # dpservice's interface_table
NO_IPV4 = bytes(4)
NO_IPV6 = bytes(16)


@dataclasses.dataclass
class InterfaceSpec:
    """A validated CreateInterface request."""

    id: str
    vni: int
    ipv4: bytes  # packed, NO_IPV4 for none
    ipv6: bytes  # packed, NO_IPV6 for none
    device: str
    pxe_family: int = _firmware.PXE_NONE
    pxe_server: bytes = b""  # packed
    boot_file: str = ""
    hostname: str = ""
    total_rate: int = 0
    public_rate: int = 0
    preferred_underlay: bytes | None = None


@dataclasses.dataclass
class Interface:
    spec: InterfaceSpec
    port: Port
    underlay: bytes

    @property
    def id(self) -> str:
        return self.spec.id

    @property
    def vni(self) -> int:
        return self.spec.vni

    def routes(self) -> list[tuple[bytes, int]]:
        """The host routes of the interface's addresses."""
        out = []
        if self.spec.ipv4 != NO_IPV4:
            out.append((self.spec.ipv4, 32))
        if self.spec.ipv6 != NO_IPV6:
            out.append((self.spec.ipv6, 128))
        return out

    @property
    def ipv4_text(self) -> str:
        return str(ipaddress.IPv4Address(self.spec.ipv4))

    @property
    def ipv6_text(self) -> str:
        return str(ipaddress.IPv6Address(self.spec.ipv6))

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


class _Undo:
    """Steps to take back, newest first, if what follows fails."""

    def __init__(self) -> None:
        self._steps: list[Callable[[], object]] = []

    def push(self, step: Callable[[], object]) -> None:
        self._steps.append(step)

    def run(self) -> None:
        while self._steps:
            step = self._steps.pop()
            try:
                step()
            except Exception:  # keep undoing: leave as little behind as possible
                log.exception("rollback step failed")


class Interfaces:
    def __init__(self, ports: Ports, vnis: Vnis, underlays: UnderlayGenerator,
                 tables: Tables) -> None:
        self._ports = ports
        self._vnis = vnis
        self._underlays = underlays
        self._by_id: dict[str, Interface] = {}
        self._by_port: dict[int, Interface] = {}
        # called with an interface about to be deleted: features drop what depends on it
        self.on_delete: list[Callable[[Interface], None]] = []
        # called once it is gone from the datapath (nothing new can depend on it any more)
        self.after_delete: list[Callable[[Interface], None]] = []
        vnis.on_reset.append(self._restore_routes)
        tables.register("interface_table", MAX_INTERFACES, self.__len__)

    def __len__(self) -> int:
        return len(self._by_id)

    def __iter__(self) -> Iterator[Interface]:
        return iter(list(self._by_id.values()))

    def get(self, iface_id: str) -> Interface:
        try:
            return self._by_id[iface_id]
        except KeyError:
            raise ServiceError(ErrorCode.NOT_FOUND, iface_id) from None

    def find(self, iface_id: str) -> Interface | None:
        return self._by_id.get(iface_id)

    def _free_vf(self, name: str) -> Port:
        """The VF called `name` (DPDK or kernel name), if no interface holds it. A PF is a
        device that is always in use, as in dpservice."""
        port = self._ports.find(name)
        if port is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no device called {name}")
        if port.role != "vf" or port.port_id in self._by_port:
            raise ServiceError(ErrorCode.ALREADY_EXISTS, f"{name} is in use")
        return port

    def create(self, spec: InterfaceSpec) -> Interface:
        """Checks and steps in dpservice's order (contract 5), so that the code a client
        gets names the first problem: device (201, 202), underlay (401), id (402), VNI tables
        (361), routes (301, 303), port start (381). Re-sending the create of an existing
        interface therefore answers 202."""
        port = self._free_vf(spec.device)
        undo = _Undo()
        try:
            address = spec.preferred_underlay or self._underlays.generate()
            with failing_as(ErrorCode.VNF_INSERT):
                _firmware.vnf_add(address, _firmware.VNF_INTERFACE_IP, port.port_id, spec.vni)
            undo.push(lambda: _firmware.vnf_del(address))

            if spec.id in self._by_id:
                raise ServiceError(ErrorCode.VM_HANDLE, f"interface {spec.id} exists")
            if len(self._by_id) >= MAX_INTERFACES:
                raise ServiceError(ErrorCode.VM_HANDLE, "interface table full")

            self._vnis.ref(spec.vni)
            undo.push(lambda: self._vnis.unref(spec.vni))

            iface = Interface(spec, port, address)
            for prefix, length in iface.routes():
                with failing_as(ErrorCode.ROUTE_INSERT):
                    _firmware.route_add(spec.vni, prefix, length, port.port_id)
                undo.push(lambda p=prefix, n=length: _firmware.route_del(spec.vni, p, n))

            with failing_as(ErrorCode.OUT_OF_MEMORY):
                _firmware.iface_attach(port.port_id, spec.vni, spec.ipv4, spec.ipv6,
                                       spec.pxe_family, spec.pxe_server,
                                       spec.boot_file.encode(), spec.hostname.encode(),
                                       address)
            undo.push(lambda: _firmware.iface_detach(port.port_id))
            with failing_as(ErrorCode.PORT_START):
                _firmware.port_start(port.port_id)
        except ServiceError:
            undo.run()
            raise

        self._by_id[spec.id] = iface
        self._by_port[port.port_id] = iface
        log.info("interface %s on %s: vni %d, %s, %s, underlay %s", spec.id, port.name,
                 spec.vni, iface.ipv4_text, iface.ipv6_text, iface.underlay_text)
        return iface

    def delete(self, iface_id: str) -> None:
        """Remove everything the interface put in place. The port is stopped (PORT_STOP
        reported only after the cleanup is complete)."""
        iface = self.get(iface_id)
        for hook in self.on_delete:
            hook(iface)
        port_id = iface.port.port_id
        _firmware.iface_detach(port_id)
        stop_error = None
        try:
            _firmware.port_stop(port_id)
        except OSError as exc:
            stop_error = exc
        for prefix, length in iface.routes():
            try:
                _firmware.route_del(iface.vni, prefix, length, port_id)
            except OSError:  # gone with a reset of the VNI? then re-added: log only
                log.warning("interface %s: route %s/%d was missing", iface_id,
                            ipaddress.ip_address(prefix), length)
        _firmware.vnf_del(iface.underlay)
        self._vnis.unref(iface.vni)
        del self._by_id[iface_id]
        del self._by_port[port_id]
        for hook in self.after_delete:
            hook(iface)
        log.info("interface %s deleted", iface_id)
        if stop_error is not None:
            raise ServiceError(ErrorCode.PORT_STOP, str(stop_error))

    def _restore_routes(self, vni: int) -> None:
        for iface in self._by_id.values():
            if iface.vni == vni:
                for prefix, length in iface.routes():
                    with failing_as(ErrorCode.ROUTE_INSERT):
                        _firmware.route_add(vni, prefix, length, iface.port.port_id)
