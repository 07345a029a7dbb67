# SPDX-License-Identifier: Apache-2.0
"""conntrack: every overlay packet keyed and tracked (flow, direction, TCP state), then sent
on: a VM's into the PREROUTE chain (the route lookups), the underlay's by the type of
underlay address it came through (the VNF dispatch); what cannot be tracked is dropped under
its reason."""
from __future__ import annotations

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, UDPerror
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, IPv6
from scapy.layers.l2 import ARP

from dplane import _firmware as fw
from nodeutil import NOIF, PF0, PF1, VM1, VM2, VM3, VNI, VNI2, from_vm

V4 = dict(src="10.0.0.2", dst="192.0.2.1")
V6 = dict(src="fd00::2", dst="2001:db8::1")
EGRESS_TYPES = (fw.VNF_INTERFACE_IP, fw.VNF_ALIAS_PFX, fw.VNF_LB_ALIAS_PFX)
UNHANDLED_TYPES = (fw.VNF_UNDEFINED,)


def run_underlay(dp, inner, vnf_type=fw.VNF_INTERFACE_IP, port=PF0, vni=VNI):
    """conntrack on what ipip_decap hands on: the inner packet for VM1, with the metadata
    decap writes."""
    return dp.run("conntrack", from_vm(dp, VM1, inner), port, vni=vni, vnf_type=vnf_type,
                  out_port=VM1, tun_port=VM1)


@pytest.mark.parametrize("l3, edge", [
    (IP(**V4) / UDP(sport=1000, dport=53), "dnat"),
    (IP(**V4) / TCP(sport=1000, dport=80, flags="S"), "dnat"),
    (IP(**V4) / ICMP(type=8, id=7), "dnat"),
    (IPv6(**V6) / UDP(sport=1000, dport=53), "dnat"),
    (IPv6(**V6) / TCP(sport=1000, dport=80, flags="S"), "dnat"),
    (IPv6(**V6) / ICMPv6EchoRequest(id=7), "dnat"),
], ids=lambda v: v if isinstance(v, str) else v.summary())
def test_from_vm(dp, l3, edge):
    """A VM's packet: its VNI and tunnel port from the interface, a new flow in the
    original direction, into the PREROUTE chain of its family."""
    frame = from_vm(dp, VM1, l3)
    result = dp.run("conntrack", frame, VM1, vni=4242, tun_port=VM3, vnf_type=fw.VNF_NAT)
    assert result.path == [edge]
    assert result.frame == bytes(frame)
    m = result.meta
    assert (m["vni"], m["tun_port"], m["vnf_type"]) == (VNI, VM1, fw.VNF_UNDEFINED)
    assert (m["has_flow"], m["flow_dir"]) == (True, 0)
    assert dp.ct_count() == 1
    (flow,) = dp.ct_list()
    assert flow["key"] == fw.flow_key_build(bytes(frame), VNI)[1]
    assert (flow["in_port"], flow["packets"]) == (VM1, (1, 0))


def test_directions(dp):
    """VM1 -> VM2 opens a flow; VM2's answer is its reply direction, with the same hash;
    another VNI's identical packet is another flow."""
    there = from_vm(dp, VM1, IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=1000, dport=2000))
    back = from_vm(dp, VM2, IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=2000, dport=1000))
    first = dp.run("conntrack", there, VM1).meta
    again = dp.run("conntrack", there, VM1).meta
    reply = dp.run("conntrack", back, VM2).meta
    assert (first["flow_dir"], again["flow_dir"], reply["flow_dir"]) == (0, 0, 1)
    assert first["flow_hash"] == again["flow_hash"] == reply["flow_hash"]
    (flow,) = dp.ct_list()
    assert flow["packets"] == (2, 1)
    # VM3 has VM1's addresses in VNI 200: its own flow
    other = from_vm(dp, VM3, IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=1000, dport=2000))
    m = dp.run("conntrack", other, VM3).meta
    assert (m["vni"], m["flow_dir"]) == (VNI2, 0)
    assert m["flow_hash"] != first["flow_hash"]
    assert dp.ct_count() == 2


