# SPDX-License-Identifier: Apache-2.0
"""Routes, alias prefixes and load-balancer prefixes: create|delete|list (get = list)."""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import (
    Doc,
    ip_pb,
    listing,
    obj,
    prefix_doc,
    prefix_pb,
    route_doc,
    status_of,
    text,
    underlay_pb,
)
from .sorting import sort_items
from .spec import Flag, Options, Result, command, sort_flag

# --- routes ---------------------------------------------------------------------------------

ROUTE_VNI = Flag("vni", "u32", "VNI of the route.", required=True)
ROUTE_PREFIX = Flag("prefix", "prefix", "Prefix of the route.", required=True)


@command("create", "route", "Create a route",
         Flag("prefix", "prefix", "Prefix for the route.", required=True),
         Flag("next-hop-vni", "u32", "Next hop VNI for the route.", required=True),
         Flag("next-hop-ip", "addr", "Next hop IP (IPv6 underlay) for the route.",
              required=True),
         Flag("vni", "u32", "Source VNI for the route.", required=True))
def create_route(api: Api, opts: Options) -> Result:
    route = pb.Route(prefix=prefix_pb(opts.prefix), nexthop_vni=opts.next_hop_vni,
                     nexthop_address=ip_pb(opts.next_hop_ip), weight=100)
    name = f"{opts.prefix}-{opts.next_hop_vni}"
    reply = checked(api.call("CreateRoute", pb.CreateRouteRequest(vni=opts.vni, route=route)),
                    "Route", name)
    spec = {"prefix": str(opts.prefix),
            "next_hop": {"vni": opts.next_hop_vni, "address": str(opts.next_hop_ip)}}
    return Result(obj("Route", {"vni": opts.vni}, spec, status_of(reply)),
                  f"created, Next Hop IP: {opts.next_hop_ip}")


@command("delete", "route", "Delete a route", ROUTE_PREFIX, ROUTE_VNI)
def delete_route(api: Api, opts: Options) -> Result:
    route = pb.Route(prefix=prefix_pb(opts.prefix), weight=100)
    reply = checked(api.call("DeleteRoute", pb.DeleteRouteRequest(vni=opts.vni, route=route)),
                    "Route", f"{opts.prefix}-0")
    spec = {"prefix": str(opts.prefix), "next_hop": {"vni": 0}}
    return Result(obj("Route", {"vni": opts.vni}, spec, status_of(reply)), "deleted")


@command("list", "route", "List the routes of a VNI (0: all VNIs)",
         Flag("vni", "u32", "VNI to get the routes from.", required=True), sort_flag())
def list_routes(api: Api, opts: Options) -> Result:
    reply = checked(api.call("ListRoutes", pb.ListRoutesRequest(vni=opts.vni)), "RouteList",
                    None)
    items = sort_items("RouteList", [route_doc(opts.vni, r) for r in reply.routes],
                       opts.sort_by)
    return Result(listing("RouteList", {"vni": opts.vni}, items, status_of(reply)))


command("get", "route", "List the routes of a VNI (alias of list routes)",
        Flag("vni", "u32", "VNI to get the routes from.", required=True),
        sort_flag())(list_routes)

# --- prefixes and load-balancer prefixes ----------------------------------------------------


@dataclass(frozen=True)
class PrefixKind:
    """What differs between alias prefixes and load-balancer prefixes."""

    kind: str
    rpc: str  # Prefix or LoadBalancerPrefix: Create<rpc>, Delete<rpc>, List<rpc>es
    create: Callable[..., Any]
    delete: Callable[..., Any]
    list: Callable[..., Any]
    with_vni: bool  # the listing carries each interface's VNI (alias prefixes)


ALIAS = PrefixKind("Prefix", "Prefix", pb.CreatePrefixRequest, pb.DeletePrefixRequest,
                   pb.ListPrefixesRequest, True)
