# SPDX-License-Identifier: Apache-2.0
"""VIP and NAT as a VM and the underlay see them, with real frames on the TAPs: the source
a VM's south-north flows leave with (VIP, or NAT IP and the port dpservice would choose),
the replies translated back, new flows to a VIP (from the underlay, and from a VM of the
VNI), range exhaustion as a counted drop, and what deleting them leaves behind (nothing).
Every translated packet's checksums are verified."""
from __future__ import annotations

import io
import json
import time
from collections.abc import Iterator

import pytest
from natmodel import PortModel
from scapy.layers.inet import ICMP, IP, TCP, UDP, defragment, fragment
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig, IPv6
from scapy.layers.l2 import Ether

import harness
from dplane import inspect_cli
from dplane.proto import dpdk_pb2 as pb
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
VM1_IP, VM2_IP = "10.0.0.2", "10.0.0.3"
VIP = "203.0.113.10"
NAT_IP = "198.51.100.1"
INTERNET = "192.0.2.10"
NAT_TABLES = ("snat_table", "dnat_table", "nat_portmap_table", "nat_portoverload_table",
              "vnf_table", "conntrack_table")


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(telemetry=True) as svc:
        svc.underlays = {vm: create_vm(svc, vm) for vm in ("vm1", "vm2")}
        assert create_route(svc, "0.0.0.0", 0).code == 0
        assert create_route(svc, "::", 0).code == 0  # NAT64 takes the IPv6 default route
        # the TAPs take frames once their ports are up
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst=VM2_IP) / UDP()))
            if expect(svc.tap("dtapvf_1"), 0.2) is not None:
                break
        yield svc


@pytest.fixture(autouse=True)
def clean(svc) -> Iterator[None]:
    """Each test leaves no VIP or NAT behind (nor their flows)."""
    for tap in ("dtapvf_0", "dtapvf_1", "dtap0"):
        svc.tap(tap).drain()
    yield
    for vm in ("vm1", "vm2"):
        svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=vm.encode()), timeout=5)
        svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=vm.encode()), timeout=5)


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def create_vip(svc, vm: str, vip: str = VIP) -> str:
    reply = svc.api.CreateVip(pb.CreateVipRequest(interface_id=vm.encode(), vip_ip=ip4(vip)),
                              timeout=5)
    assert reply.status.code == 0, reply.status
    return reply.underlay_route.decode()


def create_nat(svc, vm: str, lo: int, hi: int, nat_ip: str = NAT_IP) -> str:
    reply = svc.api.CreateNat(pb.CreateNatRequest(interface_id=vm.encode(), nat_ip=ip4(nat_ip),
                                                  min_port=lo, max_port=hi), timeout=5)
    assert reply.status.code == 0, reply.status
    return reply.underlay_route.decode()


def from_underlay(underlay: str, inner) -> Ether:
    nh = 41 if IPv6 in inner else 4
    return (Ether(src=ROUTER_MAC, dst=PF0_MAC) /
            IPv6(src=REMOTE_UNDERLAY, dst=underlay, nh=nh) / inner)


def checksums_ok(pkt: IP) -> bool:
    """The IPv4 and L4 checksums as sent are what scapy computes for the packet."""
    again = IP(bytes(pkt))
    del again.chksum
    layer = again.payload
    if hasattr(layer, "chksum"):
        del layer.chksum
    return bytes(IP(bytes(again))) == bytes(pkt)


def out_of_pf(svc) -> IP:
    frame = expect(svc.tap("dtap0"))
    assert frame is not None, "nothing left through the underlay"
    assert frame[IPv6].dst == REMOTE_UNDERLAY
    inner = frame[IPv6].payload
    assert isinstance(inner, IP)
    assert checksums_ok(inner)
    return inner


def into_vm(svc, tap: str) -> IP:
    frame = expect(svc.tap(tap))
    assert frame is not None, f"nothing reached {tap}"
    assert checksums_ok(frame[IP])
    return frame[IP]


def telemetry(svc, command: str):
    with TelemetryClient(socket_path(svc.prefix)) as client:
        return client.query(command)


def wait_entries(svc, table: str, count: int, timeout: float = 3.0) -> int:
    deadline = time.monotonic() + timeout
    while True:
        entries = svc.table_entries()[table]
        if entries == count or time.monotonic() > deadline:
            return entries
        time.sleep(0.05)


