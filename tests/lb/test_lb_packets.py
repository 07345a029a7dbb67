# SPDX-License-Identifier: Apache-2.0
"""Load balancers as the underlay and the VMs see them, with real frames on the TAPs: flows
to an LB's underlay address spread over remote targets exactly as dpservice's Maglev table
says (re-encapsulated, from the LB's underlay, out of the PF they came in on), every packet
of a flow to the same target, a removed target's flows (and only they) moving, delivery to
a local VM's LB prefix (the VM sees the LB's address), echo requests answered, ICMP errors
following their flow, IPv6 load balancers, and what deleting leaves behind (nothing)."""
from __future__ import annotations

import ipaddress
import time
from collections.abc import Iterator

import pytest
from dpservice_hash import flow_key
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

import harness
from dplane import _firmware
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from dplane.telemetry_client import TelemetryClient, socket_path
from overlay_util import (
    PF0_MAC,
    REMOTE_UNDERLAY,
    VNI,
    create_route,
    create_vm,
    expect,
    from_vm,
    nothing,
)

ROUTER_MAC = "02:00:00:00:00:fe"
VM1_IP = "10.0.0.2"
LB_IP, LB_IP6 = "203.0.113.80", "2001:db8:80::1"
CLIENT, CLIENT6 = "192.0.2.10", "2001:db8:c::10"
TARGETS = ["fc00:2::a", "fc00:3::b", "fc00:4::c"]
TCP_PROTO, UDP_PROTO = 6, 17


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(telemetry=True) as svc:
        svc.underlays = {vm: create_vm(svc, vm) for vm in ("vm1", "vm2")}
        assert create_route(svc, "0.0.0.0", 0).code == 0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst="10.0.0.3") / UDP()))
            if expect(svc.tap("dtapvf_1"), 0.2) is not None:
                break
        svc.baseline = svc.table_entries()

        def telemetry_query(command: str):
            with TelemetryClient(socket_path(svc.prefix)) as client:
                return client.query(command)
        svc.telemetry_query = telemetry_query
        yield svc


@pytest.fixture(autouse=True)
def clean(svc) -> Iterator[None]:
    for tap in ("dtapvf_0", "dtapvf_1", "dtap0"):
        svc.tap(tap).drain()
    yield
    for lb in svc.api.ListLoadBalancers(pb.ListLoadBalancersRequest(), timeout=5).loadbalancers:
        svc.api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(loadbalancer_id=lb.id),
                                   timeout=5)
    for pfx in svc.api.ListLoadBalancerPrefixes(
            pb.ListLoadBalancerPrefixesRequest(interface_id=b"vm1"), timeout=5).prefixes:
        svc.api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
            interface_id=b"vm1", prefix=pb.Prefix(ip=pfx.ip, length=pfx.length)), timeout=5)


def ipaddr(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6 if ":" in text else pb.IPV4, address=text.encode())


def create_lb(svc, ip: str = LB_IP, ports=((pb.TCP, 80), (pb.UDP, 53)), targets=TARGETS,
              lb_id: str = "lb1") -> str:
    reply = svc.api.CreateLoadBalancer(pb.CreateLoadBalancerRequest(
        loadbalancer_id=lb_id.encode(), vni=VNI, loadbalanced_ip=ipaddr(ip),
        loadbalanced_ports=[pb.LbPort(protocol=proto, port=port) for proto, port in ports]),
        timeout=5)
    assert reply.status.code == 0, reply.status
    for target in targets:
        add_target(svc, target, lb_id)
    return reply.underlay_route.decode()


def add_target(svc, target: str, lb_id: str = "lb1") -> None:
    reply = svc.api.CreateLoadBalancerTarget(pb.CreateLoadBalancerTargetRequest(
        loadbalancer_id=lb_id.encode(), target_ip=ipaddr(target)), timeout=5)
    assert reply.status.code == 0, reply.status


def from_underlay(underlay: str, inner, src: str = REMOTE_UNDERLAY) -> Ether:
    nh = 41 if IPv6 in inner else 4
    return Ether(src=ROUTER_MAC, dst=PF0_MAC) / IPv6(src=src, dst=underlay, nh=nh) / inner


def chosen(targets: list[str], src: str, dst: str, proto: int, sport: int, dport: int,
           vni: int = VNI) -> str:
    """The target dpservice's Maglev table gives the flow."""
    packed = sorted(ipaddress.IPv6Address(t).packed for t in targets)
    table = _firmware.lb_maglev(packed)
    slot = _firmware.lb_slot(flow_key(src, dst, proto, sport, dport, vni))
    return str(ipaddress.IPv6Address(packed[table[slot]]))


def forwarded(svc) -> Ether:
    frame = expect(svc.tap("dtap0"))
    assert frame is not None, "nothing left through the underlay"
    return frame


