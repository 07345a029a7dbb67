# SPDX-License-Identifier: Apache-2.0
"""Firewall rules of the interfaces (CreateFirewallRule and friends), and what the firmware
does with them (firmware/firewall).

The rules live here, per interface in creation order, as the API shows them. On every
change the interface's whole list, in the order its rules are tried, goes to the firmware,
which compiles and publishes it at once; flows decided under the old list are decided again
at their next packet (both ends' rules are checked), so a deleted rule keeps no connection
alive and a rule change costs the same with 10 or 100 000 flows.

Drop-in by default: verdicts are computed and counted but not applied, DROP rules are
refused (NO_DROP_SUPPORT) and priorities are stored but ignored (first match in creation
order), as dpservice does. Each of these is an option:

* --firewall-enforce: denied packets are dropped;
* --firewall-allow-drop-rules: DROP rules are accepted and deny what they match;
* --firewall-priorities: rules are tried by priority, lowest first, ties in creation order.

An interface holds at most --firewall-max-rules rules (dpservice has no limit; the default,
16384, is the firmware's).

Control thread only.
"""
from __future__ import annotations

import dataclasses
import functools
import logging
import socket

from .. import _firmware
from ..assembly import component
from ..cmdline import Config, Option, _int_range, feature_option
from ..errors import ErrorCode, ServiceError, failing_as
from ..interfaces import Interface, Interfaces
from ..telemetry import Commands

log = logging.getLogger("dplane.firewall")

ENFORCE = feature_option(Option(
    "firewall-enforce", None, "apply firewall verdicts: drop what the rules deny (default: "
    "count what they deny and let it pass, as dpservice does)"))
ALLOW_DROP = feature_option(Option(
    "firewall-allow-drop-rules", None, "accept DROP firewall rules (default: refused with "
    "NO_DROP_SUPPORT, as dpservice does)"))
PRIORITIES = feature_option(Option(
    "firewall-priorities", None, "try firewall rules by priority, lowest value first, ties "
    "in creation order (default: creation order, priorities ignored, as dpservice does)"))

MAX_RULES = feature_option(Option(
    "firewall-max-rules", "N", f"firewall rules one interface may hold (1 - "
    f"{_firmware.FW_MAX_RULES}); beyond, CreateFirewallRule answers OUT_OF_MEMORY",
    _int_range(1, _firmware.FW_MAX_RULES), _firmware.FW_MAX_RULES))

INGRESS, EGRESS = 0, 1
DROP, ACCEPT = 0, 1
ANY = -1
PROTOCOLS = (0, 1, 6, 17)  # any, ICMP (also ICMPv6), TCP, UDP


@dataclasses.dataclass(frozen=True)
class Rule:
    """A rule as created. Addresses are packed (4 or 16 bytes) and kept as given, host
    bits included; the API shows them as given."""
    id: bytes  # at most 63 bytes
    direction: int
    action: int
    priority: int
    src: bytes
    src_len: int
    dst: bytes
    dst_len: int
    protocol: int = 0  # one of PROTOCOLS
    src_ports: tuple[int, int] = (ANY, ANY)  # TCP/UDP: (lower, upper), lower -1 = any
    dst_ports: tuple[int, int] = (ANY, ANY)
    icmp_type: int = ANY  # ICMP
    icmp_code: int = ANY

    @functools.cached_property
    def firmware(self) -> tuple:
        """The tuple fw_rules_set() takes. dpservice compares port bounds unsigned: an
        upper bound of -1 under a lower one is no bound at all (65535)."""
        def bounds(ports: tuple[int, int]) -> tuple[int, int]:
            lower, upper = ports
            return (ANY, ANY) if lower == ANY else (lower, 65535 if upper == ANY else upper)

        return (self.direction, self.action, self.protocol, self.src, self.src_len,
                self.dst, self.dst_len, *bounds(self.src_ports), *bounds(self.dst_ports),
                self.icmp_type, self.icmp_code)

    @property
    def src_text(self) -> str:
        return _text(self.src)

    @property
    def dst_text(self) -> str:
        return _text(self.dst)


def _text(addr: bytes) -> str:
    """As dpservice prints it (inet_ntoa / inet_ntop)."""
    return socket.inet_ntop(socket.AF_INET if len(addr) == 4 else socket.AF_INET6, addr)