# --- VIP ----------------------------------------------------------------------------------

def test_vip_source_and_replies(svc):
    underlay = create_vip(svc, "vm1")
    svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst=INTERNET) /
                                     UDP(sport=5000, dport=53) / b"query"))
    out = out_of_pf(svc)
    assert (out.src, out.dst, out[UDP].sport, out[UDP].dport) == (VIP, INTERNET, 5000, 53)
    # the reply comes to the VIP's underlay address and reaches the VM as its own
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=VIP) /
                                        UDP(sport=53, dport=5000) / b"answer"))
    back = into_vm(svc, "dtapvf_0")
    assert (back.src, back.dst, back[UDP].dport) == (INTERNET, VM1_IP, 5000)
    assert bytes(back[UDP].payload) == b"answer"


def test_vip_takes_new_flows_from_the_underlay(svc):
    underlay = create_vip(svc, "vm1")
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=VIP) /
                                        TCP(sport=40000, dport=22, flags="S", seq=1)))
    syn = into_vm(svc, "dtapvf_0")
    assert (syn.src, syn.dst, syn[TCP].dport, syn[TCP].flags) == (INTERNET, VM1_IP, 22, "S")
    svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst=INTERNET) /
                                     TCP(sport=22, dport=40000, flags="SA", seq=7, ack=2)))
    synack = out_of_pf(svc)
    assert (synack.src, synack.dst, synack[TCP].sport) == (VIP, INTERNET, 22)


def test_vip_other_address_on_its_underlay_is_dropped(svc):
    underlay = create_vip(svc, "vm1")
    before = svc.drops().get("dnat_unknown_ip", 0)
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst="203.0.113.99") /
                                        UDP(sport=1, dport=2)))
    assert nothing(svc.tap("dtapvf_0"))
    assert svc.wait_drops("dnat_unknown_ip", before + 1)["dnat_unknown_ip"] == before + 1


def test_vip_from_a_vm_of_the_vni(svc):
    create_vip(svc, "vm1")
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=VIP) / UDP(sport=7000, dport=80)))
    got = into_vm(svc, "dtapvf_0")
    assert (got.src, got.dst) == (VM2_IP, VM1_IP)
    svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst=VM2_IP) /
                                     UDP(sport=80, dport=7000)))
    back = into_vm(svc, "dtapvf_1")
    assert (back.src, back.dst, back[UDP].sport) == (VIP, VM2_IP, 80)


def test_west_east_traffic_is_not_translated(svc):
    create_vip(svc, "vm1")
    inner = IP(src=VM1_IP, dst=VM2_IP) / UDP(sport=1234, dport=4321)
    svc.tap("dtapvf_0").send(from_vm("vm1", inner))
    got = into_vm(svc, "dtapvf_1")
    assert bytes(got) == bytes(inner)


# --- NAT ----------------------------------------------------------------------------------

def test_nat_ports_are_dpservices(svc):
    """A series of flows: each leaves with the port dpservice's algorithm gives it (a new
    source at its hashed start; a known source keeps its port; a taken destination makes
    the next port), and each reply finds its way back."""
    underlay = create_nat(svc, "vm2", 1000, 1008)
    model = PortModel(NAT_IP, 1000, 1008)
    flows = [(5000, INTERNET, 53), (5000, "192.0.2.11", 53), (5001, INTERNET, 53),
             (5002, INTERNET, 53), (5003, INTERNET, 80), (5004, INTERNET, 53)]
    for sport, dst, dport in flows:
        svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=dst) /
                                         UDP(sport=sport, dport=dport) / b"q"))
        out = out_of_pf(svc)
        expected = model.alloc(VNI, VM2_IP, sport, dst, dport, 17)
        assert (out.src, out[UDP].sport) == (NAT_IP, expected), (sport, dst, dport)
        svc.tap("dtap0").send(from_underlay(underlay, IP(src=dst, dst=NAT_IP) /
                                            UDP(sport=dport, dport=expected) / b"a"))
        back = into_vm(svc, "dtapvf_1")
        assert (back.dst, back[UDP].dport, back.src) == (VM2_IP, sport, dst)
    assert telemetry(svc, "/dp_service/nat/used_port_count")["vm2"] == len(flows)


