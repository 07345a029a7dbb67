# SPDX-License-Identifier: Apache-2.0
"""Fuzz the NAT's pure functions, the ones the snat and dnat nodes run (firmware/nat/
nat_rewrite.h, firmware/nat/nat_ports.c), against independent Python references.

1. Valid IPv4 TCP/UDP/ICMP echo packets (scapy, random IP options, UDP with and without a
   checksum, payloads forced to make a checksum 0 before or after): nat_rewrite4() gives
   exactly the packet with the address (and port / echo identifier) set and every checksum
   recomputed from scratch, and rewriting back gives the original bytes.
2. Fragments: a non-first fragment gets its address and header checksum only, and a port is
   refused; a first fragment's L4 header comes out as the whole packet's does.
3. Arbitrary bytes: no crash, None exactly when the input is too short for the request, the
   same length otherwise, nothing changed beyond the fields concerned, and each checksum sum
   as correct afterwards as it was before (the update is incremental, RFC 1624).
4. dp_nat_portmap_hash() is natmodel's rte_jhash of dpservice's portmap key.
5. ICMP errors: the quoted packet's endpoint translated with the outer one, every checksum
   (outer, ICMP, quoted IPv4, quoted L4 when quoted whole) verifying, and undone exactly.
6. NAT64 both ways: the translated packet's checksums are the from-scratch ones, its fields
   RFC 7915's mapping, its payload untouched; arbitrary bytes give None or the right length.

Examples per property: DPLANE_FUZZ_RAW_EXAMPLES / DPLANE_FUZZ_PACKET_EXAMPLES, and raw inputs
per example DPLANE_FUZZ_RAW_BATCH (the sanitizer pass raises them: 100 000 raw inputs per
property).

An incremental update alone would write 0x0000 for an ICMP message that is all zero but
for its checksum (test_icmp_all_zero_message_checksum): the rewrite gives 0xffff there.

Unlike parse_frame(), nat_rewrite4() works on a bytearray copy without a guard page: an
over-read past the packet does not crash here, only under AddressSanitizer.
"""
from __future__ import annotations

import ipaddress
import logging
import os
import struct
import sys
from pathlib import Path

import pytest
from hypothesis import HealthCheck, currently_in_test_context, example, given, note, settings
from hypothesis import strategies as st
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPOption_NOP
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.packet import Raw
from scapy.utils import checksum

from dplane import _firmware

sys.path.insert(0, str(Path(__file__).parent.parent / "nat"))
sys.path.insert(0, str(Path(__file__).parent.parent / "overlay"))  # natmodel's dpservice_hash
import natmodel

logging.getLogger("scapy.runtime").setLevel(logging.ERROR)

# Examples per property: the suite's defaults, or more where the sanitizer pass asks for them
# (tools/sanitize-test.sh): raw bytes cost microseconds, scapy packets about a millisecond.
RAW_EXAMPLES = int(os.environ.get("DPLANE_FUZZ_RAW_EXAMPLES", "2000"))
# raw inputs per example: hypothesis spends about 1.6 ms on an example, the C functions
# microseconds on an input, so many inputs are checked per example where many are wanted
RAW_BATCH = int(os.environ.get("DPLANE_FUZZ_RAW_BATCH", "1"))
PACKET_EXAMPLES = int(os.environ.get("DPLANE_FUZZ_PACKET_EXAMPLES", "600"))
SETTINGS = settings(max_examples=RAW_EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])
SCAPY_SETTINGS = settings(max_examples=PACKET_EXAMPLES, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])

ICMP_P, TCP_P, UDP_P = 1, 6, 17
SUM_OFF = {TCP_P: 16, UDP_P: 6, ICMP_P: 2}  # where the L4 checksum is in the L4 header
L4_NEED = {TCP_P: 20}  # the L4 bytes a rewrite insists on (nat_l4_need(): 8 otherwise)
TCP_OPTIONS = (("MSS", 1460), ("NOP", None), ("WScale", 7), ("SAckOK", b""),
               ("Timestamp", (1, 2)), ("EOL", None))

# Edge values first: 0.0.0.0 <-> 255.255.255.255 and port 0 <-> 0xffff are the rewrites
# whose one's-complement terms (~m + m') vanish.
addrs = st.one_of(st.sampled_from((bytes(4), b"\xff" * 4, bytes((10, 0, 0, 1)))),
                  st.binary(min_size=4, max_size=4))
