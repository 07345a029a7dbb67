# SPDX-License-Identifier: Apache-2.0
"""More packet scenarios twice, offload off and on (as test_offload_differential.py): flows
split over both PFs (--wcmp), ICMP errors about flows that rules carry, NAT64 (never by a
rule) and TCP connections opened and closed while other flows run. The frames must be the
same byte for byte, in the same order and out of the same port; with offload on the engine's
counters must show the rules carried what they may."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from offload_util import (
    PFS,
    REMOTE,
    ROUTER_MAC,
    VMS,
    Step,
    delta,
    net_step,
    run_steps,
    service_pair,
    set_up,
    steps_differential,
    vm_step,
)

NAT_IP = "198.51.100.9"


def prepare(svc: harness.Service) -> None:
    set_up(svc)
    for pf in PFS:
        svc.tap(pf).drain()


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, harness.Service]]:
    opts = ["--wcmp", "50", "--enable-ipv6-overlay"]  # ND: a VM tells its new MAC
    with service_pair({"off": ["--no-offload", *opts], "on": opts}, prepare) as out:
        yield out


def test_flows_over_both_pfs_keep_their_pf(services):
    """24 flows into the underlay, split by --wcmp 50 over PF0 and PF1, three rounds: each
    flow's later packets leave by its PF, by the rule."""
    flows = range(3000, 3024)
    steps = [vm_step("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP(sport=p, dport=53) /
                     bytes([r])) for r in range(3) for p in flows]
    seen = steps_differential(services, steps)
    ports = {name for name, _ in run_steps(services["off"], steps[:len(flows)])}
    assert ports == set(PFS)  # both PFs carried some
    assert delta(seen, "installs") == len(flows)
    assert delta(seen, "hits") == 2 * len(flows)


def test_icmp_errors_about_carried_flows(services):
    """A flow to the underlay and back, carried by its rules; then the remote's port
    unreachable about it and the VM's own, which no rule takes (ICMP errors cross the graph)
    and which reach the same ends; the flow's next packets are still carried."""
    out = IP(src="10.0.0.2", dst="192.0.2.7") / UDP(sport=7100, dport=53)
    back = IP(src="192.0.2.7", dst="10.0.0.2") / UDP(sport=53, dport=7100)
    flow = [step for i in range(3) for step in (vm_step("vm1", out / f"q{i}".encode()),
                                               net_step("vm1", back / f"a{i}".encode()))]
    errors = [net_step("vm1", IP(src="192.0.2.7", dst="10.0.0.2") / ICMP(type=3, code=3) /
                       IPerror(bytes(out / b"q2"))),
              vm_step("vm1", IP(src="10.0.0.2", dst="192.0.2.7") / ICMP(type=3, code=3) /
                      IPerror(bytes(back / b"a2")))]
    seen = steps_differential(services, flow + errors + flow)
    assert delta(seen, "installs") == 2
    # the first round's later packets, then all of the last round's: no ICMP error
    assert delta(seen, "hits") == 2 * 2 + 6
    frame = Ether(run_steps(services["on"], errors[:1])[0][1])
    assert frame[ICMP].type == 3 and frame[UDPerror].sport == 7100


def test_nat64_is_never_carried_by_a_rule(services):
    """A VM's IPv6 flow to the NAT64 prefix and back: the family changes, so the graph
    translates every packet."""
    for svc in services.values():
        reply = svc.api.CreateNat(pb.CreateNatRequest(
            interface_id=b"vm2", nat_ip=pb.IpAddress(ipver=pb.IPV4, address=NAT_IP.encode()),
            min_port=9000, max_port=9100), timeout=5)
        assert reply.status.code == 0, reply.status
        svc.underlays["nat"] = reply.underlay_route.decode()
    try:
        def back(i: int) -> Step:
            def frame(s, outs):
                port = Ether(outs[0])[UDP].sport  # the NAT's port for the flow
                return bytes(Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                             IPv6(src=REMOTE, dst=s.underlays["nat"], nh=4) /
                             IP(src="192.0.2.11", dst=NAT_IP) /
                             UDP(sport=53, dport=port) / f"a{i}".encode())
            return ("dtap0", frame, ("dtapvf_1",))
        steps = []
        for i in range(4):
            steps += [vm_step("vm2", IPv6(src="fd00::3", dst="64:ff9b::c000:20b") /
                              UDP(sport=7300, dport=53) / f"q{i}".encode()), back(i)]
        seen = steps_differential(services, steps)
        assert delta(seen, "installs") == 0 and delta(seen, "hits") == 0
        assert delta(seen, "not_offloaded", "family_changed") == 8
    finally:
        for svc in services.values():
            svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5)


