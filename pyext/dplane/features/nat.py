# SPDX-License-Identifier: Apache-2.0
"""Virtual IPs, NATs and neighbour NATs (CreateVip, CreateNat, CreateNeighborNat and their
friends), and what the firmware does with them (firmware/nat).

* A VIP is one VM's public IPv4 address: its own underlay address (VNF type VIP), the VM's
  source translation, and a DNAT entry {VIP, VNI} -> VM address.
* A NAT gives a VM a port range [min, max) of a NAT IP: its own underlay address (VNF type
  NAT), the VM's source translation, and a DNAT marker {NAT IP, VNI} that VMs sharing the IP
  share. A VM with both uses its NAT for its outgoing flows.
* A neighbour NAT is another host's range of a NAT IP, kept in insertion order; it shares the
  DNAT marker. Initialize and the freeing of a VNI drop them.

As in dpservice, each create is undone step by step when a later step fails, and the codes
are dpservice's, in its order. Unlike dpservice, deleting an interface removes its VIP and
NAT (and their flows). Control thread only.
"""
from __future__ import annotations

import dataclasses
import logging
import socket

from .. import _firmware, underlay
from ..assembly import component
from ..errors import ErrorCode, ServiceError, failing_as, meanings
from ..interfaces import NO_IPV4, Interface, Interfaces
from ..lifecycle import Lifecycle
from ..tables import Row, Tables
from ..telemetry import Commands
from ..underlay import UnderlayGenerator
from ..vnis import Vnis

log = logging.getLogger("dplane.nat")

NO_IP = bytes(4)

meanings(ErrorCode.DNAT_CREATE, EEXIST=ErrorCode.DNAT_EXISTS)


def _text(ip: bytes) -> str:
    return socket.inet_ntoa(ip)


def _ip_text(ip: bytes) -> str:
    return socket.inet_ntop(socket.AF_INET6 if len(ip) == 16 else socket.AF_INET, ip)


@dataclasses.dataclass(frozen=True)
class Vip:
    ip: bytes  # packed IPv4
    underlay: bytes

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


@dataclasses.dataclass(frozen=True)
class LocalNat:
    ip: bytes
    min_port: int
    max_port: int  # exclusive
    underlay: bytes

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


@dataclasses.dataclass(frozen=True)
class NeighborNat:
    ip: bytes
    vni: int
    min_port: int
    max_port: int
    underlay: bytes

    def overlaps(self, ip: bytes, min_port: int, max_port: int) -> bool:
        return self.ip == ip and max_port > self.min_port and min_port < self.max_port

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


@dataclasses.dataclass(frozen=True)
class LocalNatEntry:
    """One VM's NAT, as ListLocalNats shows it."""
    vm_ip: bytes
    vni: int
    nat: LocalNat


