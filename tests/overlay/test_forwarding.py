# SPDX-License-Identifier: Apache-2.0
"""Overlay forwarding on one host, with real frames on the TAPs: VM to VM in a VNI, VM to
the underlay (IP-in-IPv6 with dpservice's outer header), the underlay to a VM, and what is
dropped (and counted) on the way."""
from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, fragment6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2, dplane_pb2
from overlay_util import (
    PF0_MAC,
    REMOTE_UNDERLAY,
    VM_MACS,
    VNI,
    create_route,
    create_vm,
    delete_route,
    expect,
    from_vm,
    nothing,
    vf_mac,
)

ROUTER_MAC = "02:00:00:00:00:fe"


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        svc.underlays = {vm: create_vm(svc, vm) for vm in ("vm1", "vm2")}
        assert create_route(svc, "0.0.0.0", 0).code == 0
        assert create_route(svc, "::", 0).code == 0
        yield svc


def flows(svc: harness.Service) -> list[dplane_pb2.Flow]:
    return list(svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


def test_vm_to_vm_ipv4(svc):
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    inner = IP(src="10.0.0.2", dst="10.0.0.3", ttl=7) / UDP(sport=1000, dport=2000) / b"data"
    vm1.send(from_vm("vm1", inner))
    out = expect(vm2)
    assert out is not None
    # a new Ethernet header for the other VM; the IP packet untouched (TTL too)
    assert out.src == vf_mac("vm2")
    assert out.dst == vf_mac("vm2")  # the VM's MAC is not learned yet: the port's own
    assert bytes(out[IP]) == bytes(inner)
    # and back: the reply belongs to the same flow
    vm2.send(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
             IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=2000, dport=1000))
    back = expect(vm1)
    assert back is not None and back[UDP].dport == 1000
    flow = [f for f in flows(svc) if f.key.src_port == 1000 and f.key.protocol == 17]
    assert len(flow) == 1
    assert (flow[0].packets, flow[0].reply_packets) == (1, 1)
    assert flow[0].key.vni == VNI and flow[0].key.dst == "10.0.0.3"


def test_vm_to_vm_ipv6(svc):
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    inner = IPv6(src="fd00::2", dst="fd00::3", hlim=9) / TCP(sport=4000, dport=80, flags="S")
    vm1.send(from_vm("vm1", inner))
    out = expect(vm2)
    assert out is not None and bytes(out[IPv6]) == bytes(inner)


def test_vm_to_underlay_ipv4_encap(svc):
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    inner = IP(src="10.0.0.2", dst="192.0.2.10") / UDP(sport=53000, dport=53) / b"query"
    vm1.send(from_vm("vm1", inner))
    out = expect(pf0)
    assert out is not None
    assert out.src == PF0_MAC
    outer = out[IPv6]
    assert outer.version == 6 and outer.tc == 0 and outer.fl == 0
    assert outer.nh == 4 and outer.hlim == 64
    assert outer.plen == len(bytes(inner))
    assert outer.src == svc.underlays["vm1"] and outer.dst == REMOTE_UNDERLAY
    assert bytes(outer.payload) == bytes(inner)  # checksums and all, unchanged


def test_vm_to_underlay_ipv6_encap(svc):
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    inner = IPv6(src="fd00::2", dst="2001:db8::1") / UDP(sport=1, dport=2) / b"x"
    vm1.send(from_vm("vm1", inner))
    out = expect(pf0)
    assert out is not None
    assert out[IPv6].nh == 41 and out[IPv6].hlim == 64
    assert bytes(out[IPv6].payload) == bytes(inner)


