# SPDX-License-Identifier: Apache-2.0
"""Fuzz and differential tests for the `cls` frame parser, dp_parse_frame() (firmware/core/parse.c).

firmware.parse_frame() copies its input to the end of a page followed by an inaccessible guard
page, so a read past the end of the frame kills the test process: a crash is a failure.

1. Arbitrary bytes, and bytes shaped like header stacks: no crash, a known status, and every
   result agrees with check_invariants() (general invariants plus `model`, a small Python
   reading of parse.h).
2. Valid frames built from scapy layers: the result is exactly what scapy says was built.
3. Those frames mutated (truncated, bits flipped, length fields corrupted): the invariants still
   hold, and targeted corruptions give exactly the documented error status.
4. Canonical frames with fully pinned results.
"""
from __future__ import annotations

import dataclasses
import logging
import struct

import pytest
from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_EOL, IPOption_NOP, IPOption_Router_Alert
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    PadN,
)
from scapy.layers.ipsec import AH, ESP
from scapy.layers.l2 import ARP, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw

from dplane import _firmware as firmware
from dplane._firmware import (
    L3_ARP,
    L3_IPV4,
    L3_IPV6,
    L3_OTHER,
    PARSE_F_FRAGMENT,
    PARSE_F_IPV6_EXT,
    PARSE_F_NO_L4,
)

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)


@dataclasses.dataclass(frozen=True)
class ParseResult:
    status: str  # "ok" or the error ("bad_ipv4", ...)
    ethertype: int
    l3_off: int
    l3_len: int
    l4_off: int
    l3_type: int
    l4_proto: int
    vlans: int
    flags: int


def parse_frame(data: bytes) -> ParseResult:
    """The cls parser, as the dataplane runs it (needs no EAL)."""
    status, fields = firmware.parse_frame(data)
    return ParseResult(status, **fields)

# ---------------------------------------------------------------------------------------------
# Constants (from parse.h / parse.c and the RFCs)

ETH_HDR, VLAN_TAG, MAX_VLANS = 14, 4, 2
ARP_LEN, IPV4_MIN_HDR, IPV6_HDR, MAX_IPV6_EXT = 28, 20, 40, 8
ETH_P_IPV4, ETH_P_ARP, ETH_P_IPV6 = 0x0800, 0x0806, 0x86DD
TPIDS = (0x8100, 0x88A8, 0x9100)
KNOWN_ETHERTYPES = (ETH_P_IPV4, ETH_P_ARP, ETH_P_IPV6, *TPIDS)

HOPOPTS, ICMP_P, IPIP, TCP_P, UDP_P, IPV6_P = 0, 1, 4, 6, 17, 41
ROUTING, FRAGMENT, ESP_P, AH_P, ICMPV6_P, NONE_P, DSTOPTS = 43, 44, 50, 51, 58, 59, 60
MOBILITY, HIP, SHIM6 = 135, 139, 140
# extension headers laid out as (next header, length in 8-octet units - 1, ...)
GENERIC_EXT = (HOPOPTS, ROUTING, DSTOPTS, MOBILITY, HIP, SHIM6)
IPV6_EXT = (*GENERIC_EXT, FRAGMENT, AH_P)

STATUSES = frozenset(firmware.PARSE_STATUS)
# the minimum L4 header the parser insists on before reporting an L4 offset
L4_MIN = {TCP_P: 20, UDP_P: 8, ICMP_P: 8, ICMPV6_P: 4}

MAC_DST, MAC_SRC = "02:00:00:00:00:02", "02:00:00:00:00:01"


def be16(data: bytes, off: int) -> int:
    return (data[off] << 8) | data[off + 1]


def put16(data: bytearray, off: int, value: int) -> None:
    data[off:off + 2] = struct.pack("!H", value)


def result(status: str = "ok", **fields: int) -> ParseResult:
    base = dict(ethertype=0, l3_off=0, l3_len=0, l4_off=0, l3_type=0, l4_proto=0, vlans=0,
                flags=0)
    return ParseResult(status, **{**base, **fields})


# ---------------------------------------------------------------------------------------------
# The oracle: a plain Python reading of parse.h, and the invariants every result must satisfy

def _l4_fits(data: bytes, proto: int, off: int, end: int, flags: int) -> bool:
    avail = end - off
    if avail < L4_MIN.get(proto, 0):
        return False
    if proto == TCP_P:
        return IPV4_MIN_HDR <= (data[off + 12] >> 4) * 4 <= avail
    if proto == UDP_P and not flags & PARSE_F_FRAGMENT:  # a fragment's UDP length is the datagram's
        return 8 <= be16(data, off + 4) <= avail
    return True


def _ipv6_chain(data: bytes, off: int, end: int) -> tuple[int, int, int] | None:
    """Walk the extension headers (RFC 8200): (last next header, L4 offset or 0, flags), or None
    when the chain is truncated, misplaced or too long."""
    nh, p, count, flags = data[off + 6], off + IPV6_HDR, 0, 0
    while nh in IPV6_EXT:
        if (nh == HOPOPTS and count) or count == MAX_IPV6_EXT:
            return None
        if end - p < (8 if nh == FRAGMENT else 2):
            return None
        if nh == FRAGMENT:
            hlen = 8
        elif nh == AH_P:
            hlen = (data[p + 1] + 2) * 4
        else:
            hlen = (data[p + 1] + 1) * 8
        if hlen > end - p:
            return None
        count += 1
        flags |= PARSE_F_IPV6_EXT
        later = nh == FRAGMENT and be16(data, p + 2) & 0xFFF8
        if nh == FRAGMENT and be16(data, p + 2) & 0xFFF9:  # not an atomic fragment
            flags |= PARSE_F_FRAGMENT
        nh, p = data[p], p + hlen
        if later:
            return nh, 0, flags | PARSE_F_NO_L4
    if nh in (ESP_P, NONE_P):
        return nh, 0, flags | PARSE_F_NO_L4
    return nh, p, flags


