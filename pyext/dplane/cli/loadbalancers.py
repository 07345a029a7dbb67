# SPDX-License-Identifier: Apache-2.0
"""Load balancers (create|get|delete|list) and their targets (create|delete|list)."""
from __future__ import annotations

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import (
    ip_pb,
    lbports,
    listing,
    loadbalancer_doc,
    loadbalancer_item,
    obj,
    status_of,
    text,
    underlay_pb,
)
from .sorting import sort_items
from .spec import Flag, Options, Result, command, sort_flag


@command("create", "loadbalancer", "Create a loadbalancer",
         Flag("id", "id", "Loadbalancer ID to add.", required=True),
         Flag("vni", "u32", "VNI to add the loadbalancer to.", required=True),
         Flag("vip", "addr", "VIP to assign to the loadbalancer.", required=True),
         Flag("lbports", "lbports", "Ports to balance, e.g. TCP/443,UDP/53.", required=True),
         Flag("underlay", "addr", "Preferred IPv6 underlay address."))
def create_loadbalancer(api: Api, opts: Options) -> Result:
    ports = [pb.LbPort(protocol=protocol, port=port) for protocol, port in opts.lbports]
    req = pb.CreateLoadBalancerRequest(loadbalancer_id=opts.id, loadbalanced_ip=ip_pb(opts.vip),
                                       vni=opts.vni, loadbalanced_ports=ports,
                                       preferred_underlay_route=underlay_pb(opts.underlay))
    reply = checked(api.call("CreateLoadBalancer", req), "LoadBalancer", text(opts.id))
    doc = loadbalancer_doc(text(opts.id), opts.vni, str(opts.vip), lbports(ports),
                           text(reply.underlay_route), status_of(reply))
    return Result(doc, f"created, underlay route: {text(reply.underlay_route)}")


@command("list", "loadbalancer", "List all loadbalancers", sort_flag())
def list_loadbalancers(api: Api, opts: Options) -> Result:
    reply = checked(api.call("ListLoadBalancers", pb.ListLoadBalancersRequest()),
                    "LoadBalancerList", None)
    items = sort_items("LoadBalancerList", [loadbalancer_item(lb) for lb in reply.loadbalancers],
                       opts.sort_by)
    return Result(listing("LoadBalancerList", {}, items, status_of(reply)))


@command("get", "loadbalancer", "Get a loadbalancer (all of them without --id)",
         Flag("id", "id", "ID of the loadbalancer."), sort_flag())
def get_loadbalancer(api: Api, opts: Options) -> Result:
    if not opts.id:
        return list_loadbalancers(api, opts)
    reply = checked(api.call("GetLoadBalancer", pb.GetLoadBalancerRequest(
        loadbalancer_id=opts.id)), "LoadBalancer", text(opts.id))
    return Result(loadbalancer_doc(text(opts.id), reply.vni, text(reply.loadbalanced_ip.address),
                                   lbports(reply.loadbalanced_ports), text(reply.underlay_route),
                                   status_of(reply)))


@command("delete", "loadbalancer", "Delete a loadbalancer",
         Flag("id", "id", "ID of the loadbalancer to delete.", required=True))
def delete_loadbalancer(api: Api, opts: Options) -> Result:
    reply = checked(api.call("DeleteLoadBalancer", pb.DeleteLoadBalancerRequest(
        loadbalancer_id=opts.id)), "LoadBalancer", text(opts.id))
    return Result(loadbalancer_doc(text(opts.id), 0, "", [], "", status_of(reply)), "deleted")


TARGET_FLAGS = (Flag("target-ip", "addr", "Loadbalancer target IP.", required=True),
                Flag("lb-id", "id", "ID of the loadbalancer.", required=True))


def _target_doc(lb_id: bytes, target: str | None, status: dict | None = None) -> dict:
    spec = {"target_ip": target} if target else {}
    return obj("LoadBalancerTarget", {"loadbalancer_id": text(lb_id)}, spec, status)


def _change_target(api: Api, opts: Options, rpc: str, request: type, verb: str) -> Result:
    """Create or Delete a loadbalancer target: the same request fields and reply; the
    document of a delete has an empty spec, as dpservice-cli's (it fills in none)."""
    req = request(loadbalancer_id=opts.lb_id, target_ip=ip_pb(opts.target_ip))
    reply = checked(api.call(rpc, req), "LoadBalancerTarget",
                    "on loadbalancer: " + text(opts.lb_id))
    target = str(opts.target_ip) if verb == "created" else None
    return Result(_target_doc(opts.lb_id, target, status_of(reply)), verb)


@command("create", "lbtarget", "Create a loadbalancer target", *TARGET_FLAGS)
def create_lbtarget(api: Api, opts: Options) -> Result:
    return _change_target(api, opts, "CreateLoadBalancerTarget",
                          pb.CreateLoadBalancerTargetRequest, "created")


@command("delete", "lbtarget", "Delete a loadbalancer target", *TARGET_FLAGS)
def delete_lbtarget(api: Api, opts: Options) -> Result:
    return _change_target(api, opts, "DeleteLoadBalancerTarget",
                          pb.DeleteLoadBalancerTargetRequest, "deleted")


def list_lbtargets(api: Api, opts: Options) -> Result:
    reply = checked(api.call("ListLoadBalancerTargets", pb.ListLoadBalancerTargetsRequest(
        loadbalancer_id=opts.lb_id)), "LoadBalancerTargetList", None)
    items = [_target_doc(opts.lb_id, text(ip.address)) for ip in reply.target_ips]
    return Result(listing("LoadBalancerTargetList", {"loadbalancer_id": text(opts.lb_id)},
                          sort_items("LoadBalancerTargetList", items), status_of(reply)))


LIST_TARGET_FLAGS = (Flag("lb-id", "id", "ID of the loadbalancer.", required=True), sort_flag())
command("list", "lbtarget", "List the targets of a loadbalancer", *LIST_TARGET_FLAGS)(
    list_lbtargets)
command("get", "lbtarget", "List the targets of a loadbalancer", *LIST_TARGET_FLAGS)(
    list_lbtargets)
