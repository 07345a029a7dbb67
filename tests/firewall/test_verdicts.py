# SPDX-License-Identifier: Apache-2.0
"""Firewall verdicts on real frames, against the model (fwmodel.py).

Two VMs (vm1, vm2) on one host, the underlay behind the PFs. Hypothesis draws rule lists for
both interfaces and first packets of new flows on every path (VM to VM both ways, VM to the
underlay, the underlay to a VM; IPv4 and IPv6; TCP, UDP, ICMP and ICMPv6 echo); the rules go
in over gRPC and the frames through the TAPs:

* enforcing (--firewall-enforce, with DROP rules and priorities allowed): exactly the frames
  the model accepts come out, the replies of exactly those flows come back (whatever the
  rules of the replying side say), and the drop counters move by the model's denials;
* auditing (the default, dpservice's behaviour): every frame comes out, and the audit
  counters of each interface and direction move exactly by the model's denials.

Then rule changes on live flows, fragments, and traffic to the VM-facing services."""
from __future__ import annotations

import itertools
import re
import time
from collections.abc import Iterator

import pytest
from fwmodel import (
    ACCEPT,
    ANY,
    DROP,
    EGRESS,
    ICMPV6,
    INGRESS,
    Packet,
    Rule,
    decide,
    ordered,
)
from fwmodel import (
    ICMP as P_ICMP,
)
from fwmodel import (
    TCP as P_TCP,
)
from fwmodel import (
    UDP as P_UDP,
)
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

VNI = 100
VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2", "52:54:00:00:00:01"),
       "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3", "52:54:00:00:00:02")}
REMOTE_UNDERLAY = "fc00:2::1"
ROUTER_MAC = "02:00:00:00:00:fe"
REMOTE4 = ["192.0.2.10", "198.51.100.7"]
REMOTE6 = ["2001:db8::10", "2001:db8:1::7"]
PATHS = ["vm1>vm2", "vm2>vm1", "vm1>net", "net>vm1"]
PFS = ("dtap0", "dtap1")
MARKER = re.compile(rb"fw-\d+-[a-z]+")

_ports = itertools.count(20000)  # every flow of the module gets source ports of its own


def vf_mac(vm: str) -> str:
    return harness.VF_MAC.format(int(VMS[vm][1][-1]))


