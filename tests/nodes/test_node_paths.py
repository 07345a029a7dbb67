# SPDX-License-Identifier: Apache-2.0
"""Whole paths through the graph from cls (max_steps): the nodes a packet visits and the
frame it leaves with, its conntrack flow travelling along."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

from dplane import _firmware as fw
from nodeutil import (
    NEIGH_MAC,
    PF0,
    PF1,
    REMOTE,
    VM1,
    VM2,
    VM3,
    VM_MAC,
    VMS,
    VNF_ADDR,
    VNI2,
    from_underlay,
    from_vm,
)

STEPS = fw.NODE_TEST_MAX_STEPS
OUT4 = IP(src="10.0.0.2", dst="192.0.2.1") / TCP(sport=1000, dport=80, flags="S")
BACK4 = IP(src="192.0.2.1", dst="10.0.0.2") / TCP(sport=80, dport=1000, flags="SA")
OUT6 = IPv6(src="fd00::2", dst="2001:db8::1") / UDP(sport=1000, dport=53)
BACK6 = IPv6(src="2001:db8::1", dst="fd00::2") / UDP(sport=53, dport=1000)


@pytest.mark.parametrize("out, back, lookup, nh", [
    (OUT4, BACK4, "ipv4_lookup", 4), (OUT6, BACK6, "ipv6_lookup", 41)], ids=["ipv4", "ipv6"])
def test_vm_to_underlay_and_back(dp, out, back, lookup, nh):
    """VM1 to the internet: tunnelled from its underlay address to the default route's next
    hop out of PF0; the answer to its address comes back to it as the flow's reply."""
    there = dp.run("cls", from_vm(dp, VM1, out), VM1, steps=STEPS)
    assert there.path == ["conntrack", "dnat", lookup, "firewall", "snat", "output",
                          "ipip_encap", f"tx-{PF0}"]
    assert there.frame == bytes(Ether(src=dp.port_mac[PF0], dst=NEIGH_MAC[PF0])
                                / IPv6(src=VMS[VM1].underlay, dst=REMOTE, nh=nh, hlim=64)
                                / out)
    assert (there.meta["has_flow"], there.meta["flow_dir"]) == (True, 0)

    answer = from_underlay(dp, VMS[VM1].underlay, back)
    home = dp.run("cls", answer, PF0, steps=STEPS)
    assert home.path == ["ipip_decap", "conntrack", "firewall", "snat", "output", f"tx-{VM1}"]
    assert home.frame == bytes(Ether(src=dp.port_mac[VM1], dst=VM_MAC[VM1]) / back)
    assert (home.meta["flow_dir"], home.meta["flow_hash"]) == (1, there.meta["flow_hash"])
    assert dp.ct_count() == 1


@pytest.mark.parametrize("l3, lookup", [
    (IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=7, dport=7), "ipv4_lookup"),
    (IPv6(src="fd00::2", dst="fd00::3") / UDP(sport=7, dport=7), "ipv6_lookup")],
    ids=["ipv4", "ipv6"])
def test_vm_to_vm(dp, l3, lookup):
    """VM1 to VM2 on the same host: out of VM2's VF, from that VF to VM2's MAC; VM2's
    answer takes the way back as the flow's reply."""
    there = dp.run("cls", from_vm(dp, VM1, l3), VM1, steps=STEPS)
    assert there.path == ["conntrack", "dnat", lookup, "firewall", "snat", "output", f"tx-{VM2}"]
    assert there.frame == bytes(Ether(src=dp.port_mac[VM2], dst=VM_MAC[VM2]) / l3)
    back_l3 = l3.copy()
    back_l3.src, back_l3.dst = l3.dst, l3.src
    back = dp.run("cls", from_vm(dp, VM2, back_l3), VM2, steps=STEPS)
    assert back.path == ["conntrack", "dnat", lookup, "firewall", "snat", "output", f"tx-{VM1}"]
    assert back.pkt.dst == VM_MAC[VM1]
    assert (back.meta["flow_dir"], back.meta["flow_hash"]) == (1, there.meta["flow_hash"])


