# SPDX-License-Identifier: Apache-2.0
"""CreateLoadBalancer, GetLoadBalancer, DeleteLoadBalancer, ListLoadBalancers,
CreateLoadBalancerTarget, DeleteLoadBalancerTarget, ListLoadBalancerTargets,
CreateLoadBalancerPrefix, DeleteLoadBalancerPrefix, ListLoadBalancerPrefixes."""
from __future__ import annotations

import ipaddress

from ..control import ControlThread
from ..errors import InvalidArgument
from ..features.lb import TCP, UDP, LbPrefix, LoadBalancer, LoadBalancers
from ..proto import dpdk_pb2
from ..underlay import UnderlayGenerator
from . import api, rpc, validate

MAX_PORTS = 16  # dpservice's array; a request must leave room (>= 16 is refused)
PORT_LIMIT = 0xFFFF
MAX_PREFIX_LENGTH = 255
PROTOCOLS = {dpdk_pb2.TCP: TCP, dpdk_pb2.UDP: UDP}
PROTOCOL_ENUM = {TCP: dpdk_pb2.TCP, UDP: dpdk_pb2.UDP}


def _lb_id(value: bytes) -> str:
    return validate.interface_id(value, "Invalid loadbalancer_id")


def _ports(req: dpdk_pb2.CreateLoadBalancerRequest) -> list[tuple[int, int]]:
    """dpservice's checks, in its order."""
    if len(req.loadbalanced_ports) >= MAX_PORTS:
        raise InvalidArgument("Too many loadbalanced_ports")
    out: list[tuple[int, int]] = []
    for p in req.loadbalanced_ports:
        if p.port > PORT_LIMIT:
            raise InvalidArgument("Invalid loadbalanced_ports.port")
        proto = PROTOCOLS.get(p.protocol)
        if proto is None:
            raise InvalidArgument("Invalid loadbalanced_ports.protocol")
        if (proto, p.port) in out:
            raise InvalidArgument("Duplicate loadbalanced_ports entry")
        out.append((proto, p.port))
    return out


def _address(ip: bytes) -> dpdk_pb2.IpAddress:
    return dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4 if len(ip) == 4 else dpdk_pb2.IPV6,
                              address=str(ipaddress.ip_address(ip)).encode())


def _lb_ports(lb: LoadBalancer) -> list[dpdk_pb2.LbPort]:
    # dpservice leaves out the entries of port 0 (its end of list)
    return [dpdk_pb2.LbPort(port=port, protocol=PROTOCOL_ENUM[proto])
            for proto, port in lb.ports if port]


def _target(addr: dpdk_pb2.IpAddress) -> bytes:
    target = validate.address(addr)
    if target is None:
        raise InvalidArgument("Invalid target_ip")
    return target


def _prefix(req) -> tuple[str, bytes, int]:
    iface_id = validate.interface_id(req.interface_id)
    prefix = validate.address(req.prefix.ip)
    if prefix is None:
        raise InvalidArgument("Invalid prefix.ip")
    if req.prefix.length > MAX_PREFIX_LENGTH:
        raise InvalidArgument("Invalid prefix.length")
    return iface_id, prefix, req.prefix.length


def _prefix_message(pfx: LbPrefix) -> dpdk_pb2.Prefix:
    return dpdk_pb2.Prefix(ip=_address(pfx.prefix), length=pfx.length,
                           underlay_route=pfx.underlay_text.encode())


