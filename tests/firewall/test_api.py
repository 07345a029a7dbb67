# SPDX-License-Identifier: Apache-2.0
"""CreateFirewallRule, GetFirewallRule, DeleteFirewallRule, ListFirewallRules over real
gRPC: rules come back as given (host bits, true IPv6 lengths, filters with -1), in creation
order, per interface; every service code and every INVALID_ARGUMENT text of the contract
(3.4-3.6) in dpservice's order; the options that accept DROP rules and use priorities;
rules going with their interface (also in the telemetry rule count); the per-interface
limit."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

VF0, VF1 = "net_tap2", "net_tap3"
RULE_COUNT = "/dp_service/firewall/rule_count"
LIMIT = 50  # --firewall-max-rules of the optioned service


# --- helpers --------------------------------------------------------------------------------

def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def prefix(ip: str, length: int, ipver: int | None = None) -> pb.Prefix:
    if ipver is None:
        ipver = pb.IPV6 if ":" in ip else pb.IPV4
    return pb.Prefix(ip=pb.IpAddress(ipver=ipver, address=ip.encode()), length=length)


def tcp(sl=-1, su=-1, dl=-1, du=-1) -> pb.ProtocolFilter:
    return pb.ProtocolFilter(tcp=pb.TcpFilter(src_port_lower=sl, src_port_upper=su,
                                              dst_port_lower=dl, dst_port_upper=du))


def udp(sl=-1, su=-1, dl=-1, du=-1) -> pb.ProtocolFilter:
    return pb.ProtocolFilter(udp=pb.UdpFilter(src_port_lower=sl, src_port_upper=su,
                                              dst_port_lower=dl, dst_port_upper=du))


def icmp(icmp_type=-1, icmp_code=-1) -> pb.ProtocolFilter:
    return pb.ProtocolFilter(icmp=pb.IcmpFilter(icmp_type=icmp_type, icmp_code=icmp_code))


def rule(rule_id: bytes = b"r1", direction=pb.INGRESS, action=pb.ACCEPT, priority=1000,
         src=("0.0.0.0", 0), dst=("0.0.0.0", 0), pfilter: pb.ProtocolFilter | None = None
         ) -> pb.FirewallRule:
    msg = pb.FirewallRule(id=rule_id, direction=direction, action=action, priority=priority,
                          source_prefix=prefix(*src), destination_prefix=prefix(*dst))
    if pfilter is not None:
        msg.protocol_filter.CopyFrom(pfilter)
    return msg


def as_listed(msg: pb.FirewallRule) -> pb.FirewallRule:
    """The rule as Get/List answer it: protocol_filter always present (empty: any)."""
    out = pb.FirewallRule()
    out.CopyFrom(msg)
    out.protocol_filter.SetInParent()
    return out


def create(svc, msg: pb.FirewallRule, iface: bytes = b"vm1") -> pb.CreateFirewallRuleResponse:
    return svc.api.CreateFirewallRule(pb.CreateFirewallRuleRequest(
        interface_id=iface, rule=msg), timeout=5)


def get(svc, rule_id: bytes, iface: bytes = b"vm1") -> pb.GetFirewallRuleResponse:
    return svc.api.GetFirewallRule(pb.GetFirewallRuleRequest(
        interface_id=iface, rule_id=rule_id), timeout=5)


def delete(svc, rule_id: bytes, iface: bytes = b"vm1") -> tuple[int, str]:
    return status(svc.api.DeleteFirewallRule(pb.DeleteFirewallRuleRequest(
        interface_id=iface, rule_id=rule_id), timeout=5))


def list_reply(svc, iface: bytes = b"vm1") -> pb.ListFirewallRulesResponse:
    return svc.api.ListFirewallRules(pb.ListFirewallRulesRequest(interface_id=iface),
                                     timeout=5)


def listed(svc, iface: bytes = b"vm1") -> list[pb.FirewallRule]:
    reply = list_reply(svc, iface)
    assert status(reply) == (0, "Success")
    return list(reply.rules)


def ids(svc, iface: bytes = b"vm1") -> list[bytes]:
    return [r.id for r in listed(svc, iface)]


def add_interface(svc, iface_id="vm1", device=VF0, vni=100, ipv4="10.0.0.1", ipv6="fd00::1"):
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert status(reply) == (0, "Success")


def delete_interface(svc, iface_id="vm1") -> None:
    reply = svc.api.DeleteInterface(pb.DeleteInterfaceRequest(
        interface_id=iface_id.encode()), timeout=5)
    assert status(reply) == (0, "Success")


def rule_count(svc) -> dict:
    with TelemetryClient(socket_path(svc.prefix)) as client:
        return client.query(RULE_COUNT)


# --- fixtures -------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared():
    """The default service (DROP refused, priorities ignored), with its telemetry socket."""
    with harness.running_service(telemetry=True) as svc:
        yield svc


@pytest.fixture
def svc(shared):
    """The shared service; its interfaces go afterwards, and with them their rules."""
    yield shared
    shared.delete_interfaces()
    assert rule_count(shared) == {}


@pytest.fixture(scope="module")
def optioned():
    with harness.running_service(opts=["--firewall-allow-drop-rules",
                                       "--firewall-priorities",
                                       "--firewall-max-rules", str(LIMIT)]) as svc:
        yield svc


@pytest.fixture
def opt_svc(optioned):
    yield optioned
    optioned.delete_interfaces()


# --- create / get / list --------------------------------------------------------------------

FULL_RULES = [
    rule(b"tcp-rule", pb.INGRESS, pb.ACCEPT, 7, ("10.1.2.3", 8), ("192.168.1.0", 24),
         tcp(1000, 2000, 80, 80)),
    rule(b"udp-rule", pb.EGRESS, pb.ACCEPT, 0, ("0.0.0.0", 0), ("10.9.8.7", 32),
         udp(-1, -1, 53, 53)),
    rule(b"udp-any", pb.EGRESS, pb.ACCEPT, 65535, ("172.16.0.1", 12), ("0.0.0.0", 0),
         udp(-1, -1, -1, -1)),
    rule(b"icmp-echo", pb.INGRESS, pb.ACCEPT, 1, ("10.0.0.0", 8), ("10.0.0.0", 8), icmp(8, 0)),
    rule(b"icmp-any", pb.INGRESS, pb.ACCEPT, 2, ("10.0.0.0", 8), ("10.0.0.0", 8),
         icmp(-1, -1)),
    rule(b"v6", pb.EGRESS, pb.ACCEPT, 3, ("fd00:1::5", 64), ("fd00:2::", 48),
         tcp(-1, -1, 443, 8443)),
    rule(b"v6-host", pb.INGRESS, pb.ACCEPT, 4, ("fd00:1::5", 128), ("::", 0)),
    rule(b"any", pb.INGRESS, pb.ACCEPT, 1000),
]


def test_create_get_list_as_given(svc):
    add_interface(svc)
    for msg in FULL_RULES:
        reply = create(svc, msg)
        assert status(reply) == (0, "Success")
        # the id in dpservice's 64-byte buffer, NUL-padded
        assert reply.rule_id == msg.id + b"\0" * (64 - len(msg.id))
        assert len(reply.rule_id) == 64
    for msg in FULL_RULES:
        got = get(svc, msg.id)
        assert status(got) == (0, "Success")
        assert got.rule == as_listed(msg)
    assert listed(svc) == [as_listed(msg) for msg in FULL_RULES]


def test_returned_fields_in_detail(svc):
    """The same facts spelled out: host bits kept, true IPv6 lengths, the empty filter."""
    add_interface(svc)
    assert status(create(svc, FULL_RULES[0])) == (0, "Success")
    assert status(create(svc, FULL_RULES[5])) == (0, "Success")
    assert status(create(svc, FULL_RULES[7])) == (0, "Success")
    got = get(svc, b"tcp-rule").rule
    assert (got.id, got.direction, got.action, got.priority) == (b"tcp-rule", pb.INGRESS,
                                                                 pb.ACCEPT, 7)
    assert got.source_prefix == pb.Prefix(
        ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.1.2.3"), length=8)
    assert got.protocol_filter.WhichOneof("filter") == "tcp"
    assert got.protocol_filter.tcp == pb.TcpFilter(src_port_lower=1000, src_port_upper=2000,
                                                   dst_port_lower=80, dst_port_upper=80)
    v6 = get(svc, b"v6").rule
    assert (v6.source_prefix.ip.ipver, v6.source_prefix.ip.address,
            v6.source_prefix.length) == (pb.IPV6, b"fd00:1::5", 64)
    assert (v6.destination_prefix.ip.address, v6.destination_prefix.length) == (
        b"fd00:2::", 48)
    anything = get(svc, b"any").rule
    assert anything.HasField("protocol_filter")
    assert anything.protocol_filter.WhichOneof("filter") is None
    assert anything.protocol_filter == pb.ProtocolFilter()


def test_addresses_come_back_as_dpservice_prints_them(svc):
    """Parsed as inet_aton / inet_pton read them, printed as inet_ntoa / inet_ntop do."""
    add_interface(svc)
    msg = rule(b"r1", src=("10.1", 8), dst=("FD00:0:0::5", 64))
    assert status(create(svc, msg)) == (0, "Success")
    got = get(svc, b"r1").rule
    assert got.source_prefix == prefix("10.0.0.1", 8)
    assert got.destination_prefix == prefix("fd00::5", 64)


def test_create_response_id_of_63_bytes(svc):
    add_interface(svc)
    long_id = b"x" * 63
    reply = create(svc, rule(long_id))
    assert status(reply) == (0, "Success")
    assert reply.rule_id == long_id + b"\0"
    assert get(svc, long_id).rule.id == long_id
    assert delete(svc, long_id) == (0, "Success")


def test_list_in_creation_order(svc):
    add_interface(svc)
    order = [b"r3", b"r1", b"r2", b"a0", b"z9"]
    for n, rule_id in enumerate(order):
        # priorities opposite to the order: ignored by default, also for listing
        assert status(create(svc, rule(rule_id, priority=100 - n))) == (0, "Success")
    assert ids(svc) == order
    assert delete(svc, b"r2") == (0, "Success")
    assert ids(svc) == [b"r3", b"r1", b"a0", b"z9"]
    assert status(create(svc, rule(b"r2"))) == (0, "Success")
    assert ids(svc) == [b"r3", b"r1", b"a0", b"z9", b"r2"]
    assert delete(svc, b"r3") == (0, "Success")
    assert delete(svc, b"z9") == (0, "Success")
    assert ids(svc) == [b"r1", b"a0", b"r2"]


def test_list_of_interface_without_rules(svc):
    add_interface(svc)
    reply = list_reply(svc)
    assert status(reply) == (0, "Success")
    assert list(reply.rules) == []
    assert status(create(svc, rule())) == (0, "Success")
    assert delete(svc, b"r1") == (0, "Success")
    reply = list_reply(svc)
    assert status(reply) == (0, "Success") and list(reply.rules) == []


# --- service codes --------------------------------------------------------------------------

def test_unknown_interface_is_no_vm(svc):
    for iface in (b"nope", b"vm1"):  # never created / created and deleted
        reply = create(svc, rule(), iface)
        assert status(reply) == (205, "NO_VM")
        assert reply.rule_id == b""
        got = get(svc, b"r1", iface)
        assert status(got) == (205, "NO_VM") and not got.HasField("rule")
        assert delete(svc, b"r1", iface) == (205, "NO_VM")
        reply = list_reply(svc, iface)
        assert status(reply) == (205, "NO_VM") and list(reply.rules) == []
        add_interface(svc)
        assert status(create(svc, rule())) == (0, "Success")
        delete_interface(svc)


def test_duplicate_id(svc):
    add_interface(svc, "vm1", VF0)
    add_interface(svc, "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    first = rule(b"r1", priority=10, pfilter=tcp(-1, -1, 22, 22))
    assert status(create(svc, first)) == (0, "Success")
    # same id, other contents: refused, the first one stays as it was
    reply = create(svc, rule(b"r1", direction=pb.EGRESS, priority=20))
    assert status(reply) == (202, "ALREADY_EXISTS")
    assert reply.rule_id == b""
    assert listed(svc) == [as_listed(first)]
    # the same id on another interface is another rule
    assert status(create(svc, rule(b"r1", priority=30), b"vm2")) == (0, "Success")
    assert get(svc, b"r1", b"vm2").rule.priority == 30
    assert get(svc, b"r1").rule.priority == 10


def test_drop_is_refused_by_default(svc):
    add_interface(svc)
    reply = create(svc, rule(b"d1", action=pb.DROP))
    assert status(reply) == (441, "NO_DROP_SUPPORT")
    assert reply.rule_id == b""
    assert listed(svc) == []
    assert status(get(svc, b"d1")) == (201, "NOT_FOUND")
    # the duplicate id is checked before the action
    assert status(create(svc, rule(b"r1"))) == (0, "Success")
    assert status(create(svc, rule(b"r1", action=pb.DROP))) == (202, "ALREADY_EXISTS")
    assert ids(svc) == [b"r1"]


def test_unknown_rule_is_not_found(svc):
    add_interface(svc)
    got = get(svc, b"r1")
    assert status(got) == (201, "NOT_FOUND") and not got.HasField("rule")
    assert delete(svc, b"r1") == (201, "NOT_FOUND")
    assert status(create(svc, rule(b"r1"))) == (0, "Success")
    assert status(get(svc, b"r2")) == (201, "NOT_FOUND")
    assert status(get(svc, b"r")) == (201, "NOT_FOUND")  # no prefix matching
    assert status(get(svc, b"r1x")) == (201, "NOT_FOUND")
    assert delete(svc, b"r1") == (0, "Success")
    assert delete(svc, b"r1") == (201, "NOT_FOUND")
    assert status(get(svc, b"r1")) == (201, "NOT_FOUND")


def test_rules_are_per_interface(svc):
    add_interface(svc, "vm1", VF0)
    add_interface(svc, "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert status(create(svc, rule(b"a-only"), b"vm1")) == (0, "Success")
    assert ids(svc, b"vm1") == [b"a-only"]
    assert ids(svc, b"vm2") == []
    assert status(get(svc, b"a-only", b"vm2")) == (201, "NOT_FOUND")
    assert delete(svc, b"a-only", b"vm2") == (201, "NOT_FOUND")
    assert ids(svc, b"vm1") == [b"a-only"]  # not deleted from vm1 either
    assert rule_count(svc) == {"vm1": 1, "vm2": 0}


# --- INVALID_ARGUMENT -----------------------------------------------------------------------

BASES = {  # a valid rule per protocol filter; each case below changes one field of one
    "tcp": tcp(1, 2, 80, 443),
    "udp": udp(1, 2, 53, 53),
    "icmp": icmp(8, 0),
    "none": None,
}


def base_request(proto: str = "tcp") -> pb.CreateFirewallRuleRequest:
    return pb.CreateFirewallRuleRequest(interface_id=b"vm1", rule=rule(
        b"r1", pb.INGRESS, pb.ACCEPT, 1000, ("10.0.0.0", 8), ("fd00::", 64), BASES[proto]))


def set_field(req: pb.CreateFirewallRuleRequest, path: str, value) -> None:
    """path: "interface_id", "rule.priority", "rule.protocol_filter.tcp.src_port_lower"..."""
    *parents, name = path.split(".")
    target = req
    for part in parents:
        target = getattr(target, part)
    setattr(target, name, value)


def request_with(proto: str, changes: dict) -> pb.CreateFirewallRuleRequest:
    req = base_request(proto)
    for path, value in changes.items():
        set_field(req, path, value)
    return req


SRC, DST = "rule.source_prefix", "rule.destination_prefix"
PF = "rule.protocol_filter"

CREATE_INVALID = [
    ("tcp", {"interface_id": b""}, "Invalid interface_id"),
    ("tcp", {"interface_id": b"v" * 64}, "Invalid interface_id"),
    ("tcp", {"rule.id": b"r" * 64}, "Invalid rule id"),
    ("tcp", {"rule.id": b"r" * 200}, "Invalid rule id"),
    ("tcp", {f"{SRC}.ip.ipver": 7}, "Invalid source_prefix.ip.ipver"),
    ("tcp", {f"{SRC}.ip.address": b"10.0.0.256"}, "Invalid source_prefix.ip"),
    ("tcp", {f"{SRC}.ip.address": b"bad"}, "Invalid source_prefix.ip"),
    ("tcp", {f"{SRC}.ip.address": b""}, "Invalid source_prefix.ip"),
    ("tcp", {f"{SRC}.ip.address": b"fd00::1"}, "Invalid source_prefix.ip"),  # ipver IPV4
    ("tcp", {f"{SRC}.ip.ipver": pb.IPV6}, "Invalid source_prefix.ip"),  # IPv4 text as IPv6
    ("tcp", {f"{SRC}.length": 33}, "Invalid source_prefix.length"),
    ("tcp", {f"{DST}.ip.ipver": 7}, "Invalid destination_prefix.ip.ipver"),
    ("tcp", {f"{DST}.ip.address": b"fd00::zz"}, "Invalid destination_prefix.ip"),
    ("tcp", {f"{DST}.ip.address": b"10.0.0.1"}, "Invalid destination_prefix.ip"),  # IPV6
    ("tcp", {f"{DST}.ip.ipver": pb.IPV4}, "Invalid destination_prefix.ip"),  # IPv6 text
    ("tcp", {f"{DST}.length": 129}, "Invalid ip6 destination_prefix.length"),
    ("tcp", {"rule.direction": 5}, "Invalid direction"),
    ("tcp", {"rule.action": 3}, "Invalid action"),
    ("tcp", {"rule.priority": 65536}, "Invalid priority"),
    ("tcp", {"rule.priority": 2**32 - 1}, "Invalid priority"),
    *[(proto, {f"{PF}.{proto}.{field}": value}, f"Invalid {proto}.{field}")
      for proto in ("tcp", "udp")
      for field in ("src_port_lower", "dst_port_lower", "src_port_upper", "dst_port_upper")
      for value in (65536, -2)],
    *[(proto, {f"{PF}.{proto}.{side}_port_lower": 100, f"{PF}.{proto}.{side}_port_upper": 50},
       f"Invalid {proto}.{side}_port range")
      for proto in ("tcp", "udp") for side in ("src", "dst")],
    ("icmp", {f"{PF}.icmp.icmp_type": 256}, "Invalid icmp.icmp_type"),
    ("icmp", {f"{PF}.icmp.icmp_type": -2}, "Invalid icmp.icmp_type"),
    ("icmp", {f"{PF}.icmp.icmp_code": 256}, "Invalid icmp.icmp_code"),
    ("icmp", {f"{PF}.icmp.icmp_code": -2}, "Invalid icmp.icmp_code"),
]

# the ipver-specific length checks need an IPv6 source / IPv4 destination
SWAPPED_FAMILIES = [
    ("source_prefix", prefix("fd00::", 129), "Invalid ip6 source_prefix.length"),
    ("destination_prefix", prefix("10.0.0.0", 33), "Invalid destination_prefix.length"),
]

FIRST_WINS = [  # two bad fields: the one dpservice checks first is reported
    ("tcp", {"interface_id": b"", "rule.id": b"r" * 64}, "Invalid interface_id"),
    ("tcp", {"rule.id": b"r" * 64, f"{SRC}.ip.ipver": 7}, "Invalid rule id"),
    ("tcp", {f"{SRC}.ip.ipver": 7, f"{SRC}.ip.address": b"bad"},
     "Invalid source_prefix.ip.ipver"),
    ("tcp", {f"{SRC}.ip.address": b"bad", f"{SRC}.length": 33}, "Invalid source_prefix.ip"),
    ("tcp", {f"{SRC}.length": 33, f"{DST}.ip.ipver": 7}, "Invalid source_prefix.length"),
    ("tcp", {f"{DST}.length": 129, "rule.direction": 5},
     "Invalid ip6 destination_prefix.length"),
    ("tcp", {"rule.direction": 5, "rule.action": 3}, "Invalid direction"),
    ("tcp", {"rule.action": 3, "rule.priority": 65536}, "Invalid action"),
    ("tcp", {"rule.priority": 65536, f"{PF}.tcp.src_port_lower": 65536}, "Invalid priority"),
    # all four bounds before the ranges, lowers before uppers
    ("tcp", {f"{PF}.tcp.src_port_upper": 65536, f"{PF}.tcp.dst_port_lower": 65536},
     "Invalid tcp.dst_port_lower"),
    ("udp", {f"{PF}.udp.src_port_lower": 100, f"{PF}.udp.src_port_upper": 50,
             f"{PF}.udp.dst_port_upper": -2}, "Invalid udp.dst_port_upper"),
    ("tcp", {f"{PF}.tcp.src_port_lower": 100, f"{PF}.tcp.src_port_upper": 50,
             f"{PF}.tcp.dst_port_lower": 100, f"{PF}.tcp.dst_port_upper": 50},
     "Invalid tcp.src_port range"),
    ("icmp", {f"{PF}.icmp.icmp_type": 256, f"{PF}.icmp.icmp_code": 256},
     "Invalid icmp.icmp_type"),
]


def case_id(case) -> str:
    proto, changes, message = case
    return f"{proto}:{','.join(changes)}->{message}"


@pytest.mark.parametrize("proto", list(BASES))
def test_bases_are_valid(svc, proto):
    """Each invalid case differs from one of these in the fields it names only."""
    add_interface(svc)
    req = base_request(proto)
    assert status(svc.api.CreateFirewallRule(req, timeout=5)) == (0, "Success")
    assert get(svc, b"r1").rule == as_listed(req.rule)


@pytest.mark.parametrize("case", CREATE_INVALID + FIRST_WINS, ids=case_id)
def test_create_validation(svc, case):
    proto, changes, message = case
    add_interface(svc)
    req = request_with(proto, changes)
    assert harness.invalid_argument(svc.api.CreateFirewallRule, req) == message
    assert listed(svc) == []


@pytest.mark.parametrize("field, bad, message", SWAPPED_FAMILIES)
def test_create_validation_of_lengths_by_family(svc, field, bad, message):
    """A request with an IPv6 source and an IPv4 destination, valid at full length."""
    add_interface(svc)
    req = base_request("tcp")
    req.rule.source_prefix.CopyFrom(prefix("fd00::", 128))
    req.rule.destination_prefix.CopyFrom(prefix("10.0.0.0", 32))
    assert status(svc.api.CreateFirewallRule(req, timeout=5)) == (0, "Success")
    assert delete(svc, b"r1") == (0, "Success")
    getattr(req.rule, field).CopyFrom(bad)
    assert harness.invalid_argument(svc.api.CreateFirewallRule, req) == message


def test_create_validation_comes_before_service_checks(svc):
    """An unknown interface with a bad field: the field's text, not NO_VM."""
    req = request_with("tcp", {"interface_id": b"nope", "rule.direction": 5})
    assert harness.invalid_argument(svc.api.CreateFirewallRule, req) == "Invalid direction"


