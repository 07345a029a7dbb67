# SPDX-License-Identifier: Apache-2.0
"""`-o table`: one aligned row per object, with the columns (and header texts) of the Go
dpservice-cli, so that a person reads it at a glance and `awk '{print $1}'` keeps working.

Layout: a space, then the cells padded to the column width and separated by two spaces;
numbers are right-aligned, everything else left-aligned; no trailing blanks.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .documents import Doc
from .values import PROTOCOL_NAMES

Cell = Any
Table = tuple[list[str], list[list[Cell]]]


def _ports(ports: list[dict]) -> str:
    return ",".join(f"{PROTOCOL_NAMES.get(p['protocol'], p['protocol'])}/{p['port']}"
                    for p in ports)


def _nat_text(nat: Doc | None) -> str:
    if not nat:
        return ""
    spec = nat["spec"]
    return f"{spec.get('nat_ip', '')} <{spec.get('min_port', 0)}, {spec.get('max_port', 0)}>"


def _interfaces(items: list[Doc], wide: bool) -> Table:
    headers = ["ID", "VNI", "Device", "IPv4", "IPv6", "UnderlayRoute", "TotalMeterRate",
               "PublicMeterRate"]
    with_vf = any("virtual_function" in item["spec"] for item in items)
    headers += ["VirtualFunction"] * with_vf + ["Nat", "VirtualIP"] * wide
    rows = []
    for item in items:
        spec, rates = item["spec"], item["spec"].get("metering", {})
        row = [item["metadata"]["id"], spec["vni"], spec.get("device", ""),
               spec.get("primary_ipv4", ""), spec.get("primary_ipv6", ""),
               spec.get("underlay_route", ""), rates.get("total_rate", 0),
               rates.get("public_rate", 0)]
        if with_vf:
            row.append(spec.get("virtual_function", {}).get("name", ""))
        if wide:
            vip = spec.get("vip") or {"spec": {}}
            row += [_nat_text(spec.get("nat")), vip["spec"].get("vip_ip") or ""]
        rows.append(row)
    return headers, rows


def _prefixes(items: list[Doc], wide: bool) -> Table:
    return ["Prefix", "UnderlayRoute"], [
        [item["spec"]["prefix"], item["spec"].get("underlay_route", "")] for item in items]


def _routes(items: list[Doc], wide: bool) -> Table:
    rows = []
    for item in items:
        hop = item["spec"].get("next_hop", {})
        rows.append([item["spec"].get("prefix", ""), item["metadata"]["vni"],
                     hop.get("vni", 0), hop.get("address", "")])
    return ["Prefix", "VNI", "NextHopVNI", "NextHopIP"], rows


def _vips(items: list[Doc], wide: bool) -> Table:
    return ["InterfaceID", "VirtualIP", "UnderlayRoute"], [
        [item["metadata"]["interface_id"], item["spec"].get("vip_ip") or "",
         item["spec"].get("underlay_route", "")] for item in items]


def _loadbalancers(items: list[Doc], wide: bool) -> Table:
    return ["ID", "VNI", "LbVipIP", "Lbports", "UnderlayRoute"], [
        [item["metadata"]["id"], item["spec"]["vni"], item["spec"].get("loadbalanced_ip", ""),
         _ports(item["spec"].get("loadbalanced_ports", [])),
         item["spec"].get("underlay_route", "")] for item in items]


def _lbtargets(items: list[Doc], wide: bool) -> Table:
    rows = []
    for item in items:
        target = item["spec"].get("target_ip", "")
        rows.append(["IPV6" if ":" in target else "IPV4", target])
    return ["IpVersion", "Address"], rows


def _nat(items: list[Doc], wide: bool) -> Table:
    return ["InterfaceID", "IP", "MinPort", "MaxPort", "UnderlayRoute"], [
        [item["metadata"].get("interface_id", ""), item["spec"].get("nat_ip", ""),
         item["spec"]["min_port"], item["spec"]["max_port"],
         item["spec"].get("underlay_route", "")] for item in items]


def _nat_list(items: list[Doc], wide: bool) -> Table:
    return ["VNI", "IP", "MinPort", "MaxPort", "UnderlayRoute", "NatType"], [
        [item["spec"]["vni"], item["spec"].get("nat_ip", ""), item["spec"]["min_port"],
         item["spec"]["max_port"], item["spec"].get("underlay_route", ""),
         "Neighbor" if "underlay_route" in item["spec"] else "Local"] for item in items]


def _neighbor_nats(items: list[Doc], wide: bool) -> Table:
    return ["VNI", "NatIP", "MinPort", "MaxPort", "UnderlayRoute"], [
        [item["spec"]["vni"], item["metadata"].get("nat_ip", ""), item["spec"]["min_port"],
         item["spec"]["max_port"], item["spec"].get("underlay_route", "")] for item in items]


def protocol_text(pfilter: dict | None) -> str:
    """'tcp src=1-1000 dst=any', 'icmp type=8 code=any' or 'any'."""
    chosen = (pfilter or {}).get("Filter")
    if not chosen:
        return "any"
    name, fields = next(iter(chosen.items()))

    def span(low: str, high: str) -> str:
        lower, upper = fields.get(low, 0), fields.get(high, 0)
        if lower == -1:
            return "any"
        return str(lower) if upper in (lower, 0, -1) else f"{lower}-{upper}"

    if name == "Icmp":
        kind = "any" if fields.get("icmp_type", 0) == -1 else fields.get("icmp_type", 0)
        code = "any" if fields.get("icmp_code", 0) == -1 else fields.get("icmp_code", 0)
        return f"icmp type={kind} code={code}"
    return (f"{name.lower()} src={span('src_port_lower', 'src_port_upper')} "
            f"dst={span('dst_port_lower', 'dst_port_upper')}")


def _fwrules(items: list[Doc], wide: bool) -> Table:
    headers = ["InterfaceID", "RuleID", "Direction", "Src", "Dst", "Action", "Protocol",
               "Priority"]
    return headers, [
        [item["metadata"]["interface_id"], item["spec"]["id"],
         item["spec"].get("direction", ""), item["spec"].get("source_prefix", ""),
         item["spec"].get("destination_prefix", ""), item["spec"].get("action", ""),
         protocol_text(item["spec"].get("protocol_filter")), item["spec"]["priority"]]
        for item in items]


def _vni(items: list[Doc], wide: bool) -> Table:
    return ["VNI", "VniType", "inUse"], [
        [item["metadata"]["vni"], item["metadata"]["vni_type"], item["spec"]["in_use"]]
        for item in items]


def _version(items: list[Doc], wide: bool) -> Table:
    return ["ServiceProto", "ServiceVersion", "ClientName", "ClientProto", "ClientVersion"], [
        [item["spec"]["service_protocol"], item["spec"]["service_version"],
         item["metadata"]["client_name"], item["metadata"]["client_protocol"],
         item["metadata"]["client_version"]] for item in items]


def _initialized(items: list[Doc], wide: bool) -> Table:
    return ["UUID"], [[item["spec"]["uuid"]] for item in items]


def _captured(interfaces: list[dict], kind: str) -> str:
    return " ".join(i["interface_info"] for i in interfaces if i["interface_type"] == kind)


def _capture_start(items: list[Doc], wide: bool) -> Table:
    rows = []
    for item in items:
        config, ifaces = item["metadata"]["capture_config"], item["spec"].get("interfaces", [])
        rows.append([config.get("sink_node_ipv6", ""), config.get("udp_src_port", 0),
                     config.get("udp_dst_port", 0), _captured(ifaces, "pf"),
                     _captured(ifaces, "vf")])
    return ["SinkNodeIP", "UdpSrcPort", "UdpDstPort", "PF Interfaces", "VF Interfaces"], rows


def _capture_stop(items: list[Doc], wide: bool) -> Table:
    return ["Stopped Interface"], [[item["spec"]["iface_cnt"]] for item in items]


def _capture_status(items: list[Doc], wide: bool) -> Table:
    headers = ["Operation Status", "SinkNodeIP", "UdpSrcPort", "UdpDstPort", "PF Interfaces",
               "VF Interfaces"]
    rows = []
    for item in items:
        spec = item["spec"]
        if not spec["operation_status"]:
            rows.append(["NOT_ACTIVE", "", "", "", "", ""])
            continue
        config, ifaces = spec["capture_config"], spec.get("interfaces", [])
        rows.append(["ACTIVE", config.get("sink_node_ipv6", ""), config.get("udp_src_port", 0),
                     config.get("udp_dst_port", 0), _captured(ifaces, "pf"),
                     _captured(ifaces, "vf")])
    return headers, rows


TABLES: dict[str, Callable[[list[Doc], bool], Table]] = {
    "Interface": _interfaces, "InterfaceList": _interfaces,
    "Prefix": _prefixes, "PrefixList": _prefixes,
    "LoadBalancerPrefix": _prefixes, "LoadBalancerPrefixList": _prefixes,
    "Route": _routes, "RouteList": _routes,
    "VirtualIP": _vips,
    "LoadBalancer": _loadbalancers, "LoadBalancerList": _loadbalancers,
    "LoadBalancerTarget": _lbtargets, "LoadBalancerTargetList": _lbtargets,
    "Nat": _nat, "NatList": _nat_list, "NeighborNat": _neighbor_nats,
    "FirewallRule": _fwrules, "FirewallRuleList": _fwrules,
    "Vni": _vni, "Version": _version, "Initialized": _initialized,
    "CaptureStart": _capture_start, "CaptureStop": _capture_stop,
    "CaptureStatus": _capture_status,
}


def _cell_text(value: Cell) -> tuple[str, bool]:
    """(text, right-aligned)."""
    if isinstance(value, bool):
        return ("true" if value else "false"), False
    if isinstance(value, int):
        return str(value), True
    return ("" if value is None else str(value)), False


def format_table(headers: list[str], rows: list[list[Cell]]) -> str:
    cells = [[_cell_text(value) for value in row] for row in rows]
    widths = [len(header) for header in headers]
    for row in cells:
        widths = [max(width, len(text)) for width, (text, _) in zip(widths, row, strict=True)]
    lines = [" " + "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    for row in cells:
        lines.append(" " + "  ".join(text.rjust(w) if right else text.ljust(w)
                                     for (text, right), w in zip(row, widths, strict=True)))
    return "".join(line.rstrip() + "\n" for line in lines)


def render(doc: Doc, wide: bool) -> str:
    items = doc["items"] if "items" in doc else [doc]
    headers, rows = TABLES[doc["kind"]](items, wide)
    return format_table(headers, rows)
