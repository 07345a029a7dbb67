# SPDX-License-Identifier: Apache-2.0
"""cls: every frame's class by where it came from and what it is, and its parse."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_Router_Alert
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RS,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
)
from scapy.layers.l2 import ARP, Dot1Q, Ether

from nodeutil import GW4, GW6, NOIF, PF0, PF1, VM1, VM2, VNF_ADDR, XCONNECT_PORT, from_vm


def E(**fields) -> Ether:
    """An Ethernet header for frames whose addresses do not matter (scapy would look the
    destination up for IP frames otherwise)."""
    return Ether(src="02:00:00:00:00:aa", dst="02:00:00:00:00:bb", **fields)


V4 = IP(src="10.0.0.2", dst="192.0.2.1")
V6 = IPv6(src="fd00::2", dst="2001:db8::1")


def vm(dp, l3, port=VM1):
    return from_vm(dp, port, l3)


@pytest.mark.parametrize("l3, edge", [
    (V4 / UDP(sport=1000, dport=53), "conntrack"),
    (V4 / TCP(), "conntrack"),
    (V4 / ICMP(), "conntrack"),
    (V6 / UDP(sport=1000, dport=53), "conntrack"),
    (V6 / ICMPv6EchoRequest(), "conntrack"),
    # only solicitations are ND's: an advertisement is routed like the rest
    (IPv6(src="fe80::2", dst=GW6, hlim=255) / ICMPv6ND_NA(tgt="fe80::2"), "conntrack"),
    (IPv6(src="fe80::2", dst=GW6, hlim=255) / ICMPv6ND_NS(tgt=GW6), "ipv6_nd"),
    (IPv6(src="fe80::2", dst="ff02::2", hlim=255) / ICMPv6ND_RS(), "ipv6_nd"),
    (ARP(op=1, psrc="10.0.0.2", pdst=GW4), "arp"),
    (IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67), "dhcp"),
    (IP(src="10.0.0.2", dst=GW4) / UDP(sport=68, dport=67), "dhcp"),
    (IPv6(src="fe80::2", dst="ff02::1:2") / UDP(sport=546, dport=547), "dhcpv6"),
    # the DHCP ports belong to their family only
    (IP(src="10.0.0.2", dst="192.0.2.1") / UDP(sport=546, dport=547), "conntrack"),
    (IPv6(src="fd00::2", dst="2001:db8::1") / UDP(sport=68, dport=67), "conntrack"),
    # groups: the overlay routes none
    (IP(src="10.0.0.2", dst="224.0.0.251") / UDP(sport=5353, dport=5353), "cls_multicast"),
    (IP(src="10.0.0.2", dst="239.1.2.3") / UDP(), "cls_multicast"),
    (IP(src="10.0.0.2", dst="255.255.255.255") / UDP(sport=137, dport=137), "cls_multicast"),
    (IPv6(src="fe80::2", dst="ff02::fb") / UDP(sport=5353, dport=5353), "cls_multicast"),
    (IPv6(src="fe80::2", dst="ff02::16") / ICMPv6EchoRequest(), "cls_multicast"),
    # a wrong IPv4 header checksum (summed in software: these frames have no NIC verdict)
    (IP(src="10.0.0.2", dst="192.0.2.1", chksum=0x1234) / UDP(), "cls_bad_ipv4_checksum"),
    (IP(src="0.0.0.0", dst="255.255.255.255", chksum=0) / UDP(sport=68, dport=67),
     "cls_bad_ipv4_checksum"),
    (IP(src="10.0.0.2", dst="192.0.2.1", options=[IPOption_Router_Alert()]) / UDP(),
     "conntrack"),
], ids=lambda v: v if isinstance(v, str) else v.summary())
def test_from_vm(dp, l3, edge):
    assert dp.edge("cls", vm(dp, l3), VM1) == edge


def test_parse_kept(dp):
    """The parse cls made travels with the packet (the frame itself is untouched)."""
    frame = vm(dp, IP(src="10.0.0.2", dst="192.0.2.1", options=b"\x01" * 4) / TCP())
    result = dp.run("cls", frame, VM1)
    assert result.frame == bytes(frame)
    m = result.meta
    assert (m["l3_type"], m["l3_off"], m["l4_off"], m["l4_proto"]) == (2, 14, 38, 6)
    result = dp.run("cls", vm(dp, IPv6(src="fd00::2", dst="2001:db8::1") / IPv6ExtHdrDestOpt()
                              / UDP()), VM1)
    m = result.meta
    assert (m["l3_type"], m["l3_off"], m["l4_off"], m["l4_proto"]) == (3, 14, 62, 17)


def test_no_interface(dp):
    """A VF without an interface: nothing from it goes anywhere."""
    for l3 in (V4 / UDP(), ARP(op=1, pdst=GW4), IP(dst="255.255.255.255") / UDP(dport=67)):
        assert dp.edge("cls", vm(dp, l3, NOIF), NOIF) == "cls_no_interface"


@pytest.mark.parametrize("port", [PF0, PF1])
def test_from_underlay(dp, port):
    """From a PF only IP-in-IPv6 (without extension headers) is ours."""
    eth = Ether(src="02:fe:00:00:00:00", dst=dp.port_mac[port])
    tunnel = IPv6(src="fc00:2::1", dst="fc00:1::2")
    assert dp.edge("cls", eth / tunnel / V4 / UDP(), port) == "ipip_decap"
    assert dp.edge("cls", eth / tunnel / V6 / UDP(), port) == "ipip_decap"
    assert dp.edge("cls", eth / IPv6(src="fc00:2::1", dst=VNF_ADDR[2]) / V4 / TCP(),
                   port) == "ipip_decap"
    for frame in (eth / V4 / UDP(),
                  eth / tunnel / UDP(),
                  eth / tunnel / IPv6ExtHdrDestOpt() / V4 / UDP(),
                  eth / IP(src="192.0.2.9", dst="192.0.2.8", proto=41) / V6 / UDP(),
                  eth / ARP(op=1, pdst=GW4),
                  eth / tunnel / ICMPv6ND_NS(tgt=GW6),
                  Ether(src="02:fe:00:00:00:00", dst=dp.port_mac[port], type=0x88cc) / bytes(46)):
        assert dp.edge("cls", frame, port) == "cls_pf_not_tunnel", frame.summary()


def test_vlan_tagged(dp):
    """VLANs are nobody's: tagged frames from VMs and from the underlay are dropped."""
    assert dp.edge("cls", vm(dp, Dot1Q(vlan=5) / V4 / UDP()), VM1) == "cls_vlan_tagged"
    tunnel = IPv6(src="fc00:2::1", dst="fc00:1::2") / V4 / UDP()
    assert dp.edge("cls", E() / Dot1Q(vlan=5) / tunnel, PF0) == "cls_vlan_tagged"
    assert dp.edge("cls", E() / Dot1Q(vlan=5) / Dot1Q(vlan=6) / tunnel,
                   PF0) == "cls_vlan_tagged"


