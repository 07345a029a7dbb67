# SPDX-License-Identifier: Apache-2.0
"""The routing tables against a model: random route sets, added and deleted, looked up
through route_lookup() (the control thread reading the very tables the workers read),
listed, counted and matched exactly, compared with a plain Python longest-prefix match.

The firmware runs in a process of its own (EAL initialises once per process) with null
ports; hypothesis runs inside it. Routes crowd a few address ranges and prefix lengths, so
that groups grow past a chunk (splits), shrink (merges, dropped chunks) and nest."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent('''
    import errno, os, random, sys
    from hypothesis import HealthCheck, given, settings, strategies as st
    from dplane import _firmware as fw

    CAPACITY = 1000
    CHUNK = 256  # fib.h's DP_FIB_CHUNK: routes of a group per chunk
    fw.eal_init(["t", "-l", "0,1", "--no-huge", "-m", "256", "--no-shconf", "--no-pci",
                 "--no-telemetry", "--file-prefix=dptlpm%d" % os.getpid(),
                 "--log-level=lib.eal:crit", "--vdev=net_null0,no-rx=1",
                 "--vdev=net_null1,no-rx=1"])
    fw.ct_conf_set(4096, 30)
    fw.vni_conf_set(CAPACITY)
    fw.core_start(2048, [(0, fw.PORT_PF, 0, None, True), (1, fw.PORT_PF, 1, None, True)])
    VNI = 4242
    fw.vni_create(VNI)
    BITS = {4: 32, 6: 128}


    class Model:
        """Routes of one VNI: {family: {(net, length): (port, nh_vni, nh_ipv6)}}."""

        def __init__(self, capacity):
            self.capacity = capacity
            self.routes = {4: {}, 6: {}}

        def add(self, fam, net, length, nh):
            t = self.routes[fam]
            if (net, length) in t:
                return errno.EEXIST
            if len(t) >= self.capacity:
                return errno.ENOSPC
            t[(net, length)] = nh
            return 0

        def delete(self, fam, net, length):
            return 0 if self.routes[fam].pop((net, length), None) else errno.ENOENT

        def lookup(self, fam, addr):
            """(length, next hop) of the longest prefix that holds addr, or None."""
            bits, t = BITS[fam], self.routes[fam]
            for length in sorted({n for _, n in t}, reverse=True):
                net = addr >> (bits - length) << (bits - length) if length else 0
                if (net, length) in t:
                    return length, t[(net, length)]
            return None

        def listed(self, fam):
            """The order of a binary trie walked depth first, children before their
            parent, the default route first (rte_rib's walk, as dpservice lists)."""
            bits = BITS[fam]

            def walk(depth, items):
                here = [r for r in items if r[1] == depth]
                deeper = [r for r in items if r[1] > depth]
                out = []
                if deeper:
                    bit = lambda r: (r[0] >> (bits - depth - 1)) & 1
                    out += walk(depth + 1, [r for r in deeper if bit(r) == 0])
                    out += walk(depth + 1, [r for r in deeper if bit(r) == 1])
                return out + here
            routes = list(self.routes[fam])
            return [r for r in routes if r[1] == 0] + walk(0, [r for r in routes if r[1]])


    def packed(fam, value):
        return value.to_bytes(BITS[fam] // 8, "big")


    def call(fn, *args):
        try:
            fn(*args)
            return 0
        except OSError as exc:
            return exc.errno


    def nexthop(i):
        return (2 + i % 5, i, packed(6, (0xfc00 << 112) + i))


    def apply(model, op):
        kind, fam, net, length, i = op
        if kind == "add":
            port, nh_vni, nh6 = nexthop(i)
            got = call(fw.route_add, VNI, packed(fam, net), length, port, nh_vni, nh6)
            want = model.add(fam, net, length, (port, nh_vni, nh6))
        else:
            got = call(fw.route_del, VNI, packed(fam, net), length)
            want = model.delete(fam, net, length)
        assert got == want, (op, got, want)


    def check(model, probes):
        for fam in (4, 6):
            t = model.routes[fam]
            assert fw.route_count(VNI, fam) == len(t)
            listed = fw.route_list(VNI, fam)
            assert [(int.from_bytes(p, "big"), n) for p, n, *_ in listed] == \\
                model.listed(fam)
            for p, n, port, nh_vni, nh6 in listed:
                assert t[(int.from_bytes(p, "big"), n)] == (port, nh_vni, nh6)
                assert fw.route_get(VNI, p, n) == (p, n, port, nh_vni, nh6)
            bits = BITS[fam]
            for (net, length) in list(t)[:50]:  # one bit shorter or longer: no route
                for other in (length - 1, length + 1):
                    if not 0 <= other <= bits:
                        continue
                    masked = net >> (bits - other) << (bits - other) if other else 0
                    if (masked, other) not in t:
                        assert fw.route_get(VNI, packed(fam, net), other) is None
        for fam, addr in probes:
            want = model.lookup(fam, addr)
            got = fw.route_lookup(VNI, packed(fam, addr))
            if want is None:
                assert got is None, (fam, hex(addr), got)
            else:
                length, (port, nh_vni, nh6) = want
                assert got == (port, length, nh_vni, nh6), (fam, hex(addr), got, want)


    def probes_for(model, rnd, extra):
        """Every route's first and last address and their neighbours, and random ones."""
        out = list(extra)
        for fam in (4, 6):
            bits = BITS[fam]
            for net, length in model.routes[fam]:
                end = net | ((1 << (bits - length)) - 1)
                out += [(fam, a % (1 << bits)) for a in (net, net - 1, end, end + 1)]
        return out + [(f, rnd.getrandbits(BITS[f])) for f in (4, 6) for _ in range(20)]


    # prefixes crowd a few ranges so that they nest and fill chunks
    BASES = {4: [0x0A000000, 0x0A010000, 0xC0A80000, 0],
             6: [0xFD00 << 112, (0xFD00 << 112) | (1 << 64), 0x20010DB8 << 96, 0]}
    LENGTHS = {4: [0, 8, 16, 23, 24, 24, 31, 32, 32, 32, 32],
               6: [0, 16, 48, 64, 64, 100, 127, 128, 128, 128, 128]}


    def make_op(kind, fam, length, base, low, i):
        bits = BITS[fam]
        net = (base + (low << max(0, min(8, bits - length)))) % (1 << bits)
        net = net >> (bits - length) << (bits - length) if length else 0
        return (kind, fam, net, length, i)


    @st.composite
    def op(draw):
        fam = draw(st.sampled_from([4, 4, 6]))
        return make_op(draw(st.sampled_from(["add", "add", "add", "del"])), fam,
                       draw(st.sampled_from(LENGTHS[fam])), draw(st.sampled_from(BASES[fam])),
                       draw(st.integers(0, 511)),  # few distinct low bits: they collide
                       draw(st.integers(0, 1 << 20)))


    def seeded_ops(rnd, n):
        """n more changes, mostly adds: tables past a chunk, which drawn lists rarely are."""
        out = []
        for i in range(n):
            fam = rnd.choice([4, 4, 6])
            out.append(make_op(rnd.choice(["add"] * 5 + ["del"]), fam,
                               rnd.choice(LENGTHS[fam]), rnd.choice(BASES[fam]),
                               rnd.randrange(512), i))
        return out


    @settings(max_examples=150, deadline=None, database=None,
              suppress_health_check=list(HealthCheck))
    @given(ops=st.lists(op(), max_size=400), bulk=st.integers(0, 800),
           seed=st.integers(0, 2**32))
    def random_changes(ops, bulk, seed):
        fw.vni_reset(VNI)
        model = Model(CAPACITY)
        rnd = random.Random(seed)
        ops = seeded_ops(rnd, bulk) + ops
        for i, o in enumerate(ops):
            apply(model, o)
            if i % 97 == 0:
                check(model, probes_for(model, rnd, []))
        check(model, probes_for(model, rnd, []))
        # and everything deleted again, in random order
        keys = [(f, k) for f in (4, 6) for k in model.routes[f]]
        rnd.shuffle(keys)
        for f, (net, length) in keys:
            apply(model, ("del", f, net, length, 0))
        check(model, probes_for(model, rnd, [(4, 0x0A000001), (6, 0xFD00 << 112)]))


    def many_in_one_group():
        """Thousands of /32 and /128 routes in random order (chunks split at every place),
        then most of them deleted (chunks merged and dropped), checked on the way."""
        fw.vni_destroy(VNI)
        rnd = random.Random(7)
        fw.vni_create(VNI)
        model = Model(CAPACITY)  # the firmware's capacity is the script's
        for fam in (4, 6):
            bits = BITS[fam]
            nets = rnd.sample(range(1 << 12), CAPACITY)
            for j, n in enumerate(nets):
                apply(model, ("add", fam, BASES[fam][0] + n, bits, j))
            apply(model, ("add", fam, BASES[fam][0] + 5000, bits, 1))  # full: ENOSPC
            check(model, probes_for(model, rnd, []))
            for n in nets[: CAPACITY * 9 // 10]:
                apply(model, ("del", fam, BASES[fam][0] + n, bits, 0))
            check(model, probes_for(model, rnd, []))


    def chunk_edges():
        """Every way a group's chunks change, one by one, checked after each: a full chunk
        split by a route before it, after it and inside it; the first, a middle and the last
        chunk emptied; chunks merged with the neighbour on either side; back to one chunk."""
        rnd = random.Random(11)
        for fam in (4, 6):
            fw.vni_reset(VNI)
            model = Model(CAPACITY)
            bits, base = BITS[fam], BASES[fam][1]

            def add(n):
                apply(model, ("add", fam, base + n * 4, bits, n))
                check(model, probes_for(model, rnd, []))

            def delete(n):
                apply(model, ("del", fam, base + n * 4, bits, 0))
                check(model, probes_for(model, rnd, []))

            first, last = 100, 100 + CHUNK - 1
            for n in range(first, last + 1):  # one full chunk
                apply(model, ("add", fam, base + n * 4, bits, n))
            add(10)        # before it: {10} {first..last}
            delete(10)     # the first chunk emptied: one chunk again
            add(5000)      # after it: {first..last} {5000}
            delete(5000)   # the last chunk emptied
            middle = first + CHUNK // 2
            add(middle)    # inside it: two halves
            for n in (1, 2, 3, 6000, 6001):
                add(n)     # more chunks on both sides
            for n in range(first, middle):
                delete(n)  # the left half shrinks: merged with a neighbour
            for n in range(middle, last + 1):
                delete(n)
            for n in (6000, 1, 2, 6001, 3):
                delete(n)  # down to nothing
            assert fw.route_count(VNI, fam) == 0


    random_changes()
    chunk_edges()
    many_in_one_group()
    fw.vni_destroy(VNI)
    fw.core_stop()
    fw.eal_cleanup()
    print("ok")
''')


def test_tables_match_a_longest_prefix_match_model():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-6000:]
    assert result.stdout.strip().endswith("ok")
