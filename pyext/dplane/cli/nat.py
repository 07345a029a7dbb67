# SPDX-License-Identifier: Apache-2.0
"""Virtual IPs, NATs and neighbour NATs: create|get|delete, list nats."""
from __future__ import annotations

from typing import Any

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import (
    Doc,
    ip_pb,
    listing,
    nat_doc,
    nat_entry_doc,
    obj,
    status_of,
    text,
    underlay_pb,
    vip_doc,
)
from .errors import ClientError
from .sorting import sort_items
from .spec import Flag, Options, Result, command, sort_flag

IFACE = Flag("interface-id", "id", "ID of the interface.", required=True)

# --- virtual IPs ----------------------------------------------------------------------------


@command("create", "virtualip", "Create a virtual IP on an interface",
         Flag("vip", "addr", "Virtual IP to create on the interface.", required=True), IFACE,
         Flag("underlay", "addr", "Preferred IPv6 underlay address."))
def create_vip(api: Api, opts: Options) -> Result:
    req = pb.CreateVipRequest(interface_id=opts.interface_id, vip_ip=ip_pb(opts.vip),
                              preferred_underlay_route=underlay_pb(opts.underlay))
    name = "on interface: " + text(opts.interface_id)
    reply = checked(api.call("CreateVip", req), "VirtualIP", name)
    underlay = text(reply.underlay_route)
    return Result(vip_doc(text(opts.interface_id), str(opts.vip), underlay, status_of(reply)),
                  f"created, underlay route: {underlay}")


@command("get", "virtualip", "Get the virtual IP of an interface", IFACE)
def get_vip(api: Api, opts: Options) -> Result:
    reply = checked(api.call("GetVip", pb.GetVipRequest(interface_id=opts.interface_id)),
                    "VirtualIP", "on interface: " + text(opts.interface_id))
    return Result(vip_doc(text(opts.interface_id), text(reply.vip_ip.address),
                          text(reply.underlay_route), status_of(reply)))


@command("delete", "virtualip", "Delete the virtual IP of an interface", IFACE)
def delete_vip(api: Api, opts: Options) -> Result:
    reply = checked(api.call("DeleteVip", pb.DeleteVipRequest(interface_id=opts.interface_id)),
                    "VirtualIP", "on interface: " + text(opts.interface_id))
    return Result(vip_doc(text(opts.interface_id), None, "", status_of(reply)), "deleted")


# --- NAT of an interface --------------------------------------------------------------------

PORTS = (Flag("minport", "u32", "First port of the NAT range.", required=True),
         Flag("maxport", "u32", "End of the NAT port range.", required=True))


@command("create", "nat", "Create a NAT on an interface", IFACE,
         Flag("nat-ip", "addr", "NAT IP to assign to the interface.", required=True), *PORTS,
         Flag("underlay", "addr", "Preferred IPv6 underlay address."))
def create_nat(api: Api, opts: Options) -> Result:
    req = pb.CreateNatRequest(interface_id=opts.interface_id, nat_ip=ip_pb(opts.nat_ip),
                              min_port=opts.minport, max_port=opts.maxport,
                              preferred_underlay_route=underlay_pb(opts.underlay))
    reply = checked(api.call("CreateNat", req), "Nat", text(opts.interface_id))
    underlay = text(reply.underlay_route)
    doc = nat_doc(text(opts.interface_id), str(opts.nat_ip), opts.minport, opts.maxport,
                  underlay, status_of(reply))
    return Result(doc, f"created, underlay route: {underlay}")


@command("get", "nat", "Get the NAT of an interface", IFACE)
def get_nat(api: Api, opts: Options) -> Result:
    reply = checked(api.call("GetNat", pb.GetNatRequest(interface_id=opts.interface_id)),
                    "Nat", text(opts.interface_id))
    return Result(nat_doc(text(opts.interface_id), text(reply.nat_ip.address), reply.min_port,
                          reply.max_port, text(reply.underlay_route), status_of(reply)))


@command("delete", "nat", "Delete the NAT of an interface", IFACE)
def delete_nat(api: Api, opts: Options) -> Result:
    reply = checked(api.call("DeleteNat", pb.DeleteNatRequest(interface_id=opts.interface_id)),
                    "Nat", text(opts.interface_id))
    return Result(nat_doc(text(opts.interface_id), "", 0, 0, "", status_of(reply)), "deleted")