def test_nat_tcp_handshake(svc):
    underlay = create_nat(svc, "vm2", 2000, 2100)
    port = PortModel(NAT_IP, 2000, 2100).alloc(VNI, VM2_IP, 33000, INTERNET, 443, 6)
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     TCP(sport=33000, dport=443, flags="S", seq=100)))
    syn = out_of_pf(svc)
    assert (syn.src, syn[TCP].sport, syn[TCP].flags) == (NAT_IP, port, "S")
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP) /
                                        TCP(sport=443, dport=port, flags="SA", seq=5, ack=101)))
    synack = into_vm(svc, "dtapvf_1")
    assert (synack.dst, synack[TCP].dport, synack[TCP].flags) == (VM2_IP, 33000, "SA")
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     TCP(sport=33000, dport=443, flags="A", seq=101, ack=6)))
    ack = out_of_pf(svc)
    assert (ack[TCP].sport, ack[TCP].flags) == (port, "A")
    flows = svc.diag.ListFlows(harness.dplane_pb2.ListFlowsRequest(), timeout=5).flows
    assert [f.tcp_state for f in flows if f.key.protocol == 6] == ["established"]


def test_nat_icmp_echo_identifier(svc):
    underlay = create_nat(svc, "vm2", 3000, 3010)
    ident = PortModel(NAT_IP, 3000, 3010).alloc(VNI, VM2_IP, 0x4242, INTERNET, 0x4242, 1)
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     ICMP(type=8, id=0x4242, seq=1) / b"ping"))
    req = out_of_pf(svc)
    assert (req.src, req[ICMP].id, req[ICMP].type) == (NAT_IP, ident, 8)
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP) /
                                        ICMP(type=0, id=ident, seq=1) / b"ping"))
    rep = into_vm(svc, "dtapvf_1")
    assert (rep.dst, rep[ICMP].id, rep[ICMP].type) == (VM2_IP, 0x4242, 0)


def test_nat_wins_over_vip(svc):
    create_vip(svc, "vm2", "203.0.113.20")
    create_nat(svc, "vm2", 4000, 4004)
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     UDP(sport=9, dport=9)))
    out = out_of_pf(svc)
    assert out.src == NAT_IP and 4000 <= out[UDP].sport < 4004


def test_unsolicited_packets_to_the_nat_ip_are_dropped(svc):
    underlay = create_nat(svc, "vm2", 5000, 5010)
    before = svc.drops().get("dnat_no_flow", 0)
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP) /
                                        UDP(sport=1, dport=5005)))
    assert nothing(svc.tap("dtapvf_1"))
    assert svc.wait_drops("dnat_no_flow", before + 1)["dnat_no_flow"] == before + 1


def test_range_exhaustion_is_a_counted_drop_and_ports_come_back(svc):
    create_nat(svc, "vm2", 6000, 6002)
    before = svc.drops().get("snat_ports_exhausted", 0)
    for sport in (100, 101, 102):  # three sources, one destination, two ports
        svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                         UDP(sport=sport, dport=53)))
    assert out_of_pf(svc)[UDP].sport in (6000, 6001)
    assert out_of_pf(svc)[UDP].sport in (6000, 6001)
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("snat_ports_exhausted", before + 1)["snat_ports_exhausted"] == \
        before + 1
    # DeleteNat takes the flows, and their ports with them
    assert svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5).status.code == 0
    assert wait_entries(svc, "nat_portoverload_table", 0) == 0
    assert wait_entries(svc, "nat_portmap_table", 0) == 0
    assert telemetry(svc, "/dp_service/nat/used_port_count")["vm2"] == 0
    create_nat(svc, "vm2", 6000, 6002)
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     UDP(sport=102, dport=53)))
    assert out_of_pf(svc)[UDP].sport in (6000, 6001)


def test_deleting_leaves_nothing_behind(svc):
    baseline = svc.table_entries()
    create_vip(svc, "vm1")
    create_nat(svc, "vm2", 7000, 7100)
    for vm, tap, src in (("vm1", "dtapvf_0", VM1_IP), ("vm2", "dtapvf_1", VM2_IP)):
        for sport in range(10, 15):
            svc.tap(tap).send(from_vm(vm, IP(src=src, dst=INTERNET) / UDP(sport=sport, dport=53)))
    for _ in range(10):
        out_of_pf(svc)
    assert svc.table_entries()["nat_portmap_table"] == 5
    for vm in ("vm1", "vm2"):
        assert svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=vm.encode()),
                                 timeout=5).status.code in (0, 341)
        assert svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=vm.encode()),
                                 timeout=5).status.code in (0, 341)
    for table in NAT_TABLES:
        assert wait_entries(svc, table, baseline[table]) == baseline[table], table
    assert telemetry(svc, "/dp_service/nat/used_port_count") == {"vm1": 0, "vm2": 0}