def test_tcp_connections_open_and_close_among_other_flows(services):
    """Two TCP connections to the underlay, interleaved with a UDP flow between the VMs: the
    handshakes, the data once established (by rules), the FINs and the last ACKs, an RST on
    the second (never by a rule: conntrack sees each change of state)."""
    def tcp(vm_ip: str, sport: int, flags: str, seq: int, payload: bytes = b"") -> list[Step]:
        return [vm_step("vm1", IP(src=vm_ip, dst="192.0.2.50") /
                        TCP(sport=sport, dport=80, flags=flags, seq=seq) / payload)]

    def tcp_back(sport: int, flags: str, seq: int, payload: bytes = b"") -> list[Step]:
        return [net_step("vm1", IP(src="192.0.2.50", dst="10.0.0.2") /
                         TCP(sport=80, dport=sport, flags=flags, seq=seq) / payload)]

    def udp(i: int) -> list[Step]:
        return [vm_step("vm2", IP(src="10.0.0.3", dst="10.0.0.2") /
                        UDP(sport=7400, dport=7401) / f"u{i}".encode(), ("dtapvf_0",))]
    steps: list[Step] = []
    for c in (41000, 41001):
        steps += tcp("10.0.0.2", c, "S", 0) + udp(len(steps)) + tcp_back(c, "SA", 0) + \
            tcp("10.0.0.2", c, "A", 1)
    for i in range(3):
        for c in (41000, 41001):
            steps += tcp("10.0.0.2", c, "PA", 1 + i, b"get %d" % i) + udp(len(steps)) + \
                tcp_back(c, "PA", 1 + i, b"resp %d" % i)
    steps += tcp("10.0.0.2", 41000, "FA", 9) + tcp_back(41000, "FA", 9) + \
        tcp("10.0.0.2", 41000, "A", 10) + tcp("10.0.0.2", 41001, "R", 9) + udp(99)
    seen = steps_differential(services, steps)
    # each connection's rules once established: data both ways carried after the first
    assert delta(seen, "shapes", "vf_pf") == 2 and delta(seen, "shapes", "pf_vf") == 2
    # by rules: each connection's data after the first answer (3 out, 2 back), the UDP flow's
    # packets after its first (8), and the last ACK after the FINs (the FIN states are the
    # graph's, an ACK changes none: dpservice's states)
    assert delta(seen, "hits") == 2 * (3 + 2) + 8 + 1


def test_a_vms_new_mac_takes_hold_at_its_flows_next_packet(services):
    """The worker learns a VM's new MAC (its neighbour solicitation for the gateway): every
    rule is stale then, so the next packet of a flow a rule carried to the VM crosses the
    graph, which sends it to the new MAC, and the flow's rule is made anew."""
    new_mac = "52:54:00:00:00:99"

    def flow(tag: str) -> list[Step]:
        return [vm_step("vm2", IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=7600, dport=7601) /
                        f"{tag}{i}".encode(), ("dtapvf_0",)) for i in range(3)]

    def learn(mac: str) -> None:
        for svc in services.values():
            svc.tap("dtapvf_0").send(bytes(
                Ether(dst="33:33:ff:00:00:01", src=mac) /
                IPv6(src="fe80::2", dst="ff02::1:ff00:1", hlim=255) /
                ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr=mac)))
        for svc in services.values():
            deadline = time.monotonic() + 3
            while {p.name: p.vm_mac for p in svc.stats().ports}["dtapvf_0"] != mac:
                assert time.monotonic() < deadline, f"{mac} not learned"
                time.sleep(0.02)
            svc.tap("dtapvf_0").drain()  # the advertisement

    seen = steps_differential(services, flow("a"))
    assert delta(seen, "installs") == 1 and delta(seen, "hits") == 2
    learn(new_mac)
    try:
        seen = steps_differential(services, flow("b"))
        frames = run_steps(services["on"], flow("c"))
        assert all(Ether(raw).dst == new_mac for _, raw in frames)
        assert delta(seen, "installs") == 1 and delta(seen, "hits") == 2
    finally:
        learn(VMS["vm1"][4])