# --- neighbour NATs -------------------------------------------------------------------------

NEIGH_FLAGS = (Flag("nat-ip", "addr", "Neighbor NAT IP.", required=True),
               Flag("vni", "u32", "VNI of the neighbor NAT.", required=True), *PORTS)


def _neighbor_doc(opts: Options, status: dict, created: bool) -> Doc:
    """dpservice-go returns the request's spec after a create, but no spec at all after a
    delete (its zero values: no underlay route, VNI and ports 0)."""
    spec: dict[str, Any] = {"vni": 0, "min_port": 0, "max_port": 0}
    if created:
        spec = {"vni": opts.vni, "min_port": opts.minport, "max_port": opts.maxport,
                "underlay_route": str(opts.underlayroute)}
    return obj("NeighborNat", {"nat_ip": str(opts.nat_ip)}, spec, status)


@command("create", "neighbornat", "Create a neighbor NAT", *NEIGH_FLAGS,
         Flag("underlayroute", "addr", "Underlay route of the neighbor NAT.", required=True))
def create_neighbor_nat(api: Api, opts: Options) -> Result:
    req = pb.CreateNeighborNatRequest(nat_ip=ip_pb(opts.nat_ip), vni=opts.vni,
                                      min_port=opts.minport, max_port=opts.maxport,
                                      underlay_route=str(opts.underlayroute).encode())
    reply = checked(api.call("CreateNeighborNat", req), "NeighborNat", str(opts.nat_ip))
    return Result(_neighbor_doc(opts, status_of(reply), created=True),
                  f"created, underlay route: {opts.underlayroute}")


@command("delete", "neighbornat", "Delete a neighbor NAT", *NEIGH_FLAGS)
def delete_neighbor_nat(api: Api, opts: Options) -> Result:
    req = pb.DeleteNeighborNatRequest(nat_ip=ip_pb(opts.nat_ip), vni=opts.vni,
                                      min_port=opts.minport, max_port=opts.maxport)
    reply = checked(api.call("DeleteNeighborNat", req), "NeighborNat", str(opts.nat_ip))
    return Result(_neighbor_doc(opts, status_of(reply), created=False), "deleted")


# --- list nats ------------------------------------------------------------------------------

NAT_TYPES = {"local": ("local",), "1": ("local",), "neigh": ("neigh",), "neighbor": ("neigh",),
             "2": ("neigh",), "any": ("local", "neigh"), "0": ("local", "neigh"),
             "": ("local", "neigh")}
LIST_RPCS = {"local": ("ListLocalNats", pb.ListLocalNatsRequest),
             "neigh": ("ListNeighborNats", pb.ListNeighborNatsRequest)}


@command("list", "nat", "List local and/or neighbor NATs of a NAT IP (0.0.0.0: all)",
         Flag("nat-ip", "addr", "NAT IP to list the entries of.", default="0.0.0.0"),
         Flag("nat-type", "str", "NAT type: Any = 0/Local = 1/Neigh(bor) = 2.", default="0"),
         sort_flag())
def list_nats(api: Api, opts: Options) -> Result:
    types = NAT_TYPES.get(opts.nat_type.lower())
    if types is None:
        raise ClientError("nat type can be only: Any = 0/Local = 1/Neigh(bor) = 2")
    items: list[Doc] = []
    status = None
    for nat_type in types:
        rpc, request = LIST_RPCS[nat_type]
        reply = api.call(rpc, request(nat_ip=ip_pb(opts.nat_ip)))
        if len(types) == 1:
            status = status_of(checked(reply, "NatList", None))
        # both types: dpservice-go looks at neither reply's Status (an IPv6 NAT IP lists
        # nothing, with exit status 0) and the list has no Status of its own
        items += [nat_entry_doc(entry) for entry in reply.nat_entries]
    meta = {"nat_ip": str(opts.nat_ip)}
    if opts.nat_type:  # omitempty in Go
        meta["nat_type"] = opts.nat_type
    return Result(listing("NatList", meta, sort_items("NatList", items, opts.sort_by), status))