@component
class Firewall:
    def __init__(self, cfg: Config, interfaces: Interfaces, commands: Commands) -> None:
        self.enforce = bool(cfg.features.get(ENFORCE.dest))
        self.allow_drop = bool(cfg.features.get(ALLOW_DROP.dest))
        self.priorities = bool(cfg.features.get(PRIORITIES.dest))
        self.max_rules = int(cfg.features.get(MAX_RULES.dest, _firmware.FW_MAX_RULES))
        self._interfaces = interfaces
        # interface id -> rule id -> rule, in creation order
        self._rules: dict[str, dict[bytes, Rule]] = {}
        interfaces.on_delete.append(self._drop_interface)
        commands.add("/dp_service/firewall/rule_count",
                     "Returns the number of firewall rules for each VF interface (attached VM).",
                     lambda params: {iface.id: len(self._rules.get(iface.id, {}))
                                     for iface in interfaces})
        commands.add("/dplane/firewall/stats",
                     "Returns firewall counters per VF interface and direction: flows "
                     "denied, packets denied but let through (audit), packets dropped.",
                     lambda params: self.stats())

    def configure(self) -> None:
        _firmware.fw_conf_set(self.enforce)

    def _iface(self, iface_id: str) -> Interface:
        iface = self._interfaces.find(iface_id)
        if iface is None:
            raise ServiceError(ErrorCode.NO_VM, iface_id)
        return iface

    def _order(self, rules: dict[bytes, Rule]) -> list[Rule]:
        """The order the rules are tried in: creation order, or by priority (stable)."""
        ordered = list(rules.values())
        if self.priorities:
            ordered.sort(key=lambda r: r.priority)
        return ordered

    def _publish(self, iface: Interface, rules: dict[bytes, Rule]) -> None:
        _firmware.fw_rules_set(iface.port.port_id, [r.firmware for r in self._order(rules)])

    def create(self, iface_id: str, rule: Rule) -> Rule:
        """dpservice's order of checks: interface, id, action."""
        iface = self._iface(iface_id)
        rules = self._rules.get(iface_id, {})
        if rule.id in rules:
            raise ServiceError(ErrorCode.ALREADY_EXISTS, rule.id.decode(errors="replace"))
        if rule.action == DROP and not self.allow_drop:
            raise ServiceError(ErrorCode.NO_DROP_SUPPORT,
                               "DROP rules need --firewall-allow-drop-rules")
        if len(rules) >= self.max_rules:
            raise ServiceError(ErrorCode.OUT_OF_MEMORY,
                               f"{iface_id} holds {len(rules)} rules, the most it may")
        updated = {**rules, rule.id: rule}
        with failing_as(ErrorCode.OUT_OF_MEMORY):
            self._publish(iface, updated)
        self._rules[iface_id] = updated
        log.info("firewall rule %s on %s", rule.id.decode(errors="replace"), iface_id)
        return rule

    def get(self, iface_id: str, rule_id: bytes) -> Rule:
        self._iface(iface_id)
        rule = self._rules.get(iface_id, {}).get(rule_id)
        if rule is None:
            raise ServiceError(ErrorCode.NOT_FOUND, rule_id.decode(errors="replace"))
        return rule

    def delete(self, iface_id: str, rule_id: bytes) -> None:
        iface = self._iface(iface_id)
        rules = self._rules.get(iface_id, {})
        if rule_id not in rules:
            raise ServiceError(ErrorCode.NOT_FOUND, rule_id.decode(errors="replace"))
        updated = {k: v for k, v in rules.items() if k != rule_id}
        with failing_as(ErrorCode.OUT_OF_MEMORY):
            self._publish(iface, updated)
        if updated:
            self._rules[iface_id] = updated
        else:
            del self._rules[iface_id]
        log.info("firewall rule %s on %s deleted", rule_id.decode(errors="replace"), iface_id)

    def list(self, iface_id: str) -> list[Rule]:
        """In creation order, as dpservice lists them."""
        self._iface(iface_id)
        return list(self._rules.get(iface_id, {}).values())

    def stats(self) -> dict[str, dict]:
        return {iface.id: _firmware.fw_stats(iface.port.port_id)
                for iface in self._interfaces}

    def _drop_interface(self, iface: Interface) -> None:
        """An interface's rules and counters go with it."""
        if self._rules.pop(iface.id, None):
            _firmware.fw_rules_set(iface.port.port_id, [])
            log.info("firewall rules of %s removed with it", iface.id)
        _firmware.fw_stats_reset(iface.port.port_id)