ACCEPTED_EDGES = [
    ("tcp", {"rule.priority": 65535}),
    ("tcp", {"rule.priority": 0}),
    ("tcp", {"rule.id": b"i" * 63}),
    ("tcp", {"interface_id": b"vm1"}),
    ("tcp", {f"{SRC}.length": 32}),
    ("tcp", {f"{DST}.length": 128}),
    ("tcp", {f"{DST}.length": 0}),
    # dpservice compares the bounds unsigned: an upper bound of -1 is no bound
    ("tcp", {f"{PF}.tcp.src_port_lower": 80, f"{PF}.tcp.src_port_upper": -1}),
    ("tcp", {f"{PF}.tcp.dst_port_lower": 80, f"{PF}.tcp.dst_port_upper": -1}),
    ("udp", {f"{PF}.udp.dst_port_lower": 80, f"{PF}.udp.dst_port_upper": -1}),
    # a lower bound of -1 is any port, whatever the upper one
    ("udp", {f"{PF}.udp.src_port_lower": -1, f"{PF}.udp.src_port_upper": 50}),
    ("tcp", {f"{PF}.tcp.src_port_lower": 0, f"{PF}.tcp.src_port_upper": 65535}),
    ("tcp", {f"{PF}.tcp.dst_port_lower": 65535, f"{PF}.tcp.dst_port_upper": 65535}),
    ("icmp", {f"{PF}.icmp.icmp_type": 255, f"{PF}.icmp.icmp_code": 255}),
    ("icmp", {f"{PF}.icmp.icmp_type": -1, f"{PF}.icmp.icmp_code": 0}),
]


