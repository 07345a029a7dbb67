# SPDX-License-Identifier: Apache-2.0
"""The rule builders, without a NIC or a service: for a packet as it came in and as the graph
sent it out, the rte_flow rule (attributes, pattern, actions) in the contract's shapes, which
the software flow engine must accept; what no rule can express is refused with its reason.
And the engine's reader, fuzzed: any bytes, no crash, and what it reads is consistent."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from dplane import _firmware as fw

VM1_MAC, VM2_MAC, VF_MAC, PF_MAC, ROUTER = ("52:54:00:00:00:01", "52:54:00:00:00:02",
                                            "02:00:00:00:01:00", "02:00:00:00:00:00",
                                            "02:00:00:00:00:fe")
VF_PORT, PF_PORT = 3, 0


def vm(l3) -> bytes:
    return bytes(Ether(src=VM1_MAC, dst=VF_MAC) / l3)


def to_vm(l3) -> bytes:
    return bytes(Ether(src=VF_MAC, dst=VM2_MAC) / l3)


def tunnel(l3, src="fc00:1::10", dst="fc00:2::1", mac_src=PF_MAC, mac_dst=ROUTER) -> bytes:
    nh = 4 if IP in l3 else 41
    return bytes(Ether(src=mac_src, dst=mac_dst) / IPv6(src=src, dst=dst, nh=nh, hlim=64) / l3)


TCP4 = IP(src="10.0.0.2", dst="10.0.0.3") / TCP(sport=40000, dport=443, flags="A") / b"data"


def test_vf_to_vf():
    shape, attr, pattern, actions = fw.offload_build(vm(TCP4), False, to_vm(TCP4), VF_PORT,
                                                     False)
    assert shape == "vf_vf"
    assert attr == "group 2 priority 0 transfer"
    # the whole 5-tuple, no fragment, no SYN/FIN/RST (conntrack sees those)
    assert pattern == ("eth type 0x0800 / ipv4 src 10.0.0.2 dst 10.0.0.3 proto 6 "
                       "frag 0x0/0x3fff / tcp sport 40000 dport 443 flags 0x0/0x7")
    assert actions == (f"set_mac_src {VF_MAC} / set_mac_dst {VM2_MAC} / count / age 30 / "
                       f"port_id {VF_PORT}")


def test_vf_to_pf_encap_ipv4_and_ipv6():
    shape, attr, pattern, actions = fw.offload_build(vm(TCP4), False, tunnel(TCP4), PF_PORT,
                                                     True, age_s=86400)
    assert (shape, attr) == ("vf_pf", "group 2 priority 0 transfer")
    assert actions == ("raw_decap 14 / raw_encap 54 src fc00:1::10 dst fc00:2::1 "
                       f"eth {ROUTER} / count / age 86400 / port_id {PF_PORT}")
    udp6 = IPv6(src="fd00::2", dst="2001:db8::1") / UDP(sport=1, dport=53) / b"q"
    shape, _, pattern, _ = fw.offload_build(vm(udp6), False, tunnel(udp6), PF_PORT, True)
    assert shape == "vf_pf"
    assert pattern == ("eth type 0x86dd / ipv6 src fd00::2 dst 2001:db8::1 proto 17 / "
                       "udp sport 1 dport 53")


def test_pf_to_vf_decap():
    inner = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=53, dport=5353) / b"a"
    shape, attr, pattern, actions = fw.offload_build(
        tunnel(inner, src="fc00:2::1", dst="fc00:1::10", mac_src=ROUTER, mac_dst=PF_MAC), True,
        to_vm(inner), VF_PORT, False)
    assert (shape, attr) == ("pf_vf", "group 2 priority 0 transfer")
    # the tunnel's destination (the VM's underlay address) and protocol, then the inner packet
    assert pattern == ("eth type 0x86dd / ipv6 dst fc00:1::10 proto 4 / ipv4 src 192.0.2.1 "
                       "dst 10.0.0.2 proto 17 frag 0x0/0x3fff / udp sport 53 dport 5353")
    assert actions == (f"raw_decap 54 / raw_encap 14 eth {VM2_MAC} / count / age 30 / "
                       f"port_id {VF_PORT}")


def test_pf_to_pf_into_another_tunnel():
    """A load balancer's forward: the packet inside as it came, the graph's tunnel header."""
    shape, attr, pattern, actions = fw.offload_build(
        tunnel(TCP4, src="fc00:2::1", dst="fc00:1::8000:0:1b", mac_src=ROUTER, mac_dst=PF_MAC),
        True, tunnel(TCP4, src="fc00:1::8000:0:1b", dst="fc00:3::1"), PF_PORT, True)
    assert (shape, attr) == ("pf_pf", "group 2 priority 0 transfer")
    assert pattern.startswith("eth type 0x86dd / ipv6 dst fc00:1::8000:0:1b proto 4 / ipv4 ")
    assert actions == ("raw_decap 54 / raw_encap 54 src fc00:1::8000:0:1b dst fc00:3::1 "
                       f"eth {ROUTER} / count / age 30 / port_id {PF_PORT}")


def test_nat_rewrites_both_ways():
    """SNAT to the underlay: the source address and port are rewritten before the tunnel; the
    reply's destination after it (the contract's order)."""
    natted = IP(src="203.0.113.7", dst="10.0.0.3") / TCP(sport=1024, dport=443, flags="A")
    _, _, _, actions = fw.offload_build(vm(TCP4), False, tunnel(natted / b"data"), PF_PORT, True)
    assert actions.startswith("set_ipv4_src 203.0.113.7 / set_tp_src 1024 / raw_decap 14 / ")
    back_in = IP(src="10.0.0.3", dst="203.0.113.7") / TCP(sport=443, dport=1024, flags="A")
    back_out = IP(src="10.0.0.3", dst="10.0.0.2") / TCP(sport=443, dport=40000, flags="A")
    _, _, _, actions = fw.offload_build(tunnel(back_in, mac_src=ROUTER, mac_dst=PF_MAC), True,
                                        to_vm(back_out), VF_PORT, False)
    assert actions == (f"raw_decap 54 / raw_encap 14 eth {VM2_MAC} / set_ipv4_dst 10.0.0.2 / "
                       f"set_tp_dst 40000 / count / age 30 / port_id {VF_PORT}")


def test_icmp_echo_matches_its_identifier():
    ping = IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=8, id=77, seq=1)
    shape, _, pattern, _ = fw.offload_build(vm(ping), False, to_vm(ping), VF_PORT, False)
    assert shape == "vf_vf"
    assert pattern.endswith("/ icmp type 8 code 0 ident 77")


@pytest.mark.parametrize("case", ["nat64", "icmp_error", "icmp_nat", "icmp_relay", "pf_to_pf",
                                  "fragment", "truncated_out", "payload_changed"])
def test_what_no_rule_expresses_is_refused(case):
    ping = IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=8, id=77)
    if case == "nat64":
        six = IPv6(src="fd00::2", dst="64:ff9b::a00:3") / UDP(sport=1, dport=2)
        four = IP(src="203.0.113.7", dst="10.0.0.3") / UDP(sport=1, dport=2)
        got = fw.offload_build(vm(six), False, tunnel(four), PF_PORT, True)
        expected = "family_changed"
    elif case == "icmp_error":
        err = IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=3, code=3) / TCP4
        got = fw.offload_build(vm(err), False, to_vm(err), VF_PORT, False)
        expected = "icmp_not_echo"
    elif case == "icmp_nat":
        natted = IP(src="203.0.113.7", dst="10.0.0.3") / ICMP(type=8, id=1024)
        got = fw.offload_build(vm(ping), False, tunnel(natted), PF_PORT, True)
        expected = "icmp_rewritten"
    elif case == "icmp_relay":  # a neighbour NAT's echo reply, relayed: NAT of ICMP
        reply = IP(src="192.0.2.1", dst="198.51.100.1") / ICMP(type=0, id=3000)
        got = fw.offload_build(tunnel(reply, mac_src=ROUTER, mac_dst=PF_MAC), True,
                               tunnel(reply, dst="fc00:3::1"), 1, True)
        expected = "icmp_rewritten"
    elif case == "pf_to_pf":  # back into the underlay, changed inside
        natted = IP(src="10.0.0.2", dst="10.9.9.9") / TCP(sport=40000, dport=443, flags="A")
        got = fw.offload_build(tunnel(TCP4, mac_src=ROUTER, mac_dst=PF_MAC), True,
                               tunnel(natted / b"data", dst="fc00:3::1"), 1, True)
        expected = "pf_to_pf"
    elif case == "fragment":
        frag = fragment(IP(src="10.0.0.2", dst="10.0.0.3") / UDP() / (b"x" * 3000),
                        fragsize=1000)[1]
        got = fw.offload_build(vm(frag), False, to_vm(frag), VF_PORT, False)
        expected = "no_l4"
    elif case == "truncated_out":
        got = fw.offload_build(vm(TCP4), False, to_vm(TCP4)[:40], VF_PORT, False)
        expected = "out_unreadable"
    else:
        longer = IP(src="10.0.0.2", dst="10.0.0.3") / TCP(sport=40000, dport=443) / b"data!"
        got = fw.offload_build(vm(TCP4), False, to_vm(longer), VF_PORT, False)
        expected = "unexpected_change"
    assert got == (expected, None, None, None)


def test_reader_layers():
    assert fw.offload_extract(vm(TCP4), False) == (True, ("eth", "ipv4", "tcp"), 14, 34)
    assert fw.offload_extract(tunnel(TCP4), True) == (True, ("eth", "ipv6", "ipv4", "tcp"),
                                                      54, 74)
    # on a VF, an IPv6 packet carrying IPv4 is the VM's own, not a tunnel
    assert fw.offload_extract(tunnel(TCP4), False) == (True, ("eth", "ipv6"), 14, 0)
    bad = bytearray(vm(TCP4))
    bad[24] ^= 0xff  # the IPv4 header checksum
    assert fw.offload_extract(bytes(bad), False)[0] is False
    assert fw.offload_extract(b"\x00" * 13, False)[0] is False
    arp = bytes(Ether(type=0x0806) / (b"\x00" * 28))
    assert fw.offload_extract(arp, False) == (True, ("eth",), 0, 0)


@settings(max_examples=3000, deadline=None)
@given(data=st.binary(max_size=200), tunnel_ok=st.booleans())
def test_reader_fuzz_random_bytes(data, tunnel_ok):
    ok, layers, l3, l4 = fw.offload_extract(data, tunnel_ok)
    if ok:
        assert layers[0] == "eth"
        assert l3 <= len(data) and l4 <= len(data)
        assert l4 == 0 or l4 > l3


@settings(max_examples=1500, deadline=None)
@given(cut=st.integers(min_value=0, max_value=120), flip=st.integers(min_value=0, max_value=119),
       value=st.integers(min_value=0, max_value=255), tunnel_ok=st.booleans())
def test_reader_fuzz_mangled_tunnels(cut, flip, value, tunnel_ok):
    frame = bytearray(tunnel(TCP4))
    frame[flip % len(frame)] = value
    ok, layers, l3, l4 = fw.offload_extract(bytes(frame[:cut]), tunnel_ok)
    if ok and l4:
        assert layers[-1] in ("tcp", "udp", "icmp") and l4 + 8 <= cut


@settings(max_examples=800, deadline=None)
@given(data=st.binary(min_size=0, max_size=120), out=st.binary(min_size=0, max_size=120),
       from_pf=st.booleans(), to_pf=st.booleans())
def test_builder_fuzz_never_builds_what_the_engine_refuses(data, out, from_pf, to_pf):
    """Any pair of frames: a refusal, or a rule the engine compiles (offload_build raises if
    a builder made something the engine refuses)."""
    shape = fw.offload_build(vm(TCP4)[:14] + data, from_pf, out, VF_PORT, to_pf)[0]
    assert shape in fw.OFFLOAD_SHAPES or shape in fw.OFFLOAD_REFUSALS