@api
class LoadBalancerApi:
    def __init__(self, control: ControlThread, lbs: LoadBalancers,
                 underlays: UnderlayGenerator) -> None:
        self._control = control
        self._lbs = lbs
        self._underlays = underlays

    @rpc("CreateLoadBalancer")
    def create(self, req: dpdk_pb2.CreateLoadBalancerRequest):
        lb_id = _lb_id(req.loadbalancer_id)
        vni = validate.vni(req.vni)
        ip = validate.address(req.loadbalanced_ip)
        if ip is None:
            raise InvalidArgument("Invalid loadbalanced_ip")
        ports = _ports(req)
        preferred = self._underlays.preferred(req.preferred_underlay_route)
        lb = self._control.call(self._lbs.create, lb_id, vni, ip, ports, preferred)
        return dpdk_pb2.CreateLoadBalancerResponse(underlay_route=lb.underlay_text.encode())

    @rpc("GetLoadBalancer")
    def get(self, req: dpdk_pb2.GetLoadBalancerRequest):
        lb = self._control.call(self._lbs.get, _lb_id(req.loadbalancer_id))
        return dpdk_pb2.GetLoadBalancerResponse(
            loadbalanced_ip=_address(lb.ip), vni=lb.vni, loadbalanced_ports=_lb_ports(lb),
            underlay_route=lb.underlay_text.encode())

    @rpc("DeleteLoadBalancer")
    def delete(self, req: dpdk_pb2.DeleteLoadBalancerRequest):
        self._control.call(self._lbs.delete, _lb_id(req.loadbalancer_id))
        return dpdk_pb2.DeleteLoadBalancerResponse()

    @rpc("ListLoadBalancers")
    def list(self, req: dpdk_pb2.ListLoadBalancersRequest):
        lbs = self._control.call(self._lbs.list)
        return dpdk_pb2.ListLoadBalancersResponse(loadbalancers=[
            dpdk_pb2.Loadbalancer(id=lb.id.encode(), vni=lb.vni, ip=_address(lb.ip),
                                  ports=_lb_ports(lb), underlay_route=lb.underlay_text.encode())
            for lb in lbs])

    @rpc("CreateLoadBalancerTarget")
    def create_target(self, req: dpdk_pb2.CreateLoadBalancerTargetRequest):
        lb_id = _lb_id(req.loadbalancer_id)
        self._control.call(self._lbs.add_target, lb_id, _target(req.target_ip))
        return dpdk_pb2.CreateLoadBalancerTargetResponse()

    @rpc("DeleteLoadBalancerTarget")
    def delete_target(self, req: dpdk_pb2.DeleteLoadBalancerTargetRequest):
        lb_id = _lb_id(req.loadbalancer_id)
        self._control.call(self._lbs.delete_target, lb_id, _target(req.target_ip))
        return dpdk_pb2.DeleteLoadBalancerTargetResponse()

    @rpc("ListLoadBalancerTargets")
    def list_targets(self, req: dpdk_pb2.ListLoadBalancerTargetsRequest):
        lb_id = _lb_id(req.loadbalancer_id) if req.loadbalancer_id else None  # none: all
        targets = self._control.call(self._lbs.targets, lb_id)
        return dpdk_pb2.ListLoadBalancerTargetsResponse(
            target_ips=[_address(t) for t in targets])

    @rpc("CreateLoadBalancerPrefix")
    def create_prefix(self, req: dpdk_pb2.CreateLoadBalancerPrefixRequest):
        iface_id, prefix, length = _prefix(req)
        preferred = self._underlays.preferred(req.preferred_underlay_route)
        pfx = self._control.call(self._lbs.create_prefix, iface_id, prefix, length, preferred)
        return dpdk_pb2.CreateLoadBalancerPrefixResponse(
            underlay_route=pfx.underlay_text.encode())

    @rpc("DeleteLoadBalancerPrefix")
    def delete_prefix(self, req: dpdk_pb2.DeleteLoadBalancerPrefixRequest):
        iface_id, prefix, length = _prefix(req)
        self._control.call(self._lbs.delete_prefix, iface_id, prefix, length)
        return dpdk_pb2.DeleteLoadBalancerPrefixResponse()

    @rpc("ListLoadBalancerPrefixes")
    def list_prefixes(self, req: dpdk_pb2.ListLoadBalancerPrefixesRequest):
        iface_id = validate.interface_id(req.interface_id)
        prefixes = self._control.call(self._lbs.prefixes, iface_id)
        return dpdk_pb2.ListLoadBalancerPrefixesResponse(
            prefixes=[_prefix_message(p) for p in prefixes])