ports = st.one_of(st.sampled_from((0, 1, 0xFFFF)), st.integers(0, 0xFFFF))


def be16(data: bytes, off: int) -> int:
    return (data[off] << 8) | data[off + 1]


def put16(data: bytearray, off: int, value: int) -> None:
    data[off:off + 2] = struct.pack("!H", value)


def ones_sum(data: bytes) -> int:
    """The one's-complement sum of data's 16-bit words (RFC 1071), folded: 0 only when all
    of data is zero, 0xffff (-0) for data that carries its correct checksum."""
    if len(data) % 2:
        data += b"\0"
    s = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def verifies(data: bytes) -> bool:
    return ones_sum(data) == 0xFFFF


def pseudo(pkt: bytes, l4_off: int) -> bytes:
    """The TCP/UDP pseudo-header: the L4 length is what follows l4_off."""
    return pkt[12:20] + bytes((0, pkt[9])) + struct.pack("!H", len(pkt) - l4_off)


def l4_summed(pkt: bytes, l4_off: int) -> bytes:
    """What the L4 checksum covers (pseudo-header included)."""
    head = pseudo(pkt, l4_off) if pkt[9] in (TCP_P, UDP_P) else b""
    return head + pkt[l4_off:]


def with_checksums(pkt: bytes, l4_off: int, udp_none: bool = False) -> bytes:
    """pkt with its IPv4 header checksum and L4 checksum (if l4_off) computed from scratch,
    as scapy computes them (UDP: 0 comes out 0xffff; udp_none: the checksum stays 0)."""
    b = bytearray(pkt)
    ihl = (b[0] & 0xF) * 4
    put16(b, 10, 0)
    put16(b, 10, checksum(bytes(b[:ihl])))
    proto = b[9]
    if l4_off and proto in SUM_OFF:
        at = l4_off + SUM_OFF[proto]
        put16(b, at, 0)
        if not (proto == UDP_P and udp_none):
            ck = checksum(l4_summed(bytes(b), l4_off))
            put16(b, at, 0xFFFF if proto == UDP_P and ck == 0 else ck)
    return bytes(b)


def set_fields(pkt: bytes, l4_off: int, dst: bool, addr: bytes, port: int) -> bytes:
    """pkt with the address (and port / echo identifier) set, checksums untouched."""
    b = bytearray(pkt)
    a = 16 if dst else 12
    b[a:a + 4] = addr
    if port >= 0:
        put16(b, port_off(pkt, l4_off, dst), port)
    return bytes(b)


def port_off(pkt: bytes, l4_off: int, dst: bool) -> int:
    return l4_off + (4 if pkt[9] == ICMP_P else 2 if dst else 0)


def field_of(pkt: bytes, l4_off: int, dst: bool, port: int) -> tuple[bytes, int]:
    """The address and (if port >= 0) the port the rewrite would replace."""
    a = 16 if dst else 12
    return pkt[a:a + 4], be16(pkt, port_off(pkt, l4_off, dst)) if port >= 0 else -1


def rewrite(pkt: bytes, l4_off: int, dst: bool, addr: bytes, port: int) -> bytes | None:
    """nat_rewrite4, its input and output in hex in the report of a failing example."""
    out = _firmware.nat_rewrite4(pkt, l4_off, dst, addr, port)
    if currently_in_test_context():
        note(f"nat_rewrite4(bytes.fromhex({pkt.hex()!r}), {l4_off}, {dst}, "
             f"bytes.fromhex({addr.hex()!r}), {port})\n  -> "
             f"{out.hex() if out is not None else None}")
    return out


# ---------------------------------------------------------------------------------------------
# 1. Valid packets

