# SPDX-License-Identifier: Apache-2.0
"""CreateRoute, DeleteRoute, ListRoutes."""
from __future__ import annotations

from ..control import ControlThread
from ..errors import ErrorCode, InvalidArgument, ServiceError
from ..features.routes import Route, Routes
from ..proto import dpdk_pb2
from . import api, rpc, validate

MAX_LENGTH = 255  # dpservice keeps the length in a byte; longer ones are refused later


def _prefix(route: dpdk_pb2.Route) -> tuple[bytes, int]:
    """Validate in dpservice's order: the length, then the address."""
    if route.prefix.length > MAX_LENGTH:
        raise InvalidArgument("Invalid route.prefix.length")
    prefix = validate.address(route.prefix.ip)
    if prefix is None:
        raise InvalidArgument("Invalid route.prefix.ip")
    return prefix, route.prefix.length


def to_message(route: Route) -> dpdk_pb2.Route:
    return dpdk_pb2.Route(
        prefix=dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4,
                                                    address=route.prefix_text.encode()),
                               length=route.length),
        nexthop_vni=route.nh_vni,
        nexthop_address=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV6,
                                           address=route.nh_text.encode()))


@api
class RouteApi:
    def __init__(self, control: ControlThread, routes: Routes) -> None:
        self._control = control
        self._routes = routes

    @rpc("CreateRoute")
    def create_route(self, req: dpdk_pb2.CreateRouteRequest):
        prefix, length = _prefix(req.route)
        nexthop = validate.address(req.route.nexthop_address)
        if nexthop is None:
            raise InvalidArgument("Invalid route.nexthop_address")
        if len(nexthop) != 16:  # the next hop is an underlay address
            raise ServiceError(ErrorCode.BAD_IPVER, "next hop must be IPv6")
        if req.route.nexthop_vni >= validate.VNI_LIMIT:  # beyond dpservice, which takes it
            raise InvalidArgument("Invalid route.nexthop_vni: VNI exceeds 24-bit range")
        self._control.call(self._routes.create, req.vni, prefix, length,
                           req.route.nexthop_vni, nexthop)
        return dpdk_pb2.CreateRouteResponse()

    @rpc("DeleteRoute")
    def delete_route(self, req: dpdk_pb2.DeleteRouteRequest):
        prefix, length = _prefix(req.route)
        self._control.call(self._routes.delete, req.vni, prefix, length)
        return dpdk_pb2.DeleteRouteResponse()

    @rpc("ListRoutes")
    def list_routes(self, req: dpdk_pb2.ListRoutesRequest):
        routes = self._control.call(self._routes.list, req.vni)
        return dpdk_pb2.ListRoutesResponse(routes=[to_message(r) for r in routes])
