# SPDX-License-Identifier: Apache-2.0
"""The firmware's Maglev functions (firmware/lb: dp_lb_maglev(), dp_lb_slot(), through
dplane._firmware) against the independent model of dpservice's table (maglevmodel.py). Pure
functions: no service is started.

1. Small hand-picked target sets give the model's table.
2. Random sorted sets of 1..64 targets (addresses with zero bytes anywhere, or none at all, so
   that dpservice's djb2 runs on into the following targets) give the model's table.
3. Balance: the table is full, of valid indexes, and target i has 503 // n slots, one more
   for the first 503 % n targets (the targets take one slot each per round).
4. Disruption: removing a target moves all of its slots and, for targets whose djb2 stops
   inside their own address, only a bounded share of the others (the bound measured below);
   without that, dpservice's djb2 quirk can move most of the table, which is checked only to
   be the model's.
5. dp_lb_slot() is the model's jhash of the 44-byte flow key modulo 503.
6. Bad input: no targets or more than 64 is EINVAL, a key of another size a ValueError.

Examples per property: DPLANE_FUZZ_LB_EXAMPLES; target sets in the disruption sample:
DPLANE_FUZZ_LB_SETS.
"""
from __future__ import annotations

import errno
import ipaddress
import os
import random
import struct

import maglevmodel as model
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from dplane import _firmware