@pytest.mark.parametrize("proto, changes", ACCEPTED_EDGES,
                         ids=[f"{p}:{c}" for p, c in ACCEPTED_EDGES])
def test_create_accepts_edges(svc, proto, changes):
    add_interface(svc)
    req = request_with(proto, changes)
    reply = svc.api.CreateFirewallRule(req, timeout=5)
    assert status(reply) == (0, "Success")
    assert get(svc, req.rule.id).rule == as_listed(req.rule)


def test_create_empty_rule_id_is_invalid(svc):
    """dpservice: SNPRINTF_FAILED refuses an empty id (contract 3.5: 'IDs: empty or >= 64
    bytes')."""
    add_interface(svc)
    req = request_with("tcp", {"rule.id": b""})
    assert harness.invalid_argument(svc.api.CreateFirewallRule, req) == "Invalid rule id"
    assert listed(svc) == []


@pytest.mark.parametrize("iface, rule_id, message", [
    (b"", b"r1", "Invalid interface_id"),
    (b"v" * 64, b"r1", "Invalid interface_id"),
    (b"vm1", b"r" * 64, "Invalid rule_id"),
    (b"", b"r" * 64, "Invalid interface_id"),  # the interface first
    (b"nope", b"r" * 64, "Invalid rule_id"),  # before NO_VM
])
@pytest.mark.parametrize("rpc", ["GetFirewallRule", "DeleteFirewallRule"])
def test_get_delete_validation(svc, rpc, iface, rule_id, message):
    add_interface(svc)
    request_type = getattr(pb, f"{rpc}Request")
    request = request_type(interface_id=iface, rule_id=rule_id)
    assert harness.invalid_argument(getattr(svc.api, rpc), request) == message