def syn(sport: int, dst: str = LB_IP, src: str = CLIENT, dport: int = 80):
    l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
    return l3 / TCP(sport=sport, dport=dport, flags="S", seq=sport)


# --- remote targets -----------------------------------------------------------------------

def test_flows_spread_as_maglev_says(svc):
    underlay = create_lb(svc)
    seen = set()
    for sport in range(20000, 20060):
        inner = syn(sport)
        svc.tap("dtap0").send(from_underlay(underlay, inner))
        frame = forwarded(svc)
        want = chosen(TARGETS, CLIENT, LB_IP, TCP_PROTO, sport, 80)
        assert frame[IPv6].dst == want, sport
        assert frame[IPv6].src == underlay  # from the LB's own underlay address
        assert frame[IPv6].hlim == 64 and frame[IPv6].nh == 4
        assert frame[Ether].src == PF0_MAC
        assert bytes(frame[IPv6].payload) == bytes(inner)  # unchanged
        seen.add(want)
    assert seen == set(TARGETS)


def test_every_packet_of_a_flow_goes_to_its_target(svc):
    underlay = create_lb(svc)
    for sport in (30001, 30002, 30003):
        want = chosen(TARGETS, CLIENT, LB_IP, TCP_PROTO, sport, 80)
        for flags in ("S", "A", "PA", "FA"):
            svc.tap("dtap0").send(from_underlay(
                underlay, IP(src=CLIENT, dst=LB_IP) / TCP(sport=sport, dport=80, flags=flags)))
            assert forwarded(svc)[IPv6].dst == want


def test_udp_port_of_the_lb(svc):
    underlay = create_lb(svc)
    inner = IP(src=CLIENT, dst=LB_IP) / UDP(sport=5353, dport=53) / b"q"
    svc.tap("dtap0").send(from_underlay(underlay, inner))
    assert forwarded(svc)[IPv6].dst == chosen(TARGETS, CLIENT, LB_IP, UDP_PROTO, 5353, 53)


def test_a_port_the_lb_does_not_serve_is_dropped(svc):
    underlay = create_lb(svc)
    before = svc.drops().get("lb_port_closed", 0)
    for inner in (syn(1000, dport=81), IP(src=CLIENT, dst=LB_IP) / UDP(sport=1, dport=80)):
        svc.tap("dtap0").send(from_underlay(underlay, inner))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("lb_port_closed", before + 2)["lb_port_closed"] == before + 2


def test_no_target_no_forwarding(svc):
    underlay = create_lb(svc, targets=[])
    before = svc.drops().get("lb_no_target", 0)
    svc.tap("dtap0").send(from_underlay(underlay, syn(1000)))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("lb_no_target", before + 1)["lb_no_target"] == before + 1


def test_removed_target_moves_only_its_flows(svc):
    underlay = create_lb(svc)
    flows = {sport: chosen(TARGETS, CLIENT, LB_IP, TCP_PROTO, sport, 80)
             for sport in range(40000, 40045)}
    for sport in flows:
        svc.tap("dtap0").send(from_underlay(underlay, syn(sport)))
        assert forwarded(svc)[IPv6].dst == flows[sport]
    gone = TARGETS[1]
    lost = [s for s, t in flows.items() if t == gone]
    assert lost
    ct_before = svc.table_entries()["conntrack_table"]
    reply = svc.api.DeleteLoadBalancerTarget(pb.DeleteLoadBalancerTargetRequest(
        loadbalancer_id=b"lb1", target_ip=ipaddr(gone)), timeout=5)
    assert reply.status.code == 0
    # the removed target's flows are gone (one key each: forwarded flows have no replies)
    assert svc.table_entries()["conntrack_table"] == ct_before - len(lost)
    left = [t for t in TARGETS if t != gone]
    for sport, target in flows.items():
        svc.tap("dtap0").send(from_underlay(
            underlay, IP(src=CLIENT, dst=LB_IP) / TCP(sport=sport, dport=80, flags="A")))
        got = forwarded(svc)[IPv6].dst
        if target == gone:
            assert got == chosen(left, CLIENT, LB_IP, TCP_PROTO, sport, 80)
        else:
            assert got == target  # untouched


def test_icmp_error_follows_its_flow(svc):
    """An ICMP error about a packet the target's VM sent (from the LB's address) is keyed as
    the flow it quotes: it goes where the flow goes."""
    underlay = create_lb(svc)
    sport = 41000
    want = chosen(TARGETS, CLIENT, LB_IP, TCP_PROTO, sport, 80)
    quoted = IP(src=LB_IP, dst=CLIENT) / TCP(sport=80, dport=sport, flags="A")
    error = IP(src="198.51.100.254", dst=LB_IP) / ICMP(type=3, code=4) / bytes(quoted)[:28]
    svc.tap("dtap0").send(from_underlay(underlay, error))
    frame = forwarded(svc)
    assert frame[IPv6].dst == want
    assert bytes(frame[IPv6].payload) == bytes(error)


