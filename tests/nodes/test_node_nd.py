# SPDX-License-Identifier: Apache-2.0
"""ipv6_nd: solicitations for the gateway fe80::1 answered in place out of the VF (NS -> NA,
RS -> RA), the VM's MAC learned from an NS, every invalid one dropped under its reason, and
all of them dropped without the IPv6 overlay."""
from __future__ import annotations

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    in6_chksum,
)
from scapy.layers.l2 import Ether

from nodeutil import GW6, LEARN, NOIF, VM1, VM_MAC, reattach

LLA = "fe80::2"
ALL_NODES = "ff02::1"


def ns(port=VM1, src=LLA, eth_src=None, target=GW6, slla=True, tc=0, fl=0,
       hlim=255) -> Ether:
    eth_src = eth_src or VM_MAC[port]
    msg = ICMPv6ND_NS(tgt=target)
    if slla:
        msg = msg / ICMPv6NDOptSrcLLAddr(lladdr=eth_src)
    return (Ether(src=eth_src, dst="33:33:ff:00:00:01")
            / IPv6(src=src, dst="ff02::1:ff00:1", hlim=hlim, tc=tc, fl=fl) / msg)


def rs(port=VM1, src=LLA, slla=True, tc=0, fl=0) -> Ether:
    msg = ICMPv6ND_RS()
    if slla:
        msg = msg / ICMPv6NDOptSrcLLAddr(lladdr=VM_MAC[port])
    return (Ether(src=VM_MAC[port], dst="33:33:00:00:00:02")
            / IPv6(src=src, dst="ff02::2", hlim=255, tc=tc, fl=fl) / msg)


def checksum_ok(pkt: Ether) -> bool:
    icmp = pkt[IPv6].payload
    sent = icmp.cksum
    icmp.cksum = None
    return Ether(bytes(pkt))[IPv6].payload.cksum == sent


def test_ns_answered(dp):
    result = dp.run("ipv6_nd", ns(tc=0x28, fl=0x12345), VM1)
    assert result.path == [f"tx-{VM1}"]
    vf = dp.port_mac[VM1]
    expected = (Ether(src=vf, dst=VM_MAC[VM1])
                / IPv6(src=GW6, dst=LLA, hlim=255, tc=0x28, fl=0x12345)
                / ICMPv6ND_NA(R=1, S=1, O=1, tgt=GW6) / ICMPv6NDOptDstLLAddr(lladdr=vf))
    assert result.frame == bytes(expected)
    assert checksum_ok(result.pkt)
    # the whole way from the VF
    assert dp.run("cls", ns(), VM1, steps=8).path == ["ipv6_nd", f"tx-{VM1}"]


def test_ns_from_unspecified(dp):
    """Duplicate address detection style: answered to all nodes, not solicited (RFC 4861
    7.2.4), and an SLLA option from :: is invalid."""
    result = dp.run("ipv6_nd", ns(src="::", slla=False), VM1)
    assert result.path == [f"tx-{VM1}"]
    pkt = result.pkt
    assert pkt.dst == VM_MAC[VM1]
    assert pkt[IPv6].dst == ALL_NODES
    assert (pkt[ICMPv6ND_NA].R, pkt[ICMPv6ND_NA].S, pkt[ICMPv6ND_NA].O) == (1, 0, 1)
    assert checksum_ok(pkt)
    assert dp.edge("ipv6_nd", ns(src="::", slla=True), VM1) == "ipv6_nd_bad_option"


@pytest.mark.parametrize("src, dst", [(LLA, LLA), ("::", ALL_NODES)])
def test_rs_answered(dp, src, dst):
    result = dp.run("ipv6_nd", rs(src=src, slla=src != "::", tc=4, fl=7), VM1)
    assert result.path == [f"tx-{VM1}"]
    vf = dp.port_mac[VM1]
    expected = (Ether(src=vf, dst=VM_MAC[VM1])
                / IPv6(src=GW6, dst=dst, hlim=255, tc=4, fl=7)
                / ICMPv6ND_RA(chlim=255, M=1, O=1, prf=0, routerlifetime=0xffff, reachabletime=0,
                              retranstimer=0)
                / ICMPv6NDOptSrcLLAddr(lladdr=vf))
    assert result.frame == bytes(expected)
    assert checksum_ok(result.pkt)


def corrupt_checksum(frame: Ether) -> bytes:
    raw = bytearray(bytes(frame))
    raw[14 + 40 + 2] ^= 0xff
    return bytes(raw)


def raw_icmp(icmp: bytes, src=LLA, hlim=255) -> Ether:
    """An ICMPv6 message as given, its checksum made right (when it has room for one)."""
    body = bytearray(icmp)
    if len(body) >= 4:
        body[2:4] = b"\0\0"
        body[2:4] = in6_chksum(58, IPv6(src=src, dst="ff02::2"), bytes(body)).to_bytes(2, "big")
    return (Ether(src=VM_MAC[VM1], dst="33:33:00:00:00:02")
            / IPv6(src=src, dst="ff02::2", hlim=hlim, nh=58) / bytes(body))


