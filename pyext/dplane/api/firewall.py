# SPDX-License-Identifier: Apache-2.0
"""CreateFirewallRule, GetFirewallRule, DeleteFirewallRule, ListFirewallRules."""
from __future__ import annotations

from ..control import ControlThread
from ..errors import InvalidArgument
from ..features.firewall import ANY, Firewall, Rule
from ..proto import dpdk_pb2 as pb
from . import api, rpc, validate

ID_SIZE = 64  # dpservice's rule id buffer: at most 63 bytes, NUL-padded in replies
MAX_PRIORITY = 65535
PORT_FIELDS = ("src_port_lower", "dst_port_lower", "src_port_upper", "dst_port_upper")


def _rule_id(raw: bytes, message: str) -> bytes:
    """A C string in a 64-byte buffer: not empty, up to its first NUL, shorter than 64
    bytes."""
    if not raw or len(raw) >= ID_SIZE:
        raise InvalidArgument(message)
    return raw.split(b"\0", 1)[0]


def _prefix(pfx: pb.Prefix, name: str) -> tuple[bytes, int]:
    if pfx.ip.ipver not in (pb.IPV4, pb.IPV6):
        raise InvalidArgument(f"Invalid {name}.ip.ipver")
    addr = validate.address(pfx.ip)
    if addr is None:
        raise InvalidArgument(f"Invalid {name}.ip")
    if pfx.ip.ipver == pb.IPV4 and pfx.length > 32:
        raise InvalidArgument(f"Invalid {name}.length")
    if pfx.ip.ipver == pb.IPV6 and pfx.length > 128:
        raise InvalidArgument(f"Invalid ip6 {name}.length")
    return addr, pfx.length


def _port(value: int) -> bool:
    """dpservice reads the bound as unsigned: -1 (any) or 0..65535."""
    return value == ANY or 0 <= value <= 65535


def _filter(pf: pb.ProtocolFilter) -> dict:
    which = pf.WhichOneof("filter")
    if which in ("tcp", "udp"):
        ports = getattr(pf, which)
        for field in PORT_FIELDS:
            if not _port(getattr(ports, field)):
                raise InvalidArgument(f"Invalid {which}.{field}")
        for side in ("src", "dst"):
            lower = getattr(ports, f"{side}_port_lower")
            upper = getattr(ports, f"{side}_port_upper")
            # unsigned, as dpservice compares: an upper bound of -1 is never below
            if lower != ANY and upper != ANY and upper < lower:
                raise InvalidArgument(f"Invalid {which}.{side}_port range")
        return {"protocol": 6 if which == "tcp" else 17,
                "src_ports": (ports.src_port_lower, ports.src_port_upper),
                "dst_ports": (ports.dst_port_lower, ports.dst_port_upper)}
    if which == "icmp":
        for field in ("icmp_type", "icmp_code"):
            value = getattr(pf.icmp, field)
            if value != ANY and not 0 <= value <= 255:
                raise InvalidArgument(f"Invalid icmp.{field}")
        return {"protocol": 1, "icmp_type": pf.icmp.icmp_type,
                "icmp_code": pf.icmp.icmp_code}
    return {}


def rule_from_request(req: pb.CreateFirewallRuleRequest) -> tuple[str, Rule]:
    """Validate in dpservice's order (contract 3.5)."""
    iface_id = validate.interface_id(req.interface_id)
    r = req.rule
    rule_id = _rule_id(r.id, "Invalid rule id")
    src, src_len = _prefix(r.source_prefix, "source_prefix")
    dst, dst_len = _prefix(r.destination_prefix, "destination_prefix")
    if r.direction not in (pb.INGRESS, pb.EGRESS):
        raise InvalidArgument("Invalid direction")
    if r.action not in (pb.DROP, pb.ACCEPT):
        raise InvalidArgument("Invalid action")
    if r.priority > MAX_PRIORITY:
        raise InvalidArgument("Invalid priority")
    return iface_id, Rule(rule_id, int(r.direction), int(r.action), r.priority, src, src_len,
                          dst, dst_len, **_filter(r.protocol_filter))


def _prefix_message(addr: bytes, text: str, length: int) -> pb.Prefix:
    ipver = pb.IPV4 if len(addr) == 4 else pb.IPV6
    return pb.Prefix(ip=pb.IpAddress(ipver=ipver, address=text.encode()), length=length)


def to_message(rule: Rule) -> pb.FirewallRule:
    """As dpservice reports it, but with an IPv6 prefix's true length (dpservice caps it at
    32, contract 1.3: no client can use the wrong one)."""
    msg = pb.FirewallRule(
        id=rule.id, direction=rule.direction, action=rule.action, priority=rule.priority,
        source_prefix=_prefix_message(rule.src, rule.src_text, rule.src_len),
        destination_prefix=_prefix_message(rule.dst, rule.dst_text, rule.dst_len))
    pf = msg.protocol_filter
    pf.SetInParent()  # an empty filter when the rule takes any protocol
    if rule.protocol in (6, 17):
        ports = pf.tcp if rule.protocol == 6 else pf.udp
        ports.src_port_lower, ports.src_port_upper = rule.src_ports
        ports.dst_port_lower, ports.dst_port_upper = rule.dst_ports
    elif rule.protocol == 1:
        pf.icmp.icmp_type = rule.icmp_type
        pf.icmp.icmp_code = rule.icmp_code
    return msg


@api
class FirewallApi:
    def __init__(self, control: ControlThread, firewall: Firewall) -> None:
        self._control = control
        self._firewall = firewall

    @rpc("CreateFirewallRule")
    def create(self, req: pb.CreateFirewallRuleRequest):
        iface_id, rule = rule_from_request(req)
        self._control.call(self._firewall.create, iface_id, rule)
        return pb.CreateFirewallRuleResponse(rule_id=rule.id.ljust(ID_SIZE, b"\0"))

    @rpc("GetFirewallRule")
    def get(self, req: pb.GetFirewallRuleRequest):
        iface_id = validate.interface_id(req.interface_id)
        rule_id = _rule_id(req.rule_id, "Invalid rule_id")
        rule = self._control.call(self._firewall.get, iface_id, rule_id)
        return pb.GetFirewallRuleResponse(rule=to_message(rule))

    @rpc("DeleteFirewallRule")
    def delete(self, req: pb.DeleteFirewallRuleRequest):
        iface_id = validate.interface_id(req.interface_id)
        rule_id = _rule_id(req.rule_id, "Invalid rule_id")
        self._control.call(self._firewall.delete, iface_id, rule_id)
        return pb.DeleteFirewallRuleResponse()

    @rpc("ListFirewallRules")
    def list(self, req: pb.ListFirewallRulesRequest):
        iface_id = validate.interface_id(req.interface_id)
        rules = self._control.call(self._firewall.list, iface_id)
        return pb.ListFirewallRulesResponse(rules=[to_message(r) for r in rules])
