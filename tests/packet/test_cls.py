# SPDX-License-Identifier: Apache-2.0
"""Frames into the service's TAPs: every frame is either forwarded or dropped and counted
under its reason; malformed frames never hurt the service."""
from __future__ import annotations

import errno
import random
import struct
import time

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop
from scapy.layers.l2 import ARP, Dot1Q, Ether

from dplane.proto import dpdk_pb2

VM_MAC = "02:00:00:00:00:01"
VF0_MAC = "66:66:66:66:66:00"
PF0_MAC = "22:22:22:22:22:00"


def counted(before: dict, after: dict) -> dict:
    """Drop counters that moved, and by how much."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def send_and_count(svc, ifname, frames, reason):
    before = svc.drops()
    tap = svc.tap(ifname)
    for frame in frames:
        tap.send(frame)
    after = svc.wait_drops(reason, before.get(reason, 0) + len(frames))
    return counted(before, after)


def create_interface(svc, iface_id, device, ipv4="10.0.0.2", ipv6="fd00::2", vni=100):
    svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=vni, device_name=device,
        ipv4_config=dpdk_pb2.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=ipv6.encode())), timeout=5)


def still_serving(svc):
    reply = svc.api.CheckInitialized(dpdk_pb2.CheckInitializedRequest(), timeout=5)
    return reply.status.code == 0


def test_vf_port_is_down_without_interface(service):
    """As in dpservice, a VF port starts with its interface: before, its link is down and
    nothing can be sent into it."""
    service.initialize()
    links = harness_links(service)
    assert "UP" not in links["dtapvf_0"] and "UP" in links["dtap0"]
    frame = Ether(dst="ff:ff:ff:ff:ff:ff", src=VM_MAC) / IP(src="10.0.0.2", dst="10.0.0.1") / \
        UDP(sport=1000, dport=2000)
    with pytest.raises(OSError) as err:
        service.tap("dtapvf_0").send(frame)
    assert err.value.errno == errno.ENETDOWN
    ports = {p.name: p for p in service.stats().ports}
    assert ports["dtapvf_0"].rx_packets == 0


def harness_links(svc) -> dict[str, str]:
    import harness
    out = harness.run("ip", "-br", "link", netns=svc.netns.name).stdout
    return {line.split()[0]: line.split()[-1] for line in out.splitlines()}


def ipv4_raw(ihl: int, total_len: int, payload: bytes = b"", proto: int = 17) -> bytes:
    header = struct.pack("!BBHHHBBH4s4s", 0x40 | ihl, 0, total_len, 1, 0, 64, proto, 0,
                         bytes([10, 0, 0, 2]), bytes([10, 0, 0, 1]))
    return header + payload


ETH_V4 = bytes(Ether(dst=VF0_MAC, src=VM_MAC, type=0x0800))
ETH_V6 = bytes(Ether(dst=VF0_MAC, src=VM_MAC, type=0x86DD))

# (a frame shorter than an Ethernet header cannot be sent into a TAP: the parser's fuzz
# tests cover that case)
MALFORMED = [
    pytest.param(ETH_V4 + ipv4_raw(4, 40, bytes(20)), "cls_bad_ipv4", id="ihl-too-small"),
    pytest.param(ETH_V4 + ipv4_raw(15, 40, bytes(20)), "cls_bad_ipv4", id="ihl-beyond-total"),
    pytest.param(ETH_V4 + ipv4_raw(5, 200, bytes(30)), "cls_bad_ipv4",
                 id="total-length-beyond-frame"),
    pytest.param(ETH_V4 + ipv4_raw(5, 20)[:12], "cls_bad_ipv4", id="truncated-ipv4"),
    pytest.param(ETH_V4 + bytes([0x60]) + ipv4_raw(5, 40, bytes(20))[1:], "cls_bad_ipv4",
                 id="version-6-in-ipv4"),
    pytest.param(ETH_V4 + ipv4_raw(5, 24, bytes(4), proto=6), "cls_bad_l4",
                 id="truncated-tcp"),
    pytest.param(ETH_V4 + ipv4_raw(5, 28, struct.pack("!HHHH", 1, 2, 200, 0), proto=17),
                 "cls_bad_l4", id="udp-length-beyond-ip"),
    pytest.param(bytes(Ether(dst=VF0_MAC, src=VM_MAC) / IPv6(plen=500) / UDP()), "cls_bad_ipv6",
                 id="ipv6-payload-beyond-frame"),
    pytest.param(bytes(Ether(dst=VF0_MAC, src=VM_MAC) / IPv6(nh=60) / IPv6ExtHdrDestOpt(len=30)
                       / UDP())[:80], "cls_bad_ipv6_ext", id="ext-header-beyond-payload"),
    pytest.param(bytes(Ether(dst=VF0_MAC, src=VM_MAC) / IPv6() / IPv6ExtHdrDestOpt() /
                       IPv6ExtHdrHopByHop() / UDP()), "cls_bad_ipv6_ext",
                 id="hop-by-hop-not-first"),
    pytest.param(bytes(Ether(dst=VF0_MAC, src=VM_MAC) / IPv6() /
                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() /
                       IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / IPv6ExtHdrDestOpt() / UDP()),
                 "cls_bad_ipv6_ext", id="ext-chain-too-long"),
    pytest.param(bytes(Ether(dst=VF0_MAC, src=VM_MAC) / Dot1Q() / Dot1Q() / Dot1Q() / IP()),
                 "cls_bad_vlan", id="three-vlan-tags"),
    pytest.param(bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=VM_MAC) / ARP(hwlen=8)),
                 "cls_bad_arp", id="arp-not-ethernet-ipv4"),
]


@pytest.mark.parametrize("port", ["dtap0", "dtapvf_0"])
def test_malformed_frames_are_counted(service, port):
    service.initialize()
    if port.startswith("dtapvf"):
        create_interface(service, "vm0", "net_tap2")
    for param in MALFORMED:
        frame, reason = param.values
        got = send_and_count(service, port, [frame], reason)
        assert got == {reason: 1}, param.id
    assert still_serving(service)


def test_pf_accepts_only_ipv6_tunnels(service):
    service.initialize()
    not_tunnel = [
        Ether(dst=PF0_MAC, src=VM_MAC) / IP(dst="192.0.2.1") / ICMP(),
        Ether(dst=PF0_MAC, src=VM_MAC) / IPv6(dst="fc00:1::1") / UDP(),
        Ether(dst="ff:ff:ff:ff:ff:ff", src=VM_MAC) / ARP(pdst="192.0.2.1"),
    ]
    assert send_and_count(service, "dtap0", not_tunnel, "cls_pf_not_tunnel") == {
        "cls_pf_not_tunnel": 3}
    # IPv4-in-IPv6 and IPv6-in-IPv6 are tunnels, for ipip_decap: to no underlay of ours here
    tunnels = [
        Ether(dst=PF0_MAC, src=VM_MAC) / IPv6(dst="fc00:1::d000:0:1", nh=4) /
        IP(dst="10.0.0.1") / TCP(),
        Ether(dst=PF0_MAC, src=VM_MAC) / IPv6(dst="fc00:1::d000:0:1", nh=41) /
        IPv6(dst="fc00::1") / UDP(),
    ]
    assert send_and_count(service, "dtap1", tunnels, "ipip_decap_unknown_underlay") == {
        "ipip_decap_unknown_underlay": 2}


def test_other_ethertypes_and_vlans(service):
    lldp = Ether(dst="01:80:c2:00:00:0e", src=VM_MAC, type=0x88CC) / (b"\x02\x07" + bytes(40))
    tagged = Ether(dst=PF0_MAC, src=VM_MAC) / Dot1Q(vlan=5) / IPv6(nh=4) / IP() / UDP()
    assert send_and_count(service, "dtap0", [lldp], "cls_pf_not_tunnel") == {
        "cls_pf_not_tunnel": 1}
    assert send_and_count(service, "dtap0", [tagged], "cls_vlan_tagged") == {
        "cls_vlan_tagged": 1}


def test_burst_of_garbage_leaves_service_up(service):
    """Thousands of random and half-valid frames: all counted, none lost, still serving."""
    service.initialize()
    rng = random.Random(1234)
    templates = [bytes(f) for f in (
        Ether(dst=VF0_MAC, src=VM_MAC) / IP() / TCP(),
        Ether(dst=VF0_MAC, src=VM_MAC) / IPv6() / IPv6ExtHdrHopByHop() / UDP(),
        Ether(dst=VF0_MAC, src=VM_MAC) / ARP())]
    frames = []
    for i in range(2000):
        if i % 2:
            frames.append(bytes(rng.getrandbits(8) for _ in range(rng.randint(14, 200))))
        else:
            data = bytearray(rng.choice(templates))
            for _ in range(rng.randint(1, 6)):
                data[rng.randrange(12, len(data))] = rng.getrandbits(8)
            frames.append(bytes(data[:rng.randint(14, len(data))]))
    tap = service.tap("dtap0")
    before = sum(service.drops().values())
    # paced in chunks: the kernel's TAP queue (1000 frames) must not overflow while a loaded
    # machine keeps the worker off the CPU
    for chunk in range(0, len(frames), 250):
        for frame in frames[chunk:chunk + 250]:
            tap.send(frame)
        assert wait_rx(service, "dtap0", chunk + 250), harness_link_stats(service, "dtap0")
    total = sum(service.drops().values())
    deadline = time.monotonic() + 5
    while total - before < len(frames) and time.monotonic() < deadline:
        time.sleep(0.05)
        total = sum(service.drops().values())
    assert total - before == len(frames)  # every frame is a counted drop
    assert service.drops()["drop"] == 0  # and each under a named reason
    assert still_serving(service)


def wait_rx(svc, port, count, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if {p.name: p for p in svc.stats().ports}[port].rx_packets >= count:
            return True
        time.sleep(0.02)
    return False


def harness_link_stats(svc, port):
    import harness
    return harness.run("ip", "-s", "link", "show", port, netns=svc.netns.name).stdout