class Net:
    """The service with its two VMs and what the tests need to drive it."""

    def __init__(self, svc: harness.Service, enforce: bool) -> None:
        self.svc = svc
        self.enforce = enforce
        self.underlay: dict[str, str] = {}
        self.rules: dict[str, list[tuple[Rule, int]]] = {"vm1": [], "vm2": []}
        self.telemetry = TelemetryClient(socket_path(svc.prefix))
        self.telemetry.__enter__()

    # -- objects ---------------------------------------------------------------------
    def create_vms(self) -> None:
        for vm, (device, _, ipv4, ipv6, _) in VMS.items():
            reply = self.svc.api.CreateInterface(pb.CreateInterfaceRequest(
                interface_id=vm.encode(), vni=VNI, device_name=device,
                ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
                ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
            assert reply.status.code == 0, reply.status
            self.underlay[vm] = reply.underlay_route.decode()
        for prefix in ("0.0.0.0", "::"):
            ipver = pb.IPV6 if ":" in prefix else pb.IPV4
            route = pb.Route(prefix=pb.Prefix(ip=pb.IpAddress(ipver=ipver,
                                                              address=prefix.encode())),
                             nexthop_vni=VNI, nexthop_address=pb.IpAddress(
                                 ipver=pb.IPV6, address=REMOTE_UNDERLAY.encode()))
            assert self.svc.api.CreateRoute(pb.CreateRouteRequest(vni=VNI, route=route),
                                            timeout=5).status.code == 0

    def warm_up(self) -> None:
        """Until both VMs' ports carry traffic (a TAP takes frames once its port is up)."""
        for vm in VMS:
            for _ in range(30):
                marker = f"fw-{next(_ports)}-warmup".encode()
                self.send(f"{vm}>net", IP(src=VMS[vm][2], dst=REMOTE4[0]) / UDP() / Raw(marker))
                if marker in self.collect(0.1):
                    break
            else:
                pytest.fail(f"{vm}'s port carries nothing")

    def set_rules(self, vm: str, rules: list[tuple[Rule, int]]) -> None:
        """Replace the interface's rules (each with its priority) over gRPC."""
        api = self.svc.api
        for old in api.ListFirewallRules(pb.ListFirewallRulesRequest(
                interface_id=vm.encode()), timeout=5).rules:
            assert api.DeleteFirewallRule(pb.DeleteFirewallRuleRequest(
                interface_id=vm.encode(), rule_id=old.id), timeout=5).status.code == 0
        for i, (rule, priority) in enumerate(rules):
            reply = api.CreateFirewallRule(pb.CreateFirewallRuleRequest(
                interface_id=vm.encode(), rule=to_message(f"r{i}", rule, priority)), timeout=5)
            assert reply.status.code == 0, reply.status
        self.rules[vm] = list(rules)

    def tried(self, vm: str) -> list[Rule]:
        """The interface's rules in the order the service tries them."""
        rules = [r for r, _ in self.rules[vm]]
        return ordered(rules, [p for _, p in self.rules[vm]] if self.enforce else None)

    def verdict(self, path: str, pkt: Packet) -> str:
        src, dst = path.split(">")
        return decide(src != "net", self.tried(src) if src != "net" else [],
                      dst != "net", self.tried(dst) if dst != "net" else [], pkt)

    # -- frames ------------------------------------------------------------------------
    def send(self, path: str, l3) -> None:
        src, dst = path.split(">")
        if src == "net":
            outer = IPv6(src=REMOTE_UNDERLAY, dst=self.underlay[dst],
                         nh=41 if IPv6 in l3 else 4)
            self.svc.tap("dtap0").send(Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                                       outer / l3)
        else:
            self.svc.tap(VMS[src][1]).send(Ether(src=VMS[src][4], dst=vf_mac(src)) / l3)

    def collect(self, quiet: float = 0.3) -> set[bytes]:
        """The markers of every data frame out of any port, until quiet."""
        taps = [self.svc.tap(name) for name in (*PFS, VMS["vm1"][1], VMS["vm2"][1])]
        seen: set[bytes] = set()
        last = time.monotonic()
        while time.monotonic() - last < quiet:
            for tap in taps:
                raw = tap.recv_raw(0.02)
                while raw is not None:
                    found = MARKER.search(raw)
                    if found:
                        seen.add(found.group(0))
                        last = time.monotonic()
                    raw = tap.recv_raw(0.005)
        return seen

    def stats(self) -> dict:
        return self.telemetry.query("/dplane/firewall/stats")

    def drops(self) -> dict[str, int]:
        return self.svc.drops()

    def close(self) -> None:
        self.telemetry.__exit__(None, None, None)


def to_message(rule_id: str, rule: Rule, priority: int) -> pb.FirewallRule:
    def pfx(text: str) -> pb.Prefix:
        addr, length = text.split("/")
        ipver = pb.IPV6 if ":" in addr else pb.IPV4
        return pb.Prefix(ip=pb.IpAddress(ipver=ipver, address=addr.encode()),
                         length=int(length))

    pf = pb.ProtocolFilter()
    if rule.protocol in (P_TCP, P_UDP):
        ports = pf.tcp if rule.protocol == P_TCP else pf.udp
        ports.src_port_lower, ports.src_port_upper = rule.src_ports
        ports.dst_port_lower, ports.dst_port_upper = rule.dst_ports
    elif rule.protocol == P_ICMP:
        pf.icmp.icmp_type, pf.icmp.icmp_code = rule.icmp_type, rule.icmp_code
    return pb.FirewallRule(id=rule_id.encode(), direction=rule.direction, action=rule.action,
                           priority=priority, source_prefix=pfx(rule.src),
                           destination_prefix=pfx(rule.dst), protocol_filter=pf)


def addresses(end: str, v6: bool) -> list[str]:
    if end == "net":
        return REMOTE6 if v6 else REMOTE4
    return [VMS[end][3] if v6 else VMS[end][2]]


def l3_of(pkt: Packet, marker: bytes, reply: bool = False):
    ip = IPv6(src=pkt.src, dst=pkt.dst) if ":" in pkt.src else IP(src=pkt.src, dst=pkt.dst)
    if reply:
        ip = (IPv6(src=pkt.dst, dst=pkt.src) if ":" in pkt.src else
              IP(src=pkt.dst, dst=pkt.src))
    if pkt.proto == P_TCP:
        l4 = (TCP(sport=pkt.dport, dport=pkt.sport, flags="SA") if reply else
              TCP(sport=pkt.sport, dport=pkt.dport, flags="S"))
    elif pkt.proto == P_UDP:
        l4 = (UDP(sport=pkt.dport, dport=pkt.sport) if reply else
              UDP(sport=pkt.sport, dport=pkt.dport))
    elif pkt.proto == P_ICMP:
        l4 = ICMP(type=0 if reply else 8, code=pkt.icmp_code, id=pkt.sport, seq=1)
    else:
        echo = ICMPv6EchoReply if reply else ICMPv6EchoRequest
        return ip / echo(code=pkt.icmp_code, id=pkt.sport, seq=1, data=marker)
    return ip / l4 / Raw(marker)


def reverse(path: str) -> str:
    src, dst = path.split(">")
    return f"{dst}>{src}"


# -- strategies ---------------------------------------------------------------------------

ADDR4 = ["10.0.0.2", "10.0.0.3", *REMOTE4]
ADDR6 = ["fd00::2", "fd00::3", *REMOTE6]
SERVICE_PORTS = [22, 53, 80, 443, 8080]
prefix4 = st.builds(lambda a, n: f"{a}/{n}", st.sampled_from(ADDR4),
                    st.sampled_from([0, 8, 24, 32]))
prefix6 = st.builds(lambda a, n: f"{a}/{n}", st.sampled_from(ADDR6),
                    st.sampled_from([0, 16, 64, 128]))
ports = st.one_of(st.just((ANY, ANY)),
                  st.builds(lambda a, b: (min(a, b), max(a, b)), st.sampled_from(SERVICE_PORTS),
                            st.sampled_from(SERVICE_PORTS)))


@st.composite
def rule_lists(draw, allow_drop: bool) -> list[tuple[Rule, int]]:
    out = []
    for _ in range(draw(st.integers(0, 4))):
        proto = draw(st.sampled_from([0, P_ICMP, P_TCP, P_UDP]))
        out.append((Rule(
            direction=draw(st.sampled_from([INGRESS, EGRESS])),
            action=draw(st.sampled_from([ACCEPT, DROP] if allow_drop else [ACCEPT])),
            src=draw(prefix4 | prefix6), dst=draw(prefix4 | prefix6), protocol=proto,
            dst_ports=draw(ports) if proto in (P_TCP, P_UDP) else (ANY, ANY),
            icmp_type=draw(st.sampled_from([ANY, 8, 128])) if proto == P_ICMP else ANY,
            icmp_code=draw(st.sampled_from([ANY, 0])) if proto == P_ICMP else ANY),
            draw(st.sampled_from([10, 100, 1000]))))
    return out


@st.composite
def flows(draw) -> tuple[str, Packet]:
    path = draw(st.sampled_from(PATHS))
    src, dst = path.split(">")
    v6 = draw(st.booleans())
    proto = draw(st.sampled_from([P_TCP, P_UDP, ICMPV6 if v6 else P_ICMP]))
    return path, Packet(proto, draw(st.sampled_from(addresses(src, v6))),
                        draw(st.sampled_from(addresses(dst, v6))), sport=next(_ports),
                        dport=draw(st.sampled_from(SERVICE_PORTS)),
                        icmp_type=(128 if v6 else 8) if proto in (P_ICMP, ICMPV6) else 0,
                        icmp_code=draw(st.sampled_from([0, 1])))


# -- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module", params=["enforce", "audit"])
def net(request) -> Iterator[Net]:
    enforce = request.param == "enforce"
    opts = (["--firewall-enforce", "--firewall-allow-drop-rules", "--firewall-priorities"]
            if enforce else [])
    with harness.running_service(opts=opts, telemetry=True) as svc:
        net = Net(svc, enforce)
        net.create_vms()
        net.warm_up()
        yield net
        net.close()


@pytest.fixture
def clean(net: Net) -> Iterator[Net]:
    yield net
    for vm in VMS:
        net.set_rules(vm, [])


def denials(net: Net, cases: list[tuple[str, Packet]]) -> dict[tuple[str, str], int]:
    """(interface, direction) -> flows the model denies there."""
    out: dict[tuple[str, str], int] = {}
    for path, pkt in cases:
        v = net.verdict(path, pkt)
        if v != "accepted":
            src, dst = path.split(">")
            key = (src, "egress") if v == "egress_denied" else (dst, "ingress")
            out[key] = out.get(key, 0) + 1
    return out


def counter_delta(before: dict, after: dict, field: str) -> dict[tuple[str, str], int]:
    out = {}
    for vm in VMS:
        for direction in ("ingress", "egress"):
            d = after[vm][direction][field] - before[vm][direction][field]
            if d:
                out[(vm, direction)] = d
    return out


# -- the differential test ------------------------------------------------------------------

@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(data=st.data())
def test_verdicts_are_the_models(clean, data):
    net = clean
    for vm in VMS:
        net.set_rules(vm, data.draw(rule_lists(net.enforce), label=f"rules of {vm}"))
    cases = data.draw(st.lists(flows(), min_size=1, max_size=6), label="flows")
    for path, pkt in cases:
        note(f"{path} {pkt} -> {net.verdict(path, pkt)}")
    stats0, drops0 = net.stats(), net.drops()
    markers = {}
    for i, (path, pkt) in enumerate(cases):
        markers[i] = f"fw-{pkt.sport}-orig".encode()
        net.send(path, l3_of(pkt, markers[i]))
    seen = net.collect()
    accepted = {markers[i] for i, (path, pkt) in enumerate(cases)
                if net.verdict(path, pkt) == "accepted"}
    if net.enforce:
        assert seen == accepted
    else:
        assert seen == set(markers.values())

    # replies: those of accepted flows pass, whatever the replying side's rules say
    replies = {}
    for i, (path, pkt) in enumerate(cases):
        replies[i] = f"fw-{pkt.sport}-reply".encode()
        net.send(reverse(path), l3_of(pkt, replies[i], reply=True))
    seen = net.collect()
    if net.enforce:
        assert seen == {replies[i] for i, (path, pkt) in enumerate(cases)
                        if net.verdict(path, pkt) == "accepted"}
    else:
        assert seen == set(replies.values())

    # the counters: each denied flow counted once per packet (original and reply)
    expected_denials = {k: 2 * n for k, n in denials(net, cases).items()}
    stats1, drops1 = net.stats(), net.drops()
    field = "dropped" if net.enforce else "audit_denied"
    assert counter_delta(stats0, stats1, field) == expected_denials
    assert counter_delta(stats0, stats1, "flows_denied") == denials(net, cases)
    other = "audit_denied" if net.enforce else "dropped"
    assert counter_delta(stats0, stats1, other) == {}
    dropped = {r: drops1[r] - drops0[r] for r in ("firewall_egress_denied",
                                                  "firewall_ingress_denied")}
    if net.enforce:
        assert dropped == {
            "firewall_egress_denied": sum(n for (_, d), n in expected_denials.items()
                                          if d == "egress"),
            "firewall_ingress_denied": sum(n for (_, d), n in expected_denials.items()
                                           if d == "ingress")}
    else:
        assert dropped == {"firewall_egress_denied": 0, "firewall_ingress_denied": 0}


# -- rule changes on live flows ----------------------------------------------------------------

def allow_udp_in(port: int) -> Rule:
    return Rule(INGRESS, ACCEPT, "0.0.0.0/0", "0.0.0.0/0", P_UDP, dst_ports=(port, port))


def udp_flow(net: Net, sport: int, dport: int, tag: str) -> bool:
    """A UDP packet of a flow from the underlay to vm1: did it arrive?"""
    marker = f"fw-{sport}-{tag}".encode()
    net.send("net>vm1", IP(src=REMOTE4[0], dst=VMS["vm1"][2]) / UDP(sport=sport, dport=dport) /
             Raw(marker))
    return marker in net.collect(0.25)


def test_a_rule_change_applies_to_existing_flows(clean):
    net = clean
    sport = next(_ports)
    net.set_rules("vm1", [(allow_udp_in(5000), 1000)])
    assert udp_flow(net, sport, 5000, "a")
    net.set_rules("vm1", [])  # the rule goes: the live flow with it
    assert udp_flow(net, sport, 5000, "b") is not net.enforce
    net.set_rules("vm1", [(allow_udp_in(5000), 1000)])  # and back
    assert udp_flow(net, sport, 5000, "c")
    # a change on another interface does not disturb it either way
    net.set_rules("vm2", [(allow_udp_in(1), 1000)])
    assert udp_flow(net, sport, 5000, "d")


def test_priorities_order_the_rules(clean):
    """Enforcing with --firewall-priorities: the lowest value wins over creation order; the
    audit service (dpservice's behaviour) takes the first created."""
    net = clean
    sport = next(_ports)
    deny = Rule(INGRESS, DROP if net.enforce else ACCEPT, "0.0.0.0/0", "0.0.0.0/0", P_UDP,
                dst_ports=(6000, 6000))
    net.set_rules("vm1", [(allow_udp_in(6000), 500), (deny, 10)] if net.enforce else
                  [(allow_udp_in(6000), 500)])
    assert udp_flow(net, sport, 6000, "x") is not net.enforce


def test_fragments_follow_their_first_fragment(clean):
    net = clean
    net.set_rules("vm1", [(allow_udp_in(7000), 1000)])
    drops0 = net.drops()
    for dport, sport in ((7000, next(_ports)), (7001, next(_ports))):
        big = IP(src=REMOTE4[0], dst=VMS["vm1"][2], id=sport) / UDP(sport=sport, dport=dport) / \
            Raw(f"fw-{sport}-frag".encode() + b"x" * 3000)
        pieces = fragment(big, fragsize=1000)
        assert len(pieces) == 4
        for piece in pieces:
            net.send("net>vm1", piece)
        seen = set()
        deadline = time.monotonic() + 1.0
        tap = net.svc.tap(VMS["vm1"][1])
        while time.monotonic() < deadline:
            raw = tap.recv_raw(0.1)
            if raw is not None and IP in Ether(raw) and Ether(raw)[IP].id == sport:
                seen.add(Ether(raw)[IP].frag)
        if dport == 7000 or not net.enforce:
            assert len(seen) == 4, seen  # all of the datagram
        else:
            assert seen == set(), seen  # none of it
    # a fragment whose first one never came: no verdict
    lone = fragment(IP(src=REMOTE4[0], dst=VMS["vm1"][2], id=1234) /
                    UDP(sport=1, dport=7000) / Raw(b"y" * 3000), fragsize=1000)[2]
    net.send("net>vm1", lone)
    time.sleep(0.3)
    unknown = net.drops()["firewall_fragment_unknown"] - drops0["firewall_fragment_unknown"]
    assert unknown == (1 if net.enforce else 0)


def test_vm_services_are_never_filtered(clean):
    """ARP for the gateway is answered even with rules that deny everything."""
    net = clean
    deny_all = Rule(EGRESS, ACCEPT, "0.0.0.0/32", "0.0.0.0/32", P_UDP, dst_ports=(1, 1))
    net.set_rules("vm1", [(deny_all, 1)])
    tap = net.svc.tap(VMS["vm1"][1])
    tap.send(Ether(src=VMS["vm1"][4], dst="ff:ff:ff:ff:ff:ff") /
             ARP(op=1, hwsrc=VMS["vm1"][4], psrc=VMS["vm1"][2], pdst="169.254.0.1"))
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        raw = tap.recv_raw(0.2)
        if raw is not None and ARP in Ether(raw) and Ether(raw)[ARP].op == 2 and \
                Ether(raw)[ARP].psrc == "169.254.0.1":
            break
    else:
        pytest.fail("no ARP reply")


def test_rule_count_telemetry(clean):
    net = clean
    net.set_rules("vm2", [(allow_udp_in(1), 1), (allow_udp_in(2), 2)])
    assert net.telemetry.query("/dp_service/firewall/rule_count") == {"vm1": 0, "vm2": 2}