def model(data: bytes) -> ParseResult:
    """What parse.h says dp_parse_frame() answers; fields are only meaningful for 'ok'."""
    n = len(data)
    if n < ETH_HDR:
        return result("bad_ether")
    off, vlans, etype = ETH_HDR, 0, be16(data, 12)
    while etype in TPIDS:
        if vlans == MAX_VLANS or n - off < VLAN_TAG:
            return result("bad_vlan")
        etype, off, vlans = be16(data, off + 2), off + VLAN_TAG, vlans + 1
    l2 = dict(ethertype=etype, l3_off=off, vlans=vlans)
    if etype == ETH_P_ARP:
        if n - off < ARP_LEN or data[off:off + 6] != b"\x00\x01\x08\x00\x06\x04":
            return result("bad_arp")
        return result(**l2, l3_type=L3_ARP, l3_len=ARP_LEN)
    if etype == ETH_P_IPV4:
        if n - off < IPV4_MIN_HDR or data[off] >> 4 != 4:
            return result("bad_ipv4")
        ihl, total, frag = (data[off] & 0xF) * 4, be16(data, off + 2), be16(data, off + 6)
        if not IPV4_MIN_HDR <= ihl <= total <= n - off:
            return result("bad_ipv4")
        proto = data[off + 9]
        no_l4 = frag & 0x1FFF or proto in (ESP_P, NONE_P)
        flags = (PARSE_F_FRAGMENT if frag & 0x3FFF else 0) | (PARSE_F_NO_L4 if no_l4 else 0)
        l4_off = 0 if no_l4 else off + ihl
        if l4_off and not _l4_fits(data, proto, l4_off, off + total, flags):
            return result("bad_l4")
        return result(**l2, l3_type=L3_IPV4, l3_len=total, l4_proto=proto, l4_off=l4_off,
                      flags=flags)
    if etype == ETH_P_IPV6:
        if n - off < IPV6_HDR or data[off] >> 4 != 6:
            return result("bad_ipv6")
        end = off + IPV6_HDR + be16(data, off + 4)
        if end > n:
            return result("bad_ipv6")
        chain = _ipv6_chain(data, off, end)
        if chain is None:
            return result("bad_ipv6_ext")
        proto, l4_off, flags = chain
        if l4_off and not _l4_fits(data, proto, l4_off, end, flags):
            return result("bad_l4")
        return result(**l2, l3_type=L3_IPV6, l3_len=end - off, l4_proto=proto, l4_off=l4_off,
                      flags=flags)
    return result(**l2, l3_type=L3_OTHER)


def check_invariants(data: bytes, r: ParseResult) -> None:
    """Invariants of any result (independent of `model`), then exact agreement with `model`."""
    n = len(data)
    assert r.status in STATUSES, r
    assert (r.status == "bad_ether") == (n < ETH_HDR), r
    if r.status == "ok":
        assert r.vlans <= MAX_VLANS and r.l3_off == ETH_HDR + VLAN_TAG * r.vlans, r
        assert r.l3_off <= n and r.ethertype not in TPIDS, r
        assert not r.flags & ~(PARSE_F_FRAGMENT | PARSE_F_NO_L4 | PARSE_F_IPV6_EXT), r
        if r.l3_type in (L3_ARP, L3_IPV4, L3_IPV6):
            assert r.l3_off + r.l3_len <= n, r
        else:
            assert r.l3_type == L3_OTHER, r
            assert (r.l3_len, r.l4_off, r.l4_proto, r.flags) == (0, 0, 0, 0), r
        if r.l4_off:
            assert r.l3_off < r.l4_off <= r.l3_off + r.l3_len, r
            assert not r.flags & PARSE_F_NO_L4, r
            end = r.l3_off + r.l3_len
            assert r.l4_off + L4_MIN.get(r.l4_proto, 0) <= end, r
            if r.l4_proto == TCP_P:
                assert 20 <= (data[r.l4_off + 12] >> 4) * 4 <= end - r.l4_off, r
            if r.l4_proto == UDP_P and not r.flags & PARSE_F_FRAGMENT:
                assert 8 <= be16(data, r.l4_off + 4) <= end - r.l4_off, r
        elif r.l3_type in (L3_IPV4, L3_IPV6):
            assert r.flags & PARSE_F_NO_L4, r
        if r.flags & PARSE_F_NO_L4:
            assert r.flags & PARSE_F_FRAGMENT or r.l4_proto in (ESP_P, NONE_P), r
    expected = model(data)
    assert r.status == expected.status, (r, expected)
    if r.status == "ok":
        assert r == expected


def parse_checked(data: bytes) -> ParseResult:
    r = parse_frame(data)
    check_invariants(data, r)
    return r


# ---------------------------------------------------------------------------------------------
# 1. Arbitrary bytes