def test_underlay_to_vm_decap(svc):
    pf0, vm1 = svc.tap("dtap0"), svc.tap("dtapvf_0")
    inner = IP(src="192.0.2.10", dst="10.0.0.2") / UDP(sport=53, dport=53000) / b"answer"
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) /
             IPv6(src=REMOTE_UNDERLAY, dst=svc.underlays["vm1"], nh=4) / inner)
    out = expect(vm1)
    assert out is not None
    assert out.src == vf_mac("vm1") and out.type == 0x0800
    assert bytes(out[IP]) == bytes(inner)
    inner6 = IPv6(src="2001:db8::1", dst="fd00::2") / UDP(sport=2, dport=1)
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) /
             IPv6(src=REMOTE_UNDERLAY, dst=svc.underlays["vm1"], nh=41) / inner6)
    out = expect(vm1)
    assert out is not None and bytes(out[IPv6]) == bytes(inner6)


def test_decap_of_encap_round_trip(svc):
    """What one host sends into the tunnel, the other delivers as the VM sent it: here to an
    alias prefix of vm2 (198.51.100.0/24) that is created once the tunnel frame is taken.
    Before that prefix exists the tunnel carries a packet that is not vm2's, and sent to
    vm2's underlay address it is dropped (--underlay-check)."""
    vm1, pf0, vm2 = svc.tap("dtapvf_0"), svc.tap("dtap0"), svc.tap("dtapvf_1")
    inner = IP(src="10.0.0.2", dst="198.51.100.1") / ICMP(id=7, seq=1) / b"ping"
    vm1.send(from_vm("vm1", inner))
    tunnel = expect(pf0)
    assert tunnel is not None
    drops = svc.drops()["ipip_decap_inner_mismatch"]
    tunnel[IPv6].dst = svc.underlays["vm2"]
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) / tunnel[IPv6])
    assert nothing(vm2)
    assert svc.drops()["ipip_decap_inner_mismatch"] == drops + 1
    prefix = dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4,
                                                   address=b"198.51.100.0"), length=24)
    reply = svc.api.CreatePrefix(dpdk_pb2.CreatePrefixRequest(interface_id=b"vm2",
                                                              prefix=prefix), timeout=5)
    assert reply.status.code == 0
    try:
        tunnel[IPv6].dst = reply.underlay_route.decode()
        pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) / tunnel[IPv6])
        out = expect(vm2)
        assert out is not None and bytes(out[IP]) == bytes(inner)
    finally:
        svc.api.DeletePrefix(dpdk_pb2.DeletePrefixRequest(interface_id=b"vm2", prefix=prefix),
                             timeout=5)


DROPS = [
    ("unknown underlay", lambda u: IPv6(src=REMOTE_UNDERLAY, dst="fc00:1::dead", nh=4) /
     IP(dst="10.0.0.2") / UDP(), "ipip_decap_unknown_underlay"),
    ("IPv4 inside next header 41", lambda u: IPv6(src=REMOTE_UNDERLAY, dst=u, nh=41) /
     IP(dst="10.0.0.2") / UDP(), "ipip_decap_inner_mismatch"),
    ("truncated inner header", lambda u: IPv6(src=REMOTE_UNDERLAY, dst=u, nh=4) /
     bytes(IP(dst="10.0.0.2") / UDP())[:12], "ipip_decap_bad_inner"),
    ("not a tunnel", lambda u: IPv6(src=REMOTE_UNDERLAY, dst=u) / UDP(), "cls_pf_not_tunnel"),
    ("IPv4 from the underlay", lambda u: IP(dst="10.0.0.2") / UDP(), "cls_pf_not_tunnel"),
]


@pytest.mark.parametrize("name,build,reason", DROPS, ids=[d[0] for d in DROPS])
def test_bad_tunnels_are_counted_drops(svc, name, build, reason):
    pf0, vm1 = svc.tap("dtap0"), svc.tap("dtapvf_0")
    before = svc.drops().get(reason, 0)
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) / build(svc.underlays["vm1"]))
    assert svc.wait_drops(reason, before + 1)[reason] == before + 1
    assert nothing(vm1)