def test_underlay_reply(dp):
    """The underlay's answer to a VM's flow (decapsulated, for the interface's address)
    is that flow's reply; an ICMP error quoting the VM's packet is too."""
    out = dp.run("conntrack", from_vm(dp, VM1, IP(**V4) / UDP(sport=1000, dport=53)), VM1)
    answer = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=53, dport=1000)
    back = run_underlay(dp, answer)
    assert back.path == ["firewall"]
    assert (back.meta["flow_dir"], back.meta["flow_hash"]) == (1, out.meta["flow_hash"])
    error = (IP(src="192.0.2.1", dst="10.0.0.2") / ICMP(type=3, code=3)
             / IPerror(**V4) / UDPerror(sport=1000, dport=53))
    icmp = run_underlay(dp, error)
    assert icmp.path == ["firewall"]
    assert (icmp.meta["flow_dir"], icmp.meta["flow_hash"]) == (1, out.meta["flow_hash"])
    assert dp.ct_list()[0]["packets"] == (1, 2)
    assert dp.ct_count() == 1


@pytest.mark.parametrize("vnf_type", EGRESS_TYPES)
@pytest.mark.parametrize("port", [PF0, PF1])
def test_underlay_dispatch_egress(dp, vnf_type, port):
    """An interface's or alias prefix's address: into the EGRESS chain (output), both
    families; the metadata decap wrote stays."""
    for inner in (IP(src="192.0.2.1", dst="10.0.0.2") / TCP(flags="S"),
                  IPv6(src="2001:db8::1", dst="fd00::2") / UDP()):
        result = run_underlay(dp, inner, vnf_type, port)
        assert result.path == ["firewall"]
        m = result.meta
        assert (m["vni"], m["vnf_type"], m["out_port"], m["tun_port"]) == (
            VNI, vnf_type, VM1, VM1)
        assert (m["has_flow"], m["flow_dir"]) == (True, 0)
    assert dp.ct_list()[0]["in_port"] == port


@pytest.mark.parametrize("vnf_type", UNHANDLED_TYPES + (7, 200))
def test_underlay_dispatch_unhandled(dp, vnf_type):
    """Undefined or unknown types have no handler: dropped, after tracking."""
    for inner in (IP(src="192.0.2.1", dst="10.0.0.2") / UDP(),
                  IPv6(src="2001:db8::1", dst="fd00::2") / UDP()):
        assert run_underlay(dp, inner, vnf_type).path == ["conntrack_vnf_unsupported"]


def test_underlay_dispatch_lb(dp):
    for inner in (IP(src="192.0.2.1", dst="10.0.0.2") / UDP(),
                  IPv6(src="2001:db8::1", dst="fd00::2") / UDP()):
        assert run_underlay(dp, inner, fw.VNF_LB).path == ["lb"]


@pytest.mark.parametrize("vnf_type", (fw.VNF_VIP, fw.VNF_NAT))
def test_underlay_dispatch_nat(dp, vnf_type):
    """Through a VIP's or a NAT's underlay address: to dnat."""
    assert run_underlay(dp, IP(src="192.0.2.1", dst="10.0.0.2") / UDP(), vnf_type).path == \
        ["dnat"]


def test_tcp_state(dp):
    """The handshake moves the flow to established (and its long timeout)."""
    syn = from_vm(dp, VM1, IP(**V4) / TCP(sport=1000, dport=80, flags="S"))
    synack = IP(src="192.0.2.1", dst="10.0.0.2") / TCP(sport=80, dport=1000, flags="SA")
    ack = from_vm(dp, VM1, IP(**V4) / TCP(sport=1000, dport=80, flags="A"))
    states = []
    dp.run("conntrack", syn, VM1)
    states.append(dp.ct_list()[0]["tcp_state"])
    run_underlay(dp, synack)
    states.append(dp.ct_list()[0]["tcp_state"])
    dp.run("conntrack", ack, VM1)
    (flow,) = dp.ct_list()
    states.append(flow["tcp_state"])
    assert states == ["new_syn", "new_synack", "established"]
    assert flow["timeout_s"] == fw.CT_TCP_ESTABLISHED_TIMEOUT


