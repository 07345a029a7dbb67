# SPDX-License-Identifier: Apache-2.0
"""Load balancers, their targets and LB prefixes (CreateLoadBalancer, CreateLoadBalancerTarget,
CreateLoadBalancerPrefix and their friends), and what the firmware does with them
(firmware/lb).

* A load balancer is {VNI, IPv4 or IPv6 address} with up to 15 {protocol, port} pairs, an
  underlay address of its own on PF0 (VNF type LB) and a reference on its VNI's tables. Its
  targets are underlay IPv6 addresses, kept sorted: each change rebuilds the Maglev table
  (firmware). Removing a target removes the flows sent to it; removing the LB all of its
  flows.
* An LB prefix is a VM's claim to receive load-balanced traffic: an underlay address (VNF type
  LB_ALIAS_PFX) on the VM's VF, no route. A load balancer whose target is such an address
  here delivers to the VM directly. The VM answers from the LB's address: its LB prefixes are
  sources it may use (the source check), and its flows from an IPv4 /32 one are marked as
  dpservice marks them. At most 64 per interface (more: VNF_INSERT).

As in dpservice the codes come in its order; unlike dpservice, an LB id is unique (dpservice
would silently re-point it) and deleting an interface removes its LB prefixes. Control thread
only.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging

from .. import _firmware, underlay
from ..assembly import component
from ..errors import ErrorCode, ServiceError, failing_as
from ..interfaces import Interface, Interfaces
from ..ports import Ports
from ..tables import Row, Tables
from ..underlay import UnderlayGenerator
from ..vnis import Vnis

log = logging.getLogger("dplane.lb")

TCP, UDP = 6, 17
PROTO_NAMES = {TCP: "tcp", UDP: "udp"}


def _text(ip: bytes) -> str:
    return str(ipaddress.ip_address(ip))


@dataclasses.dataclass
class LoadBalancer:
    id: str
    vni: int
    ip: bytes  # packed, 4 or 16 bytes
    ports: list[tuple[int, int]]  # (protocol, port), in the client's order
    underlay: bytes
    targets: list[bytes] = dataclasses.field(default_factory=list)  # sorted

    @property
    def ip_text(self) -> str:
        return _text(self.ip)

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


@dataclasses.dataclass(frozen=True)
class LbPrefix:
    prefix: bytes
    length: int
    underlay: bytes

    @property
    def key(self) -> tuple[bytes, int]:
        return self.prefix, self.length

    @property
    def prefix_text(self) -> str:
        return _text(self.prefix)

    @property
    def underlay_text(self) -> str:
        return underlay.text(self.underlay)


@component
class LoadBalancers:
    def __init__(self, interfaces: Interfaces, vnis: Vnis, underlays: UnderlayGenerator,
                 ports: Ports, tables: Tables) -> None:
        self._interfaces = interfaces
        self._vnis = vnis
        self._underlays = underlays
        self._ports = ports
        self._lbs: dict[str, LoadBalancer] = {}
        # interface id -> its LB prefixes, in creation order
        self._prefixes: dict[str, dict[tuple[bytes, int], LbPrefix]] = {}
        interfaces.on_delete.append(self._drop_interface)
        tables.register("loadbalancer_id_table", _firmware.LB_TABLE_SIZE,
                        lambda: len(self._lbs))
        tables.register_dump("loadbalancer_table", self._lb_rows)
        tables.register_dump("loadbalancer_id_table", self._lb_id_rows)

    # -- load balancers ----------------------------------------------------------------------

    def create(self, lb_id: str, vni: int, ip: bytes, ports: list[tuple[int, int]],
               preferred: bytes | None) -> LoadBalancer:
        """dpservice's order: VNF_INSERT, ALREADY_EXISTS (same {VNI, address}; here also the
        same id), OUT_OF_MEMORY (the table is full), VNI_INIT4."""
        pf0 = self._ports.pf(0)
        if pf0 is None:
            raise ServiceError(ErrorCode.VNF_INSERT, "no PF0")
        address = preferred or self._underlays.generate()
        with failing_as(ErrorCode.VNF_INSERT):
            _firmware.vnf_add(address, _firmware.VNF_LB, pf0.port_id, vni)
        try:
            if any(lb.vni == vni and lb.ip == ip for lb in self._lbs.values()):
                raise ServiceError(ErrorCode.ALREADY_EXISTS, f"{_text(ip)} in VNI {vni}")
            if lb_id in self._lbs:
                raise ServiceError(ErrorCode.ALREADY_EXISTS, f"load balancer {lb_id}")
            if len(self._lbs) >= _firmware.LB_TABLE_SIZE:
                raise ServiceError(ErrorCode.OUT_OF_MEMORY, "loadbalancer_table is full")
            lb = LoadBalancer(lb_id, vni, ip, list(ports), address)
            with failing_as(ErrorCode.OUT_OF_MEMORY):
                self._publish(lb)
            try:
                self._vnis.ref(vni)
            except ServiceError:
                _firmware.lb_del(vni, ip)
                raise
        except ServiceError:
            _firmware.vnf_del(address)
            raise
        self._lbs[lb_id] = lb
        log.info("load balancer %s: %s in VNI %d, ports %s, underlay %s", lb_id, lb.ip_text,
                 vni, _ports_text(lb.ports), lb.underlay_text)
        return lb

    def _publish(self, lb: LoadBalancer) -> None:
        _firmware.lb_set(lb.vni, lb.ip, lb.underlay, lb.ports, lb.targets)

    def _find(self, lb_id: str, missing: ErrorCode = ErrorCode.NOT_FOUND) -> LoadBalancer:
        lb = self._lbs.get(lb_id)
        if lb is None:
            raise ServiceError(missing, f"no load balancer {lb_id}")
        return lb

    def get(self, lb_id: str) -> LoadBalancer:
        return self._find(lb_id)

    def delete(self, lb_id: str) -> None:
        """The LB goes with its underlay address and flows, then its VNI reference."""
        lb = self._find(lb_id)
        del self._lbs[lb_id]
        _ignore(_firmware.lb_del, lb.vni, lb.ip)
        _ignore(_firmware.vnf_del, lb.underlay)
        _firmware.lb_flush(lb.vni, lb.ip)
        try:
            self._vnis.unref(lb.vni)
        except OSError as exc:
            raise ServiceError(ErrorCode.VNI_FREE4, str(exc)) from None
        log.info("load balancer %s deleted", lb_id)

    def list(self) -> list[LoadBalancer]:
        """In loadbalancer_table's order, as dpservice lists them."""
        by_key = {(lb.vni, lb.ip): lb for lb in self._lbs.values()}
        return [by_key[key] for key in _firmware.lb_list() if key in by_key]

    # -- targets -----------------------------------------------------------------------------

    def add_target(self, lb_id: str, target: bytes) -> None:
        """dpservice's order: BAD_IPVER, NO_LB, ALREADY_EXISTS, BACKIP_ADD (64 targets)."""
        if len(target) != 16:
            raise ServiceError(ErrorCode.BAD_IPVER, "a target is an underlay IPv6 address")
        lb = self._find(lb_id, ErrorCode.NO_LB)
        if target in lb.targets:
            raise ServiceError(ErrorCode.ALREADY_EXISTS, f"{_text(target)} is a target")
        if len(lb.targets) >= _firmware.LB_MAX_TARGETS:
            raise ServiceError(ErrorCode.BACKIP_ADD, f"{lb_id} has its 64 targets")
        old = lb.targets
        lb.targets = sorted(old + [target])
        try:
            with failing_as(ErrorCode.BACKIP_ADD):
                self._publish(lb)
        except ServiceError:
            lb.targets = old
            raise
        log.info("load balancer %s: target %s", lb_id, _text(target))

    def delete_target(self, lb_id: str, target: bytes) -> None:
        """BAD_IPVER, NO_LB, NOT_FOUND, BACKIP_DEL; the flows sent to the target go."""
        if len(target) != 16:
            raise ServiceError(ErrorCode.BAD_IPVER, "a target is an underlay IPv6 address")
        lb = self._find(lb_id, ErrorCode.NO_LB)
        if target not in lb.targets:
            raise ServiceError(ErrorCode.NOT_FOUND, f"{_text(target)} is not a target")
        old = lb.targets
        lb.targets = [t for t in old if t != target]
        try:
            with failing_as(ErrorCode.BACKIP_DEL):
                self._publish(lb)
        except ServiceError:
            lb.targets = old
            raise
        _firmware.lb_flush(lb.vni, lb.ip, target)
        log.info("load balancer %s: target %s removed", lb_id, _text(target))

    def targets(self, lb_id: str | None) -> list[bytes]:
        """The LB's targets in address order; every LB's (in list order) for None."""
        if lb_id is None:
            return [t for lb in self.list() for t in lb.targets]
        return list(self._find(lb_id, ErrorCode.NO_LB).targets)

    # -- LB prefixes ---------------------------------------------------------------------------

    def _iface(self, iface_id: str) -> Interface:
        iface = self._interfaces.find(iface_id)
        if iface is None:
            raise ServiceError(ErrorCode.NO_VM, iface_id)
        return iface

    def create_prefix(self, iface_id: str, prefix: bytes, length: int,
                      preferred: bytes | None) -> LbPrefix:
        """NO_VM, ALREADY_EXISTS, VNF_INSERT."""
        iface = self._iface(iface_id)
        if (prefix, length) in self._prefixes.get(iface_id, {}):
            raise ServiceError(ErrorCode.ALREADY_EXISTS, f"{_text(prefix)}/{length}")
        if len(self._prefixes.get(iface_id, {})) >= _firmware.CT_PORT_SOURCES_MAX:
            raise ServiceError(ErrorCode.VNF_INSERT,
                               f"{iface_id} holds {_firmware.CT_PORT_SOURCES_MAX} LB prefixes")
        address = preferred or self._underlays.generate()
        with failing_as(ErrorCode.VNF_INSERT):
            _firmware.vnf_add(address, _firmware.VNF_LB_ALIAS_PFX, iface.port.port_id,
                              iface.vni, prefix, min(length, len(prefix) * 8))
        pfx = LbPrefix(prefix, length, address)
        self._prefixes.setdefault(iface_id, {})[pfx.key] = pfx
        try:
            self._publish_sources(iface)
        except OSError as exc:
            del self._prefixes[iface_id][pfx.key]
            _ignore(_firmware.vnf_del, address)
            raise ServiceError(ErrorCode.VNF_INSERT, str(exc)) from None
        log.info("LB prefix %s/%d on %s, underlay %s", pfx.prefix_text, length, iface_id,
                 pfx.underlay_text)
        return pfx

    def delete_prefix(self, iface_id: str, prefix: bytes, length: int) -> None:
        """NO_VM, NOT_FOUND, VNF_DELETE."""
        self._iface(iface_id)
        held = self._prefixes.get(iface_id, {})
        pfx = held.get((prefix, length))
        if pfx is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"{_text(prefix)}/{length}")
        with failing_as(ErrorCode.VNF_DELETE):
            _firmware.vnf_del(pfx.underlay)
        del held[pfx.key]
        if not held:
            del self._prefixes[iface_id]
        _ignore(self._publish_sources, self._iface(iface_id))
        log.info("LB prefix %s/%d on %s deleted", pfx.prefix_text, length, iface_id)

    def prefixes(self, iface_id: str) -> list[LbPrefix]:
        self._iface(iface_id)
        return list(self._prefixes.get(iface_id, {}).values())

    def _publish_sources(self, iface: Interface) -> None:
        """The VM may send from its LB prefixes (it answers from the LB's address)."""
        _firmware.ct_port_sources_set(iface.port.port_id, [
            (p.prefix, min(p.length, len(p.prefix) * 8), _firmware.VNF_LB_ALIAS_PFX)
            for p in self._prefixes.get(iface.id, {}).values()])

    def _drop_interface(self, iface: Interface) -> None:
        if iface.id in self._prefixes:
            _ignore(_firmware.ct_port_sources_set, iface.port.port_id, [])
        for pfx in self._prefixes.pop(iface.id, {}).values():
            _ignore(_firmware.vnf_del, pfx.underlay)
            log.info("LB prefix %s/%d removed with interface %s", pfx.prefix_text,
                     pfx.length, iface.id)

    # -- dplane-inspect ------------------------------------------------------------------------

    def _lb_rows(self) -> list[Row]:
        return [{"vni": str(lb.vni), "ip": lb.ip_text, "id": lb.id,
                 "ports": _ports_text(lb.ports), "underlay": lb.underlay_text,
                 "targets": ",".join(_text(t) for t in lb.targets)} for lb in self.list()]

    def _lb_id_rows(self) -> list[Row]:
        return [{"id": lb.id, "vni": str(lb.vni), "ip": lb.ip_text} for lb in self.list()]


def _ports_text(ports: list[tuple[int, int]]) -> str:
    return ",".join(f"{PROTO_NAMES.get(proto, proto)}/{port}" for proto, port in ports)


def _ignore(fn, *args) -> None:
    try:
        fn(*args)
    except OSError as exc:
        log.warning("%s%s: %s", fn.__name__, args, exc)
