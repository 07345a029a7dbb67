# SPDX-License-Identifier: Apache-2.0
"""CreateVip, GetVip, DeleteVip, CreateNat, GetNat, DeleteNat, ListLocalNats,
CreateNeighborNat, DeleteNeighborNat, ListNeighborNats."""
from __future__ import annotations

import socket

from ..control import ControlThread
from ..errors import InvalidArgument
from ..features.nat import Nat
from ..proto import dpdk_pb2
from ..underlay import UnderlayGenerator
from . import api, rpc, validate

PORT_LIMIT = 0xFFFF


def _ip(addr: dpdk_pb2.IpAddress, message: str = "Invalid nat_ip", listing: bool = False
        ) -> bytes:
    """The address; 0.0.0.0 only where it means "all" (the lists): dpservice would take it
    for a VIP or NAT IP and then report none (SNAT_NO_DATA)."""
    ip = validate.address(addr)
    if ip is None or (not listing and ip == bytes(4)):
        raise InvalidArgument(message)
    return ip


def _ports(req) -> tuple[int, int]:
    """dpservice's checks, in its order."""
    if req.min_port > PORT_LIMIT:
        raise InvalidArgument("Invalid min_port")
    if req.max_port > PORT_LIMIT:
        raise InvalidArgument("Invalid max_port")
    if req.min_port >= req.max_port:
        raise InvalidArgument("Invalid port range")
    return req.min_port, req.max_port


def _address(ip: bytes) -> dpdk_pb2.IpAddress:
    return dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4, address=socket.inet_ntoa(ip).encode())


@api
class NatApi:
    def __init__(self, control: ControlThread, nat: Nat, underlays: UnderlayGenerator) -> None:
        self._control = control
        self._nat = nat
        self._underlays = underlays

    @rpc("CreateVip")
    def create_vip(self, req: dpdk_pb2.CreateVipRequest):
        iface_id = validate.interface_id(req.interface_id)
        ip = _ip(req.vip_ip, "Invalid vip_ip")
        preferred = self._underlays.preferred(req.preferred_underlay_route)
        vip = self._control.call(self._nat.create_vip, iface_id, ip, preferred)
        return dpdk_pb2.CreateVipResponse(underlay_route=vip.underlay_text.encode())

    @rpc("GetVip")
    def get_vip(self, req: dpdk_pb2.GetVipRequest):
        iface_id = validate.interface_id(req.interface_id)
        vip = self._control.call(self._nat.get_vip, iface_id)
        return dpdk_pb2.GetVipResponse(vip_ip=_address(vip.ip),
                                       underlay_route=vip.underlay_text.encode())

    @rpc("DeleteVip")
    def delete_vip(self, req: dpdk_pb2.DeleteVipRequest):
        iface_id = validate.interface_id(req.interface_id)
        self._control.call(self._nat.delete_vip, iface_id)
        return dpdk_pb2.DeleteVipResponse()

    @rpc("CreateNat")
    def create_nat(self, req: dpdk_pb2.CreateNatRequest):
        iface_id = validate.interface_id(req.interface_id)
        ip = _ip(req.nat_ip)
        min_port, max_port = _ports(req)
        preferred = self._underlays.preferred(req.preferred_underlay_route)
        nat = self._control.call(self._nat.create_nat, iface_id, ip, min_port, max_port,
                                 preferred)
        return dpdk_pb2.CreateNatResponse(underlay_route=nat.underlay_text.encode())

    @rpc("GetNat")
    def get_nat(self, req: dpdk_pb2.GetNatRequest):
        iface_id = validate.interface_id(req.interface_id)
        nat = self._control.call(self._nat.get_nat, iface_id)
        return dpdk_pb2.GetNatResponse(nat_ip=_address(nat.ip), min_port=nat.min_port,
                                       max_port=nat.max_port,
                                       underlay_route=nat.underlay_text.encode())

    @rpc("DeleteNat")
    def delete_nat(self, req: dpdk_pb2.DeleteNatRequest):
        iface_id = validate.interface_id(req.interface_id)
        self._control.call(self._nat.delete_nat, iface_id)
        return dpdk_pb2.DeleteNatResponse()

    @rpc("ListLocalNats")
    def list_local_nats(self, req: dpdk_pb2.ListLocalNatsRequest):
        ip = _ip(req.nat_ip, listing=True)
        entries = self._control.call(self._nat.local_nats, ip)
        # no underlay_route: the Go client tells local entries by its absence
        return dpdk_pb2.ListLocalNatsResponse(nat_entries=[
            dpdk_pb2.NatEntry(nat_ip=_address(e.vm_ip), min_port=e.nat.min_port,
                              max_port=e.nat.max_port, vni=e.vni,
                              actual_nat_ip=_address(e.nat.ip))
            for e in entries])

    @rpc("CreateNeighborNat")
    def create_neighbor_nat(self, req: dpdk_pb2.CreateNeighborNatRequest):
        ip = _ip(req.nat_ip)
        min_port, max_port = _ports(req)
        address = validate.ipv6(req.underlay_route)
        if address is None:
            raise InvalidArgument("Invalid underlay_route")
        self._control.call(self._nat.create_neighbor, ip, req.vni, min_port, max_port, address)
        return dpdk_pb2.CreateNeighborNatResponse()

    @rpc("DeleteNeighborNat")
    def delete_neighbor_nat(self, req: dpdk_pb2.DeleteNeighborNatRequest):
        ip = _ip(req.nat_ip)
        min_port, max_port = _ports(req)
        self._control.call(self._nat.delete_neighbor, ip, req.vni, min_port, max_port)
        return dpdk_pb2.DeleteNeighborNatResponse()

    @rpc("ListNeighborNats")
    def list_neighbor_nats(self, req: dpdk_pb2.ListNeighborNatsRequest):
        ip = _ip(req.nat_ip, listing=True)
        entries = self._control.call(self._nat.neighbors, ip)
        # no nat_ip: the Go client tells neighbour entries by its absence
        return dpdk_pb2.ListNeighborNatsResponse(nat_entries=[
            dpdk_pb2.NatEntry(underlay_route=e.underlay_text.encode(), min_port=e.min_port,
                              max_port=e.max_port, vni=e.vni, actual_nat_ip=_address(e.ip))
            for e in entries])
