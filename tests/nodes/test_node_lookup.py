# SPDX-License-Identifier: Apache-2.0
"""ipv4_lookup / ipv6_lookup: the route of a VM's packet in its VNI, applied to the packet
(a VM on this host: its VF's MACs in the frame; the underlay: a PF and the next hop), then
the EGRESS chain (output). And output: a VF's tx, or ipip_encap for a PF."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Ether

from nodeutil import (
    LEARN,
    MISSING_PORT,
    NO_VNI,
    NOIF,
    PF0,
    PF1,
    REMOTE,
    VM1,
    VM2,
    VM3,
    VM_MAC,
    VNI,
    VNI2,
    from_vm,
    ip,
    reattach,
    teach_mac,
)

FAMILIES = {
    "ipv4_lookup": (lambda dst: IP(src="10.0.0.2", dst=dst) / UDP(), 32,
                    {"vm2": "10.0.0.3", "vm1": "10.0.0.2", "far": "192.0.2.1",
                     "missing": "10.9.1.1"}),
    "ipv6_lookup": (lambda dst: IPv6(src="fd00::2", dst=dst) / UDP(), 128,
                    {"vm2": "fd00::3", "vm1": "fd00::2", "far": "2001:db8::1",
                     "missing": "fd09::1"}),
}
NODES = list(FAMILIES)


def packet(node, dst_name):
    make, _, addresses = FAMILIES[node]
    return make(addresses[dst_name])


@pytest.mark.parametrize("node", NODES)
def test_to_vm_on_this_host(dp, node):
    """To another VM: out of its VF, the frame readdressed from that VF to that VM."""
    frame = from_vm(dp, VM1, packet(node, "vm2"))
    result = dp.run(node, frame, VM1, vni=VNI, flow_hash=3)
    assert result.path == ["firewall"]
    assert (result.meta["out_port"], result.meta["route_depth"]) == (VM2, FAMILIES[node][1])
    expected = Ether(src=dp.port_mac[VM2], dst=VM_MAC[VM2]) / packet(node, "vm2")
    assert result.frame == bytes(expected)


@pytest.mark.parametrize("node", NODES)
def test_vni_decides(dp, node):
    """VM1's address in VNI 200 is VM3's."""
    result = dp.run(node, from_vm(dp, VM2, packet(node, "vm1")), VM2, vni=VNI2)
    assert (result.path, result.meta["out_port"]) == (["firewall"], VM3)
    assert result.pkt.dst == VM_MAC[VM3]
    result = dp.run(node, from_vm(dp, VM2, packet(node, "vm1")), VM2, vni=VNI)
    assert (result.path, result.meta["out_port"]) == (["firewall"], VM1)


@pytest.mark.parametrize("node", NODES)
def test_learned_mac_used(dp, node):
    """The destination MAC is the VM's as learned (LEARN's, taught a new one)."""
    make, _, _ = FAMILIES[node]
    dst = "10.0.0.6" if node == "ipv4_lookup" else "fd00::6"
    new_mac = "02:00:00:00:dd:06"
    try:
        teach_mac(dp, reattach(dp, LEARN), new_mac)
        result = dp.run(node, from_vm(dp, VM1, make(dst)), VM1, vni=VNI)
        assert result.meta["out_port"] == LEARN
        assert (result.pkt.src, result.pkt.dst) == (dp.port_mac[LEARN], new_mac)
    finally:
        reattach(dp, LEARN, learn=True)


@pytest.mark.parametrize("node", NODES)
def test_to_underlay(dp, node):
    """The default route: PF0 and its next hop; the frame is not touched (encap does it)."""
    frame = from_vm(dp, VM1, packet(node, "far"))
    result = dp.run(node, frame, VM1, vni=VNI, tun_port=VM1)
    assert result.path == ["firewall"]
    m = result.meta
    assert (m["out_port"], m["route_depth"], m["nh_ipv6"]) == (PF0, 0, ip(REMOTE))
    assert result.frame == bytes(frame)


@pytest.mark.parametrize("node, edge", [(n, f"{n}_no_vni") for n in NODES])
def test_no_vni(dp, node, edge):
    assert dp.edge(node, from_vm(dp, VM1, packet(node, "far")), VM1, vni=NO_VNI) == edge


@pytest.mark.parametrize("node", NODES)
def test_no_route(dp, node):
    """VNI 200 has no default route: only its VM's addresses are reachable."""
    assert dp.edge(node, from_vm(dp, VM3, packet(node, "far")), VM3,
                   vni=VNI2) == f"{node}_no_route"
    assert dp.edge(node, from_vm(dp, VM3, packet(node, "vm2")), VM3,
                   vni=VNI2) == f"{node}_no_route"


