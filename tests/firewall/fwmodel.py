# SPDX-License-Identifier: Apache-2.0
"""An independent model of the firewall's rule semantics (contract 1.1 "Firewall"), written
from the contract, not from the C code: what the tests compare the firmware against.

    egress  (from a VM): accepted when its interface has no egress rule, else by the first
                         matching egress rule (its action), else denied;
    ingress (to a VM):   by the first matching ingress rule of its interface (its action),
                         else denied, also with no rules at all;
    VM to VM on this host needs both; the underlay (a PF) has no rules.

A prefix of length 0 matches any address of either family; a longer one only addresses of
its own family. A rule without protocol matches TCP, UDP, ICMP and ICMPv6 whatever their
ports; an ICMP rule matches ICMP and ICMPv6. Port bounds: lower -1 = any; an upper bound of -1
under a set lower one is no upper bound (dpservice compares unsigned).
"""
from __future__ import annotations

import dataclasses
import ipaddress

INGRESS, EGRESS = 0, 1
DROP, ACCEPT = 0, 1
ANY = -1
ICMP, TCP, UDP, ICMPV6 = 1, 6, 17, 58


@dataclasses.dataclass(frozen=True)
class Rule:
    direction: int
    action: int
    src: str  # "a.b.c.d/n" or "x::/n", host bits allowed
    dst: str
    protocol: int = 0  # 0, ICMP, TCP, UDP
    src_ports: tuple[int, int] = (ANY, ANY)
    dst_ports: tuple[int, int] = (ANY, ANY)
    icmp_type: int = ANY
    icmp_code: int = ANY

    def firmware(self) -> tuple:
        """The tuple _firmware.fw_rules_set / fw_match take (ports normalised as the
        control plane does)."""
        def pfx(text: str) -> tuple[bytes, int]:
            addr, length = text.split("/")
            return ipaddress.ip_address(addr).packed, int(length)

        def bounds(ports: tuple[int, int]) -> tuple[int, int]:
            lower, upper = ports
            return (ANY, ANY) if lower == ANY else (lower, 65535 if upper == ANY else upper)

        return (self.direction, self.action, self.protocol, *pfx(self.src), *pfx(self.dst),
                *bounds(self.src_ports), *bounds(self.dst_ports), self.icmp_type,
                self.icmp_code)


@dataclasses.dataclass(frozen=True)
class Packet:
    """The first packet of a flow, in its original direction."""
    proto: int  # TCP, UDP, ICMP, ICMPV6
    src: str
    dst: str
    sport: int = 0
    dport: int = 0
    icmp_type: int = 0
    icmp_code: int = 0

    def firmware(self) -> tuple:
        return (self.proto, ipaddress.ip_address(self.src).packed,
                ipaddress.ip_address(self.dst).packed, self.sport, self.dport,
                self.icmp_type, self.icmp_code)


def _in_prefix(addr: str, prefix: str) -> bool:
    net = ipaddress.ip_network(prefix, strict=False)
    if net.prefixlen == 0:
        return True
    a = ipaddress.ip_address(addr)
    return a.version == net.version and a in net


def _in_range(port: int, bounds: tuple[int, int]) -> bool:
    lower, upper = bounds
    if lower == ANY:
        return True
    return lower <= port <= (65535 if upper == ANY else upper)


def matches(rule: Rule, pkt: Packet) -> bool:
    if not (_in_prefix(pkt.src, rule.src) and _in_prefix(pkt.dst, rule.dst)):
        return False
    if rule.protocol == 0:
        return pkt.proto in (TCP, UDP, ICMP, ICMPV6)
    if rule.protocol == ICMP:
        return (pkt.proto in (ICMP, ICMPV6) and
                rule.icmp_type in (ANY, pkt.icmp_type) and
                rule.icmp_code in (ANY, pkt.icmp_code))
    return (pkt.proto == rule.protocol and _in_range(pkt.sport, rule.src_ports) and
            _in_range(pkt.dport, rule.dst_ports))


def first_match(rules: list[Rule], direction: int, pkt: Packet) -> int:
    for i, rule in enumerate(rules):
        if rule.direction == direction and matches(rule, pkt):
            return i
    return -1


def ordered(rules: list[Rule], priorities: list[int] | None = None) -> list[Rule]:
    """The order rules are tried in: as created, or by priority with ties as created."""
    if priorities is None:
        return list(rules)
    return [r for _, _, r in sorted(zip(priorities, range(len(rules)), rules,
                                        strict=True))]


def decide(from_vf: bool, src_rules: list[Rule], to_vf: bool, dst_rules: list[Rule],
           pkt: Packet) -> str:
    """'accepted', 'egress_denied' or 'ingress_denied' (egress is checked first)."""
    if from_vf and any(r.direction == EGRESS for r in src_rules):
        i = first_match(src_rules, EGRESS, pkt)
        if i < 0 or src_rules[i].action != ACCEPT:
            return "egress_denied"
    if to_vf:
        i = first_match(dst_rules, INGRESS, pkt)
        if i < 0 or dst_rules[i].action != ACCEPT:
            return "ingress_denied"
    return "accepted"