LB = PrefixKind("LoadBalancerPrefix", "LoadBalancerPrefix", pb.CreateLoadBalancerPrefixRequest,
                pb.DeleteLoadBalancerPrefixRequest, pb.ListLoadBalancerPrefixesRequest, False)


def _create(what: PrefixKind, api: Api, opts: Options) -> Result:
    req = what.create(interface_id=opts.interface_id, prefix=prefix_pb(opts.prefix),
                      preferred_underlay_route=underlay_pb(opts.underlay))
    reply = checked(api.call(f"Create{what.rpc}", req), what.kind, str(opts.prefix))
    spec = {"prefix": str(opts.prefix), "underlay_route": text(reply.underlay_route)}
    doc = obj(what.kind, {"interface_id": text(opts.interface_id)}, spec, status_of(reply))
    return Result(doc, f"created, underlay route: {spec['underlay_route']}")


def _delete(what: PrefixKind, api: Api, opts: Options) -> Result:
    req = what.delete(interface_id=opts.interface_id, prefix=prefix_pb(opts.prefix))
    reply = checked(api.call(f"Delete{what.rpc}", req), what.kind, str(opts.prefix))
    doc = obj(what.kind, {"interface_id": text(opts.interface_id)},
              {"prefix": str(opts.prefix)}, status_of(reply))
    return Result(doc, "deleted")


def _prefixes_of(what: PrefixKind, api: Api, iface_id: bytes,
                 vni: int | None) -> tuple[list[Doc], Any]:
    reply = checked(api.call(f"List{what.rpc}es", what.list(interface_id=iface_id)),
                    f"{what.kind}List", None)
    vni = vni if what.with_vni else None
    return [prefix_doc(what.kind, text(iface_id), p, vni) for p in reply.prefixes], reply


def _list(what: PrefixKind, api: Api, opts: Options) -> Result:
    """Without --interface-id: every interface's prefixes (ListInterfaces, then one listing
    per interface). With it: that interface's (and, for alias prefixes, its VNI)."""
    list_kind = f"{what.kind}List"
    if not opts.interface_id:
        ifaces = checked(api.call("ListInterfaces", pb.ListInterfacesRequest()),
                         "InterfaceList", None).interfaces
        items: list[Doc] = []
        for iface in ifaces:
            items += _prefixes_of(what, api, iface.id, iface.vni)[0]
        return Result(listing(list_kind, {"interface_id": ""},
                              sort_items(list_kind, items, opts.sort_by)))
    items, reply = _prefixes_of(what, api, opts.interface_id, None)
    if what.with_vni:
        got = checked(api.call("GetInterface", pb.GetInterfaceRequest(
            interface_id=opts.interface_id)), "Interface", text(opts.interface_id))
        for item in items:
            item["metadata"]["vni"] = got.interface.vni
    return Result(listing(list_kind, {"interface_id": text(opts.interface_id)},
                          sort_items(list_kind, items, opts.sort_by), status_of(reply)))


def _flags(create: bool) -> tuple[Flag, ...]:
    flags = (Flag("prefix", "prefix", "The prefix (address/length).", required=True),
             Flag("interface-id", "id", "ID of the interface.", required=True))
    if create:
        flags += (Flag("underlay", "addr", "Preferred IPv6 underlay address."),)
    return flags


LIST_FLAGS = (Flag("interface-id", "id", "ID of the interface (default: all interfaces)."),
              sort_flag())

def _register(noun: str, what: PrefixKind, label: str) -> None:
    command("create", noun, f"Create a {label} on an interface", *_flags(True))(
        lambda api, opts: _create(what, api, opts))
    command("delete", noun, f"Delete a {label} of an interface", *_flags(False))(
        lambda api, opts: _delete(what, api, opts))
    for verb in ("list", "get"):
        command(verb, noun, f"List the {label}es of an interface (or of all)", *LIST_FLAGS)(
            lambda api, opts: _list(what, api, opts))


_register("prefix", ALIAS, "prefix")
_register("lbprefix", LB, "loadbalancer prefix")