def build(kind: str, src: bytes, dst_addr: bytes, *, opts: bytes = b"", payload: bytes = b"",
          sport: int = 1, dport: int = 2, icmp_type: int = 8, ident: int = 0, seq: int = 0,
          tcp_options: tuple = (), ip_id: int = 1, ttl: int = 64, tos: int = 0,
          fix: str | None = None, ip_fix: str | None = None,
          rewrite_to: tuple[bool, bytes, int] | None = None) -> tuple[bytes, int, int]:
    """A valid IPv4 packet (kind: tcp, udp, udp0 — UDP without a checksum —, icmp) with IP
    options `opts` (random bytes, a multiple of 4), and where its L4 payload starts.

    fix / ip_fix = "orig": the first payload word / the IP identification is chosen so that
    the L4 / header checksum is 0 (UDP: 0xffff); "new": so that it is 0 after the rewrite
    rewrite_to = (dst, addr, port)."""
    ip = IP(src=str(ipaddress.IPv4Address(src)), dst=str(ipaddress.IPv4Address(dst_addr)),
            id=ip_id, ttl=ttl, tos=tos, options=[IPOption_NOP()] * len(opts))
    if kind == "tcp":
        l4 = TCP(sport=sport, dport=dport, seq=ident, ack=seq, flags="PA",
                 options=list(tcp_options))
    elif kind in ("udp", "udp0"):
        l4 = UDP(sport=sport, dport=dport, chksum=0) if kind == "udp0" else \
            UDP(sport=sport, dport=dport)
    else:
        l4 = ICMP(type=icmp_type, code=0, id=ident, seq=seq)
    if fix:
        payload = b"\0\0" + payload
    pkt = bytes(ip / l4 / Raw(payload)) if payload else bytes(ip / l4)
    l4_off = 20 + len(opts)
    assert (pkt[0] & 0xF) * 4 == l4_off and len(pkt) == be16(pkt, 2)
    # the reference checksums are scapy's own
    assert with_checksums(pkt, l4_off, kind == "udp0") == pkt, pkt.hex()
    hlen = (pkt[l4_off + 12] >> 4) * 4 if kind == "tcp" else 8
    b = bytearray(pkt)
    b[20:l4_off] = opts
    # (mode, the word to choose, the checksum, what that checksum covers)
    fixes = ((fix if kind != "udp0" else None, l4_off + hlen, l4_off + SUM_OFF[b[9]],
              lambda p: l4_summed(p, l4_off)),
             (ip_fix, 4, 10, lambda p: p[:l4_off]))
    for mode, word, sum_at, covered in fixes:
        if not mode:
            continue
        put16(b, word, 0)
        put16(b, sum_at, 0)
        target = bytes(b) if mode == "orig" else set_fields(bytes(b), l4_off, *rewrite_to)
        # the covered words then sum to 0xffff (-0): the checksum is ~(-0) = 0
        put16(b, word, ~ones_sum(covered(target)) & 0xFFFF)
    return with_checksums(bytes(b), l4_off, kind == "udp0"), l4_off, hlen