@pytest.mark.parametrize("node", NODES)
def test_bad_nexthop(dp, node):
    """A route to a port that is not there leads nowhere."""
    frame = from_vm(dp, VM1, packet(node, "missing"))
    result = dp.run(node, frame, VM1, vni=VNI)
    assert result.path == [f"{node}_bad_nexthop"]
    assert result.frame == bytes(frame)
    assert MISSING_PORT not in dp.port_mac


def test_wcmp(plain):
    """--wcmp 50: IPv4 to the underlay takes PF0 for flow hashes 0-4 (mod 10), PF1 for
    5-9; IPv6 always takes the route's PF."""
    v4 = from_vm(plain, VM1, packet("ipv4_lookup", "far"))
    v6 = from_vm(plain, VM1, packet("ipv6_lookup", "far"))
    ports4 = [plain.run("ipv4_lookup", v4, VM1, vni=VNI, flow_hash=h).meta["out_port"]
              for h in range(20)]
    assert ports4 == ([PF0] * 5 + [PF1] * 5) * 2
    ports6 = {plain.run("ipv6_lookup", v6, VM1, vni=VNI, flow_hash=h).meta["out_port"]
              for h in range(20)}
    assert ports6 == {PF0}


def test_no_wcmp(dp):
    """Without --wcmp everything IPv4 takes PF0."""
    v4 = from_vm(dp, VM1, packet("ipv4_lookup", "far"))
    assert {dp.run("ipv4_lookup", v4, VM1, vni=VNI, flow_hash=h).meta["out_port"]
            for h in range(10)} == {PF0}


@pytest.mark.parametrize("out_port, edge", [
    (VM1, f"tx-{VM1}"), (VM2, f"tx-{VM2}"), (VM3, f"tx-{VM3}"), (NOIF, f"tx-{NOIF}"),
    (PF0, "ipip_encap"), (PF1, "ipip_encap")])
def test_output(dp, out_port, edge):
    """The end of EGRESS: the VF as it is, or into the tunnel; the frame untouched."""
    for frame in (from_vm(dp, VM1, packet("ipv4_lookup", "vm2")),
                  from_vm(dp, VM1, packet("ipv6_lookup", "vm2")),
                  from_vm(dp, VM1, ARP())):
        result = dp.run("output", frame, VM1, out_port=out_port)
        assert result.path == [edge]
        assert result.frame == bytes(frame)


def test_wcmp_link_down(plain):
    """A PF whose link is down gives its share to the other; IPv6 keeps the route's PF."""
    v4 = from_vm(plain, VM1, packet("ipv4_lookup", "far"))
    assert plain.port_link_update(PF0) and plain.port_link_update(PF1)
    try:
        plain.port_stop(PF1)
        assert not plain.port_link_update(PF1)
        assert {plain.run("ipv4_lookup", v4, VM1, vni=VNI, flow_hash=h).meta["out_port"]
                for h in range(10)} == {PF0}
        plain.port_start(PF1)
        plain.port_stop(PF0)
        assert plain.port_link_update(PF1) and not plain.port_link_update(PF0)
        assert {plain.run("ipv4_lookup", v4, VM1, vni=VNI, flow_hash=h).meta["out_port"]
                for h in range(10)} == {PF1}
        v6 = from_vm(plain, VM1, packet("ipv6_lookup", "far"))
        assert plain.run("ipv6_lookup", v6, VM1, vni=VNI).meta["out_port"] == PF0
    finally:
        plain.port_start(PF0)
        plain.port_start(PF1)
        assert plain.port_link_update(PF0) and plain.port_link_update(PF1)