def test_unknown_ethertype(dp):
    frame = Ether(src="02:00:00:00:00:02", dst=dp.port_mac[VM1], type=0x88cc) / bytes(46)
    assert dp.edge("cls", frame, VM1) == "cls_unknown_ethertype"


def cut(frame, keep: int) -> bytes:
    return bytes(frame)[:keep]


BAD_FRAMES = [
    (b"\x00" * 13, "cls_bad_ether"),
    (bytes(E(type=0x8100)) + b"\x00\x05", "cls_bad_vlan"),                  # half a tag
    (bytes(E() / Dot1Q() / Dot1Q() / Dot1Q() / V4 / UDP()), "cls_bad_vlan"),  # three tags
    (cut(E() / ARP(pdst=GW4), 14 + 27), "cls_bad_arp"),
    (bytes(E() / ARP(ptype=0x86dd, plen=4, pdst=GW4)), "cls_bad_arp"),
    (cut(E() / V4 / UDP(), 14 + 19), "cls_bad_ipv4"),
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1", version=5) / UDP()), "cls_bad_ipv4"),
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1", len=100) / UDP()), "cls_bad_ipv4"),
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1", ihl=4) / UDP()), "cls_bad_ipv4"),
    (cut(E() / V6 / UDP(), 14 + 39), "cls_bad_ipv6"),
    (bytes(E() / IPv6(src="fd00::2", dst="2001:db8::1", plen=100) / UDP()), "cls_bad_ipv6"),
    (bytes(E() / IPv6(src="fd00::2", dst="2001:db8::1", plen=1, nh=60) / b"\x11"),
     "cls_bad_ipv6_ext"),                                         # header cut short
    (bytes(E() / V6 / IPv6ExtHdrDestOpt(nh=0) / (b"\x00" * 8) / UDP()),
     "cls_bad_ipv6_ext"),                                         # hop-by-hop not first
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1", proto=6) / (b"\x00" * 19)),
     "cls_bad_l4"),                                               # TCP header cut short
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1") / TCP(dataofs=4)), "cls_bad_l4"),
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1") / UDP(len=9)), "cls_bad_l4"),
    (bytes(E() / IP(src="10.0.0.2", dst="192.0.2.1", proto=1) / (b"\x08" * 7)), "cls_bad_l4"),
    (bytes(E() / IPv6(src="fd00::2", dst="2001:db8::1", nh=58) / b"\x87\x00"), "cls_bad_l4"),
]


@pytest.mark.parametrize("frame, edge", BAD_FRAMES, ids=[e for _, e in BAD_FRAMES])
@pytest.mark.parametrize("port", [VM1, NOIF, PF0])
def test_bad_frames(dp, frame, edge, port):
    """Whatever port it came from, a frame the parser refuses is dropped under its reason,
    untouched."""
    result = dp.run("cls", frame, port)
    assert result.path == [edge]
    assert result.frame == frame


def test_fragments_are_not_bad(dp):
    """A later fragment has no L4 header to check: it is classified, not refused."""
    later = IP(src="10.0.0.2", dst="192.0.2.1", proto=17, frag=100) / (b"\x00" * 3)
    assert dp.edge("cls", vm(dp, later), VM1) == "conntrack"
    later6 = V6 / IPv6ExtHdrFragment(nh=17, offset=100) / (b"\x00" * 3)
    assert dp.edge("cls", vm(dp, later6), VM1) == "conntrack"


def test_xconnect(plain):
    """A patched port's frames go straight to their target's tx, whatever they are."""
    for l3 in (V4 / UDP(), ARP(op=1, pdst=GW4), IPv6(src="fe80::2", dst=GW6) / ICMPv6ND_RS()):
        frame = vm(plain, l3, XCONNECT_PORT)
        result = plain.run("cls", frame, XCONNECT_PORT, steps=4)
        assert result.path == [f"tx-{VM2}"]
        assert result.frame == bytes(frame)
    # the parser still has its say
    assert plain.edge("cls", b"\x00" * 10, XCONNECT_PORT) == "cls_bad_ether"
