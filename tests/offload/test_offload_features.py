# SPDX-License-Identifier: Apache-2.0
"""The features that rewrite flows, twice, as test_offload_differential.py does: offload off
and on, the frames on the wire byte for byte the same and in the same order. VIP and NAT
(the translation is in the rules), a load balancer's remote target (PF to PF: into the
target's tunnel) and a local one (the tunnel to the LB prefix's VM), all by rules."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from offload_util import (
    REMOTE,
    ROUTER_MAC,
    VNI,
    from_vm,
    neutral,
    offload_stats,
    receive,
    service_pair,
)

VIP = "203.0.113.10"
NAT_IP = "198.51.100.1"
LB_IP = "203.0.113.80"
REMOTE_TARGET = "fc00:7::1"


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, harness.Service]]:
    with service_pair({"off": ["--no-offload"], "on": []}) as out:
        yield out


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def both(services, make: Callable[[harness.Service], str], name: str) -> None:
    """Create on both services; the underlay address each chose is theirs to neutralise."""
    for svc in services.values():
        svc.underlays[name] = make(svc)


Step = Callable[[harness.Service, dict], tuple[str, bytes, str]]  # -> (in TAP, frame, out TAP)


def run(svc: harness.Service, steps: list[Step]) -> list[bytes | None]:
    """Each step's frame in, the one frame it makes out; a step sees what came out before
    (state), to answer what the service chose (a NAT port)."""
    state: dict = {"out": []}
    for step in steps:
        into, frame, out_of = step(svc, state)
        svc.tap(into).send(frame)
        got = receive(svc.tap(out_of))
        state["out"].append(got)
    return [neutral(svc, raw) for raw in state["out"]]


def differential(services, steps: list[Step]) -> dict[str, int]:
    before = offload_stats(services["on"])
    off = run(services["off"], steps)
    on = run(services["on"], steps)
    assert all(frame is not None for frame in off), off
    for i, (a, b) in enumerate(zip(off, on, strict=True)):
        assert a == b, f"step {i}: {Ether(a)!r} != {Ether(b) if b else None!r}"
    after = offload_stats(services["on"])
    return {"hits": after["hits"] - before["hits"],
            "installs": after["installs"] - before["installs"]}


def test_vip_both_ways(services):
    both(services, lambda s: s.api.CreateVip(pb.CreateVipRequest(
        interface_id=b"vm1", vip_ip=ip4(VIP)), timeout=5).underlay_route.decode(), "vip")
    try:
        steps: list[Step] = []
        for i in range(4):
            steps.append(lambda s, st, i=i: ("dtapvf_0", from_vm(
                s, "vm1", IP(src="10.0.0.2", dst="192.0.2.10") / UDP(sport=4000, dport=53) /
                (bytes([i]) * 9)), "dtap0"))
            steps.append(lambda s, st, i=i: ("dtap0", bytes(
                Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                IPv6(src=REMOTE, dst=s.underlays["vip"], nh=4) /
                IP(src="192.0.2.10", dst=VIP) / UDP(sport=53, dport=4000) / (bytes([i]) * 5)),
                "dtapvf_0"))
        seen = differential(services, steps)
        assert seen == {"installs": 2, "hits": 6}
    finally:
        for svc in services.values():
            svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=b"vm1"), timeout=5)


def test_nat_tcp_connection(services):
    both(services, lambda s: s.api.CreateNat(pb.CreateNatRequest(
        interface_id=b"vm2", nat_ip=ip4(NAT_IP), min_port=2000, max_port=3000),
        timeout=5).underlay_route.decode(), "nat")

    def out(flags, payload=b"", seq=0):
        return lambda s, st: ("dtapvf_1", from_vm(
            s, "vm2", IP(src="10.0.0.3", dst="192.0.2.30") /
            TCP(sport=45000, dport=443, flags=flags, seq=seq) / payload), "dtap0")

    def back(flags, payload=b"", seq=0):
        def step(s, st):
            port = Ether(st["out"][0])[TCP].sport  # the NAT port the SYN left with
            return ("dtap0", bytes(Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                                   IPv6(src=REMOTE, dst=s.underlays["nat"], nh=4) /
                                   IP(src="192.0.2.30", dst=NAT_IP) /
                                   TCP(sport=443, dport=port, flags=flags, seq=seq) / payload),
                    "dtapvf_1")
        return step
    try:
        steps = [out("S"), back("SA"), out("A", seq=1)]
        for i in range(3):
            steps += [out("PA", b"req %d" % i, seq=1 + i), back("PA", b"resp %d" % i, seq=1 + i)]
        steps += [out("FA", seq=9), back("FA", seq=9)]
        seen = differential(services, steps)
        assert seen == {"installs": 2, "hits": 3 + 2}
        nat_out = Ether(run(services["on"], [out("PA", b"more", seq=4)])[0])
        assert nat_out[IP].src == NAT_IP and 2000 <= nat_out[TCP].sport < 3000
    finally:
        for svc in services.values():
            svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5)


def create_lb(svc: harness.Service, target: str) -> str:
    reply = svc.api.CreateLoadBalancer(pb.CreateLoadBalancerRequest(
        loadbalancer_id=b"lb1", vni=VNI, loadbalanced_ip=ip4(LB_IP),
        loadbalanced_ports=[pb.LbPort(protocol=pb.UDP, port=53)]), timeout=5)
    assert reply.status.code == 0, reply.status
    added = svc.api.CreateLoadBalancerTarget(pb.CreateLoadBalancerTargetRequest(
        loadbalancer_id=b"lb1",
        target_ip=pb.IpAddress(ipver=pb.IPV6, address=target.encode())), timeout=5)
    assert added.status.code == 0, added.status
    return reply.underlay_route.decode()


def to_lb(i: int, sport: int = 5353):
    return lambda s, st: ("dtap0", bytes(
        Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
        IPv6(src=REMOTE, dst=s.underlays["lb"], nh=4) /
        IP(src="192.0.2.40", dst=LB_IP) / UDP(sport=sport, dport=53) / (bytes([i]) * 7)),
        st.get("out_tap", "dtap0"))


def test_lb_remote_target_by_a_rule(services):
    """PF to PF: the tunnel's packet into the tunnel to the target, by a rule."""
    both(services, lambda s: create_lb(s, REMOTE_TARGET), "lb")
    try:
        seen = differential(services, [to_lb(i) for i in range(4)])
        assert seen == {"installs": 1, "hits": 3}
        assert offload_stats(services["on"])["shapes"]["pf_pf"] >= 1
    finally:
        for svc in services.values():
            svc.api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(loadbalancer_id=b"lb1"),
                                       timeout=5)


def test_lb_local_target_by_a_rule(services):
    def prefix(s):
        reply = s.api.CreateLoadBalancerPrefix(pb.CreateLoadBalancerPrefixRequest(
            interface_id=b"vm1", prefix=pb.Prefix(ip=ip4(LB_IP), length=32)), timeout=5)
        assert reply.status.code == 0, reply.status
        return reply.underlay_route.decode()
    both(services, prefix, "lbpfx")
    both(services, lambda s: create_lb(s, s.underlays["lbpfx"]), "lb")

    def to_vm1(i):
        step = to_lb(i, sport=6000)
        return lambda s, st: (*step(s, st)[:2], "dtapvf_0")
    try:
        seen = differential(services, [to_vm1(i) for i in range(4)])
        assert seen == {"installs": 1, "hits": 3}
    finally:
        for svc in services.values():
            svc.api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(loadbalancer_id=b"lb1"),
                                       timeout=5)
            svc.api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
                interface_id=b"vm1", prefix=pb.Prefix(ip=ip4(LB_IP), length=32)), timeout=5)
