# SPDX-License-Identifier: Apache-2.0
"""Fuzz and differential tests of the ARP and ND parsers, the ICMPv6 checksum and the NA/RA
builders (firmware/arp, firmware/nd), called through pyext without EAL.

The parsers get their input at the very end of a page followed by an inaccessible one, so
reading a byte past the input kills the test process: a crash is a failure. Every result is
compared with a few lines of Python reading the same rules (the model).
1. Arbitrary bytes (100 000 examples for each parser: the body stays tiny).
2. Valid packets built with scapy: exactly what was built comes back.
3. Those packets mutated (truncated, bytes and length fields overwritten): the model agrees.
4. Checksum and builders against scapy."""
from __future__ import annotations

import dataclasses
import ipaddress
import struct

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptPrefixInfo,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
    in6_chksum,
)
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from dplane import _firmware as firmware
from dplane._firmware import (
    ARP_LEN,
    ND_NA_OVERRIDE,
    ND_NA_ROUTER,
    ND_NA_SOLICITED,
    ND_NS,
    ND_RS,
)


@dataclasses.dataclass(frozen=True)
class ArpInfo:
    status: str  # "ok" or the error ("truncated", ...)
    op: int
    sha: bytes
    sip: bytes
    tha: bytes
    tip: bytes


@dataclasses.dataclass(frozen=True)
class NdOptions:
    status: str
    nb_opts: int
    slla: bytes | None  # first source link-layer address option
    tlla: bytes | None  # first target link-layer address option


@dataclasses.dataclass(frozen=True)
class NdInfo:
    status: str
    type: int
    code: int
    target: bytes  # NS only, else zero
    opts_off: int
    nb_opts: int
    slla: bytes | None
    tlla: bytes | None


def arp_parse(data: bytes) -> ArpInfo:
    """The ARP parser of the `arp` node on an ARP packet (without the Ethernet header)."""
    return ArpInfo(*firmware.arp_parse(data))


def nd_parse_options(data: bytes) -> NdOptions:
    return NdOptions(*firmware.nd_parse_options(data))


def nd_parse(data: bytes) -> NdInfo:
    """The RS/NS parser of the `ipv6_nd` node on an ICMPv6 message (checksum not checked)."""
    return NdInfo(*firmware.nd_parse(data))

ARP_STATUSES = frozenset(firmware.ARP_STATUS)
ND_STATUSES = frozenset(firmware.ND_STATUS)
MIN_LEN = {ND_RS: 8, ND_NS: 24}
SLLA, TLLA = 1, 2