@settings(max_examples=100_000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.binary(max_size=2048))
def test_arbitrary_bytes(data: bytes) -> None:
    check_invariants(data, parse_frame(data))


INTERESTING_PROTOS = (HOPOPTS, ICMP_P, IPIP, TCP_P, UDP_P, IPV6_P, ROUTING, FRAGMENT, ESP_P, AH_P,
                      ICMPV6_P, NONE_P, DSTOPTS, MOBILITY, HIP, SHIM6, 47, 255)


@st.composite
def header_like_bytes(draw) -> bytes:
    """Short frames, and Ethernet/VLAN/L3/L4-looking prefixes whose length fields are near the
    truth, with random tails and truncation: the inputs that reach deep into the parser."""
    if draw(st.integers(0, 7)) == 0:
        return draw(st.binary(max_size=64))
    d = bytearray(12)
    for _ in range(draw(st.integers(0, 3))):
        d += struct.pack("!H", draw(st.sampled_from(TPIDS))) + b"\x00\x07"
    etype = draw(st.sampled_from((ETH_P_IPV4, ETH_P_IPV4, ETH_P_IPV6, ETH_P_IPV6, ETH_P_ARP,
                                  0x88CC, 0x0000)))
    d += struct.pack("!H", etype)
    l3, fix = len(d), None
    proto = draw(st.sampled_from(INTERESTING_PROTOS))
    if etype == ETH_P_ARP:
        d += draw(st.sampled_from((b"\x00\x01\x08\x00\x06\x04", b"\x00\x06\x08\x00\x06\x04",
                                   b"\x00\x01\x86\xdd\x06\x04", b"\x00\x01\x08\x00\x08\x04",
                                   b"\x00\x01\x08\x00\x06\x10")))
    elif etype == ETH_P_IPV4:
        ihl = draw(st.sampled_from((5, 5, 5, 6, 15, 4, 0)))
        frag = draw(st.sampled_from((0, 0, 0x4000, 0x2000, 0x0001, 0x2001, 0x1FFF)))
        version = draw(st.sampled_from((4, 4, 4, 4, 6)))
        d += bytes((version << 4 | ihl, 0, 0, 0, 0, 0, frag >> 8, frag & 0xFF, 64, proto))
        d += bytes(10)
        d += bytes(max(0, ihl * 4 - IPV4_MIN_HDR))
        fix = (l3 + 2, l3)
    elif etype == ETH_P_IPV6:
        version = draw(st.sampled_from((6, 6, 6, 6, 4)))
        d += bytes((version << 4, 0, 0, 0, 0, 0, proto, 64)) + bytes(32)
        fix = (l3 + 4, l3 + IPV6_HDR)
        for _ in range(draw(st.integers(0, 10))):
            if proto not in IPV6_EXT:
                break
            kind, proto = proto, draw(st.sampled_from(IPV6_EXT + IPV6_EXT + INTERESTING_PROTOS))
            size = draw(st.sampled_from((0, 0, 1, 2, 255)))
            hlen = 8 if kind == FRAGMENT else (size + 2) * 4 if kind == AH_P else (size + 1) * 8
            frag_off = draw(st.sampled_from((0, 0, 1, 8))) if kind == FRAGMENT else 0  # M, later
            d += bytes((proto, size, 0, frag_off)) + bytes(min(hlen, 64) - 4)
    l4 = len(d)
    if proto == TCP_P:
        d += bytes(12) + bytes((draw(st.sampled_from((0x50, 0x50, 0x60, 0xF0, 0x40))),)) + bytes(7)
    elif proto == UDP_P:
        d += bytes(8)
    d += draw(st.binary(max_size=32))
    if proto == UDP_P and len(d) >= l4 + 8:
        put16(d, l4 + 4, max(0, len(d) - l4 + draw(st.sampled_from((0, 0, -1, 1, -8)))))
    if fix is not None and len(d) >= fix[0] + 2:
        delta = draw(st.sampled_from((0, 0, 0, -1, 1, -20, 4096)))
        put16(d, fix[0], min(0xFFFF, max(0, len(d) - fix[1] + delta)))
    if draw(st.integers(0, 3)) == 0:
        del d[draw(st.integers(0, len(d))):]
    return bytes(d)


