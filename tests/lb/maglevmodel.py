# SPDX-License-Identifier: Apache-2.0
"""dpservice's Maglev load-balancer table, written out from its documented behaviour, in
plain Python, as the reference the firmware's dp_lb_maglev() / dp_lb_slot() are checked
against (tests/lb/test_maglev.py).

- The table has M = 503 slots (a prime at least twice the 64 targets an LB may have).
- Target i of the ascending sorted list prefers the slots offset_i, offset_i + skip_i, ...
  (mod M), with offset_i = MurmurHash2(its 16 bytes, seed 0) % M and
  skip_i = djb2(...) % (M - 1) + 1.
- dpservice's djb2 reads the address as a C string: from the target's first byte up to the
  first zero byte — running on into the following targets when the address has none, and
  into the zeroed rest of the 64-target array after the last one.
- The targets take turns, each taking its next preferred slot still free, until all M slots
  are taken.
- A flow's slot is dpservice's conntrack hash of its 44-byte key modulo M: rte_jhash_32b over
  the key as 11 little-endian words, init value 0xfee1900d.
"""
from __future__ import annotations

import struct

from dpservice_hash import jhash_32b

M = 503  # slots in the table
MAX_TARGETS = 64  # targets an LB may have (dpservice's DP_LB_MAX_IPS_PER_VIP)
SLOT_INIT = 0xFEE1900D  # dpservice's conntrack hash init value
_U32 = 0xFFFFFFFF
_MURMUR_M = 0x5BD1E995


def murmur2(data: bytes, seed: int = 0) -> int:
    """MurmurHash2, 32 bits. Only whole words are handled: the addresses are 16 bytes."""
    assert len(data) % 4 == 0
    h = (seed ^ len(data)) & _U32
    for (k,) in struct.iter_unpack("<I", data):
        k = (k * _MURMUR_M) & _U32
        k ^= k >> 24
        k = (k * _MURMUR_M) & _U32
        h = (h * _MURMUR_M) & _U32
        h ^= k
    h ^= h >> 13
    h = (h * _MURMUR_M) & _U32
    h ^= h >> 15
    return h


def djb2(data: bytes) -> int:
    """djb2 of a C string: the bytes up to the first zero byte (or the end); then the top bit
    cleared, as dpservice does."""
    h = 5381
    for byte in data:
        if byte == 0:
            break
        h = (h * 33 + byte) & _U32
    return h & 0x7FFFFFFF


def target_array(targets: list[bytes]) -> bytes:
    """dpservice's target array: the targets one after the other, zeroed up to 64 of them."""
    data = b"".join(targets)
    return data + bytes(MAX_TARGETS * 16 - len(data))


def offset(targets: list[bytes], i: int) -> int:
    return murmur2(targets[i]) % M


def skip(targets: list[bytes], i: int) -> int:
    """From target i's first byte on, through whatever follows it in the array."""
    return djb2(target_array(targets)[i * 16:]) % (M - 1) + 1


def permutation(targets: list[bytes], i: int) -> list[int]:
    """Target i's slots in its order of preference: a full cycle, as M is prime."""
    off, sk = offset(targets, i), skip(targets, i)
    return [(off + j * sk) % M for j in range(M)]


def maglev(targets: list[bytes]) -> list[int]:
    """The table: table[slot] = index of the target the slot's flows go to."""
    n = len(targets)
    if not 1 <= n <= MAX_TARGETS:
        raise ValueError(f"{n} targets")
    assert all(len(t) == 16 for t in targets)
    perms = [permutation(targets, i) for i in range(n)]
    table = [-1] * M
    nxt = [0] * n
    filled = 0
    while filled < M:
        for i in range(n):
            # the next preferred slot still free; every slot looked at is used up
            slot = perms[i][nxt[i]]
            while table[slot] >= 0:
                nxt[i] += 1
                slot = perms[i][nxt[i]]
            table[slot] = i
            nxt[i] += 1
            filled += 1
            if filled == M:
                break
    # a slot no target reached would go round-robin (cannot happen: M is prime, so every
    # permutation is a full cycle)
    return [t if t >= 0 else s % n for s, t in enumerate(table)]


def slot(key: bytes) -> int:
    """The Maglev slot of a flow by its 44-byte key."""
    if len(key) != 44:
        raise ValueError(f"flow keys are 44 bytes, not {len(key)}")
    return jhash_32b(list(struct.unpack("<11I", key)), SLOT_INIT) % M