def test_fragments_untracked(dp):
    """Fragments go on without a flow; all fragments of a datagram share the hash that picks
    their PF (that of the key without ports)."""
    first = IP(src="10.0.0.2", dst="192.0.2.1", id=5, flags="MF", proto=17) / (b"\x00" * 16)
    later = IP(src="10.0.0.2", dst="192.0.2.1", id=5, frag=2, proto=17) / (b"\x00" * 16)
    other = IP(src="10.0.0.2", dst="192.0.2.2", id=5, frag=2, proto=17) / (b"\x00" * 16)
    metas = []
    for frag in (first, later, other):
        result = dp.run("conntrack", from_vm(dp, VM1, frag), VM1)
        assert result.path == ["dnat"]
        metas.append(result.meta)
    assert [m["has_flow"] for m in metas] == [False] * 3
    assert metas[0]["flow_hash"] == metas[1]["flow_hash"] != metas[2]["flow_hash"]
    assert dp.ct_count() == 0


@pytest.mark.parametrize("l3, edge", [
    (IP(**V4, proto=47) / (b"\x00" * 8), "conntrack_unsupported_proto"),       # GRE
    (IP(**V4, proto=132) / (b"\x00" * 12), "conntrack_unsupported_proto"),     # SCTP
    (IPv6(**V6, nh=1) / ICMP(), "conntrack_unsupported_proto"),                # ICMP in v6
    (IP(**V4, proto=58) / ICMPv6EchoReply(), "conntrack_unsupported_proto"),   # ICMPv6 in v4
    (IP(**V4) / ICMP(type=13), "conntrack_icmp_untracked"),                    # timestamp
    (IP(**V4) / ICMP(type=11), "conntrack_bad_icmp_error"),     # time exceeded, nothing quoted
    (IP(**V4) / ICMP(type=3, code=1) / IPerror(**V4) / UDPerror(), "conntrack_icmp_untracked"),
    (IP(**V4) / ICMP(type=3, code=3) / IPerror(**V4) / ICMP(), "conntrack_bad_icmp_error"),
    (IP(**V4) / ICMP(type=3, code=3) / (b"\x45" + bytes(10)), "conntrack_bad_icmp_error"),
    (IP(**V4) / ICMP(type=3, code=4) / (b"\x60" + bytes(27)), "conntrack_bad_icmp_error"),
    (ARP(op=1, pdst="169.254.0.1"), "conntrack_not_ip"),
], ids=lambda v: v if isinstance(v, str) else v.summary())
def test_untrackable(dp, l3, edge):
    assert dp.edge("conntrack", from_vm(dp, VM1, l3), VM1) == edge
    assert dp.ct_count() == 0


def test_no_interface(dp):
    frame = from_vm(dp, NOIF, IP(**V4) / UDP())
    assert dp.edge("conntrack", frame, NOIF) == "conntrack_no_interface"
    assert dp.ct_count() == 0


def test_table_full(plain):
    """8 flows fit the plain dataplane's table; the 9th is refused, known flows (both
    directions) go on, and a flush makes room again."""
    def udp(sport: int):
        return from_vm(plain, VM1, IP(**V4) / UDP(sport=sport, dport=53))

    for sport in range(1000, 1008):
        assert plain.edge("conntrack", udp(sport), VM1) == "dnat"
    assert plain.ct_count() == 8
    assert plain.edge("conntrack", udp(2000), VM1) == "conntrack_table_full"
    assert plain.edge("conntrack", udp(1003), VM1) == "dnat"
    answer = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=53, dport=1005)
    reply = run_underlay(plain, answer)
    assert (reply.path, reply.meta["flow_dir"]) == (["firewall"], 1)
    # fragments need no flow
    frag = from_vm(plain, VM1, IP(**V4, frag=2, proto=17) / (b"\x00" * 8))
    assert plain.edge("conntrack", frag, VM1) == "dnat"
    assert plain.drop_counters()["conntrack_table_full"] == 0  # node_test counts nothing
    assert plain.ct_flush_all() == 8
    assert plain.edge("conntrack", udp(2000), VM1) == "dnat"