M = model.M
# An example costs the model up to ~3 ms (64 targets) and hypothesis a few more: the
# defaults keep the module to about 15 s.
EXAMPLES = int(os.environ.get("DPLANE_FUZZ_LB_EXAMPLES", "1000"))
DISRUPTION_SETS = int(os.environ.get("DPLANE_FUZZ_LB_SETS", "1000"))
SETTINGS = settings(max_examples=EXAMPLES, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def v6(*addrs: str) -> list[bytes]:
    return sorted(ipaddress.IPv6Address(a).packed for a in addrs)


# -- 1. known small cases ------------------------------------------------------------------

def test_constants():
    assert _firmware.LB_MAGLEV_SIZE == M == 503
    assert _firmware.LB_MAX_TARGETS == model.MAX_TARGETS == 64


@pytest.mark.parametrize("addr", ["fc00:1::1", "::", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                  "2001:db8:1:2:3:4:5:6"])
def test_one_target_takes_every_slot(addr):
    targets = v6(addr)
    assert model.maglev(targets) == [0] * M
    assert _firmware.lb_maglev(targets) == [0] * M


def test_djb2_of_fc00_by_hand():
    # djb2 of fc00:... stops at its second byte: 5381 * 33 + 0xfc = 177825, and
    # 177825 % 502 + 1 = 117 + 1 = 118, whatever the target's remaining bytes.
    targets = v6("fc00:1::1", "fc00:2::1")
    assert model.skip(targets, 0) == model.skip(targets, 1) == 118


@pytest.mark.parametrize("addrs", [
    ("fc00:1::1", "fc00:2::1"),                      # both skips 118: offsets alone differ
    ("fc00:1::1", "fc00:1::2", "fc00:1::3"),
    ("2001:db8::1", "2001:db8::2"),
    ("2001:db8:1:1:1:1:1:1", "2001:db8:1:1:1:1:1:2"),  # no zero byte: djb2 runs into the next
    ("::1", "fc00:1::1", "2a10:afc0:e01f:f408::1"),
])
def test_small_sets(addrs):
    targets = v6(*addrs)
    assert _firmware.lb_maglev(targets) == model.maglev(targets)


# -- 2. random target sets -----------------------------------------------------------------

PREFIXES = (0xFC00_0001, 0x2001_0DB8, 0x2A10_AFC0, 0xFD12_3456)
KINDS = ("random", "no_zero", "zero_at", "realistic")


def shape(kind: str, raw: bytes) -> bytes:
    """An address of the kind from 16 random bytes: as they are; without zero bytes; with a
    zero byte at a position they choose (djb2 stops there); or a host in one of a few
    underlay prefixes (zero bytes where the address is short)."""
    if kind == "random":
        return raw
    if kind == "no_zero":
        return bytes(b or 1 for b in raw)
    if kind == "zero_at":
        b = bytearray(raw)
        b[raw[0] % 16] = 0
        return bytes(b)
    prefix = PREFIXES[raw[0] % len(PREFIXES)]
    host = int.from_bytes(raw[8:], "big") >> (48 if raw[1] & 1 else 0) or 1
    return ((prefix << 96) | (int.from_bytes(raw[4:8], "big") << 64) | host).to_bytes(16, "big")


@st.composite
def target_set(draw) -> list[bytes]:
    """1..64 distinct sorted addresses: all of one kind (no zero byte anywhere: one djb2
    over everything up to the padding after the last target) or of mixed kinds. Drawn as
    one block of bytes: 64 addresses drawn one by one cost hypothesis ~20 ms an example."""
    n = draw(st.integers(1, 64))
    kind = draw(st.sampled_from(KINDS + ("mixed",)))
    raw = draw(st.binary(min_size=17 * n, max_size=17 * n))
    addrs = set()
    for i in range(n):
        k = KINDS[raw[16 * n + i] % len(KINDS)] if kind == "mixed" else kind
        addrs.add(shape(k, raw[16 * i:16 * i + 16]))
    return sorted(addrs)


# 64 targets without a zero byte: target 0's djb2 reads the whole 1024-byte array
ALL_NO_ZERO = sorted(bytes([i + 1] * 15 + [0xFF]) for i in range(64))
# the last target without a zero byte: its djb2 stops in the padding
LAST_NO_ZERO = v6("::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")


@SETTINGS
@given(target_set())
@example(ALL_NO_ZERO)
@example(LAST_NO_ZERO)
@example([bytes(16), b"\xff" * 16])
def test_table_is_the_model(targets):
    assert _firmware.lb_maglev(targets) == model.maglev(targets)


# -- 3. balance ----------------------------------------------------------------------------

def check_balanced(table: list[int], n: int):
    assert len(table) == M
    assert all(0 <= t < n for t in table)
    counts = [table.count(i) for i in range(n)]
    # one slot per target per round until the 503 are taken: the first 503 % n targets
    # take one more than the others
    assert counts == [M // n + (i < M % n) for i in range(n)]
    assert min(counts) >= 1


@pytest.mark.parametrize("n", range(1, 65))
def test_balance_every_size(n):
    rng = random.Random(n)
    targets = sorted({rng.randbytes(16) for _ in range(n)})
    assert len(targets) == n
    check_balanced(_firmware.lb_maglev(targets), n)
    check_balanced(model.maglev(targets), n)


@SETTINGS
@given(target_set())
def test_balance(targets):
    check_balanced(_firmware.lb_maglev(targets), len(targets))


# -- 4. disruption -------------------------------------------------------------------------

def moved_slots(targets: list[bytes], removed: int) -> tuple[int, int]:
    """Remove targets[removed]: (its slots, the other targets' slots that changed target).
    The firmware and the model agree on both tables."""
    after = targets[:removed] + targets[removed + 1:]
    table_before = _firmware.lb_maglev(targets)
    table_after = _firmware.lb_maglev(after)
    assert table_before == model.maglev(targets)
    assert table_after == model.maglev(after)
    own = other = 0
    for before, now in zip(table_before, table_after, strict=True):
        if before == removed:
            own += 1
            assert after[now] != targets[removed]  # it is gone: all of its slots move
        elif after[now] != targets[before]:
            other += 1
    return own, other


def well_behaved(rng: random.Random) -> bytes:
    """An address whose djb2 stops inside it, after at least 4 bytes: random bytes with a
    zero at 4..15, or a 2001:db8:x:y::z host."""
    if rng.random() < 0.5:
        b = bytearray(rng.randbytes(16))
        b[rng.randrange(4, 16)] = 0
        return bytes(b)
    return ((0x2001_0DB8 << 96) | (rng.randrange(1, 2**32) << 64) | rng.randrange(1, 256)
            ).to_bytes(16, "big")


def test_disruption_bounded():
    """Maglev's bound is statistical, and loose at 503 slots for up to 64 targets (the paper
    wants M >> 100 N). Measured with these two address kinds (300 000 random sets, N in
    3..64, one target removed): of the other targets' slots, a mean of 25.7 (5.1 % of 503)
    moved, the 99.9th percentile 0.068 * 503 beyond 503 / N and the worst 0.120 * 503
    beyond 503 / N (76 slots at N = 32); small N moves more (up to 137 slots at N = 4, 503/N
    being 126 there). Bounds with margin: per set 503 / N + 0.16 * 503, and the sample's mean
    at most 7 % of 503."""
    rng = random.Random(0x1B)
    others = []
    for _ in range(DISRUPTION_SETS):
        n = rng.randrange(3, 65)
        targets = sorted({well_behaved(rng) for _ in range(n)})
        n = len(targets)
        removed = rng.randrange(n)
        own, other = moved_slots(targets, removed)
        assert own == M // n + (removed < M % n)
        assert other <= M / n + 0.16 * M, (targets, removed, other)
        others.append(other)
    assert sum(others) / len(others) <= 0.07 * M


def degenerate(rng: random.Random, kind: str) -> bytes:
    if kind == "no_zero":  # djb2 runs on into the following targets
        return bytes(rng.randrange(1, 256) for _ in range(16))
    # fc00:x::y: djb2 reads only 0xfc, every skip is 118
    return ((0xFC00 << 112) | (rng.randrange(1, 2**16) << 96) | rng.randrange(1, 2**16)
            ).to_bytes(16, "big")


@pytest.mark.parametrize("kind", ["no_zero", "fc00"])
def test_disruption_degenerate(kind):
    """Without the conditions above there is no useful bound, and dpservice has none: the
    same measurement (400 sets) moved a mean of 54 % of the other slots, up to 89 % (447),
    with addresses without a zero byte (removing target k changes the skip of target k - 1
    and of every one before it up to one with a zero byte), and a mean of 17 %, up to 49 %,
    with fc00:x::y targets (all of the same skip). The tables are only checked to be the
    model's, and the removed target's slots to have moved."""
    rng = random.Random(kind)
    for _ in range(max(DISRUPTION_SETS // 6, 10)):
        n = rng.randrange(3, 65)
        targets = sorted({degenerate(rng, kind) for _ in range(n)})
        removed = rng.randrange(len(targets))
        moved_slots(targets, removed)


# -- 5. the slot of a flow -----------------------------------------------------------------

@SETTINGS
@given(st.binary(min_size=44, max_size=44))
@example(bytes(44))
@example(b"\xff" * 44)
def test_slot_is_the_model(key):
    slot = _firmware.lb_slot(key)
    assert slot == model.slot(key)
    assert 0 <= slot < M


def flow_key(src: str, dst: str, proto: int, sport: int, dport: int, vni: int,
             vnf_type: int = 0) -> bytes:
    """dpservice's packed flow_key, laid out here field by field: an IPv4 address is a
    host-order (little-endian) uint32 in the first 4 of its 16 bytes."""
    def l3(ip: str) -> tuple[bytes, int]:
        addr = ipaddress.ip_address(ip)
        if addr.version == 4:
            return struct.pack("<I", int(addr)) + bytes(12), 0
        return addr.packed, 1

    l3_dst, dst_is_v6 = l3(dst)
    l3_src, src_is_v6 = l3(src)
    key = struct.pack("<16sBBH16sBBHI", l3_dst, dst_is_v6, proto, dport,
                      l3_src, src_is_v6, vnf_type, sport, vni)
    assert len(key) == 44
    return key


@pytest.mark.parametrize("src, dst, proto, sport, dport, vni", [
    ("10.0.0.5", "172.16.1.1", 6, 40000, 80, 100),
    ("192.168.1.10", "10.20.30.40", 17, 5353, 53, 0xFFFFFF),
    ("2001:db8::5", "fd00:100::1", 6, 51515, 443, 7),
])
def test_slot_of_real_keys(src, dst, proto, sport, dport, vni):
    key = flow_key(src, dst, proto, sport, dport, vni)
    assert _firmware.lb_slot(key) == model.slot(key)


# -- 6. bad input --------------------------------------------------------------------------

def test_no_targets():
    with pytest.raises(OSError) as exc:
        _firmware.lb_maglev([])
    assert exc.value.errno == errno.EINVAL


def test_too_many_targets():
    targets = sorted(bytes([0xFC, 0, 0, 0]) + i.to_bytes(12, "big") for i in range(65))
    with pytest.raises(OSError) as exc:
        _firmware.lb_maglev(targets)
    assert exc.value.errno == errno.EINVAL
    _firmware.lb_maglev(targets[:64])  # 64 is fine


@pytest.mark.parametrize("size", [0, 43, 45])
def test_key_size(size):
    with pytest.raises(ValueError):
        _firmware.lb_slot(bytes(size))