def test_alias_prefix_from_underlay(dp):
    """To VM1's alias prefix address: delivered to VM1 like its interface's."""
    inner = IP(src="192.0.2.1", dst="10.1.0.7") / UDP(sport=1, dport=2)
    result = dp.run("cls", from_underlay(dp, VNF_ADDR[fw.VNF_ALIAS_PFX], inner), PF1,
                    steps=STEPS)
    assert result.path == ["ipip_decap", "conntrack", "firewall", "snat", "output", f"tx-{VM1}"]
    assert result.frame == bytes(Ether(src=dp.port_mac[VM1], dst=VM_MAC[VM1]) / inner)


def test_lb_without_a_load_balancer(dp):
    """To an LB's underlay address, for an address no load balancer has: dropped by lb."""
    inner = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=1, dport=2)
    result = dp.run("cls", from_underlay(dp, VNF_ADDR[fw.VNF_LB], inner), PF0, steps=STEPS)
    assert result.path == ["ipip_decap", "conntrack", "lb", "lb_unknown_ip"]


def test_lb_prefix_takes_only_its_address(dp):
    """A tunnel to VM1's LB prefix address must carry the load balancer's address: anything
    else is an injection (VM1's own address is VM1's, however the sender chose the tunnel)."""
    inner = IP(src="192.0.2.1", dst="203.0.113.81") / UDP(sport=1, dport=2)
    result = dp.run("cls", from_underlay(dp, VNF_ADDR[fw.VNF_LB_ALIAS_PFX], inner), PF0,
                    steps=STEPS)
    assert result.path == ["ipip_decap", "ipip_decap_inner_mismatch"]


def test_lb_prefix_from_underlay(dp):
    """To VM1's LB prefix address (another host's load balancer chose it): delivered to VM1
    unchanged, the LB's address as destination."""
    inner = IP(src="192.0.2.1", dst="203.0.113.80") / UDP(sport=1, dport=2)
    result = dp.run("cls", from_underlay(dp, VNF_ADDR[fw.VNF_LB_ALIAS_PFX], inner), PF0,
                    steps=STEPS)
    assert result.path == ["ipip_decap", "conntrack", "firewall", "snat", "output", f"tx-{VM1}"]
    assert result.frame == bytes(Ether(src=dp.port_mac[VM1], dst=VM_MAC[VM1]) / inner)


@pytest.mark.parametrize("vnf_type, drop", [(fw.VNF_VIP, "dnat_unknown_ip"),
                                            (fw.VNF_NAT, "dnat_no_flow")])
def test_vip_nat_underlay_without_translation(dp, vnf_type, drop):
    """A VIP's underlay address, but no VIP for the packet's destination; a NAT's, but no
    flow the packet answers: dropped by dnat."""
    inner = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=1, dport=2)
    result = dp.run("cls", from_underlay(dp, VNF_ADDR[vnf_type], inner), PF0, steps=STEPS)
    assert result.path == ["ipip_decap", "conntrack", "dnat", drop]


def test_dead_ends(dp):
    """A VNI without a default route; an underlay address nobody has."""
    result = dp.run("cls", from_vm(dp, VM3, OUT4), VM3, steps=STEPS)
    assert result.path == ["conntrack", "dnat", "ipv4_lookup", "ipv4_lookup_no_route"]
    assert result.meta["vni"] == VNI2
    result = dp.run("cls", from_underlay(dp, "fc00:1::ff", BACK4), PF0, steps=STEPS)
    assert result.path == ["ipip_decap", "ipip_decap_unknown_underlay"]


def test_wcmp_paths(plain):
    """--wcmp 50: VM1's IPv4 flows leave out of both PFs, each from that PF's MAC to its
    router; a flow keeps its PF."""
    seen = {}
    for sport in range(1000, 1008):
        l3 = IP(src="10.0.0.2", dst="192.0.2.1") / UDP(sport=sport, dport=53)
        result = plain.run("cls", from_vm(plain, VM1, l3), VM1, steps=STEPS)
        tx = result.path[-1]
        assert result.path[:-1] == ["conntrack", "dnat", "ipv4_lookup", "firewall", "snat",
                                    "output", "ipip_encap"]
        port = PF0 if result.meta["flow_hash"] % 10 < 5 else PF1
        assert tx == f"tx-{port}"
        assert (result.pkt.src, result.pkt.dst) == (plain.port_mac[port], NEIGH_MAC[port])
        again = plain.run("cls", from_vm(plain, VM1, l3), VM1, steps=STEPS)
        assert again.path[-1] == tx
        seen[port] = seen.get(port, 0) + 1
    assert set(seen) == {PF0, PF1}