@component
class Nat:
    def __init__(self, interfaces: Interfaces, vnis: Vnis, underlays: UnderlayGenerator,
                 lifecycle: Lifecycle, commands: Commands, tables: Tables) -> None:
        self._interfaces = interfaces
        self._underlays = underlays
        # interface id -> its VIP / NAT (creation order: the order of ListLocalNats)
        self._vips: dict[str, Vip] = {}
        self._nats: dict[str, LocalNat] = {}
        self._neighbors: list[NeighborNat] = []
        interfaces.on_delete.append(self._drop_interface)
        vnis.on_destroy.append(self._drop_vni)
        lifecycle.on_initialize.append(self._drop_neighbors)
        commands.add("/dp_service/nat/used_port_count",
                     "Returns the number of NAT ports in use by each VF interface (attached "
                     "VM).", lambda params: self.used_ports())
        tables.register_dump("nat_portmap_table", self._portmap_rows)
        tables.register_dump("nat_portoverload_table", self._portoverload_rows)

    def _iface(self, iface_id: str) -> Interface:
        iface = self._interfaces.find(iface_id)
        if iface is None:
            raise ServiceError(ErrorCode.NO_VM, iface_id)
        return iface

    # -- the VM's source translation: VIP and NAT together -------------------------------

    def _apply(self, iface: Interface) -> None:
        """Hand the interface's VIP and NAT, as they now are, to the firmware."""
        vip = self._vips.get(iface.id)
        nat = self._nats.get(iface.id)
        port_id = iface.port.port_id
        if vip is None and nat is None:
            try:
                _firmware.nat_snat_clear(port_id)
            except OSError:
                pass
            return
        _firmware.nat_snat_set(port_id, vip.ip if vip else NO_IP, nat.ip if nat else NO_IP,
                               nat.min_port if nat else 0, nat.max_port if nat else 0)

    def _vni_ip(self, iface: Interface) -> tuple[int, bytes]:
        ip = iface.spec.ipv4
        return iface.vni, (ip if ip != NO_IPV4 else NO_IP)

    # -- VIP -------------------------------------------------------------------------------

    def create_vip(self, iface_id: str, ip: bytes, preferred: bytes | None) -> Vip:
        """dpservice's order: NO_VM, BAD_IPVER, VNF_INSERT, SNAT_EXISTS, DNAT_EXISTS."""
        iface = self._iface(iface_id)
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a VIP is IPv4")
        vni, vm_ip = self._vni_ip(iface)
        address = preferred or self._underlays.generate()
        with failing_as(ErrorCode.VNF_INSERT):
            _firmware.vnf_add(address, _firmware.VNF_VIP, iface.port.port_id, vni)
        try:
            if iface.id in self._vips:
                raise ServiceError(ErrorCode.SNAT_EXISTS, f"{iface_id} has a VIP")
            vip = Vip(ip, address)
            self._vips[iface.id] = vip
            try:
                with failing_as(ErrorCode.SNAT_CREATE):
                    self._apply(iface)
                with failing_as(ErrorCode.DNAT_CREATE):
                    _firmware.nat_dnat_add(vni, ip, vm_ip)
            except ServiceError:
                del self._vips[iface.id]
                self._apply(iface)
                raise
        except ServiceError:
            _firmware.vnf_del(address)
            raise
        log.info("VIP %s for %s (vni %d), underlay %s", _text(ip), iface_id, vni,
                 vip.underlay_text)
        return vip

    def get_vip(self, iface_id: str) -> Vip:
        iface = self._iface(iface_id)
        vip = self._vips.get(iface.id)
        if vip is None:
            raise ServiceError(ErrorCode.SNAT_NO_DATA, f"{iface_id} has no VIP")
        return vip

    def delete_vip(self, iface_id: str) -> None:
        iface = self._iface(iface_id)
        vip = self._vips.pop(iface.id, None)
        if vip is None:
            raise ServiceError(ErrorCode.SNAT_NO_DATA, f"{iface_id} has no VIP")
        self._remove_vip(iface, vip)
        log.info("VIP %s of %s deleted", _text(vip.ip), iface_id)

    def _remove_vip(self, iface: Interface, vip: Vip) -> None:
        vni, vm_ip = self._vni_ip(iface)
        _ignore(_firmware.vnf_del, vip.underlay)
        _ignore(_firmware.nat_dnat_del, vni, vip.ip)
        self._apply(iface)
        _firmware.nat_flush(iface.port.port_id, vni, vm_ip, _firmware.NAT_FLOWS_VIP)

    # -- NAT -------------------------------------------------------------------------------

    def create_nat(self, iface_id: str, ip: bytes, min_port: int, max_port: int,
                   preferred: bytes | None) -> LocalNat:
        """dpservice's order: NO_VM, BAD_IPVER, VNF_INSERT, SNAT_EXISTS, DNAT_CREATE (the
        marker may exist: VMs share NAT IPs)."""
        iface = self._iface(iface_id)
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a NAT IP is IPv4")
        vni, _ = self._vni_ip(iface)
        address = preferred or self._underlays.generate()
        with failing_as(ErrorCode.VNF_INSERT):
            _firmware.vnf_add(address, _firmware.VNF_NAT, iface.port.port_id, vni)
        try:
            if iface.id in self._nats:
                raise ServiceError(ErrorCode.SNAT_EXISTS, f"{iface_id} has a NAT")
            nat = LocalNat(ip, min_port, max_port, address)
            self._nats[iface.id] = nat
            try:
                with failing_as(ErrorCode.SNAT_CREATE):
                    self._apply(iface)
                self._mark(vni, ip)
            except ServiceError:
                del self._nats[iface.id]
                self._apply(iface)
                raise
        except ServiceError:
            _firmware.vnf_del(address)
            raise
        log.info("NAT %s [%d, %d) for %s (vni %d), underlay %s", _text(ip), min_port,
                 max_port, iface_id, vni, nat.underlay_text)
        return nat

    def get_nat(self, iface_id: str) -> LocalNat:
        iface = self._iface(iface_id)
        nat = self._nats.get(iface.id)
        if nat is None:
            raise ServiceError(ErrorCode.SNAT_NO_DATA, f"{iface_id} has no NAT")
        return nat

    def delete_nat(self, iface_id: str) -> None:
        iface = self._iface(iface_id)
        nat = self._nats.pop(iface.id, None)
        if nat is None:
            raise ServiceError(ErrorCode.SNAT_NO_DATA, f"{iface_id} has no NAT")
        self._remove_nat(iface, nat)
        log.info("NAT %s of %s deleted", _text(nat.ip), iface_id)

    def _remove_nat(self, iface: Interface, nat: LocalNat) -> None:
        vni, vm_ip = self._vni_ip(iface)
        _ignore(_firmware.vnf_del, nat.underlay)
        self._unmark(vni, nat.ip)
        self._apply(iface)
        _firmware.nat_flush(iface.port.port_id, vni, vm_ip, _firmware.NAT_FLOWS_NAT)

    def local_nats(self, ip: bytes) -> list[LocalNatEntry]:
        """The VMs' NATs of NAT IP ip (0.0.0.0: all), in creation order."""
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a NAT IP is IPv4")
        out = []
        for iface_id, nat in self._nats.items():
            iface = self._interfaces.find(iface_id)
            if iface is not None and (ip == NO_IP or nat.ip == ip):
                vni, vm_ip = self._vni_ip(iface)
                out.append(LocalNatEntry(vm_ip, vni, nat))
        return out

    # -- the DNAT marker of a NAT IP: shared by local NATs and neighbour NATs ------------

    def _mark(self, vni: int, ip: bytes) -> None:
        with failing_as(ErrorCode.DNAT_CREATE):
            try:
                _firmware.nat_dnat_add(vni, ip, NO_IP)
            except FileExistsError:
                pass  # another VM's NAT, a neighbour's range (or a VIP) has it

    def _unmark(self, vni: int, ip: bytes) -> None:
        """Remove the marker once nothing in the VNI uses the NAT IP any more."""
        for iface_id, nat in self._nats.items():
            iface = self._interfaces.find(iface_id)
            if nat.ip == ip and iface is not None and iface.vni == vni:
                return
        if any(n.ip == ip and n.vni == vni for n in self._neighbors):
            return
        if _firmware.nat_dnat_get(vni, ip) == NO_IP:  # a marker, not a VIP's entry
            _ignore(_firmware.nat_dnat_del, vni, ip)

    # -- neighbour NAT -----------------------------------------------------------------------

    def create_neighbor(self, ip: bytes, vni: int, min_port: int, max_port: int,
                        address: bytes) -> NeighborNat:
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a NAT IP is IPv4")
        if any(n.overlaps(ip, min_port, max_port) for n in self._neighbors):
            raise ServiceError(ErrorCode.ALREADY_EXISTS,
                               f"{_text(ip)} [{min_port}, {max_port}) overlaps a range")
        entry = NeighborNat(ip, vni, min_port, max_port, address)
        self._neighbors.append(entry)
        try:
            self._mark(vni, ip)
            with failing_as(ErrorCode.OUT_OF_MEMORY):
                self._publish_neighbors()
        except ServiceError:
            self._neighbors.remove(entry)
            self._unmark(vni, ip)
            raise
        log.info("neighbour NAT %s [%d, %d) vni %d at %s", _text(ip), min_port, max_port, vni,
                 entry.underlay_text)
        return entry

    def delete_neighbor(self, ip: bytes, vni: int, min_port: int, max_port: int) -> None:
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a NAT IP is IPv4")
        for entry in self._neighbors:
            if (entry.ip, entry.vni, entry.min_port, entry.max_port) == \
                    (ip, vni, min_port, max_port):
                self._remove_neighbors([entry])
                log.info("neighbour NAT %s [%d, %d) vni %d deleted", _text(ip), min_port,
                         max_port, vni)
                return
        raise ServiceError(ErrorCode.NOT_FOUND, "no such neighbour NAT")

    def neighbors(self, ip: bytes) -> list[NeighborNat]:
        if len(ip) != 4:
            raise ServiceError(ErrorCode.BAD_IPVER, "a NAT IP is IPv4")
        return [n for n in self._neighbors if ip == NO_IP or n.ip == ip]

    # -- hooks -----------------------------------------------------------------------------

    def _drop_interface(self, iface: Interface) -> None:
        vip = self._vips.pop(iface.id, None)
        if vip is not None:
            self._remove_vip(iface, vip)
            log.info("VIP %s removed with interface %s", _text(vip.ip), iface.id)
        nat = self._nats.pop(iface.id, None)
        if nat is not None:
            self._remove_nat(iface, nat)
            log.info("NAT %s removed with interface %s", _text(nat.ip), iface.id)

    def _drop_vni(self, vni: int) -> None:
        self._remove_neighbors([n for n in self._neighbors if n.vni == vni])

    def _drop_neighbors(self) -> None:
        self._remove_neighbors(list(self._neighbors))

    def _remove_neighbors(self, entries: list[NeighborNat]) -> None:
        """The ranges go, and the flows relayed to them (their DNAT markers when nothing
        else uses them)."""
        if not entries:
            return
        for entry in entries:
            self._neighbors.remove(entry)
        self._publish_neighbors()
        for entry in entries:
            self._unmark(entry.vni, entry.ip)
            _firmware.nat_flush_relayed(entry.vni, entry.ip, entry.min_port, entry.max_port)

    def _publish_neighbors(self) -> None:
        _firmware.nat_neigh_set([(n.vni, n.ip, n.min_port, n.max_port, n.underlay)
                                 for n in self._neighbors])

    def _portmap_rows(self) -> list[Row]:
        """{VNI, source, source port} -> {NAT IP (its VM's), NAT port, flows}."""
        nat_of = {}
        for iface_id, nat in self._nats.items():
            iface = self._interfaces.find(iface_id)
            if iface is not None:
                nat_of[self._vni_ip(iface)] = nat.ip
        return [{"vni": str(vni), "src": _ip_text(src), "src_port": str(src_port),
                 "nat_ip": _text(nat_of[(vni, src)]) if (vni, src) in nat_of else "",
                 "nat_port": str(nat_port), "flows": str(flows)}
                for vni, src, src_port, nat_port, flows in _firmware.nat_portmap_list()]

    @staticmethod
    def _portoverload_rows() -> list[Row]:
        return [{"nat_ip": _text(nat_ip), "nat_port": str(nat_port), "dst": _text(dst),
                 "dst_port": str(dst_port), "proto": str(proto)}
                for nat_ip, nat_port, dst, dst_port, proto in _firmware.nat_portoverload_list()]

    def used_ports(self) -> dict[str, int]:
        return {iface.id: _firmware.nat_used_ports(iface.port.port_id)
                for iface in self._interfaces}


def _ignore(fn, *args) -> None:
    try:
        fn(*args)
    except OSError as exc:
        log.warning("%s%s: %s", fn.__name__, args, exc)