@pytest.mark.parametrize("rpc", ["GetFirewallRule", "DeleteFirewallRule"])
def test_get_delete_empty_rule_id_is_invalid(svc, rpc):
    add_interface(svc)
    request = getattr(pb, f"{rpc}Request")(interface_id=b"vm1", rule_id=b"")
    assert harness.invalid_argument(getattr(svc.api, rpc), request) == "Invalid rule_id"


def test_get_delete_63_byte_rule_id(svc):
    add_interface(svc)
    assert status(get(svc, b"r" * 63)) == (201, "NOT_FOUND")
    assert delete(svc, b"r" * 63) == (201, "NOT_FOUND")


@pytest.mark.parametrize("iface", [b"", b"v" * 64])
def test_list_validation(svc, iface):
    request = pb.ListFirewallRulesRequest(interface_id=iface)
    assert harness.invalid_argument(svc.api.ListFirewallRules, request) == \
        "Invalid interface_id"


# --- rules go with their interface ----------------------------------------------------------

def test_rules_go_with_their_interface(svc):
    add_interface(svc, "vm1", VF0)
    add_interface(svc, "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert rule_count(svc) == {"vm1": 0, "vm2": 0}
    for rule_id in (b"r1", b"r2", b"r3"):
        assert status(create(svc, rule(rule_id), b"vm1")) == (0, "Success")
    assert status(create(svc, rule(b"r1"), b"vm2")) == (0, "Success")
    assert rule_count(svc) == {"vm1": 3, "vm2": 1}
    assert delete(svc, b"r2", b"vm1") == (0, "Success")
    assert rule_count(svc) == {"vm1": 2, "vm2": 1}

    delete_interface(svc, "vm1")
    assert rule_count(svc) == {"vm2": 1}
    add_interface(svc, "vm1", VF0)
    assert ids(svc, b"vm1") == []
    assert status(get(svc, b"r1", b"vm1")) == (201, "NOT_FOUND")
    assert rule_count(svc) == {"vm1": 0, "vm2": 1}
    assert ids(svc, b"vm2") == [b"r1"]  # the other interface keeps its rule
    # the old ids are free again
    assert status(create(svc, rule(b"r3"), b"vm1")) == (0, "Success")
    assert ids(svc, b"vm1") == [b"r3"]
    assert delete(svc, b"r3", b"vm1") == (0, "Success")
    assert delete(svc, b"r1", b"vm2") == (0, "Success")
    assert rule_count(svc) == {"vm1": 0, "vm2": 0}


def test_rules_move_with_the_id_not_the_device(svc):
    """Deleted on one VF, re-created on the other: still no rules."""
    add_interface(svc, "vm1", VF0)
    assert status(create(svc, rule(b"r1"))) == (0, "Success")
    delete_interface(svc, "vm1")
    add_interface(svc, "vm1", VF1)
    assert ids(svc) == []
    assert rule_count(svc) == {"vm1": 0}


# --- the per-interface limit ----------------------------------------------------------------

def test_rule_limit_is_out_of_memory(opt_svc):
    """--firewall-max-rules (the default is the firmware's 16384, too many to fill here:
    each create republishes the interface's whole list)."""
    svc = opt_svc
    add_interface(svc)
    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda n: status(create(svc, rule(f"r{n}".encode()))),
                              range(LIMIT)))
    assert codes == [(0, "Success")] * LIMIT
    reply = create(svc, rule(b"one-more"))
    assert status(reply) == (208, "OUT_OF_MEMORY") and reply.rule_id == b""
    assert status(get(svc, b"one-more")) == (201, "NOT_FOUND")
    # a duplicate id is still a duplicate before the limit
    assert status(create(svc, rule(b"r0"))) == (202, "ALREADY_EXISTS")
    assert delete(svc, b"r10") == (0, "Success")
    assert status(create(svc, rule(b"one-more"))) == (0, "Success")
    assert status(create(svc, rule(b"two-more"))) == (208, "OUT_OF_MEMORY")
    listed_ids = ids(svc)
    assert len(listed_ids) == LIMIT and listed_ids[-1] == b"one-more"
    assert b"r10" not in listed_ids
    # other interfaces have their own limit
    add_interface(svc, "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert status(create(svc, rule(b"r1"), b"vm2")) == (0, "Success")


# --- options --------------------------------------------------------------------------------

def test_drop_rules_with_the_option(opt_svc):
    add_interface(opt_svc)
    drop = rule(b"d1", pb.EGRESS, pb.DROP, 5, ("10.0.0.0", 8), ("0.0.0.0", 0),
                udp(-1, -1, 53, 53))
    reply = create(opt_svc, drop)
    assert status(reply) == (0, "Success")
    assert reply.rule_id == b"d1".ljust(64, b"\0")
    got = get(opt_svc, b"d1")
    assert status(got) == (0, "Success")
    assert got.rule.action == pb.DROP
    assert got.rule == as_listed(drop)
    # still a duplicate first
    assert status(create(opt_svc, rule(b"d1", action=pb.DROP))) == (202, "ALREADY_EXISTS")
    assert delete(opt_svc, b"d1") == (0, "Success")
    assert listed(opt_svc) == []


def test_priorities_do_not_change_the_listing(opt_svc):
    add_interface(opt_svc)
    created = [rule(b"c", priority=300), rule(b"a", priority=100),
               rule(b"b", priority=200, action=pb.DROP), rule(b"d", priority=100)]
    for msg in created:
        assert status(create(opt_svc, msg)) == (0, "Success")
    assert listed(opt_svc) == [as_listed(msg) for msg in created]
    assert delete(opt_svc, b"a") == (0, "Success")
    assert [r.id for r in listed(opt_svc)] == [b"c", b"b", b"d"]