def test_pf_to_pf_is_dropped(svc):
    """Tunnels to an underlay address that is not ours never go back out."""
    pf0, pf1 = svc.tap("dtap0"), svc.tap("dtap1")
    before = svc.drops().get("ipip_decap_unknown_underlay", 0)
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) /
             IPv6(src=REMOTE_UNDERLAY, dst="fc00:9::1", nh=4) / IP(dst="10.9.9.9") / UDP())
    svc.wait_drops("ipip_decap_unknown_underlay", before + 1)
    assert nothing(pf0) and nothing(pf1)


def test_no_route_is_a_counted_drop(start_service):
    svc = start_service()
    svc.initialize()
    create_vm(svc, "vm1")
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP()))
    assert svc.wait_drops("ipv4_lookup_no_route", 1)["ipv4_lookup_no_route"] == 1
    vm1.send(from_vm("vm1", IPv6(src="fd00::2", dst="2001:db8::9") / UDP()))
    assert svc.wait_drops("ipv6_lookup_no_route", 1)["ipv6_lookup_no_route"] == 1
    assert nothing(pf0)
    # a route makes it flow; deleting it stops it again
    assert create_route(svc, "192.0.2.0", 24).code == 0
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP()))
    assert expect(pf0) is not None
    assert delete_route(svc, "192.0.2.0", 24).code == 0
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP()))
    assert svc.wait_drops("ipv4_lookup_no_route", 2)["ipv4_lookup_no_route"] == 2


def test_longest_prefix_wins(svc):
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    assert create_route(svc, "203.0.113.0", 24, nexthop="fc00:3::1").code == 0
    assert create_route(svc, "203.0.113.128", 25, nexthop="fc00:4::1").code == 0
    try:
        for dst, hop in (("203.0.113.1", "fc00:3::1"), ("203.0.113.200", "fc00:4::1"),
                         ("203.0.114.1", REMOTE_UNDERLAY)):
            vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst=dst) / UDP()))
            out = expect(pf0)
            assert out is not None and out[IPv6].dst == hop, dst
    finally:
        delete_route(svc, "203.0.113.0", 24)
        delete_route(svc, "203.0.113.128", 25)


def test_other_protocols_are_dropped(svc):
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    before = svc.drops().get("conntrack_unsupported_proto", 0)
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3", proto=47) / b"gre"))
    assert svc.wait_drops("conntrack_unsupported_proto", before + 1)[
        "conntrack_unsupported_proto"] == before + 1
    assert nothing(vm2)


def test_routes_of_another_vni_are_not_used(start_service):
    svc = start_service()
    svc.initialize()
    create_vm(svc, "vm1", vni=100)
    create_vm(svc, "vm2", vni=200)
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP()))
    assert svc.wait_drops("ipv4_lookup_no_route", 1)["ipv4_lookup_no_route"] == 1
    assert nothing(vm2)


def test_ipv4_address_order_in_flow_keys(svc):
    """Keys hold IPv4 as dpservice does; the diagnostics decode them back to text."""
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")  # listening before anything is sent
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.1.2.3") / UDP(sport=7, dport=9)))
    assert expect(pf0) is not None
    keys = [f.key for f in flows(svc) if f.key.dst_port == 9 and f.key.src_port == 7]
    assert keys and ipaddress.ip_address(keys[0].dst) == ipaddress.ip_address("10.1.2.3")


