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


def _rounds(a: int, b: int, c: int, steps) -> tuple[int, int, int]:
    """lookup3's mix and final on the registers a, b, c. A step (x, z, k, w) is, for mix,
    x -= z; x ^= rot(z, k); z += w, and for final (w is None) x ^= z; x -= rot(z, k)."""
    r = {"a": a, "b": b, "c": c}
    for x, z, k, w in steps:
        if w:
            r[x] = ((r[x] - r[z]) & _M) ^ _rot(r[z], k)
            r[z] = (r[z] + r[w]) & _M
        else:
            r[x] = ((r[x] ^ r[z]) - _rot(r[z], k)) & _M
    return r["a"], r["b"], r["c"]


# __rte_jhash_mix: a -= c; a ^= rot(c, 4); c += b; b -= a; b ^= rot(a, 6); a += c; ...
_MIX = (("a", "c", 4, "b"), ("b", "a", 6, "c"), ("c", "b", 8, "a"),
        ("a", "c", 16, "b"), ("b", "a", 19, "c"), ("c", "b", 4, "a"))
# __rte_jhash_final: c ^= b; c -= rot(b, 14); a ^= c; a -= rot(c, 11); ...
_FINAL = (("c", "b", 14, None), ("a", "c", 11, None), ("b", "a", 25, None),
          ("c", "b", 16, None), ("a", "c", 4, None), ("b", "a", 14, None),
          ("c", "b", 24, None))


def _mix(a: int, b: int, c: int) -> tuple[int, int, int]:
    return _rounds(a, b, c, _MIX)


def _final(a: int, b: int, c: int) -> tuple[int, int, int]:
    return _rounds(a, b, c, _FINAL)


def rte_jhash(data: bytes, initval: int = INIT) -> int:
    """DPDK's rte_jhash(data, len(data), initval): lookup3 on little-endian words, the last
    partial word masked (as zero padding does)."""
    n = len(data)
    padded = data + bytes(-n % 4)
    k = list(struct.unpack(f"<{len(padded) // 4}I", padded))
    a = b = c = (0xDEADBEEF + n + initval) & _M
    left = n
    while left > 12:
        a, b, c = (a + k[0]) & _M, (b + k[1]) & _M, (c + k[2]) & _M
        a, b, c = _mix(a, b, c)
        k = k[3:]
        left -= 12
    if left == 0:
        return c
    a = (a + k[0]) & _M
    if left > 4:
        b = (b + k[1]) & _M
    if left > 8:
        c = (c + k[2]) & _M
    return _final(a, b, c)[2]


def jhash_32b(words: list[int], initval: int) -> int:
    """rte_jhash_32b(words, len(words), initval): the same hash of the words' bytes."""
    return rte_jhash(struct.pack(f"<{len(words)}I", *words), initval)


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
