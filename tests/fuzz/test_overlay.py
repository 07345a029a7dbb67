# SPDX-License-Identifier: Apache-2.0
"""Fuzz the overlay's pure functions, the ones the datapath runs (firmware/overlay/tunnel.c,
firmware/conntrack/flow_key.c). Inputs sit against a guard page: an over-read is a crash.

1. decap(encap(frame)) is the frame with the VM's Ethernet header, for any IPv4/IPv6 frame.
2. decap of arbitrary bytes never crashes and reports a known status.
3. Flow keys: any frame keys without a crash; reverse is an involution; the key of a reply
   is the reverse of the key of the request (TCP, UDP, ICMP echo, ICMPv6 echo).
4. The TCP state machine against a model written from the contract's table.
"""
from __future__ import annotations

import struct

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import Ether

from dplane import _firmware

SETTINGS = settings(max_examples=2000, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SCAPY_SETTINGS = settings(max_examples=1000, deadline=None,  # scapy builds ~1 ms per frame
                          suppress_health_check=[HealthCheck.too_slow])
macs = st.binary(min_size=6, max_size=6)
ipv6s = st.binary(min_size=16, max_size=16)
ETH = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")  # no ARP lookups by scapy


@st.composite
def inner_frames(draw) -> bytes:
    """An Ethernet frame carrying an IPv4 or IPv6 packet with arbitrary contents."""
    v6 = draw(st.booleans())
    payload = draw(st.binary(min_size=1, max_size=1500))
    first = (payload[0] & 0x0F) | (0x60 if v6 else 0x40)
    eth = draw(macs) + draw(macs) + (b"\x86\xdd" if v6 else b"\x08\x00")
    return eth + bytes([first]) + payload[1:]


@given(frame=inner_frames(), src=ipv6s, dst=ipv6s, pf=macs, router=macs, vm=macs, vf=macs)
@SETTINGS
def test_decap_undoes_encap(frame, src, dst, pf, router, vm, vf):
    tunnel = _firmware.ipip_encap(frame, src, dst, pf, router)
    assert len(tunnel) == len(frame) + 40
    assert tunnel[:6] == router and tunnel[6:12] == pf and tunnel[12:14] == b"\x86\xdd"
    ver, plen, nh, hlim = tunnel[14] >> 4, *struct.unpack_from("!HBB", tunnel, 18)
    assert (ver, plen, hlim) == (6, len(frame) - 14, 64)
    assert nh == (41 if frame[12:14] == b"\x86\xdd" else 4)
    assert tunnel[22:38] == src and tunnel[38:54] == dst
    status, inner = _firmware.ipip_decap(tunnel, vm, vf)
    assert status == "ok"
    assert inner == vm + vf + frame[12:]


@given(data=st.binary(max_size=200), vm=macs, vf=macs)
@SETTINGS
def test_decap_of_anything(data, vm, vf):
    status, inner = _firmware.ipip_decap(data, vm, vf)
    assert status in _firmware.DECAP_STATUS
    if status == "ok":
        assert inner is not None and len(inner) <= len(data) - 40
        assert inner[:12] == vm + vf


@given(frame=st.binary(max_size=200))
@SETTINGS
def test_encap_of_anything(frame):
    try:
        tunnel = _firmware.ipip_encap(frame, bytes(16), bytes(16), bytes(6), bytes(6))
    except ValueError:
        assert len(frame) <= 14 or frame[12:14] not in (b"\x08\x00", b"\x86\xdd")
    else:
        assert tunnel[54:] == frame[14:]


@given(data=st.binary(max_size=300), vni=st.integers(0, (1 << 24) - 1))
@SETTINGS
def test_flow_key_of_anything(data, vni):
    status, key = _firmware.flow_key_build(data, vni)
    if status == "ok":
        assert len(key) == 44
        assert _firmware.flow_key_reverse(_firmware.flow_key_reverse(key)) == key
        assert struct.unpack_from("=I", key, 40)[0] == vni


@given(key=st.binary(min_size=44, max_size=44))
@SETTINGS
def test_reverse_is_an_involution(key):
    assert _firmware.flow_key_reverse(_firmware.flow_key_reverse(key)) == key


def _pair(draw):
    v6 = draw(st.booleans())
    a, b = (draw(st.ip_addresses(v=6 if v6 else 4)) for _ in range(2))
    ip = (lambda s, d: IPv6(src=str(s), dst=str(d))) if v6 else \
        (lambda s, d: IP(src=str(s), dst=str(d)))
    return v6, a, b, ip


@st.composite
def request_reply(draw):
    v6, a, b, ip = _pair(draw)
    kind = draw(st.sampled_from(["tcp", "udp", "echo"]))
    sp, dp = draw(st.integers(0, 65535)), draw(st.integers(0, 65535))
    if kind == "tcp":
        return ip(a, b) / TCP(sport=sp, dport=dp), ip(b, a) / TCP(sport=dp, dport=sp)
    if kind == "udp":
        return ip(a, b) / UDP(sport=sp, dport=dp), ip(b, a) / UDP(sport=dp, dport=sp)
    if v6:
        return ip(a, b) / ICMPv6EchoRequest(id=sp), ip(b, a) / ICMPv6EchoReply(id=sp)
    return ip(a, b) / ICMP(type=8, id=sp), ip(b, a) / ICMP(type=0, id=sp)


@given(pair=request_reply(), vni=st.integers(0, (1 << 24) - 1))
@SCAPY_SETTINGS
def test_reply_key_is_the_reverse(pair, vni):
    request, reply = pair
    st1, k1 = _firmware.flow_key_build(bytes(ETH / request), vni)
    st2, k2 = _firmware.flow_key_build(bytes(ETH / reply), vni)
    assert (st1, st2) == ("ok", "ok")
    assert k1 != k2 or bytes(request) == bytes(reply)
    assert _firmware.flow_key_reverse(k1) == k2


NONE, SYN, SYNACK, EST, FINWAIT, RSTFIN = range(6)
ORIG, REPLY = 0, 1


def tcp_model(state: int, direction: int, flags: int) -> int:
    """The contract's TCP table (§1.1 Conntrack, TCP state)."""
    if flags & 0x04:
        return RSTFIN
    if flags & 0x01:
        return FINWAIT if state == EST else RSTFIN
    syn, ack = bool(flags & 0x02), bool(flags & 0x10)
    if state in (NONE, RSTFIN) and syn and not ack:
        return SYN
    if state == SYN and syn and ack and direction == REPLY:
        return SYNACK
    if state == SYNACK and ack and not syn and direction == ORIG:
        return EST
    return state


@given(state=st.integers(0, 5), direction=st.integers(0, 1), flags=st.integers(0, 255))
@settings(max_examples=2000, deadline=None)
def test_tcp_states(state, direction, flags):
    assert _firmware.ct_tcp_next(state, direction, flags) == tcp_model(state, direction, flags)
