# SPDX-License-Identifier: Apache-2.0
"""dpservice's conntrack flow hash, written out from its definition (contract §1.2): DPDK's
rte_jhash_32b over the 44-byte flow_key as 11 little-endian words, init value 0xfee1900d.
Choices that dpservice makes by this hash (the WCMP egress PF) must come out the same."""
from __future__ import annotations

import ipaddress
import struct

INIT = 0xFEE1900D
_M = 0xFFFFFFFF


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    a = (a - c) & _M; a ^= _rot(c, 4); c = (c + b) & _M
    b = (b - a) & _M; b ^= _rot(a, 6); a = (a + c) & _M
    c = (c - b) & _M; c ^= _rot(b, 8); b = (b + a) & _M
    a = (a - c) & _M; a ^= _rot(c, 16); c = (c + b) & _M
    b = (b - a) & _M; b ^= _rot(a, 19); a = (a + c) & _M
    c = (c - b) & _M; c ^= _rot(b, 4); b = (b + a) & _M
    return a, b, c


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    c ^= b; c = (c - _rot(b, 14)) & _M
    a ^= c; a = (a - _rot(c, 11)) & _M
    b ^= a; b = (b - _rot(a, 25)) & _M
    c ^= b; c = (c - _rot(b, 16)) & _M
    a ^= c; a = (a - _rot(c, 4)) & _M
    b ^= a; b = (b - _rot(a, 14)) & _M
    c ^= b; c = (c - _rot(b, 24)) & _M
    return a, b, c


def jhash_32b(words: list[int], initval: int) -> int:
    """rte_jhash_32b(words, len(words), initval)."""
    length = len(words) * 4
    a = b = c = (0xDEADBEEF + length + initval) & _M
    k = list(words)
    while length > 12:
        a = (a + k[0]) & _M
        b = (b + k[1]) & _M
        c = (c + k[2]) & _M
        a, b, c = _mix(a, b, c)
        k = k[3:]
        length -= 12
    if length == 0:
        return c
    a = (a + k[0]) & _M
    if length > 4:
        b = (b + k[1]) & _M
    if length > 8:
        c = (c + k[2]) & _M
    a, b, c = _final(a, b, c)
    return c


def _addr(ip: str) -> tuple[bytes, int]:
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:  # host order in the first four bytes
        return struct.pack("<I", int(addr)) + bytes(12), 0
    return addr.packed, 1


def flow_key(src: str, dst: str, proto: int, sport: int, dport: int, vni: int,
             vnf_type: int = 0) -> bytes:
    """dpservice's packed flow_key of a packet from src to dst."""
    l3_dst, dst_v6 = _addr(dst)
    l3_src, src_v6 = _addr(src)
    key = (l3_dst + struct.pack("<BBH", dst_v6, proto, dport) +
           l3_src + struct.pack("<BBHI", src_v6, vnf_type, sport, vni))
    assert len(key) == 44
    return key


def flow_hash(key: bytes) -> int:
    return jhash_32b(list(struct.unpack("<11I", key)), INIT)
