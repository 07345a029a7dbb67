# SPDX-License-Identifier: Apache-2.0
"""Firewall rules: create|get|delete firewallrule, list firewallrules."""
from __future__ import annotations

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import Doc, fwrule_doc, listing, obj, prefix_pb, status_of, text
from .errors import ClientError
from .sorting import sort_items
from .spec import Flag, Options, Result, command, require, sort_flag

IFACE = Flag("interface-id", "id", "ID of the interface.", required=True)
RULE = Flag("rule-id", "id", "ID of the firewall rule.", required=True)
PROTOCOLS = {"icmp": "icmp", "1": "icmp", "tcp": "tcp", "6": "tcp", "udp": "udp", "17": "udp",
             "": ""}
ACTIONS = {"accept": pb.ACCEPT, "allow": pb.ACCEPT, "1": pb.ACCEPT,
           "drop": pb.DROP, "deny": pb.DROP, "0": pb.DROP}
DIRECTIONS = {"ingress": pb.INGRESS, "0": pb.INGRESS, "egress": pb.EGRESS, "1": pb.EGRESS}
PORT_FLAGS = ("src-port-min", "src-port-max", "dst-port-min", "dst-port-max")


def _required_for(protocol: str, opts: Options) -> list[str]:
    """Flags a protocol filter needs (as the Go CLI's PreRunE)."""
    if protocol == "icmp":
        needed = ["icmp-type", "icmp-code"]
    elif protocol in ("tcp", "udp"):
        needed = ["src-port-min", "dst-port-min"]
        needed += ["src-port-max"] * (opts.src_port_min != -1)
        needed += ["dst-port-max"] * (opts.dst_port_min != -1)
    else:
        needed = []
    return [name for name in needed if name not in opts.given]


def _port_filter(opts: Options) -> dict[str, int]:
    ports = [opts.src_port_min, opts.src_port_max, opts.dst_port_min, opts.dst_port_max]
    if any(port != -1 and not 1 <= port <= 65535 for port in ports):
        raise ClientError("ports can only be -1 or <1,65535>")
    if ports[0] > ports[1] or ports[2] > ports[3]:
        raise ClientError("min port must be lower or equal to max port")
    names = ("src_port_lower", "src_port_upper", "dst_port_lower", "dst_port_upper")
    return dict(zip(names, ports, strict=True))


def _protocol_filter(opts: Options) -> pb.ProtocolFilter:
    protocol = PROTOCOLS.get(opts.protocol.lower())
    if protocol is None:
        raise ClientError("protocol can be only: icmp = 1/tcp = 6/udp = 17")
    require(_required_for(protocol, opts))
    if protocol == "icmp":
        return pb.ProtocolFilter(icmp=pb.IcmpFilter(icmp_type=opts.icmp_type,
                                                    icmp_code=opts.icmp_code))
    if protocol == "tcp":
        return pb.ProtocolFilter(tcp=pb.TcpFilter(**_port_filter(opts)))
    if protocol == "udp":
        return pb.ProtocolFilter(udp=pb.UdpFilter(**_port_filter(opts)))
    return pb.ProtocolFilter()


def _choice(table: dict[str, int], value: str, message: str) -> int:
    if value.lower() not in table:
        raise ClientError(message)
    return table[value.lower()]


def _rule(opts: Options) -> pb.FirewallRule:
    pfilter = _protocol_filter(opts)
    if opts.priority > 65536:
        raise ClientError("priority can be only: <0,65536")
    action = _choice(ACTIONS, opts.action,
                     "firewall action can be only: drop/deny/0|accept/allow/1")
    direction = _choice(DIRECTIONS, opts.direction,
                        "traffic direction can be only: Ingress = 0/Egress = 1")
    return pb.FirewallRule(id=opts.rule_id, direction=direction, action=action,
                           priority=opts.priority, source_prefix=prefix_pb(opts.src),
                           destination_prefix=prefix_pb(opts.dst), protocol_filter=pfilter)


@command("create", "firewallrule", "Create a firewall rule on an interface", IFACE, RULE,
         Flag("direction", "str", "Traffic direction: Ingress = 0/Egress = 1.", required=True),
         Flag("action", "str", "Action: drop/deny/0|accept/allow/1.", required=True),
         Flag("priority", "u32", "Priority of the rule.", default="1000"),
         Flag("src", "prefix", "Source prefix (0.0.0.0/0 matches all).", required=True),
         Flag("dst", "prefix", "Destination prefix (0.0.0.0/0 matches all).", required=True),
         Flag("protocol", "str", "Protocol icmp/tcp/udp (none: all protocols).", default=""),
         *(Flag(name, "i32", "Port bound (-1: any).", default="-1") for name in PORT_FLAGS),
         Flag("icmp-type", "i32", "ICMP type (-1: any).", default="-1"),
         Flag("icmp-code", "i32", "ICMP code (-1: any).", default="-1"))
def create_fwrule(api: Api, opts: Options) -> Result:
    rule = _rule(opts)
    iface = text(opts.interface_id)
    req = pb.CreateFirewallRuleRequest(interface_id=opts.interface_id, rule=rule)
    reply = checked(api.call("CreateFirewallRule", req), "FirewallRule",
                    f"{iface}/{text(opts.rule_id)}")
    return Result(fwrule_doc(iface, rule, status_of(reply)), "created")


@command("get", "firewallrule", "Get a firewall rule of an interface", IFACE, RULE)
def get_fwrule(api: Api, opts: Options) -> Result:
    iface = text(opts.interface_id)
    reply = checked(api.call("GetFirewallRule", pb.GetFirewallRuleRequest(
        interface_id=opts.interface_id, rule_id=opts.rule_id)), "FirewallRule",
        f"{iface}/{text(opts.rule_id)}")
    return Result(fwrule_doc(iface, reply.rule))  # from the payload: no Status, as in Go


@command("delete", "firewallrule", "Delete a firewall rule of an interface", IFACE, RULE)
def delete_fwrule(api: Api, opts: Options) -> Result:
    iface, rule_id = text(opts.interface_id), text(opts.rule_id)
    reply = checked(api.call("DeleteFirewallRule", pb.DeleteFirewallRuleRequest(
        interface_id=opts.interface_id, rule_id=opts.rule_id)), "FirewallRule",
        f"{iface}/{rule_id}")
    return Result(obj("FirewallRule", {"interface_id": iface}, {"id": rule_id, "priority": 0},
                      status_of(reply)), "deleted")


def _rules_of(api: Api, iface_id: bytes) -> tuple[list[Doc], dict]:
    reply = checked(api.call("ListFirewallRules", pb.ListFirewallRulesRequest(
        interface_id=iface_id)), "FirewallRuleList", None)
    return [fwrule_doc(text(iface_id), rule) for rule in reply.rules], status_of(reply)


@command("list", "firewallrule", "List the firewall rules of an interface (or of all)",
         Flag("interface-id", "id", "ID of the interface (default: all interfaces)."),
         sort_flag())
def list_fwrules(api: Api, opts: Options) -> Result:
    status = None
    if opts.interface_id:
        items, status = _rules_of(api, opts.interface_id)
    else:
        items = []
        for iface in checked(api.call("ListInterfaces", pb.ListInterfacesRequest()),
                             "InterfaceList", None).interfaces:
            items += _rules_of(api, iface.id)[0]
    items = sort_items("FirewallRuleList", items, opts.sort_by)
    meta = {"interface_id": text(opts.interface_id or b"")}
    return Result(listing("FirewallRuleList", meta, items, status))