DROPS = [
    (lambda: ns(hlim=64), "ipv6_nd_bad_hop_limit"),
    (lambda: ns(hlim=254), "ipv6_nd_bad_hop_limit"),
    (lambda: ns(target="fe80::3"), "ipv6_nd_not_gateway"),
    (lambda: ns(target="fd00::3"), "ipv6_nd_not_gateway"),
    (lambda: corrupt_checksum(ns()), "ipv6_nd_bad_checksum"),
    (lambda: corrupt_checksum(rs()), "ipv6_nd_bad_checksum"),
    (lambda: ns(eth_src="01:00:5e:00:00:01", slla=False), "ipv6_nd_bad_sender"),
    (lambda: ns(eth_src="00:00:00:00:00:00", slla=False), "ipv6_nd_bad_sender"),
    (lambda: raw_icmp(b"\x87\x01" + bytes(22)), "ipv6_nd_bad_code"),      # NS code 1
    (lambda: raw_icmp(b"\x85\x01" + bytes(6)), "ipv6_nd_bad_code"),       # RS code 1
    (lambda: raw_icmp(b"\x87\x00" + bytes(2)), "ipv6_nd_truncated"),      # NS of 4 bytes
    (lambda: raw_icmp(b"\x87\x00" + bytes(21)), "ipv6_nd_truncated"),     # no full target
    (lambda: raw_icmp(b"\x85\x00" + bytes(4)), "ipv6_nd_truncated"),      # RS of 6 bytes
    (lambda: raw_icmp(b"\x85\x00" + bytes(6) + b"\x01\x00" + bytes(6)),   # option length 0
     "ipv6_nd_bad_option"),
    (lambda: raw_icmp(b"\x85\x00" + bytes(6) + b"\x01\x02" + bytes(6)),   # longer than sent
     "ipv6_nd_bad_option"),
    # cls sends only RS/NS; the node checks again
    (lambda: raw_icmp(bytes(ICMPv6EchoRequest())), "ipv6_nd_bad_type"),
    (lambda: raw_icmp(bytes(ICMPv6ND_NA(tgt=GW6))), "ipv6_nd_bad_type"),
    (lambda: Ether(src=VM_MAC[VM1], dst="33:33:00:00:00:02")
     / IPv6(src=LLA, dst="ff02::2", hlim=255) / UDP(), "ipv6_nd_bad_type"),
    (lambda: Ether(src=VM_MAC[VM1], dst="33:33:00:00:00:02")     # no L4 header at all
     / IPv6(src=LLA, dst="ff02::2", hlim=255, nh=59), "ipv6_nd_truncated"),
]


@pytest.mark.parametrize("make, edge", DROPS, ids=[e for _, e in DROPS])
def test_drops(dp, make, edge):
    frame = bytes(make())
    result = dp.run("ipv6_nd", frame, VM1)
    assert result.path == [edge]
    assert result.frame == frame


def test_drops_through_cls(dp):
    """cls hands truncated and wrong-code solicitations to the node, which drops them."""
    assert dp.run("cls", raw_icmp(b"\x87\x00" + bytes(2)), VM1, steps=4).path == [
        "ipv6_nd", "ipv6_nd_truncated"]
    assert dp.run("cls", ns(hlim=1), VM1, steps=4).path == ["ipv6_nd", "ipv6_nd_bad_hop_limit"]


def test_no_interface(dp):
    assert dp.edge("ipv6_nd", ns(NOIF), NOIF) == "ipv6_nd_no_interface"


def test_learns_from_ns(dp):
    """An NS teaches the VM's MAC (its Ethernet source); an RS does not."""
    new_mac = "02:00:00:00:bb:06"
    try:
        solicit = (Ether(src=new_mac, dst="33:33:00:00:00:02")
                   / IPv6(src="fe80::6", dst="ff02::2", hlim=255) / ICMPv6ND_RS())
        assert dp.edge("ipv6_nd", solicit, LEARN) == f"tx-{LEARN}"
        assert dp.iface_vm_mac(LEARN) == VM_MAC[LEARN]
        result = dp.run("ipv6_nd", ns(LEARN, src="fe80::6", eth_src=new_mac), LEARN)
        assert result.path == [f"tx-{LEARN}"]
        assert result.pkt.dst == new_mac
        assert dp.iface_vm_mac(LEARN) == new_mac
    finally:
        reattach(dp, LEARN, learn=True)


def test_disabled_without_ipv6_overlay(plain):
    """Without --enable-ipv6-overlay every solicitation is dropped, valid or not."""
    for frame in (ns(), rs(), ns(hlim=1)):
        result = plain.run("cls", frame, VM1, steps=4)
        assert result.path == ["ipv6_nd", "ipv6_nd_disabled"]
        assert result.frame == bytes(frame)