# --- ICMP errors about translated flows ---------------------------------------------------

def quoted_ip_ok(quoted: bytes) -> bool:
    """The quoted IPv4 header's checksum verifies."""
    ihl = (quoted[0] & 0x0F) * 4
    total = sum(int.from_bytes(quoted[i:i + 2], "big") for i in range(0, ihl, 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


def icmp_ok(pkt: IP) -> bool:
    """The ICMP checksum verifies over the whole message."""
    data = bytes(pkt[ICMP])
    data += bytes(len(data) % 2)
    total = sum(int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data), 2))
    while total > 0xFFFF:
        total = (total & 0xFFFF) + (total >> 16)
    return total == 0xFFFF


@pytest.mark.parametrize("icmp_type, code", [(3, 4), (3, 3), (11, 0)],
                         ids=["frag_needed", "port_unreachable", "ttl_exceeded"])
def test_icmp_error_to_a_nat_reaches_the_vm(svc, icmp_type, code):
    """A router's error about a NATed packet comes to the NAT IP; the VM gets it about the
    packet it sent: its own address and port in the quote, every checksum right."""
    underlay = create_nat(svc, "vm2", 8000, 8100)
    sport = 20000 + icmp_type * 10 + code
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     UDP(sport=sport, dport=4789) / (b"x" * 100)))
    sent = out_of_pf(svc)
    assert sent.src == NAT_IP
    error = (IP(src="192.0.2.254", dst=NAT_IP) /
             ICMP(type=icmp_type, code=code, nexthopmtu=1400 if code == 4 else 0) /
             bytes(sent)[:28 + 20])
    svc.tap("dtap0").send(from_underlay(underlay, error))
    got = into_vm(svc, "dtapvf_1")
    assert (got.src, got.dst, got[ICMP].type, got[ICMP].code) == (
        "192.0.2.254", VM2_IP, icmp_type, code)
    assert icmp_ok(got)
    quoted = bytes(got[ICMP].payload)
    assert quoted_ip_ok(quoted)
    inner = IP(quoted)
    assert (inner.src, inner.dst, inner[UDP].sport, inner[UDP].dport) == (
        VM2_IP, INTERNET, sport, 4789)


def test_icmp_error_from_a_vm_about_a_vip_flow(svc):
    """A VM answers a flow that came to its VIP with port unreachable: the error leaves from
    the VIP, quoting the packet as it was sent to the VIP."""
    underlay = create_vip(svc, "vm1")
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=VIP) /
                                        UDP(sport=3333, dport=9999) / b"knock"))
    probe = into_vm(svc, "dtapvf_0")
    assert probe.dst == VM1_IP
    svc.tap("dtapvf_0").send(from_vm("vm1", IP(src=VM1_IP, dst=INTERNET) /
                                     ICMP(type=3, code=3) / bytes(probe)[:28]))
    out = out_of_pf(svc)
    assert (out.src, out[ICMP].type, out[ICMP].code) == (VIP, 3, 3)
    assert icmp_ok(out)
    quoted = bytes(out[ICMP].payload)
    assert quoted_ip_ok(quoted)
    assert (IP(quoted).src, IP(quoted).dst) == (INTERNET, VIP)


def test_icmp_error_from_a_nat_vm_about_a_reply(svc):
    """A NATed VM refuses a reply of its own flow (port unreachable): the error leaves from
    the NAT IP, quoting the reply as it came to the NAT IP and port."""
    underlay = create_nat(svc, "vm2", 8200, 8300)
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     UDP(sport=4444, dport=53)))
    port = out_of_pf(svc)[UDP].sport
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP) /
                                        UDP(sport=53, dport=port) / b"late"))
    reply = into_vm(svc, "dtapvf_1")
    assert reply[UDP].dport == 4444
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                     ICMP(type=3, code=3) / bytes(reply)[:28]))
    out = out_of_pf(svc)
    assert out.src == NAT_IP and icmp_ok(out)
    quoted = bytes(out[ICMP].payload)
    assert quoted_ip_ok(quoted)
    inner = IP(quoted)
    assert (inner.src, inner.dst, inner[UDP].sport, inner[UDP].dport) == (
        INTERNET, NAT_IP, 53, port)