@st.composite
def valid_cases(draw):
    """(packet, l4_off, dst, addr, port) for a valid packet and a rewrite of it."""
    kind = draw(st.sampled_from(("tcp", "udp", "udp0", "icmp")))
    dst, addr = draw(st.booleans()), draw(addrs)
    port = draw(st.one_of(st.just(-1), ports))
    opts = draw(st.binary(max_size=40).map(lambda o: o[:len(o) // 4 * 4]))
    pkt, l4_off, _ = build(
        kind, draw(addrs), draw(addrs), opts=opts, payload=draw(st.binary(max_size=48)),
        sport=draw(ports), dport=draw(ports), icmp_type=draw(st.sampled_from((0, 8))),
        ident=draw(ports), seq=draw(ports),
        tcp_options=tuple(draw(st.lists(st.sampled_from(TCP_OPTIONS), max_size=3))),
        ip_id=draw(ports), ttl=draw(st.integers(1, 255)), tos=draw(st.integers(0, 255)),
        fix=draw(st.sampled_from((None, None, "orig", "new"))),
        ip_fix=draw(st.sampled_from((None, None, "orig", "new"))),
        rewrite_to=(dst, addr, port))
    return pkt, l4_off, dst, addr, port


def check_rewrite(pkt: bytes, l4_off: int, dst: bool, addr: bytes, port: int) -> None:
    proto = pkt[9]
    udp_none = proto == UDP_P and be16(pkt, l4_off + 6) == 0
    out = rewrite(pkt, l4_off, dst, addr, port)
    assert out is not None and len(out) == len(pkt)
    assert verifies(out[:l4_off]), "IPv4 header checksum"
    at = l4_off + SUM_OFF[proto]
    if udp_none:
        assert be16(out, at) == 0, "a UDP checksum 0 (none) must stay 0"
    else:
        assert verifies(l4_summed(out, l4_off)), "L4 checksum"
    # exactly the fields asked for changed, and the checksums are the from-scratch ones
    expected = with_checksums(set_fields(pkt, l4_off, dst, addr, port), l4_off, udp_none)
    assert out == expected
    # and back again, exactly: the checksums are the from-scratch ones both ways, so a UDP
    # checksum that was 0xffff (computed 0) comes back 0xffff and one that was 0 (none) stays
    # 0
    old_addr, old_port = field_of(pkt, l4_off, dst, port)
    back = rewrite(out, l4_off, dst, old_addr, old_port)
    assert back == pkt


@given(valid_cases())
@SCAPY_SETTINGS
def test_rewrite_valid_packets(case):
    check_rewrite(*case)


EDGE_FF, EDGE_00 = b"\xff" * 4, bytes(4)


@pytest.mark.parametrize("kind", ["tcp", "udp", "udp0", "icmp"])
@pytest.mark.parametrize("fix", [None, "orig", "new"])
@pytest.mark.parametrize("dst", [False, True])
@pytest.mark.parametrize("frm,to,port", [(EDGE_FF, EDGE_00, 0), (EDGE_FF, EDGE_00, -1),
                                         (EDGE_00, EDGE_FF, 0xFFFF), (EDGE_FF, EDGE_FF, 0xFFFF),
                                         (EDGE_00, EDGE_00, 0)])
def test_rewrite_edges(kind, fix, dst, frm, to, port):
    """The rewrites whose one's-complement terms all vanish or all saturate, with checksums
    forced to 0 (UDP: 0xffff) before or after: 0xffff..ff -> 0 with the checksum 0xffff is the
    one case where ~HC + ~m + m' is +0."""
    start_port = 0xFFFF if port == 0 else 0
    a, b = (frm, bytes((10, 0, 0, 1))) if not dst else (bytes((10, 0, 0, 1)), frm)
    pkt, l4_off, _ = build(kind, a, b, payload=b"xyz", sport=start_port, dport=start_port,
                           ident=start_port, fix=fix, ip_fix=fix, rewrite_to=(dst, to, port))
    check_rewrite(pkt, l4_off, dst, to, port)


def test_icmp_all_zero_message_checksum():
    """An echo reply whose identifier becomes 0, with sequence 0 and
    no payload, is all zero but for its checksum, which must then be 0xffff (0x0000 does not
    verify)."""
    pkt, l4_off, _ = build("icmp", bytes((10, 0, 0, 1)), bytes((10, 0, 0, 2)), icmp_type=0,
                           ident=5, seq=0)
    out = _firmware.nat_rewrite4(pkt, l4_off, True, bytes((10, 0, 0, 9)), 0)
    assert out is not None
    assert out[l4_off:] == b"\0\0\xff\xff" + bytes(4), out.hex()


# ---------------------------------------------------------------------------------------------
# 2. Fragments

@given(proto=st.one_of(st.sampled_from((TCP_P, UDP_P, ICMP_P)), st.integers(0, 255)),
       src=addrs, dst_addr=addrs, frag=st.integers(1, 0x1FFF), more=st.booleans(),
       opts=st.binary(max_size=40), payload=st.binary(max_size=64), dst=st.booleans(),
       addr=addrs, port=ports)
@SCAPY_SETTINGS
def test_later_fragments(proto, src, dst_addr, frag, more, opts, payload, dst, addr, port):
    """A non-first fragment (l4_off 0): the address and the header checksum change, nothing
    else; a port cannot be rewritten there."""
    opts = opts[:len(opts) // 4 * 4]
    ip = IP(src=str(ipaddress.IPv4Address(src)), dst=str(ipaddress.IPv4Address(dst_addr)),
            proto=proto, frag=frag, flags="MF" if more else 0,
            options=[IPOption_NOP()] * len(opts))
    pkt = bytearray(bytes(ip / Raw(payload)) if payload else bytes(ip))
    pkt[20:20 + len(opts)] = opts
    pkt = with_checksums(bytes(pkt), 0)
    out = rewrite(pkt, 0, dst, addr, -1)
    assert out == with_checksums(set_fields(pkt, 0, dst, addr, -1), 0)
    assert verifies(out[:20 + len(opts)])
    assert rewrite(pkt, 0, dst, addr, port) is None


@given(valid_cases(), st.data())
@SCAPY_SETTINGS
def test_first_fragment_like_whole_packet(case, data):
    """The L4 update is incremental: on a first fragment (MF, offset 0), the L4 header comes out
    as it does on the whole packet, whatever the fragment carries of the rest."""
    pkt, l4_off, dst, addr, port = case
    need = L4_NEED.get(pkt[9], 8)
    if len(pkt) - l4_off < need + 8:
        return
    if pkt[9] == ICMP_P and not any(pkt[l4_off:l4_off + 2] + pkt[l4_off + 4:]):
        return  # all zeros: only the whole message shows it (its checksum is 0xffff)
    k = data.draw(st.integers((need + 7) // 8, (len(pkt) - l4_off - 1) // 8)) * 8
    first = bytearray(pkt[:l4_off + k])
    first[6] |= 0x20
    put16(first, 2, len(first))
    first = bytearray(with_checksums(bytes(first), 0))
    whole_out = rewrite(pkt, l4_off, dst, addr, port)
    first_out = rewrite(bytes(first), l4_off, dst, addr, port)
    assert whole_out is not None and first_out is not None
    assert first_out[l4_off:] == whole_out[l4_off:l4_off + k]
    assert first_out[:l4_off] == with_checksums(set_fields(bytes(first), 0, dst, addr, -1),
                                                0)[:l4_off]


# ---------------------------------------------------------------------------------------------
# 3. Arbitrary bytes

ICMP_ERRORS = (3, 11)  # destination unreachable, time exceeded: they quote a packet


def is_icmp_error(data: bytes, l4_off: int) -> bool:
    return (len(data) >= 20 and data[9] == ICMP_P and 20 <= l4_off < len(data)
            and data[l4_off] in ICMP_ERRORS)


def error_rejected(data: bytes, l4_off: int, port: int) -> bool:
    """When nat_rewrite4 answers None for an ICMP error: no IPv4 header quoted in full, or a
    port asked of a quote without TCP/UDP ports."""
    q = l4_off + 8
    qlen = len(data) - q
    if qlen < 20 or data[q] >> 4 != 4:
        return True
    qihl = (data[q] & 0xF) * 4
    if qihl < 20 or qihl > qlen:
        return True
    return port >= 0 and (port > 0xFFFF or qlen < qihl + 4 or data[q + 9] not in (TCP_P, UDP_P))


def check_error_rewrite(data: bytes, l4_off: int, dst: bool, addr: bytes, port: int) -> None:
    """An ICMP error: the outer address and the quoted packet's same endpoint set (its source
    when the outer destination changes), and every sum as correct as before: the outer
    header's, the ICMP message's, the quoted header's."""
    out = rewrite(data, l4_off, dst, addr, port)
    if error_rejected(data, l4_off, port):
        assert out is None
        return
    assert isinstance(out, bytes) and len(out) == len(data)
    q = l4_off + 8
    qihl = (data[q] & 0xF) * 4
    assert out[16 if dst else 12:][:4] == addr
    assert out[q + (12 if dst else 16):][:4] == addr
    if port >= 0:
        assert be16(out, q + qihl + (0 if dst else 2)) == port
    check_sum_kept(data[:20], out[:20], "IPv4 header")
    check_sum_kept(data[l4_off:], out[l4_off:], "ICMP")
    check_sum_kept(data[q:q + qihl], out[q:q + qihl], "quoted IPv4 header")


def rejected(data: bytes, l4_off: int, port: int) -> bool:
    """When nat_rewrite4 answers None: too short for what is asked (dplane/nat.h)."""
    n = len(data)
    if n < 20:
        return True
    proto = data[9]
    if l4_off and (l4_off < 20 or l4_off > n or n - l4_off < L4_NEED.get(proto, 8)):
        return True
    if port >= 0 and (not l4_off or port > 0xFFFF or proto not in SUM_OFF):
        return True
    return False


@st.composite
def raw_inputs(draw):
    """Arbitrary bytes, often with a known protocol, a plausible L4 offset and correct
    checksums (so that "as correct as before" is put to the test)."""
    n = draw(st.one_of(st.integers(0, 100), st.integers(40, 100)))
    data = bytearray(draw(st.binary(min_size=n, max_size=n)))
    proto = draw(st.sampled_from((TCP_P, UDP_P, ICMP_P, None)))
    if n >= 10 and proto is not None:
        data[9] = proto
    near = st.integers(20, max(20, n - L4_NEED.get(proto, 8)))
    l4_off = draw(st.one_of(near, near, near, st.just(0), st.integers(0, 110)))
    if len(data) >= 20 and draw(st.booleans()):
        put16(data, 10, 0)
        put16(data, 10, checksum(bytes(data[:20])))
    if (not rejected(bytes(data), l4_off, -1) and l4_off and data[9] in SUM_OFF
            and draw(st.booleans())):
        at = l4_off + SUM_OFF[data[9]]
        put16(data, at, 0)
        put16(data, at, checksum(l4_summed(bytes(data), l4_off)))
    port = draw(st.one_of(st.just(-1), ports, st.integers(-1, 0x1FFFF)))
    return bytes(data), l4_off, draw(st.booleans()), draw(addrs), port


def check_sum_kept(before: bytes, after: bytes, what: str) -> None:
    """A sum over data that the rewrite updated incrementally: congruent mod 0xffff to what it
    was, so as correct as before; the only form that can change is 0xffff (-0) into +0, and
    only when everything summed is zero (an all-zero ICMP message, which gets 0xffff)."""
    s0, s1 = ones_sum(before), ones_sum(after)
    assert s0 % 0xFFFF == s1 % 0xFFFF, (what, hex(s0), hex(s1))
    if s0 == 0xFFFF:
        assert s1 == 0xFFFF or not any(after), (what, "verified before, not after")


@given(st.lists(raw_inputs(), min_size=RAW_BATCH, max_size=RAW_BATCH))
@SETTINGS
@example([(bytes(20), 0, False, bytes(4), -1)])
@example([(b"\x45" + bytes(8) + b"\x06" + bytes(30), 20, True, b"\xff" * 4, 0xFFFF)])
def test_arbitrary_bytes(cases):
    for case in cases:
        check_arbitrary(case)


def check_arbitrary(case) -> None:
    data, l4_off, dst, addr, port = case
    if not rejected(data, l4_off, -1) and is_icmp_error(data, l4_off):
        check_error_rewrite(data, l4_off, dst, addr, port)
        return
    out = rewrite(data, l4_off, dst, addr, port)
    if rejected(data, l4_off, port):
        assert out is None
        return
    assert isinstance(out, bytes) and len(out) == len(data)
    proto = data[9]
    a = 16 if dst else 12
    assert out[a:a + 4] == addr
    may_change = set(range(a, a + 4)) | {10, 11}
    if l4_off and proto in SUM_OFF:
        at = l4_off + SUM_OFF[proto]
        may_change |= {at, at + 1}
        if port >= 0:
            p = port_off(data, l4_off, dst)
            assert be16(out, p) == port
            may_change |= {p, p + 1}
    changed = {i for i in range(len(data)) if data[i] != out[i]}
    assert changed <= may_change, sorted(changed - may_change)
    # the IPv4 header sum: the fixed header, and the one IHL gives when it stops before the
    # L4 header (with options as given)
    check_sum_kept(data[:20], out[:20], "IPv4 header")
    ihl = (data[0] & 0xF) * 4
    if 20 < ihl <= len(data) and (not l4_off or l4_off >= ihl):
        check_sum_kept(data[:ihl], out[:ihl], "IPv4 header with options")
    if l4_off and proto in SUM_OFF:
        if proto == UDP_P and be16(data, l4_off + 6) == 0:
            assert be16(out, l4_off + 6) == 0, "a UDP checksum 0 (none) must stay 0"
        else:
            check_sum_kept(l4_summed(data, l4_off), l4_summed(out, l4_off), "L4")
            if proto == UDP_P:
                assert be16(out, l4_off + 6) != 0, "a UDP checksum must not become 0"


# ---------------------------------------------------------------------------------------------
# 4. The portmap hash

@given(st.lists(st.tuples(
    st.integers(0, 0xFFFFFFFF),
    st.one_of(st.binary(min_size=4, max_size=4), st.binary(min_size=16, max_size=16)),
    ports), min_size=RAW_BATCH, max_size=RAW_BATCH))
@SETTINGS
def test_portmap_hash(sources):
    for vni, src, src_port in sources:
        text = str(ipaddress.ip_address(src))
        assert _firmware.nat_portmap_hash(vni, src, src_port) == \
            natmodel.portmap_hash(vni, text, src_port)


# ---------------------------------------------------------------------------------------------
# 5. ICMP errors about translated flows

@st.composite
def icmp_errors(draw):
    """An error about a TCP/UDP packet (quoted with 8 bytes of L4, or all of it): sent to the
    quoted packet's source (dst: the rewrite is of that address, on its way in) or from its
    destination (the rewrite is of that one, on its way out)."""
    kind = draw(st.sampled_from(("tcp", "udp")))
    a, b = draw(addrs), draw(addrs)
    quoted, ql4, _ = build(kind, a, b, payload=draw(st.binary(max_size=24)),
                           sport=draw(ports), dport=draw(ports))
    cut = draw(st.sampled_from((ql4 + 8, len(quoted))))
    icmp_type, code = draw(st.sampled_from(((3, 3), (3, 4), (3, 2), (11, 0))))
    dst = draw(st.booleans())
    other = draw(addrs)
    src_ip, dst_ip = (other, a) if dst else (b, other)
    outer = IP(src=str(ipaddress.IPv4Address(src_ip)),
               dst=str(ipaddress.IPv4Address(dst_ip))) / ICMP(type=icmp_type, code=code)
    pkt = bytes(outer / quoted[:cut])
    port = draw(st.one_of(st.just(-1), ports))
    return pkt, 20, dst, draw(addrs), port


@given(icmp_errors())
@SCAPY_SETTINGS
def test_icmp_errors(case):
    """Every checksum verifies afterwards (the quoted L4 one when quoted in full), and the
    rewrite undone gives the original bytes."""
    pkt, l4_off, dst, addr, port = case
    out = rewrite(pkt, l4_off, dst, addr, port)
    assert out is not None
    q = l4_off + 8
    qihl = (pkt[q] & 0xF) * 4
    assert verifies(out[:20]) and verifies(out[l4_off:]) and verifies(out[q:q + qihl])
    quoted = out[q:]
    qtotal = be16(quoted, 2)
    if len(quoted) == qtotal and quoted[9] == TCP_P or quoted[9] == UDP_P and \
            len(quoted) == qtotal and be16(quoted, qihl + 6):
        assert verifies(l4_summed(quoted, qihl)), "quoted L4 checksum"
    old_addr = pkt[16 if dst else 12:][:4]
    old_port = be16(pkt, q + qihl + (0 if dst else 2)) if port >= 0 else -1
    assert rewrite(out, l4_off, dst, old_addr, old_port) == pkt


# ---------------------------------------------------------------------------------------------
# 6. NAT64: the header translation both ways (nat64.h)

NAT64_PREFIX = "64:ff9b::"


def v6_text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


@st.composite
def ipv6_requests(draw):
    """A VM's IPv6 packet to the NAT64 prefix: TCP, UDP or an ICMPv6 echo request."""
    kind = draw(st.sampled_from(("tcp", "udp", "icmp")))
    src = v6_text(draw(st.binary(min_size=16, max_size=16)))
    dst = str(ipaddress.IPv6Address(NAT64_PREFIX) + int.from_bytes(draw(addrs), "big"))
    ip = IPv6(src=src, dst=dst, hlim=draw(st.integers(1, 255)), tc=draw(st.integers(0, 255)),
              fl=draw(st.integers(0, 0xFFFFF)))
    payload = draw(st.binary(max_size=64))
    if kind == "tcp":
        l4 = TCP(sport=draw(ports), dport=draw(ports), flags="S") / payload
    elif kind == "udp":
        l4 = UDP(sport=draw(ports), dport=draw(ports)) / payload
    else:
        l4 = ICMPv6EchoRequest(id=draw(ports), seq=draw(ports), data=payload)
    return bytes(ip / l4), kind, draw(addrs), draw(ports)


@given(ipv6_requests())
@SCAPY_SETTINGS
def test_nat64_6to4(case):
    """The IPv4 packet NAT64 sends: every checksum from scratch, the fields as RFC 7915 and
    dpservice map them, the payload untouched."""
    pkt, kind, nat_ip, port = case
    out = _firmware.nat64_6to4(pkt, nat_ip, port)
    assert out is not None and len(out) == len(pkt) - 20
    v6, v4 = IPv6(pkt), IP(out)
    assert verifies(out[:20])
    embedded = ipaddress.IPv4Address(ipaddress.IPv6Address(v6.dst).packed[12:])
    assert (v4.src, v4.dst) == (str(ipaddress.IPv4Address(nat_ip)), str(embedded))
    assert (v4.ttl, v4.tos, v4.frag, v4.flags) == (v6.hlim, v6.tc, 0, 0)
    l4 = out[20:]
    if kind == "icmp":
        assert v4.proto == 1 and l4[0] == 8 and be16(l4, 4) == port
        assert l4[6:] == pkt[46:]  # sequence and data
        assert verifies(l4)
    else:
        assert v4.proto == (6 if kind == "tcp" else 17) and be16(l4, 0) == port
        assert verifies(l4_summed(out, 20))
        sum_at = 16 if kind == "tcp" else 6
        assert l4[2:sum_at] == pkt[42:40 + sum_at] and l4[sum_at + 2:] == pkt[40 + sum_at + 2:]


@st.composite
def ipv4_replies(draw):
    """A reply from the IPv4 side: TCP, UDP or an ICMP echo reply, to a NAT IP."""
    kind = draw(st.sampled_from(("tcp", "udp", "icmp")))
    ip = IP(src=str(ipaddress.IPv4Address(draw(addrs))),
            dst=str(ipaddress.IPv4Address(draw(addrs))), ttl=draw(st.integers(1, 255)),
            tos=draw(st.integers(0, 255)))
    payload = draw(st.binary(max_size=64))
    if kind == "tcp":
        l4 = TCP(sport=draw(ports), dport=draw(ports), flags="SA") / payload
    elif kind == "udp":
        l4 = UDP(sport=draw(ports), dport=draw(ports)) / payload
    else:
        l4 = ICMP(type=0, id=draw(ports), seq=draw(ports)) / payload
    src = ipaddress.IPv6Address(NAT64_PREFIX).packed[:12] + bytes(4)
    return (bytes(ip / l4), kind, src, draw(st.binary(min_size=16, max_size=16)),
            draw(ports))


@given(ipv4_replies())
@SCAPY_SETTINGS
def test_nat64_4to6(case):
    """The IPv6 packet the VM gets: its checksum as scapy computes it, the fields mapped
    back, the payload untouched."""
    pkt, kind, src, dst, port = case
    src = src[:12] + pkt[12:16]  # the embedded address is the IPv4 source
    out = _firmware.nat64_4to6(pkt, src, dst, port)
    assert out is not None and len(out) == len(pkt) + 20
    v4, v6 = IP(pkt), IPv6(out)
    assert (v6.src, v6.dst) == (v6_text(src), v6_text(dst))
    assert (v6.hlim, v6.tc, v6.fl, v6.plen) == (v4.ttl, v4.tos, 0, len(pkt) - 20)
    again = IPv6(out)
    if hasattr(again.payload, "cksum"):
        del again.payload.cksum
    else:
        del again.payload.chksum
    if kind == "icmp":
        assert isinstance(v6.payload, ICMPv6EchoReply)
        assert (v6.payload.id, v6.payload.seq) == (port, v4[ICMP].seq)
    else:
        assert v6.nh == (6 if kind == "tcp" else 17) and be16(out, 42) == port
    assert bytes(IPv6(bytes(again))) == out, "the L4 checksum is the from-scratch one"


@given(st.lists(st.tuples(st.binary(max_size=120), addrs, ports,
                          st.binary(min_size=16, max_size=16)),
                min_size=RAW_BATCH, max_size=RAW_BATCH))
@SETTINGS
def test_nat64_arbitrary_bytes(cases):
    """Anything: None, or a packet of the length the translation gives."""
    for data, addr, port, v6addr in cases:
        out = _firmware.nat64_6to4(data, addr, port)
        assert out is None or len(out) == len(data) - 20
        out = _firmware.nat64_4to6(data, v6addr, v6addr, port)
        assert out is None or len(out) == len(data) + 20