FUZZ = settings(max_examples=100_000, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STRUCTURED = settings(max_examples=2000, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------------------------
# The model

def arp_model(data: bytes) -> ArpInfo:
    """Fields are only set when the status is ok."""
    nothing = (0, bytes(6), bytes(4), bytes(6), bytes(4))
    if len(data) < ARP_LEN:
        return ArpInfo("truncated", *nothing)
    if data[0:2] != b"\x00\x01" or data[4] != 6:
        return ArpInfo("bad_hardware", *nothing)
    if data[2:4] != b"\x08\x00" or data[5] != 4:
        return ArpInfo("bad_protocol", *nothing)
    return ArpInfo("ok", struct.unpack("!H", data[6:8])[0], data[8:14], data[14:18],
                   data[18:24], data[24:28])


def options_model(data: bytes) -> NdOptions:
    off, count, slla, tlla, status = 0, 0, None, None, "ok"
    while off < len(data):
        size = data[off + 1] * 8 if len(data) - off >= 2 else 0
        if size == 0 or size > len(data) - off:
            status = "bad_option"
            break
        if data[off] == SLLA and slla is None:
            slla = data[off + 2:off + 8]
        elif data[off] == TLLA and tlla is None:
            tlla = data[off + 2:off + 8]
        count, off = count + 1, off + size
    return NdOptions(status, count, slla, tlla)


def nd_model(msg: bytes) -> NdInfo:
    none = (0, 0, bytes(16), 0, 0, None, None)
    if len(msg) < 2:
        return NdInfo("truncated", *none)
    kind, code = msg[0], msg[1]
    if kind not in MIN_LEN:
        return NdInfo("bad_type", kind, code, *none[2:])
    hlen = MIN_LEN[kind]
    if len(msg) < hlen:
        return NdInfo("truncated", kind, code, *none[2:])
    if code:
        return NdInfo("bad_code", kind, code, *none[2:])
    target = msg[8:24] if kind == ND_NS else bytes(16)
    opts = options_model(msg[hlen:])
    return NdInfo(opts.status, kind, code, target, hlen, opts.nb_opts, opts.slla, opts.tlla)


# ---------------------------------------------------------------------------------------------
# 1. Arbitrary bytes

@FUZZ
@given(st.binary(max_size=48))
def test_arp_arbitrary_bytes(data: bytes) -> None:
    assert arp_parse(data) == arp_model(data)


@FUZZ
@given(st.binary(max_size=96))
def test_nd_options_arbitrary_bytes(data: bytes) -> None:
    assert nd_parse_options(data) == options_model(data)


@settings(FUZZ, max_examples=10_000)
@given(st.sampled_from((ND_RS, ND_NS, ND_NS, 134, 136, 0)), st.sampled_from((0, 0, 0, 1)),
       st.binary(max_size=80))
def test_nd_message_arbitrary_bytes(kind: int, code: int, rest: bytes) -> None:
    msg = bytes((kind, code)) + rest
    assert nd_parse(msg) == nd_model(msg)
    assert nd_parse(rest) == nd_model(rest)


# ---------------------------------------------------------------------------------------------
# 2. Valid packets

macs = st.binary(min_size=6, max_size=6)
ipv4s = st.binary(min_size=4, max_size=4)
ipv6s = st.binary(min_size=16, max_size=16)


def v6(addr: bytes) -> str:
    return str(ipaddress.IPv6Address(addr))


def mac_text(mac: bytes) -> str:
    return ":".join(f"{b:02x}" for b in mac)


@st.composite
def arp_packets(draw) -> tuple[bytes, ArpInfo]:
    op = draw(st.integers(0, 0xFFFF))
    sha, tha, sip, tip = draw(macs), draw(macs), draw(ipv4s), draw(ipv4s)
    pkt = bytes(ARP(op=op, hwsrc=mac_text(sha), hwdst=mac_text(tha),
                    psrc=".".join(map(str, sip)), pdst=".".join(map(str, tip))))
    return pkt + draw(st.binary(max_size=18)), ArpInfo("ok", op, sha, sip, tha, tip)


@STRUCTURED
@given(arp_packets())
def test_arp_scapy_packets(case) -> None:
    data, expected = case
    assert arp_parse(data) == expected


@st.composite
def nd_options(draw) -> tuple[bytes, NdOptions]:
    """A list of options as scapy builds them: link-layer addresses, MTU, prefix."""
    raw, count, slla, tlla = b"", 0, None, None
    for _ in range(draw(st.integers(0, 4))):
        kind = draw(st.sampled_from(("slla", "tlla", "mtu", "prefix", "unknown")))
        if kind in ("slla", "tlla"):
            mac = draw(macs)
            cls = ICMPv6NDOptSrcLLAddr if kind == "slla" else ICMPv6NDOptDstLLAddr
            raw += bytes(cls(lladdr=mac_text(mac)))
            if kind == "slla" and slla is None:
                slla = mac
            if kind == "tlla" and tlla is None:
                tlla = mac
        elif kind == "mtu":
            raw += bytes(ICMPv6NDOptMTU(mtu=draw(st.integers(0, 2**32 - 1))))
        elif kind == "prefix":
            raw += bytes(ICMPv6NDOptPrefixInfo(prefix="2001:db8::"))
        else:
            size = draw(st.integers(1, 3))
            raw += bytes((draw(st.integers(3, 255)), size)) + draw(
                st.binary(min_size=size * 8 - 2, max_size=size * 8 - 2))
        count += 1
    return raw, NdOptions("ok", count, slla, tlla)


@st.composite
def nd_messages(draw) -> tuple[bytes, bytes, bytes, NdInfo]:
    """(src, dst, ICMPv6 message with a correct checksum, expected parse)."""
    src, dst, target = draw(ipv6s), draw(ipv6s), draw(ipv6s)
    opts, parsed = draw(nd_options())
    if draw(st.booleans()):
        msg = ICMPv6ND_NS(tgt=v6(target))
        kind, hlen = ND_NS, 24
    else:
        msg, kind, hlen, target = ICMPv6ND_RS(), ND_RS, 8, bytes(16)
    # scapy's checksum covers the options that follow as raw bytes
    data = bytes(IPv6(src=v6(src), dst=v6(dst), hlim=255) / msg /
                 Raw(opts))
    body = data[40:]
    info = NdInfo("ok", kind, 0, target, hlen, parsed.nb_opts, parsed.slla, parsed.tlla)
    return src, dst, body, info


@STRUCTURED
@given(nd_messages())
def test_nd_scapy_messages(case) -> None:
    src, dst, msg, expected = case
    note(f"msg: {msg.hex()}")
    assert nd_parse(msg) == expected
    assert firmware.nd_checksum(src, dst, msg) == 0


@STRUCTURED
@given(nd_options())
def test_nd_scapy_options(case) -> None:
    raw, expected = case
    assert nd_parse_options(raw) == expected


# ---------------------------------------------------------------------------------------------
# 3. Mutations

def mutate(draw, data: bytes, fields: list[int]) -> bytes:
    buf = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buf:
            break
        op = draw(st.sampled_from(("truncate", "byte", "flip", "field", "append")))
        i = draw(st.integers(0, len(buf) - 1))
        if op == "truncate":
            del buf[i:]
        elif op == "byte":
            buf[i] = draw(st.integers(0, 255))
        elif op == "flip":
            buf[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "append":
            buf += draw(st.binary(min_size=1, max_size=9))
        else:
            off = draw(st.sampled_from(fields))
            if off < len(buf):
                buf[off] = draw(st.sampled_from((0, 1, 2, 3, 4, 6, 8, 0x80, 0xFF)))
    return bytes(buf)


@STRUCTURED
@given(arp_packets(), st.data())
def test_arp_mutated(case, data) -> None:
    pkt = mutate(data.draw, case[0], [1, 3, 4, 5, 7])
    assert arp_parse(pkt) == arp_model(pkt)


@STRUCTURED
@given(nd_messages(), st.data())
def test_nd_mutated(case, data) -> None:
    src, dst, msg, expected = case
    # the type, code and every option length field
    fields, off = [0, 1], expected.opts_off
    while off + 1 < len(msg) and msg[off + 1]:
        fields.append(off + 1)
        off += msg[off + 1] * 8
    mutated = mutate(data.draw, msg, fields)
    note(f"mutated: {mutated.hex()}")
    assert nd_parse(mutated) == nd_model(mutated)


# ---------------------------------------------------------------------------------------------
# 4. Checksum and builders against scapy

@settings(STRUCTURED, max_examples=1000)
@given(ipv6s, ipv6s, st.binary(min_size=4, max_size=200))
def test_checksum_matches_scapy(src: bytes, dst: bytes, msg: bytes) -> None:
    zeroed = msg[:2] + b"\0\0" + msg[4:]
    ip = IPv6(src=v6(src), dst=v6(dst))
    expected = in6_chksum(58, ip, zeroed)
    got = firmware.nd_checksum(src, dst, zeroed)
    # scapy writes 0xffff for a computed 0 (as UDP must); both are the same number
    assert got == expected or {got, expected} == {0, 0xFFFF}
    assert firmware.nd_checksum(src, dst, zeroed[:2] + struct.pack("!H", got) + zeroed[4:]) == 0


def same_frame(got: bytes, expected: bytes) -> bool:
    """Equal, but for the ICMPv6 checksum's two forms of zero (0x0000 and 0xffff)."""
    if got[:56] + got[58:] != expected[:56] + expected[58:]:
        return False
    return got[56:58] == expected[56:58] or {got[56:58], expected[56:58]} == {
        b"\0\0", b"\xff\xff"}


def _frame(eth_dst, eth_src, ip_src, ip_dst, tc, fl):
    return (Ether(dst=mac_text(eth_dst), src=mac_text(eth_src)) /
            IPv6(src=v6(ip_src), dst=v6(ip_dst), hlim=255, tc=tc, fl=fl))


@settings(STRUCTURED, max_examples=300)
@given(macs, macs, ipv6s, ipv6s, st.integers(0, 255), st.integers(0, 0xFFFFF),
       st.sampled_from((0, ND_NA_ROUTER, ND_NA_ROUTER | ND_NA_OVERRIDE,
                        ND_NA_ROUTER | ND_NA_SOLICITED | ND_NA_OVERRIDE)), ipv6s, macs)
def test_na_builder_matches_scapy(eth_dst, eth_src, ip_src, ip_dst, tc, fl, flags, target,
                                  tlla) -> None:
    vtc = 0x60000000 | tc << 20 | fl
    got = firmware.nd_build_na(eth_dst, eth_src, ip_src, ip_dst, vtc, flags, target, tlla)
    expected = bytes(_frame(eth_dst, eth_src, ip_src, ip_dst, tc, fl) /
                     ICMPv6ND_NA(R=int(bool(flags & ND_NA_ROUTER)),
                                 S=int(bool(flags & ND_NA_SOLICITED)),
                                 O=int(bool(flags & ND_NA_OVERRIDE)),
                                 tgt=v6(target)) /
                     ICMPv6NDOptDstLLAddr(lladdr=mac_text(tlla)))
    assert same_frame(got, expected)
    assert firmware.nd_checksum(ip_src, ip_dst, got[54:]) == 0


@settings(STRUCTURED, max_examples=300)
@given(macs, macs, ipv6s, ipv6s, st.integers(0, 255), st.integers(0, 0xFFFFF), macs)
def test_ra_builder_matches_scapy(eth_dst, eth_src, ip_src, ip_dst, tc, fl, slla) -> None:
    vtc = 0x60000000 | tc << 20 | fl
    got = firmware.nd_build_ra(eth_dst, eth_src, ip_src, ip_dst, vtc, slla)
    expected = bytes(_frame(eth_dst, eth_src, ip_src, ip_dst, tc, fl) /
                     ICMPv6ND_RA(chlim=255, M=1, O=1, H=0, prf=0, P=0, res=0,
                                 routerlifetime=0xFFFF, reachabletime=0, retranstimer=0) /
                     ICMPv6NDOptSrcLLAddr(lladdr=mac_text(slla)))
    assert same_frame(got, expected)
    assert firmware.nd_checksum(ip_src, ip_dst, got[54:]) == 0


@settings(STRUCTURED, max_examples=300)
@given(macs, ipv4s, ipv4s)
def test_arp_builder_matches_scapy(mac, sip, tip) -> None:
    got = firmware.arp_build_request(mac, sip, tip)
    expected = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=mac_text(mac)) /
                     ARP(op=1, hwsrc=mac_text(mac), psrc=".".join(map(str, sip)),
                         hwdst="00:00:00:00:00:00", pdst=".".join(map(str, tip))))
    assert got == expected
    assert arp_parse(got[14:]) == ArpInfo("ok", 1, mac, sip, bytes(6), tip)