# --- what the host answers and relays -------------------------------------------------------

HOST_UNDERLAY = "fc00:1::1"  # the service's --ipv6


def out_of_pf_raw(svc) -> Ether:
    frame = expect(svc.tap("dtap0"))
    assert frame is not None, "nothing left through the underlay"
    return frame


def test_ping_to_the_nat_ip_is_answered(svc):
    underlay = create_nat(svc, "vm2", 8400, 8500)
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP, ttl=50) /
                                        ICMP(type=8, id=0x77, seq=3) / b"are you there"))
    frame = out_of_pf_raw(svc)
    assert (frame[IPv6].src, frame[IPv6].dst) == (HOST_UNDERLAY, REMOTE_UNDERLAY)
    reply = frame[IPv6].payload
    assert (reply.src, reply.dst, reply.ttl) == (NAT_IP, INTERNET, 64)
    assert (reply[ICMP].type, reply[ICMP].id, reply[ICMP].seq) == (0, 0x77, 3)
    assert bytes(reply[ICMP].payload) == b"are you there"
    assert checksums_ok(reply)
    assert nothing(svc.tap("dtapvf_1"))


def test_neighbor_range_is_relayed(svc):
    underlay = create_nat(svc, "vm2", 8500, 8600)
    neighbor = "fc00:9::5"
    assert svc.api.CreateNeighborNat(pb.CreateNeighborNatRequest(
        nat_ip=ip4(NAT_IP), vni=VNI, min_port=9000, max_port=9100,
        underlay_route=neighbor.encode()), timeout=5).status.code == 0
    try:
        inner = IP(src=INTERNET, dst=NAT_IP) / UDP(sport=53, dport=9050) / b"for the other"
        for _ in range(2):  # the flow's first packet, and a later one
            svc.tap("dtap0").send(from_underlay(underlay, inner))
            frame = out_of_pf_raw(svc)
            assert (frame[IPv6].src, frame[IPv6].dst, frame[IPv6].nh) == (
                HOST_UNDERLAY, neighbor, 4)
            assert bytes(frame[IPv6].payload) == bytes(inner)
        assert nothing(svc.tap("dtapvf_1"))
    finally:
        assert svc.api.DeleteNeighborNat(pb.DeleteNeighborNatRequest(
            nat_ip=ip4(NAT_IP), vni=VNI, min_port=9000, max_port=9100),
            timeout=5).status.code == 0
    # its flows went with it: the next packet is nobody's
    before = svc.drops().get("dnat_no_flow", 0)
    svc.tap("dtap0").send(from_underlay(underlay, inner))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("dnat_no_flow", before + 1)["dnat_no_flow"] == before + 1


# --- NAT64 ----------------------------------------------------------------------------------

VM2_IP6 = "fd00::3"
INTERNET6 = "64:ff9b::c000:20a"  # 192.0.2.10 in the NAT64 prefix


def checksums6_ok(pkt: IPv6) -> bool:
    again = IPv6(bytes(pkt))
    layer = again.payload
    if hasattr(layer, "cksum"):
        del layer.cksum
    if hasattr(layer, "chksum"):
        del layer.chksum
    return bytes(IPv6(bytes(again))) == bytes(pkt)


def test_nat64_udp_both_ways(svc):
    underlay = create_nat(svc, "vm2", 8600, 8700)
    port = PortModel(NAT_IP, 8600, 8700).alloc(VNI, VM2_IP6, 7777, INTERNET, 53, 17)
    svc.tap("dtapvf_1").send(from_vm("vm2", IPv6(src=VM2_IP6, dst=INTERNET6, hlim=33, tc=0x28) /
                                     UDP(sport=7777, dport=53) / b"query over nat64"))
    out = out_of_pf(svc)  # an IPv4 packet, tunnelled with next header 4, checksums checked
    assert (out.src, out.dst, out.ttl, out.tos) == (NAT_IP, INTERNET, 33, 0x28)
    assert (out[UDP].sport, out[UDP].dport) == (port, 53)
    assert bytes(out[UDP].payload) == b"query over nat64"
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP, ttl=44) /
                                        UDP(sport=53, dport=port) / b"answer over nat64"))
    frame = expect(svc.tap("dtapvf_1"))
    assert frame is not None and frame.type == 0x86DD
    back = frame[IPv6]
    assert (back.src, back.dst, back.hlim) == (INTERNET6, VM2_IP6, 44)
    assert (back[UDP].sport, back[UDP].dport) == (53, 7777)
    assert bytes(back[UDP].payload) == b"answer over nat64"
    assert checksums6_ok(back)
    # DeleteNat takes the NAT64 flow and its port too
    assert svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5).status.code == 0
    assert wait_entries(svc, "nat_portmap_table", 0) == 0