def test_alias_prefix_from_the_underlay_and_from_a_vm(svc):
    """A prefix routed to vm1: tunnels to its own underlay address and VMs of the VNI reach
    addresses inside it on vm1's VF; deleting it ends both."""
    from dplane.proto import dpdk_pb2

    prefix = dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4, address=b"10.9.0.0"),
                             length=24)
    reply = svc.api.CreatePrefix(dpdk_pb2.CreatePrefixRequest(interface_id=b"vm1",
                                                              prefix=prefix), timeout=5)
    assert reply.status.code == 0, reply.status
    underlay = reply.underlay_route.decode()
    pf0, vm1, vm2 = svc.tap("dtap0"), svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    inner = IP(src="192.0.2.10", dst="10.9.0.5") / UDP(sport=1, dport=2)
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) / IPv6(src=REMOTE_UNDERLAY, dst=underlay, nh=4) /
             inner)
    out = expect(vm1)
    assert out is not None and bytes(out[IP]) == bytes(inner)
    vm2.send(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
             IP(src="10.0.0.3", dst="10.9.0.7") / UDP(sport=3, dport=4))
    out = expect(vm1)
    assert out is not None and out[IP].dst == "10.9.0.7"
    reply = svc.api.DeletePrefix(dpdk_pb2.DeletePrefixRequest(interface_id=b"vm1",
                                                              prefix=prefix), timeout=5)
    assert reply.status.code == 0, reply.status
    before = svc.drops().get("ipip_decap_unknown_underlay", 0)
    pf0.send(Ether(src=ROUTER_MAC, dst=PF0_MAC) / IPv6(src=REMOTE_UNDERLAY, dst=underlay, nh=4) /
             inner)
    svc.wait_drops("ipip_decap_unknown_underlay", before + 1)
    assert nothing(vm1)


def test_fragments_are_routed_untracked(svc):
    """A datagram larger than the MTU comes in fragments, and only the first has ports:
    fragments are routed without a flow, every one of them, unchanged."""
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    datagram = (IP(src="10.0.0.2", dst="10.0.0.3", id=4242) /
                UDP(sport=46000, dport=5353) / (b"x" * 3000))
    frags = fragment(datagram, fragsize=1200)
    assert len(frags) == 3
    for frag in frags:
        vm1.send(from_vm("vm1", frag))
    got = []
    while (frame := expect(vm2, 0.5)) is not None:
        got.append(bytes(frame[IP]))
    assert got == [bytes(frag) for frag in frags]
    assert not [f for f in flows(svc) if 46000 in (f.key.src_port, f.key.dst_port)]


def test_ipv6_fragments_into_the_underlay(svc):
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    datagram = (IPv6(src="fd00::2", dst="2001:db8::7") / IPv6ExtHdrFragment(id=77) /
                UDP(sport=46001, dport=5353) / (b"z" * 2500))
    frags = fragment6(datagram, 1280)
    assert len(frags) == 3
    for frag in frags:
        vm1.send(from_vm("vm1", frag))
    got = []
    while (frame := expect(pf0, 0.5)) is not None:
        assert frame[IPv6].nh == 41 and frame[IPv6].dst == REMOTE_UNDERLAY
        got.append(bytes(frame[IPv6].payload))
    assert got == [bytes(frag) for frag in frags]


def test_vm_multicast_and_broadcast_are_counted_apart(svc):
    """What VMs send to groups (MLD reports, unsolicited NAs, mDNS, IGMP, broadcasts) is
    not routed, and counted as cls_multicast, not as a missing route."""
    from scapy.layers.inet6 import ICMPv6MLReport2, ICMPv6ND_NA, IPv6ExtHdrHopByHop, RouterAlert

    vm1, vm2, pf0 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1"), svc.tap("dtap0")
    frames = [
        IPv6(src="fe80::2", dst="ff02::16", hlim=1) /
        IPv6ExtHdrHopByHop(options=[RouterAlert()]) / ICMPv6MLReport2(),
        IPv6(src="fd00::2", dst="ff02::1", hlim=255) / ICMPv6ND_NA(tgt="fd00::2"),
        IPv6(src="fd00::2", dst="ff02::fb") / UDP(sport=5353, dport=5353),
        IP(src="10.0.0.2", dst="224.0.0.251") / UDP(sport=5353, dport=5353),
        IP(src="10.0.0.2", dst="224.0.0.22", proto=2) / (b"\x22" * 8),
        IP(src="10.0.0.2", dst="255.255.255.255") / UDP(sport=138, dport=138),
    ]
    before = svc.drops()
    for frame in frames:
        vm1.send(from_vm("vm1", frame))
    after = svc.wait_drops("cls_multicast", before.get("cls_multicast", 0) + len(frames))
    moved = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
    assert moved == {"cls_multicast": len(frames)}
    assert nothing(vm2) and nothing(pf0)