def test_echo_to_the_lb_is_answered(svc):
    underlay = create_lb(svc)
    request = IP(src=CLIENT, dst=LB_IP, ttl=50) / ICMP(type=8, id=77, seq=1) / b"ping"
    svc.tap("dtap0").send(from_underlay(underlay, request))
    frame = forwarded(svc)
    assert frame[IPv6].dst == REMOTE_UNDERLAY  # back to where it came from
    reply = frame[IP]
    assert (reply.src, reply.dst, reply[ICMP].type, reply[ICMP].id) == (LB_IP, CLIENT, 0, 77)
    again = IP(bytes(reply))
    del again.chksum, again[ICMP].chksum
    assert bytes(IP(bytes(again))) == bytes(reply)  # checksums right


def test_other_icmp_to_the_lb_is_dropped(svc):
    underlay = create_lb(svc)
    before = svc.drops().get("lb_icmp", 0)
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=CLIENT, dst=LB_IP) /
                                        ICMP(type=0, id=1)))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("lb_icmp", before + 1)["lb_icmp"] == before + 1


# --- IPv6 ---------------------------------------------------------------------------------

def test_ipv6_lb(svc):
    underlay = create_lb(svc, ip=LB_IP6)
    for sport in (50001, 50002, 50003, 50004):
        inner = syn(sport, dst=LB_IP6, src=CLIENT6)
        svc.tap("dtap0").send(from_underlay(underlay, inner))
        frame = forwarded(svc)
        assert frame[IPv6].dst == chosen(TARGETS, CLIENT6, LB_IP6, TCP_PROTO, sport, 80)
        assert frame[IPv6].nh == 41
        assert bytes(frame[IPv6].payload) == bytes(inner)
    request = IPv6(src=CLIENT6, dst=LB_IP6) / ICMPv6EchoRequest(id=9, seq=2, data=b"ping6")
    svc.tap("dtap0").send(from_underlay(underlay, request))
    frame = forwarded(svc)
    reply = frame[IPv6].payload
    assert (reply.src, reply.dst) == (LB_IP6, CLIENT6)
    assert ICMPv6EchoReply in reply and reply[ICMPv6EchoReply].id == 9
    again = IPv6(bytes(reply))
    del again[ICMPv6EchoReply].cksum
    assert bytes(IPv6(bytes(again))) == bytes(reply)


# --- a local VM's LB prefix ---------------------------------------------------------------

def create_lb_prefix(svc, vm: str, prefix: str, length: int = 32) -> str:
    reply = svc.api.CreateLoadBalancerPrefix(pb.CreateLoadBalancerPrefixRequest(
        interface_id=vm.encode(), prefix=pb.Prefix(ip=ipaddr(prefix), length=length)),
        timeout=5)
    assert reply.status.code == 0, reply.status
    return reply.underlay_route.decode()


def test_local_target_gets_the_packet_unchanged(svc):
    prefix_underlay = create_lb_prefix(svc, "vm1", LB_IP)
    underlay = create_lb(svc, targets=[prefix_underlay])
    inner = IP(src=CLIENT, dst=LB_IP) / TCP(sport=44000, dport=80, flags="S", seq=5)
    svc.tap("dtap0").send(from_underlay(underlay, inner))
    frame = expect(svc.tap("dtapvf_0"))
    assert frame is not None, "nothing reached the VM"
    assert bytes(frame[IP]) == bytes(inner)  # the VM sees the LB's address
    assert frame[Ether].src == harness.VF_MAC.format(0)
    assert nothing(svc.tap("dtap0"))
    # its answer goes out like any of its packets: by the route, from its own underlay
    answer = IP(src=LB_IP, dst=CLIENT) / TCP(sport=80, dport=44000, flags="SA", seq=9, ack=6)
    svc.tap("dtapvf_0").send(from_vm("vm1", answer))
    out = forwarded(svc)
    assert (out[IPv6].src, out[IPv6].dst) == (svc.underlays["vm1"], REMOTE_UNDERLAY)
    assert bytes(out[IP]) == bytes(answer)
    # and the flow's next packets reach the VM too
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=CLIENT, dst=LB_IP) /
                                        TCP(sport=44000, dport=80, flags="A", seq=6, ack=10)))
    assert expect(svc.tap("dtapvf_0")) is not None
    # two flows, keyed as dpservice keys them: the LB's (from the underlay, no replies) and
    # the VM's (through its LB prefix, marked LB_ALIAS_PFX both ways), which had the answer
    flows = {(f.key.vnf_type, f.reply_key.vnf_type, f.packets, f.reply_packets)
             for f in svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows
             if f.key.dst == LB_IP and f.key.src_port == 44000}
    assert flows == {(_firmware.VNF_UNDEFINED, _firmware.VNF_UNDEFINED, 2, 0),
                     (_firmware.VNF_LB_ALIAS_PFX, _firmware.VNF_LB_ALIAS_PFX, 2, 1)}
    assert svc.telemetry_query("/dplane/checks")["spoofed_source"]["vm1"] == 0


