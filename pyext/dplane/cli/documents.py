# SPDX-License-Identifier: Apache-2.0
"""The JSON documents dplane-cli prints, built from gRPC messages (contract 4.5).

An object is {kind, metadata, spec, status}; a list is {kind: <Kind>List, metadata, status,
items}. Key names and which keys are left out when empty follow the Go dpservice-cli, whose
output scripts and controllers parse, and so does `status` on success (contract 5): a document
that dpservice-go converts from a reply's payload (an interface, route, prefix or firewall
rule: `get interface`, `get firewallrule` and every list item) has no Status of its own and
shows {"code": 0, "message": ""}; every other document, and a list answered by one RPC, shows
the reply's Status ("Success"). Callers pass `status_of(reply)` exactly for the latter.

Requests are built here too, so both directions of the address/prefix text conversion live
in one place.
"""
from __future__ import annotations

from typing import Any

from dplane.proto import dpdk_pb2 as pb

from .values import Address, NetPrefix

Doc = dict[str, Any]


def text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


def item_status() -> dict:
    """The status of a document built from a payload alone (see above)."""
    return {"code": 0, "message": ""}


def status_of(reply: Any) -> dict:
    return {"code": reply.status.code, "message": reply.status.message}


def obj(kind: str, metadata: dict, spec: dict, status: dict | None = None) -> Doc:
    return {"kind": kind, "metadata": metadata, "spec": spec,
            "status": status if status is not None else item_status()}


def listing(kind: str, metadata: dict, items: list[Doc], status: dict | None = None) -> Doc:
    return {"kind": kind, "metadata": metadata,
            "status": status if status is not None else item_status(), "items": items}


# --- requests -------------------------------------------------------------------------------

def ip_pb(addr: Address) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4 if addr.version == 4 else pb.IPV6,
                        address=str(addr).encode())


def prefix_pb(prefix: NetPrefix) -> pb.Prefix:
    return pb.Prefix(ip=ip_pb(prefix.addr), length=prefix.bits)


def underlay_pb(addr: Address | None) -> bytes:
    """A preferred underlay route: empty asks the service to generate one."""
    return b"" if addr is None else str(addr).encode()


# --- replies --------------------------------------------------------------------------------

def prefix_text(prefix: pb.Prefix) -> str:
    return f"{text(prefix.ip.address)}/{prefix.length}"


def metering(params: pb.MeteringParams) -> dict:
    """{} when both rates are 0: the Go CLI omits zero rates."""
    rates = {"total_rate": params.total_rate, "public_rate": params.public_rate}
    return {key: value for key, value in rates.items() if value}


def interface_spec(iface: pb.Interface) -> dict:
    spec: dict[str, Any] = {"vni": iface.vni}
    if iface.pci_name:
        spec["device"] = iface.pci_name
    for key, raw in (("primary_ipv4", iface.primary_ipv4), ("primary_ipv6", iface.primary_ipv6),
                     ("underlay_route", iface.underlay_route)):
        if raw:
            spec[key] = text(raw)
    spec["metering"] = metering(iface.meteringParams)
    if iface.hostname:
        spec["hostname"] = iface.hostname
    return spec


def interface_doc(iface: pb.Interface, status: dict | None = None) -> Doc:
    return obj("Interface", {"id": text(iface.id)}, interface_spec(iface), status)


def prefix_doc(kind: str, interface_id: str, prefix: pb.Prefix, vni: int | None = None) -> Doc:
    metadata: dict[str, Any] = {"interface_id": interface_id}
    if vni is not None:
        metadata["vni"] = vni
    spec = {"prefix": prefix_text(prefix)}
    if prefix.underlay_route:
        spec["underlay_route"] = text(prefix.underlay_route)
    return obj(kind, metadata, spec)


def route_doc(vni: int, route: pb.Route) -> Doc:
    next_hop: dict[str, Any] = {"vni": route.nexthop_vni}
    if route.nexthop_address.address:
        next_hop["address"] = text(route.nexthop_address.address)
    return obj("Route", {"vni": vni}, {"prefix": prefix_text(route.prefix), "next_hop": next_hop})


def lbports(ports: Any) -> list[dict]:
    return [{"protocol": int(port.protocol), "port": port.port} for port in ports]