def test_nat64_ping(svc):
    underlay = create_nat(svc, "vm2", 8700, 8800)
    ident = PortModel(NAT_IP, 8700, 8800).alloc(VNI, VM2_IP6, 0x99, INTERNET, 0x99, 58)
    svc.tap("dtapvf_1").send(from_vm("vm2", IPv6(src=VM2_IP6, dst=INTERNET6) /
                                     ICMPv6EchoRequest(id=0x99, seq=4, data=b"ping6")))
    out = out_of_pf(svc)
    assert (out.src, out.dst, out[ICMP].type, out[ICMP].id, out[ICMP].seq) == (
        NAT_IP, INTERNET, 8, ident, 4)
    assert bytes(out[ICMP].payload) == b"ping6"
    svc.tap("dtap0").send(from_underlay(underlay, IP(src=INTERNET, dst=NAT_IP) /
                                        ICMP(type=0, id=ident, seq=4) / b"ping6"))
    frame = expect(svc.tap("dtapvf_1"))
    assert frame is not None
    reply = frame[IPv6]
    assert (reply.src, reply.dst) == (INTERNET6, VM2_IP6)
    assert isinstance(reply.payload, ICMPv6EchoReply)
    assert (reply.payload.id, reply.payload.seq, reply.payload.data) == (0x99, 4, b"ping6")
    assert checksums6_ok(reply)


def test_nat64_other_icmpv6_is_a_counted_drop(svc):
    create_nat(svc, "vm2", 8800, 8900)
    before = svc.drops().get("snat_nat64_unsupported", 0)
    svc.tap("dtapvf_1").send(from_vm("vm2", IPv6(src=VM2_IP6, dst=INTERNET6) /
                                     ICMPv6PacketTooBig(mtu=1280) / (b"q" * 48)))
    assert nothing(svc.tap("dtap0"))
    assert svc.wait_drops("snat_nat64_unsupported", before + 1)[
        "snat_nat64_unsupported"] == before + 1


def test_nat64_needs_a_nat(svc):
    """Without a NAT the VM's IPv6 traffic to the prefix is routed as any IPv6 (dpservice)."""
    inner = IPv6(src=VM2_IP6, dst=INTERNET6) / UDP(sport=7000, dport=53)
    svc.tap("dtapvf_1").send(from_vm("vm2", inner))
    frame = expect(svc.tap("dtap0"))
    assert frame is not None and frame[IPv6].nh == 41
    assert bytes(frame[IPv6].payload) == bytes(inner)


# --- fragments through a NAT ------------------------------------------------------------------

def fragment_out_of_pf(svc) -> IP:
    """A fragment through the underlay: its IPv4 header checksum verifies (the L4 one
    covers the whole datagram)."""
    frame = out_of_pf_raw(svc)
    inner = frame[IPv6].payload
    assert isinstance(inner, IP) and quoted_ip_ok(bytes(inner)[:20])
    return inner