def test_prefix_underlay_from_another_hosts_lb(svc):
    """Another host's LB sends to our VM's LB prefix address directly."""
    prefix_underlay = create_lb_prefix(svc, "vm1", LB_IP)
    inner = IP(src=CLIENT, dst=LB_IP) / UDP(sport=7000, dport=53) / b"q"
    svc.tap("dtap0").send(from_underlay(prefix_underlay, inner))
    frame = expect(svc.tap("dtapvf_0"))
    assert frame is not None and bytes(frame[IP]) == bytes(inner)


def test_lb_prefix_underlay_takes_only_the_lbs_address(svc):
    """A tunnel to a VM's LB prefix address carrying another destination is an injection
    (--underlay-check, enforced by default): dropped and counted."""
    prefix_underlay = create_lb_prefix(svc, "vm1", LB_IP)
    before = svc.drops().get("ipip_decap_inner_mismatch", 0)
    svc.tap("dtap0").send(from_underlay(prefix_underlay, IP(src=CLIENT, dst="203.0.113.81") /
                                        UDP(sport=7000, dport=53)))
    assert nothing(svc.tap("dtapvf_0"))
    assert svc.wait_drops("ipip_decap_inner_mismatch", before + 1)[
        "ipip_decap_inner_mismatch"] == before + 1


# --- what deleting leaves ---------------------------------------------------------------

def test_delete_leaves_nothing(svc):
    prefix_underlay = create_lb_prefix(svc, "vm1", LB_IP)
    targets = TARGETS + [prefix_underlay]
    underlay = create_lb(svc, targets=targets)
    ct_before = svc.table_entries()["conntrack_table"]
    local = 0
    for sport in range(60000, 60030):
        svc.tap("dtap0").send(from_underlay(underlay, syn(sport)))
        if chosen(targets, CLIENT, LB_IP, TCP_PROTO, sport, 80) == prefix_underlay:
            assert expect(svc.tap("dtapvf_0")) is not None
            local += 1
        else:
            assert forwarded(svc) is not None
    assert local
    # an LB flow has one key (no replies); one delivered to the VM also makes the VM's flow
    assert svc.table_entries()["conntrack_table"] == ct_before + 30 + 2 * local
    svc.api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(loadbalancer_id=b"lb1"), timeout=5)
    # the LB's flows went with it; the VM's own flows age like any other
    assert svc.table_entries()["conntrack_table"] == ct_before + 2 * local
    svc.api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
        interface_id=b"vm1", prefix=pb.Prefix(ip=ipaddr(LB_IP), length=32)), timeout=5)
    left = svc.table_entries()
    for table in ("loadbalancer_table", "loadbalancer_id_table", "vnf_table", "vni_table"):
        assert left[table] == svc.baseline[table], table
    # nothing answers on the LB's underlay any more
    before = svc.drops().get("ipip_decap_unknown_underlay", 0)
    svc.tap("dtap0").send(from_underlay(underlay, syn(60001)))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("ipip_decap_unknown_underlay", before + 1)[
        "ipip_decap_unknown_underlay"] == before + 1


def test_a_vm_reaches_an_lb_of_its_vni_through_the_router(svc):
    """A VM's packet to an LB's address goes out by its route like any other (to the
    router, from the VM's underlay); the router sends it to the LB's underlay address."""
    underlay = create_lb(svc)
    inner = IP(src=VM1_IP, dst=LB_IP) / TCP(sport=33000, dport=80, flags="S")
    svc.tap("dtapvf_0").send(from_vm("vm1", inner))
    out = forwarded(svc)
    assert (out[IPv6].src, out[IPv6].dst) == (svc.underlays["vm1"], REMOTE_UNDERLAY)
    assert bytes(out[IP]) == bytes(inner)
    svc.tap("dtap0").send(from_underlay(underlay, out[IP]))
    assert forwarded(svc)[IPv6].dst == chosen(TARGETS, VM1_IP, LB_IP, TCP_PROTO, 33000, 80)


def test_lb_tables_in_telemetry(svc):
    create_lb(svc)
    create_lb(svc, ip=LB_IP6, lb_id="lb2")
    saturation = svc.telemetry_query("/dp_service/table/saturation")
    for table in ("loadbalancer_table", "loadbalancer_id_table"):
        assert saturation[table]["capacity"] == 256
        assert saturation[table]["entries"] == 2
