# SPDX-License-Identifier: Apache-2.0
"""Every packet scenario twice, on two services side by side: --no-offload (the graph
carries everything) and offload on (the software flow engine carries a flow's packets once
its rule exists). The frames on the wire must be byte-identical and in the same order, and
with offload on the engine's counters must show that the flows' later packets were carried
by rules, not by the graph."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, fragment
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from offload_util import (
    flow_rules,
    from_underlay,
    from_vm,
    neutral,
    offload_stats,
    receive,
    rules,
    service_pair,
)


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, harness.Service]]:
    with service_pair({"off": ["--no-offload"], "on": []}) as out:
        yield out


Step = tuple[str, str, Callable[[harness.Service], bytes]]  # (into TAP, out of TAP, frame)


def run(svc: harness.Service, steps: list[Step]) -> list[tuple[str, bytes | None]]:
    """Send each step's frame and take the one frame it makes, in order."""
    got = []
    for into, out_of, frame in steps:
        svc.tap(into).send(frame(svc))
        got.append((out_of, neutral(svc, receive(svc.tap(out_of)))))
    return got


def differential(services, steps: list[Step]) -> dict[str, int]:
    """Run the steps on both services; the frames must match byte for byte. The engine's
    hits and rules made with offload on, during the steps."""
    before = offload_stats(services["on"])
    off = run(services["off"], steps)
    on = run(services["on"], steps)
    assert all(frame is not None for _, frame in off), off
    for i, (a, b) in enumerate(zip(off, on, strict=True)):
        assert a == b, f"step {i}: {Ether(a[1]) if a[1] else None!r} != " \
                       f"{Ether(b[1]) if b[1] else None!r}"
    after = offload_stats(services["on"])
    assert offload_stats(services["off"])["enabled"] is False
    return {"hits": after["hits"] - before["hits"],
            "installs": after["installs"] - before["installs"]}


def test_vm_to_vm_udp_both_ways(services):
    steps = []
    for i in range(5):
        steps.append(("dtapvf_0", "dtapvf_1", lambda s, i=i: from_vm(
            s, "vm1", IP(src="10.0.0.2", dst="10.0.0.3", ttl=9) / UDP(sport=1000, dport=2000) /
            f"ping {i}".encode())))
        steps.append(("dtapvf_1", "dtapvf_0", lambda s, i=i: from_vm(
            s, "vm2", IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=2000, dport=1000) /
            f"pong {i}".encode())))
    seen = differential(services, steps)
    assert seen == {"installs": 2, "hits": 8}  # the first packet each way crossed the graph


def test_vm_to_vm_ipv6_and_icmp_echo(services):
    steps = []
    for i in range(3):
        steps.append(("dtapvf_0", "dtapvf_1", lambda s, i=i: from_vm(
            s, "vm1", IPv6(src="fd00::2", dst="fd00::3") / UDP(sport=7, dport=8) / bytes(i))))
        steps.append(("dtapvf_0", "dtapvf_1", lambda s, i=i: from_vm(
            s, "vm1", IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=8, id=99, seq=i))))
        steps.append(("dtapvf_1", "dtapvf_0", lambda s, i=i: from_vm(
            s, "vm2", IP(src="10.0.0.3", dst="10.0.0.2") / ICMP(type=0, id=99, seq=i))))
    seen = differential(services, steps)
    assert seen == {"installs": 3, "hits": 6}


def test_tcp_to_the_underlay_offloaded_once_established(services):
    """Encapsulation one way, decapsulation the other; rules only once the connection is
    established, and never for SYN, FIN or RST segments, which conntrack must see."""
    def out(flags, payload=b"", seq=0):
        return lambda s: from_vm(s, "vm1", IP(src="10.0.0.2", dst="192.0.2.10") /
                                 TCP(sport=33000, dport=80, flags=flags, seq=seq) / payload)

    def back(flags, payload=b"", seq=0):
        return lambda s: from_underlay(s, "vm1", IP(src="192.0.2.10", dst="10.0.0.2") /
                                       TCP(sport=80, dport=33000, flags=flags, seq=seq) /
                                       payload)
    steps = [("dtapvf_0", "dtap0", out("S")), ("dtap0", "dtapvf_0", back("SA")),
             ("dtapvf_0", "dtap0", out("A", seq=1))]
    for i in range(4):
        steps.append(("dtapvf_0", "dtap0", out("PA", b"GET %d" % i, seq=1 + i)))
        steps.append(("dtap0", "dtapvf_0", back("PA", b"200 %d" % i, seq=1 + i)))
    steps += [("dtapvf_0", "dtap0", out("FA", seq=9)), ("dtap0", "dtapvf_0", back("FA", seq=9))]
    seen = differential(services, steps)
    # the ACK that establishes it makes the first rule, the first answer the second
    assert seen["installs"] == 2
    assert seen["hits"] == 4 + 3


def test_udp_to_and_from_the_underlay_ipv6(services):
    steps = []
    for i in range(3):
        steps.append(("dtapvf_1", "dtap0", lambda s, i=i: from_vm(
            s, "vm2", IPv6(src="fd00::3", dst="2001:db8::5") / UDP(sport=5353, dport=53) /
            bytes(10 + i))))
        steps.append(("dtap0", "dtapvf_1", lambda s, i=i: from_underlay(
            s, "vm2", IPv6(src="2001:db8::5", dst="fd00::3") / UDP(sport=53, dport=5353) /
            bytes(20 + i))))
    seen = differential(services, steps)
    assert seen == {"installs": 2, "hits": 4}


def test_fragments_are_never_carried_by_rules(services):
    packet = IP(src="10.0.0.2", dst="192.0.2.20", id=4242) / UDP(sport=9, dport=9) / (
        b"y" * 2400)
    frags = fragment(packet, fragsize=1000)
    steps = [("dtapvf_0", "dtap0", lambda s, f=f: from_vm(s, "vm1", f)) for f in frags * 2]
    seen = differential(services, steps)
    assert seen == {"installs": 0, "hits": 0}


def test_inspect_lists_the_rules(services):
    svc = services["on"]
    steps = [("dtapvf_0", "dtapvf_1", lambda s: from_vm(
        s, "vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=1234, dport=4321)))] * 3
    run(svc, steps)
    jumps = [r for r in rules(svc) if r["actions"] == "jump 2"]
    assert len(jumps) == 4 and all(r["group"] == "0" for r in jumps)  # every port's
    udp = [r for r in flow_rules(svc) if "udp sport 1234 dport 4321" in r["pattern"]]
    assert len(udp) == 1
    assert udp[0]["actions"].startswith("set_mac_src ") and "port_id" in udp[0]["actions"]
    assert int(udp[0]["hits"]) == 2 and udp[0]["age"] == "30" and udp[0]["stale"] == "no"