@settings(max_examples=10_000, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(header_like_bytes())
def test_header_like_bytes(data: bytes) -> None:
    check_invariants(data, parse_frame(data))


# ---------------------------------------------------------------------------------------------
# 2. Valid frames built from scapy layers

@dataclasses.dataclass(frozen=True)
class Built:
    """A frame built from scapy layers, and what the parser must make of it."""

    data: bytes                  # the whole frame, trailing Ethernet padding included
    expect: ParseResult          # the parser's exact answer
    l3_off: int
    l3_end: int                  # end of the L3 datagram; what follows is padding
    ip_hlen: int = 0             # IPv4: IHL * 4
    exts: tuple = ()             # IPv6 extension headers the parser walks: (proto, off, len)
    l4: tuple | None = None   # the L4 header the parser checks: (proto, off, bytes it needs)
    fragment: str = "none"       # "none", "first" or "later"


@dataclasses.dataclass(frozen=True)
class Upper:
    """What follows the IP header(s): `hdr` is checked by the parser if `need` is not None."""

    proto: int
    hdr: bytes
    payload: bytes
    need: int | None = None


TCP_OPTIONS = (("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""),
               ("Timestamp", (1, 2)), ("EOL", None))
UPPERS_V4 = ("tcp", "udp", "icmp", "ipip", "6in4", "other")
UPPERS_V6 = ("tcp", "udp", "icmpv6", "ipip", "6in6", "esp", "nonext", "other")
ports = st.integers(0, 0xFFFF)


@st.composite
def uppers(draw, kind: str, first_fragment: bool) -> Upper:
    payload = draw(st.binary(max_size=48))
    if kind == "tcp":
        hdr = bytes(TCP(sport=draw(ports), dport=draw(ports), flags="S", chksum=0,
                        options=draw(st.lists(st.sampled_from(TCP_OPTIONS), max_size=4))))
        return Upper(TCP_P, hdr, payload, (hdr[12] >> 4) * 4)
    if kind == "udp":
        # a first fragment's UDP length covers the whole datagram, not this piece
        extra = draw(st.integers(1, 1000)) if first_fragment else 0
        hdr = bytes(UDP(sport=draw(ports), dport=draw(ports), len=8 + len(payload) + extra,
                        chksum=0))
        return Upper(UDP_P, hdr, payload, 8 if first_fragment else 8 + len(payload))
    if kind == "icmp":
        return Upper(ICMP_P, bytes(ICMP(type=draw(st.sampled_from((0, 3, 8, 11))), chksum=0)),
                     payload, 8)
    if kind == "icmpv6":
        return Upper(ICMPV6_P, bytes(ICMPv6EchoRequest(cksum=0, id=draw(ports))), payload, 4)
    if kind == "ipip":
        return Upper(IPIP, bytes(IP(src="10.0.0.1", dst="10.0.0.2") / UDP(chksum=0) /
                                 Raw(payload)), b"")
    if kind in ("6in4", "6in6"):
        return Upper(IPV6_P, bytes(IPv6(src="fd00::1", dst="fd00::2") / UDP(chksum=0) /
                                   Raw(payload)), b"")
    if kind == "esp":
        return Upper(ESP_P, bytes(ESP(spi=draw(st.integers(1, 2**32 - 1)), seq=1, data=payload)),
                     b"")
    if kind == "nonext":
        return Upper(NONE_P, b"", payload)
    return Upper(draw(st.sampled_from((47, 103, 132, 253))), b"", payload)


IPV4_OPTIONS = {"nop": IPOption_NOP, "eol": IPOption_EOL,
                "ra": lambda: IPOption_Router_Alert()}


@st.composite
def ipv4_datagram(draw, upper: str | None, fragment: str | None):
    fragment = fragment or draw(st.sampled_from(("none", "none", "first", "later")))
    options = [IPV4_OPTIONS[o]() for o in draw(st.lists(st.sampled_from(sorted(IPV4_OPTIONS)),
                                                        max_size=9))]
    if fragment == "later":
        up = Upper(draw(st.sampled_from((TCP_P, UDP_P, ICMP_P, 47))), b"",
                   draw(st.binary(max_size=64)))
        flags, frag = draw(st.sampled_from(("", "MF"))), draw(st.integers(1, 0x1FFF))
    else:
        up = draw(uppers(upper or draw(st.sampled_from(UPPERS_V4)), fragment == "first"))
        flags, frag = ("MF" if fragment == "first" else draw(st.sampled_from(("", "DF")))), 0
    pkt = IP(src="192.0.2.1", dst="198.51.100.7", ttl=64, id=draw(ports), flags=flags, frag=frag,
             proto=up.proto, options=options) / Raw(up.hdr + up.payload)
    return bytes(pkt), up, fragment


EXT_KINDS = ("routing", "destopt", "ah", "mobility", "hip", "shim6")
EXT_PROTO = {"hbh": HOPOPTS, "routing": ROUTING, "destopt": DSTOPTS, "fragment": FRAGMENT,
             "ah": AH_P, "mobility": MOBILITY, "hip": HIP, "shim6": SHIM6}


@st.composite
def ext_header(draw, kind: str, nh: int, later: bool) -> bytes:
    if kind == "routing":
        n = draw(st.integers(0, 3))
        return bytes(IPv6ExtHdrRouting(nh=nh, addresses=[f"2001:db8::{i}" for i in range(n)],
                                       segleft=n))
    if kind == "fragment":
        # a first fragment has M set (offset 0 without M is an atomic fragment, RFC 6946)
        offset = draw(st.integers(1, 0x1FFF)) if later else 0
        more = draw(st.integers(0, 1)) if later else 1
        return bytes(IPv6ExtHdrFragment(nh=nh, offset=offset, m=more,
                                        id=draw(st.integers(0, 2**32 - 1))))
    if kind == "ah":
        size = draw(st.sampled_from((4, 12, 20)))  # the header is a multiple of 8 bytes
        icv = draw(st.binary(min_size=size, max_size=size))
        return bytes(AH(nh=nh, payloadlen=(12 + len(icv)) // 4 - 2, spi=1, seq=1, icv=icv))
    # Hop-by-Hop and Destination options; Mobility, HIP and Shim6 share their layout
    cls = IPv6ExtHdrHopByHop if kind == "hbh" else IPv6ExtHdrDestOpt
    return bytes(cls(nh=nh, options=[PadN(optdata=draw(st.binary(max_size=20)))]))


@st.composite
def ipv6_datagram(draw, upper: str | None, fragment: str | None, n_ext):
    """An IPv6 datagram with an extension header chain; for a later fragment the chain ends at
    the Fragment header and the rest is fragment data."""
    fragment = fragment or draw(st.sampled_from(("none", "none", "first", "later")))
    total = draw(n_ext)
    kinds = ["hbh"] if total and draw(st.booleans()) else []
    kinds += draw(st.lists(st.sampled_from(EXT_KINDS), min_size=total - len(kinds),
                           max_size=total - len(kinds)))
    if fragment != "none":  # replaces one of the headers (not Hop-by-Hop) or comes last
        first = 1 if kinds[:1] == ["hbh"] else 0
        if len(kinds) > first:
            kinds[draw(st.integers(first, len(kinds) - 1))] = "fragment"
        else:
            kinds.append("fragment")
    if fragment == "later":
        kinds = kinds[:kinds.index("fragment") + 1]
        up = Upper(draw(st.sampled_from((TCP_P, UDP_P, ICMPV6_P, DSTOPTS, ROUTING))), b"",
                   draw(st.binary(max_size=64)))
    else:
        up = draw(uppers(upper or draw(st.sampled_from(UPPERS_V6)), fragment == "first"))
    protos = [EXT_PROTO[k] for k in kinds] + [up.proto]
    headers = [draw(ext_header(k, protos[i + 1], fragment == "later")) for i, k in enumerate(kinds)]
    pkt = IPv6(src="2001:db8::1", dst="2001:db8::2", nh=protos[0], hlim=64,
               fl=draw(st.integers(0, 0xFFFFF))) / Raw(b"".join(headers) + up.hdr + up.payload)
    return bytes(pkt), kinds, headers, up, fragment


ANY_EXT_COUNT = st.integers(0, MAX_IPV6_EXT)
ANY_TAGS = st.lists(st.sampled_from(TPIDS), max_size=MAX_VLANS)


@st.composite
def frames(draw, l3: str | None = None, upper: str | None = None, fragment: str | None = None,
           n_ext=ANY_EXT_COUNT, tags=ANY_TAGS) -> Built:
    """A valid frame: Ethernet, 0..2 VLAN tags, ARP / IPv4 / IPv6 / another EtherType, padding."""
    tpids = draw(tags)
    l3 = l3 or draw(st.sampled_from(("arp", "ipv4", "ipv4", "ipv6", "ipv6", "ipv6", "other")))
    l3_off = ETH_HDR + VLAN_TAG * len(tpids)
    info: dict = {}
    if l3 == "arp":
        etype = ETH_P_ARP
        datagram = bytes(ARP(op=draw(st.sampled_from((1, 2))), hwsrc=MAC_SRC, psrc="10.0.0.1",
                             pdst="10.0.0.2"))
        expect = dict(l3_type=L3_ARP, l3_len=ARP_LEN)
    elif l3 == "ipv4":
        etype = ETH_P_IPV4
        datagram, up, frag = draw(ipv4_datagram(upper, fragment))
        hlen = (datagram[0] & 0xF) * 4
        flags = {"none": 0, "first": PARSE_F_FRAGMENT,
                 "later": PARSE_F_FRAGMENT | PARSE_F_NO_L4}[frag]
        l4_off = 0 if frag == "later" else l3_off + hlen
        expect = dict(l3_type=L3_IPV4, l3_len=len(datagram), l4_proto=up.proto, l4_off=l4_off,
                      flags=flags)
        info = dict(ip_hlen=hlen, fragment=frag,
                    l4=(up.proto, l4_off, up.need) if l4_off and up.need else None)
    elif l3 == "ipv6":
        etype = ETH_P_IPV6
        datagram, kinds, headers, up, frag = draw(ipv6_datagram(upper, fragment, n_ext))
        exts, p = [], l3_off + IPV6_HDR
        for kind, hdr in zip(kinds, headers, strict=True):
            exts.append((EXT_PROTO[kind], p, len(hdr)))
            p += len(hdr)
        no_l4 = frag == "later" or up.proto in (ESP_P, NONE_P)
        flags = ((PARSE_F_IPV6_EXT if kinds else 0) | (PARSE_F_FRAGMENT if frag != "none" else 0)
                 | (PARSE_F_NO_L4 if no_l4 else 0))
        l4_off = 0 if no_l4 else p
        expect = dict(l3_type=L3_IPV6, l3_len=len(datagram), l4_proto=up.proto, l4_off=l4_off,
                      flags=flags)
        info = dict(exts=tuple(exts), fragment=frag,
                    l4=(up.proto, l4_off, up.need) if l4_off and up.need else None)
    else:
        etype = draw(st.integers(0, 0xFFFF).filter(lambda t: t not in KNOWN_ETHERTYPES))
        datagram = draw(st.binary(max_size=64))
        expect = dict(l3_type=L3_OTHER)
    types = [*tpids, etype]
    l2 = bytes(Ether(dst=MAC_DST, src=MAC_SRC, type=types[0]))
    for tpid, inner in zip(tpids, types[1:], strict=True):
        tag = Dot1AD if tpid == 0x88A8 else Dot1Q
        l2 += bytes(tag(prio=draw(st.integers(0, 7)), vlan=draw(st.integers(0, 4095)), type=inner))
    data = l2 + datagram
    assert len(l2) == l3_off
    padding = draw(st.binary(max_size=24))
    if draw(st.booleans()):
        padding += bytes(max(0, 60 - len(data) - len(padding)))
    return Built(data=data + padding, l3_off=l3_off, l3_end=len(data),
                 expect=result(ethertype=etype, l3_off=l3_off, vlans=len(tpids), **expect),
                 **info)


STRUCTURED = settings(max_examples=2000, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                             HealthCheck.filter_too_much])
TARGETED = settings(STRUCTURED, max_examples=200)


@STRUCTURED
@given(frames())
def test_scapy_frames(f: Built) -> None:
    note(f"frame: {f.data.hex()}")
    r = parse_checked(f.data)
    assert r == f.expect


@settings(TARGETED, max_examples=300)
@given(frames(l3="ipv6", n_ext=st.integers(1, MAX_IPV6_EXT)))
def test_scapy_ipv6_chains(f: Built) -> None:
    """Extension header chains up to the limit of 8."""
    note(f"frame: {f.data.hex()}")
    assert parse_checked(f.data) == f.expect


# ---------------------------------------------------------------------------------------------
# 3. Mutations of valid frames

def _patched(f: Built, off: int, value: int, size: int = 2) -> bytes:
    data = bytearray(f.data)
    data[off:off + size] = value.to_bytes(size, "big")
    return bytes(data)


@st.composite
def mutated(draw) -> bytes:
    """A valid frame, then a few truncations, bit flips, byte writes and length-field writes."""
    f = draw(frames())
    data = bytearray(f.data)
    note(f"original: {f.data.hex()}")
    fields = [f.l3_off + 2, f.l3_off + 4, f.l3_off + 6] + [off + 1 for _, off, _ in f.exts]
    if f.l4:
        fields += [f.l4[1] + 4, f.l4[1] + 12]
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(("truncate", "flip", "byte", "field")))
        i = draw(st.integers(0, len(data) - 1))
        if op == "truncate":
            del data[i:]
        elif op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[i] = draw(st.integers(0, 255))
        else:
            off = draw(st.sampled_from(fields))
            if off + 2 <= len(data):
                value = draw(st.sampled_from((0, 1, 4, 0x50, 0xFF, 0xFFFF, len(data) - off,
                                              len(data) - off + 1, len(data) - off - 1)))
                put16(data, off, max(0, min(0xFFFF, value)))
    return bytes(data)


@STRUCTURED
@given(mutated())
def test_mutated_frames(data: bytes) -> None:
    check_invariants(data, parse_frame(data))


@TARGETED
@given(frames(), st.data())
def test_shorter_than_ethernet_is_bad_ether(f: Built, data) -> None:
    assert parse_checked(f.data[:data.draw(st.integers(0, ETH_HDR - 1))]).status == "bad_ether"


@TARGETED
@given(frames(), st.data())
def test_vlan_errors(f: Built, data) -> None:
    """Three tags or more, and a frame that ends inside a tag, are bad_vlan."""
    extra = data.draw(st.integers(MAX_VLANS + 1 - f.expect.vlans, 3))  # 3 to 5 tags in all
    tags = b"".join(struct.pack("!HH", data.draw(st.sampled_from(TPIDS)), 7) for _ in range(extra))
    assert parse_checked(f.data[:12] + tags + f.data[12:]).status == "bad_vlan"
    if f.expect.vlans:
        cut = data.draw(st.integers(ETH_HDR, f.l3_off - 1))
        assert parse_checked(f.data[:cut]).status == "bad_vlan"


@TARGETED
@given(frames(l3="arp"), st.data())
def test_arp_errors(f: Built, data) -> None:
    cut = data.draw(st.integers(f.l3_off, f.l3_off + ARP_LEN - 1))
    assert parse_checked(f.data[:cut]).status == "bad_arp"
    field = data.draw(st.sampled_from(((0, 2, 6), (2, 2, ETH_P_IPV6), (4, 1, 8), (5, 1, 16))))
    assert parse_checked(_patched(f, f.l3_off + field[0], field[2], field[1])).status == "bad_arp"


@TARGETED
@given(frames(l3="ipv4"), st.data())
def test_ipv4_errors(f: Built, data) -> None:
    """Truncation inside the datagram, IHL < 5, a version not 4, a total length beyond the
    frame or below the header length: all bad_ipv4."""
    off = f.l3_off
    cut = data.draw(st.integers(off, f.l3_end - 1))
    assert parse_checked(f.data[:cut]).status == "bad_ipv4"
    if data.draw(st.booleans()):  # truncated inside the 20-byte header itself
        assert parse_checked(f.data[:off + data.draw(st.integers(0, 19))]).status == "bad_ipv4"
    first = f.data[off]
    ihl = data.draw(st.integers(0, 4))
    assert parse_checked(_patched(f, off, 0x40 | ihl, 1)).status == "bad_ipv4"
    version = data.draw(st.integers(0, 15).filter(lambda v: v != 4))
    assert parse_checked(_patched(f, off, version << 4 | first & 0xF, 1)).status == "bad_ipv4"
    too_long = data.draw(st.integers(len(f.data) - off + 1, 0xFFFF))
    assert parse_checked(_patched(f, off + 2, too_long)).status == "bad_ipv4"
    too_short = data.draw(st.integers(0, f.ip_hlen - 1))
    assert parse_checked(_patched(f, off + 2, too_short)).status == "bad_ipv4"


@TARGETED
@given(frames(l3="ipv6"), st.data())
def test_ipv6_errors(f: Built, data) -> None:
    """Truncation inside the datagram, a version not 6, a payload length beyond the frame: all
    bad_ipv6."""
    off = f.l3_off
    assert parse_checked(f.data[:data.draw(st.integers(off, f.l3_end - 1))]).status == "bad_ipv6"
    assert parse_checked(f.data[:off + data.draw(st.integers(0, 39))]).status == "bad_ipv6"
    version = data.draw(st.integers(0, 15).filter(lambda v: v != 6))
    patched = _patched(f, off, version << 4 | f.data[off] & 0xF, 1)
    assert parse_checked(patched).status == "bad_ipv6"
    plen = data.draw(st.integers(len(f.data) - off - IPV6_HDR + 1, 0xFFFF))
    assert parse_checked(_patched(f, off + 4, plen)).status == "bad_ipv6"


def _set_ipv6_end(f: Built, end: int) -> bytes:
    return _patched(f, f.l3_off + 4, end - f.l3_off - IPV6_HDR)


ipv6_with_ext = frames(l3="ipv6", n_ext=st.integers(1, MAX_IPV6_EXT))


@TARGETED
@given(ipv6_with_ext, st.data())
def test_ipv6_ext_header_past_payload(f: Built, data) -> None:
    """An extension header longer than what is left of the payload is bad_ipv6_ext, whether its
    length field grows or the payload length shrinks into it."""
    proto, off, hlen = data.draw(st.sampled_from(f.exts))
    end = data.draw(st.integers(off, off + hlen - 1))
    assert parse_checked(_set_ipv6_end(f, end)).status == "bad_ipv6_ext"
    if proto != FRAGMENT:
        room = f.l3_end - off
        least = room // 4 - 1 if proto == AH_P else room // 8
        assert least <= 255
        size = data.draw(st.integers(least, 255))
        assert parse_checked(_patched(f, off + 1, size, 1)).status == "bad_ipv6_ext"


@TARGETED
@given(ipv6_with_ext, st.data())
def test_ipv6_hop_by_hop_not_first(f: Built, data) -> None:
    """Relabel a header after the first as Hop-by-Hop (next header 0): bad_ipv6_ext."""
    candidates = [off for proto, off, _ in f.exts
                  if not (proto == FRAGMENT and f.fragment == "later")]
    assert candidates or f.fragment == "later"
    if candidates:
        off = data.draw(st.sampled_from(candidates))
        assert parse_checked(_patched(f, off, HOPOPTS, 1)).status == "bad_ipv6_ext"


@TARGETED
@given(frames(l3="ipv6", fragment="none", n_ext=st.integers(MAX_IPV6_EXT + 1, 12)))
def test_ipv6_too_many_ext_headers(f: Built) -> None:
    assert parse_checked(f.data).status == "bad_ipv6_ext"


@TARGETED
@given(frames(l3="ipv6", fragment="none", n_ext=st.just(MAX_IPV6_EXT)))
def test_ipv6_eight_ext_headers_are_fine(f: Built) -> None:
    r = parse_checked(f.data)
    assert r == f.expect and r.flags & PARSE_F_IPV6_EXT


def _with_l3_end(f: Built, end: int) -> bytes:
    """The frame with the IP datagram ending at `end` (the rest becomes padding)."""
    if f.expect.l3_type == L3_IPV4:
        return _patched(f, f.l3_off + 2, end - f.l3_off)
    return _set_ipv6_end(f, end)


l4_checked = st.one_of(*(frames(l3=l3, upper=up, fragment=frag)
                         for l3, ups in (("ipv4", ("tcp", "udp", "icmp")),
                                         ("ipv6", ("tcp", "udp", "icmpv6")))
                         for up in ups for frag in ("none", "first")))


@settings(TARGETED, max_examples=400)
@given(l4_checked, st.data())
def test_l4_header_must_fit(f: Built, data) -> None:
    """The L3 datagram ending inside the L4 header (what the parser needs of it: the TCP header
    with options, 8 bytes of UDP — all of the UDP length unless a fragment —, 8 of ICMP, 4 of
    ICMPv6) is bad_l4; ending right after it is fine."""
    proto, off, need = f.l4
    end = data.draw(st.integers(off, off + need - 1))
    assert parse_checked(_with_l3_end(f, end)).status == "bad_l4"
    r = parse_checked(_with_l3_end(f, off + need))
    assert r.status == "ok" and (r.l4_off, r.l4_proto) == (off, proto)


@TARGETED
@given(st.one_of(frames(l3="ipv4", upper="tcp", fragment="none"),
                 frames(l3="ipv6", upper="tcp", fragment="none")), st.data())
def test_tcp_data_offset(f: Built, data) -> None:
    """A data offset below 5, or beyond the end of the datagram, is bad_l4."""
    _, off, need = f.l4
    doff = data.draw(st.integers(0, 4))
    assert parse_checked(_patched(f, off + 12, doff << 4, 1)).status == "bad_l4"
    if need < 60:  # end the datagram right after the options, then claim more of them
        trimmed = bytearray(_with_l3_end(f, off + need))
        trimmed[off + 12] = data.draw(st.integers(need // 4 + 1, 15)) << 4
        assert parse_checked(bytes(trimmed)).status == "bad_l4"


@TARGETED
@given(st.one_of(*(frames(l3=l3, upper="udp", fragment=frag)
                   for l3 in ("ipv4", "ipv6") for frag in ("none", "first"))), st.data())
def test_udp_length(f: Built, data) -> None:
    """A UDP length below 8 or beyond the datagram is bad_l4, except in a fragment."""
    _, off, _ = f.l4
    room = f.l3_end - off
    ulen = data.draw(st.one_of(st.integers(0, 7), st.integers(room + 1, 0xFFFF)))
    r = parse_checked(_patched(f, off + 4, ulen))
    assert r.status == ("ok" if f.fragment == "first" else "bad_l4")


# ---------------------------------------------------------------------------------------------
# 4. Canonical frames

ETH = Ether(dst=MAC_DST, src=MAC_SRC)
PAYLOAD = Raw(b"0123456789")
CANONICAL = {
    "arp-request": (
        ETH / ARP(op=1, hwsrc=MAC_SRC, psrc="10.0.0.1", pdst="10.0.0.2") / Raw(bytes(18)),
        result(ethertype=ETH_P_ARP, l3_off=14, l3_len=28, l3_type=L3_ARP)),
    "ipv4-tcp": (
        ETH / IP(src="10.0.0.1", dst="10.0.0.2") / TCP(sport=1234, dport=80) / PAYLOAD,
        result(ethertype=ETH_P_IPV4, l3_off=14, l3_len=50, l4_off=34, l3_type=L3_IPV4,
               l4_proto=TCP_P)),
    "qinq-ipv4-options-udp": (
        ETH / Dot1AD(vlan=100) / Dot1Q(vlan=200) /
        IP(src="10.0.0.1", dst="10.0.0.2", options=[IPOption_Router_Alert()]) /
        UDP(sport=53, dport=53) / PAYLOAD,
        result(ethertype=ETH_P_IPV4, l3_off=22, l3_len=42, l4_off=46, l3_type=L3_IPV4,
               l4_proto=UDP_P, vlans=2)),
    "ipv4-later-fragment": (
        ETH / IP(src="10.0.0.1", dst="10.0.0.2", proto=TCP_P, frag=185) / PAYLOAD,
        result(ethertype=ETH_P_IPV4, l3_off=14, l3_len=30, l3_type=L3_IPV4, l4_proto=TCP_P,
               flags=PARSE_F_FRAGMENT | PARSE_F_NO_L4)),
    "ipv6-udp": (
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=1, dport=2) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=58, l4_off=54, l3_type=L3_IPV6,
               l4_proto=UDP_P)),
    "ipv6-hbh-fragment-udp": (
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrHopByHop() /
        IPv6ExtHdrFragment(m=1, id=7) / UDP(sport=1, dport=2, len=1000) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=74, l4_off=70, l3_type=L3_IPV6,
               l4_proto=UDP_P, flags=PARSE_F_FRAGMENT | PARSE_F_IPV6_EXT)),
    "ipv6-later-fragment": (
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2") /
        IPv6ExtHdrFragment(nh=TCP_P, offset=100, id=7) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=58, l3_type=L3_IPV6, l4_proto=TCP_P,
               flags=PARSE_F_FRAGMENT | PARSE_F_NO_L4 | PARSE_F_IPV6_EXT)),
    "ipv4-in-ipv6": (
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=IPIP) /
        IP(src="10.0.0.1", dst="10.0.0.2") / UDP(sport=1, dport=2) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=78, l4_off=54, l3_type=L3_IPV6,
               l4_proto=IPIP)),
    "ipv6-no-next-header": (
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2", nh=NONE_P) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=50, l3_type=L3_IPV6, l4_proto=NONE_P,
               flags=PARSE_F_NO_L4)),
    "ipv4-esp": (
        ETH / IP(src="10.0.0.1", dst="10.0.0.2", proto=ESP_P) / PAYLOAD,
        result(ethertype=ETH_P_IPV4, l3_off=14, l3_len=30, l3_type=L3_IPV4, l4_proto=ESP_P,
               flags=PARSE_F_NO_L4)),
    "ipv6-atomic-fragment-udp": (  # offset 0, no M: a whole datagram (RFC 6946)
        ETH / IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(m=0, id=7) /
        UDP(sport=1, dport=2) / PAYLOAD,
        result(ethertype=ETH_P_IPV6, l3_off=14, l3_len=66, l4_off=62, l3_type=L3_IPV6,
               l4_proto=UDP_P, flags=PARSE_F_IPV6_EXT)),
    "unknown-ethertype": (
        Ether(dst=MAC_DST, src=MAC_SRC, type=0x88CC) / Raw(bytes(46)),
        result(ethertype=0x88CC, l3_off=14, l3_type=L3_OTHER)),
}


@pytest.mark.parametrize("name", sorted(CANONICAL))
def test_canonical_frames(name: str) -> None:
    pkt, expected = CANONICAL[name]
    assert parse_checked(bytes(pkt)) == expected


def test_canonical_errors() -> None:
    tcp = bytes(ETH / IP(src="10.0.0.1", dst="10.0.0.2") / TCP())
    assert parse_frame(b"").status == "bad_ether"
    assert parse_frame(tcp[:13]).status == "bad_ether"
    assert parse_frame(bytes(ETH / Dot1Q() / Dot1Q() / Dot1Q() / IP())).status == "bad_vlan"
    assert parse_frame(tcp[:14 + 19]).status == "bad_ipv4"
    assert parse_frame(tcp[:14] + b"\x44" + tcp[15:]).status == "bad_ipv4"
    truncated_tcp = bytearray(tcp[:14 + 20 + 19])
    put16(truncated_tcp, 16, 39)
    assert parse_frame(bytes(truncated_tcp)).status == "bad_l4"