def test_nat_fragments_both_ways(svc):
    """A 3000-byte datagram in fragments: the first gets the NAT port (it has the UDP
    header), the others the NAT IP; the reply's fragments all reach the VM, the first with
    the VM's port back. Reassembled, both datagrams check out."""
    underlay = create_nat(svc, "vm2", 9000, 9100)
    port = PortModel(NAT_IP, 9000, 9100).alloc(VNI, VM2_IP, 6000, INTERNET, 4000, 17)
    datagram = IP(src=VM2_IP, dst=INTERNET, id=0x1234) / UDP(sport=6000, dport=4000) / (
        bytes(range(256)) * 12)
    frags = fragment(datagram, fragsize=1200)
    assert len(frags) == 3
    for frag in frags:
        svc.tap("dtapvf_1").send(from_vm("vm2", frag))
    out = [fragment_out_of_pf(svc) for _ in frags]
    assert all(f.src == NAT_IP and f.id == 0x1234 for f in out)
    whole = defragment(out)[0]
    assert (whole[UDP].sport, whole[UDP].dport) == (port, 4000)
    assert checksums_ok(IP(bytes(whole)))
    assert bytes(whole[UDP].payload) == bytes(datagram[UDP].payload)

    reply = IP(src=INTERNET, dst=NAT_IP, id=0x4321) / UDP(sport=4000, dport=port) / (
        bytes(range(255, -1, -1)) * 12)
    for frag in fragment(reply, fragsize=1200):
        svc.tap("dtap0").send(from_underlay(underlay, frag))
    back = []
    for _ in range(3):
        frame = expect(svc.tap("dtapvf_1"))
        assert frame is not None, "a fragment of the reply is missing"
        assert quoted_ip_ok(bytes(frame[IP])[:20]), "IPv4 header checksum"
        back.append(frame[IP])
    assert all(f.dst == VM2_IP for f in back)
    whole = defragment(back)[0]
    assert (whole[UDP].sport, whole[UDP].dport) == (4000, 6000)
    assert checksums_ok(IP(bytes(whole)))


def test_nat_fragment_without_its_first_is_dropped(svc):
    underlay = create_nat(svc, "vm2", 9100, 9200)
    datagram = IP(src=VM2_IP, dst=INTERNET, id=0x777) / UDP(sport=6100, dport=4000) / (
        b"z" * 2400)
    frags = fragment(datagram, fragsize=1200)
    before = svc.drops()
    svc.tap("dtapvf_1").send(from_vm("vm2", frags[1]))  # not the first
    assert nothing(svc.tap("dtap0"))
    stray = IP(src=INTERNET, dst=NAT_IP, id=0x888, frag=150, proto=17) / (b"y" * 100)
    svc.tap("dtap0").send(from_underlay(underlay, stray))
    assert nothing(svc.tap("dtapvf_1"))
    after = svc.wait_drops("dnat_fragment", before.get("dnat_fragment", 0) + 1)
    assert after["snat_fragment"] == before.get("snat_fragment", 0) + 1
    assert after["dnat_fragment"] == before.get("dnat_fragment", 0) + 1


# --- the port tables, as dplane-inspect shows them ----------------------------------------------

def inspect_rows(svc, table: str) -> list[dict]:
    out, err = io.StringIO(), io.StringIO()
    status = inspect_cli.run(["--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}", "-t",
                              table, "--dump", "-o", "json"], out, err)
    assert status == 0, err.getvalue()
    return json.loads(out.getvalue())


def test_port_tables_in_inspect(svc):
    """dplane-inspect -t portmap|portoverload: the ports the flows got, per source and per
    destination, and nothing once the NAT is gone."""
    create_nat(svc, "vm2", 9200, 9300)
    model = PortModel(NAT_IP, 9200, 9300)
    sent = [(7100, INTERNET, 53), (7100, "192.0.2.11", 53), (7101, INTERNET, 53)]
    for sport, dst, dport in sent:
        svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=dst) /
                                         UDP(sport=sport, dport=dport)))
        assert out_of_pf(svc)[UDP].sport == model.alloc(VNI, VM2_IP, sport, dst, dport, 17)
    portmap = inspect_rows(svc, "portmap")
    assert sorted((r["vni"], r["src"], r["src_port"], r["nat_ip"], r["nat_port"], r["flows"])
                  for r in portmap) == sorted(
        (str(VNI), VM2_IP, str(src[2]), NAT_IP, str(port), str(flows))
        for src, (port, flows) in model.portmap.items())
    overload = inspect_rows(svc, "portoverload")
    assert sorted((r["nat_ip"], r["nat_port"], r["dst"], r["dst_port"], r["proto"])
                  for r in overload) == sorted(
        (NAT_IP, str(port), dst, str(dport), str(proto))
        for port, dst, dport, proto in model.taken)
    assert svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5).status.code == 0
    assert wait_entries(svc, "nat_portmap_table", 0) == 0
    assert inspect_rows(svc, "portmap") == [] and inspect_rows(svc, "portoverload") == []