def loadbalancer_doc(lb_id: str, vni: int, ip: str, ports: list[dict], underlay: str,
                     status: dict | None = None) -> Doc:
    spec: dict[str, Any] = {"vni": vni}
    if ip:
        spec["loadbalanced_ip"] = ip
    if ports:
        spec["loadbalanced_ports"] = ports
    if underlay:
        spec["underlay_route"] = underlay
    return obj("LoadBalancer", {"id": lb_id}, spec, status)


def loadbalancer_item(lb: pb.Loadbalancer) -> Doc:
    return loadbalancer_doc(text(lb.id), lb.vni, text(lb.ip.address), lbports(lb.ports),
                            text(lb.underlay_route))


def vip_doc(interface_id: str, vip_ip: str | None, underlay: str,
            status: dict | None = None) -> Doc:
    spec: dict[str, Any] = {"vip_ip": vip_ip}
    if underlay:
        spec["underlay_route"] = underlay
    return obj("VirtualIP", {"interface_id": interface_id}, spec, status)


def nat_doc(interface_id: str, nat_ip: str, min_port: int, max_port: int, underlay: str,
            status: dict | None = None) -> Doc:
    spec: dict[str, Any] = {}
    if nat_ip:
        spec["nat_ip"] = nat_ip
    spec.update(min_port=min_port, max_port=max_port)
    if underlay:
        spec["underlay_route"] = underlay
    spec["vni"] = 0
    return obj("Nat", {"interface_id": interface_id}, spec, status)


def nat_entry_doc(entry: pb.NatEntry) -> Doc:
    """A ListLocalNats / ListNeighborNats entry: neighbour entries carry an underlay route,
    local ones the VM's address."""
    spec: dict[str, Any] = {}
    neighbor = bool(entry.underlay_route)
    if not neighbor and entry.nat_ip.address:
        spec["nat_ip"] = text(entry.nat_ip.address)
    spec["min_port"] = entry.min_port
    spec["max_port"] = entry.max_port
    if neighbor:
        spec["underlay_route"] = text(entry.underlay_route)
    spec["vni"] = entry.vni
    if entry.actual_nat_ip.address:
        spec["actual_nat_ip"] = text(entry.actual_nat_ip.address)
    return obj("NeighborNat" if neighbor else "Nat", {}, spec)


DIRECTIONS = {pb.INGRESS: "Ingress", pb.EGRESS: "Egress"}
ACTIONS = {pb.DROP: "Drop", pb.ACCEPT: "Accept"}
_PORT_FIELDS = ("src_port_lower", "src_port_upper", "dst_port_lower", "dst_port_upper")


def protocol_filter_doc(pfilter: pb.ProtocolFilter) -> dict:
    """{"Filter": {"Tcp": {...}}} with zero fields left out, as Go's encoding/json renders
    the generated oneof; {"Filter": null} without a protocol."""
    which = pfilter.WhichOneof("filter")
    if which is None:
        return {"Filter": None}
    inner = getattr(pfilter, which)
    fields = ("icmp_type", "icmp_code") if which == "icmp" else _PORT_FIELDS
    values = {name: getattr(inner, name) for name in fields if getattr(inner, name)}
    return {"Filter": {which.capitalize(): values}}


def fwrule_spec(rule: pb.FirewallRule) -> dict:
    return {"id": text(rule.id).rstrip("\0"),
            "direction": DIRECTIONS.get(rule.direction, "Egress"),
            "action": ACTIONS.get(rule.action, "Accept"),
            "priority": rule.priority,
            "source_prefix": prefix_text(rule.source_prefix),
            "destination_prefix": prefix_text(rule.destination_prefix),
            "protocol_filter": protocol_filter_doc(rule.protocol_filter)}


def fwrule_doc(interface_id: str, rule: pb.FirewallRule, status: dict | None = None) -> Doc:
    return obj("FirewallRule", {"interface_id": interface_id}, fwrule_spec(rule), status)


def capture_config_doc(sink: str, src_port: int, dst_port: int) -> dict:
    config = {"sink_node_ipv6": sink, "udp_src_port": src_port, "udp_dst_port": dst_port}
    return {key: value for key, value in config.items() if value}


def captured_interface_doc(iface: pb.CapturedInterface) -> dict:
    if iface.interface_type == pb.SINGLE_PF:
        return {"interface_type": "pf", "interface_info": str(iface.pf_index)}
    return {"interface_type": "vf", "interface_info": text(iface.vf_name)}

