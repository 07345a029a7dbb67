# SPDX-License-Identifier: Apache-2.0
"""ipip_encap: the outer headers a VM's packet gets on its way to the underlay.
ipip_decap: what an underlay address stands for (VNF table), the inner frame it leaves for
the VM and the metadata it writes; every other tunnel frame dropped under its reason."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import ARP, Dot1Q, Ether

from dplane import _firmware as fw
from nodeutil import (
    NEIGH_MAC,
    NOIF,
    NOIF_UNDERLAY,
    PF0,
    PF1,
    REMOTE,
    UNKNOWN_UNDERLAY,
    VM1,
    VM2,
    VM3,
    VM_MAC,
    VMS,
    VNF_ADDR,
    VNI,
    VNI2,
    from_underlay,
    from_vm,
    mac,
)

INNER4 = IP(src="10.0.0.2", dst="192.0.2.1", tos=0x10, ttl=63) / UDP(sport=1, dport=2) / b"x"
INNER6 = IPv6(src="fd00::2", dst="2001:db8::1", tc=0x10, hlim=63) / UDP(sport=1, dport=2)
# what the underlay brings VM1 (and VM3, which has the same addresses in another VNI)
TO_VM4 = IP(src="192.0.2.1", dst="10.0.0.2", tos=0x10, ttl=63) / UDP(sport=2, dport=1) / b"x"
TO_VM6 = IPv6(src="2001:db8::1", dst="fd00::2", tc=0x10, hlim=63) / UDP(sport=2, dport=1)
NEXT_HOP = "fc00:2::99"


@pytest.mark.parametrize("inner, nh", [(INNER4, 4), (INNER6, 41)], ids=["ipv4", "ipv6"])
@pytest.mark.parametrize("out_port", [PF0, PF1])
def test_encap(dp, inner, nh, out_port):
    """Ethernet from the PF to its underlay router; IPv6 from the sending interface's
    underlay address to the route's next hop, hop limit 64; the inner IP packet as it was."""
    result = dp.run("ipip_encap", from_vm(dp, VM1, inner), VM1, out_port=out_port,
                    tun_port=VM1, nh_ipv6=NEXT_HOP)
    assert result.path == [f"tx-{out_port}"]
    expected = (Ether(src=dp.port_mac[out_port], dst=NEIGH_MAC[out_port])
                / IPv6(src=VMS[VM1].underlay, dst=NEXT_HOP, nh=nh, hlim=64, tc=0, fl=0)
                / inner)
    assert result.frame == bytes(expected)


def test_encap_source_is_tunnel_port(dp):
    """The tunnel's source is the interface of the packet's tunnel port."""
    result = dp.run("ipip_encap", from_vm(dp, VM2, INNER4), VM2, out_port=PF0,
                    tun_port=VM3, nh_ipv6=REMOTE)
    assert result.pkt[IPv6].src == VMS[VM3].underlay


def test_encap_follows_neighbour(dp):
    """A new underlay router MAC is used from the next packet on."""
    try:
        dp.port_set_neigh_mac(PF0, mac("02:fe:00:00:00:aa"))
        result = dp.run("ipip_encap", from_vm(dp, VM1, INNER4), VM1, out_port=PF0,
                        tun_port=VM1, nh_ipv6=REMOTE)
        assert result.pkt.dst == "02:fe:00:00:00:aa"
    finally:
        dp.port_set_neigh_mac(PF0, mac(NEIGH_MAC[PF0]))
    result = dp.run("ipip_encap", from_vm(dp, VM1, INNER4), VM1, out_port=PF0,
                    tun_port=VM1, nh_ipv6=REMOTE)
    assert result.pkt.dst == NEIGH_MAC[PF0]


@pytest.mark.parametrize("frame, tun_port, edge", [
    (lambda dp: from_vm(dp, VM1, INNER4), NOIF, "ipip_encap_no_interface"),
    (lambda dp: from_vm(dp, VM1, ARP()), VM1, "ipip_encap_not_ip"),
    (lambda dp: bytes(from_vm(dp, VM1, INNER4))[:14], VM1, "ipip_encap_not_ip"),
])
def test_encap_drops(dp, frame, tun_port, edge):
    assert dp.edge("ipip_encap", frame(dp), VM1, out_port=PF0, tun_port=tun_port,
                   nh_ipv6=REMOTE) == edge


@pytest.mark.parametrize("port", [PF0, PF1])
@pytest.mark.parametrize("vm, inner", [
    (VM1, TO_VM4), (VM1, TO_VM6), (VM3, TO_VM4), (VM3, TO_VM6),
    (VM1, IP(src="192.0.2.1", dst="10.0.0.2") / TCP(sport=80, dport=1000, flags="SA"))])
def test_decap(dp, port, vm, inner):
    """To an interface's address: the VM's frame (from its VF to its MAC), its VNI, the VF
    as the way out and the tunnel port, the inner packet parsed."""
    frame = from_underlay(dp, VMS[vm].underlay, inner, port=port)
    result = dp.run("ipip_decap", frame, port)
    assert result.path == ["conntrack"]
    assert result.frame == bytes(Ether(src=dp.port_mac[vm], dst=VM_MAC[vm]) / inner)
    m = result.meta
    assert (m["vni"], m["vnf_type"], m["out_port"], m["tun_port"]) == (
        VMS[vm].vni, fw.VNF_INTERFACE_IP, vm, vm)
    ipv4 = isinstance(inner, IP)
    assert (m["l3_type"], m["l3_off"], m["l4_off"]) == (
        (2, 14, 34) if ipv4 else (3, 14, 54))


@pytest.mark.parametrize("vnf_type", sorted(VNF_ADDR))
def test_decap_vnf_types(dp, vnf_type):
    """Every VNF address of VM1's is decapsulated for VM1, with its type for conntrack's
    dispatch."""
    inner = TO_VM4 if vnf_type != fw.VNF_ALIAS_PFX else (  # into VM1's prefix 10.1.0.0/24
        IP(src="192.0.2.1", dst="10.1.0.77") / UDP(sport=2, dport=1))
    result = dp.run("ipip_decap", from_underlay(dp, VNF_ADDR[vnf_type], inner), PF0)
    assert result.path == ["conntrack"]
    assert (result.meta["vnf_type"], result.meta["out_port"], result.meta["vni"]) == (
        vnf_type, VM1, VNI)


def test_decap_trims_padding(dp):
    """Bytes after the tunnel's payload (Ethernet padding) are not the VM's."""
    small = IP(src="192.0.2.1", dst="10.0.0.2") / UDP(sport=53, dport=1000)
    frame = bytes(from_underlay(dp, VMS[VM1].underlay, small)) + b"\x00" * 20
    result = dp.run("ipip_decap", frame, PF0)
    assert result.path == ["conntrack"]
    assert result.frame == bytes(Ether(src=dp.port_mac[VM1], dst=VM_MAC[VM1]) / small)


def raw_tunnel(dp, payload: bytes, nh: int = 4, plen: int | None = None,
               dst: str = VMS[VM1].underlay) -> bytes:
    ip6 = IPv6(src=REMOTE, dst=dst, nh=nh, hlim=62)
    if plen is not None:
        ip6.plen = plen
    return bytes(Ether(src=NEIGH_MAC[PF0], dst=dp.port_mac[PF0]) / ip6 / payload)


@pytest.mark.parametrize("make, edge", [
    (lambda dp: from_underlay(dp, UNKNOWN_UNDERLAY, INNER4), "ipip_decap_unknown_underlay"),
    (lambda dp: from_underlay(dp, "fc00:1::2:0", INNER6), "ipip_decap_unknown_underlay"),
    (lambda dp: from_underlay(dp, NOIF_UNDERLAY, INNER4), "ipip_decap_no_interface"),
    (lambda dp: raw_tunnel(dp, b"\x45", plen=0), "ipip_decap_truncated"),
    (lambda dp: raw_tunnel(dp, bytes(INNER6), nh=4), "ipip_decap_inner_mismatch"),
    (lambda dp: raw_tunnel(dp, bytes(INNER4), nh=41), "ipip_decap_inner_mismatch"),
    (lambda dp: raw_tunnel(dp, bytes(IP(src="192.0.2.1", dst="10.0.0.2", proto=6)
                                     / (b"\x00" * 8))), "ipip_decap_bad_inner"),
    (lambda dp: raw_tunnel(dp, bytes(INNER4)[:19] + b"\x00"), "ipip_decap_bad_inner"),
])
def test_decap_drops_from_cls(dp, make, edge):
    """Tunnel frames cls hands over that decap refuses (a bad inner packet is found once
    the tunnel is off)."""
    frame = bytes(make(dp))
    result = dp.run("cls", frame, PF0, steps=4)
    assert result.path == ["ipip_decap", edge]
    if edge == "ipip_decap_bad_inner":
        assert result.frame[:14] == bytes(Ether(src=dp.port_mac[VM1], dst=VM_MAC[VM1],
                                                type=0x0800))
        assert result.frame[14:] == frame[14 + 40:]
    else:
        assert result.frame == frame


def test_decap_inner_checksum(dp):
    """The inner IPv4 header's checksum is checked once the tunnel is off (the NIC saw only
    the outer header)."""
    bad = IP(src="192.0.2.1", dst="10.0.0.2", chksum=0xbeef) / UDP(sport=2, dport=1)
    result = dp.run("cls", from_underlay(dp, VMS[VM1].underlay, bad), PF0, steps=4)
    assert result.path == ["ipip_decap", "ipip_decap_bad_inner_checksum"]
    result = dp.run("cls", from_underlay(dp, VMS[VM1].underlay, TO_VM4), PF0, steps=2)
    assert result.path == ["ipip_decap", "conntrack"]


@pytest.mark.parametrize("underlay, inner", [
    (VMS[VM1].underlay, INNER4),  # VM1's own packet, back to it
    (VMS[VM1].underlay, IP(src="192.0.2.1", dst="10.0.0.3") / UDP()),  # VM2's address
    (VMS[VM1].underlay, IPv6(src="2001:db8::1", dst="fd00::3") / UDP()),
    # VM1's prefix 10.1.0.0/24 (which has no route to VM1 here), through VM1's own address
    (VMS[VM1].underlay, IP(src="192.0.2.1", dst="10.1.0.1") / UDP()),
    (VNF_ADDR[fw.VNF_ALIAS_PFX], IP(src="192.0.2.1", dst="10.1.1.1") / UDP()),  # outside
    (VNF_ADDR[fw.VNF_ALIAS_PFX], IPv6(src="2001:db8::1", dst="fd00::3") / UDP()),
])
def test_decap_inner_destination_mismatch(dp, underlay, inner):
    """A tunnel carrying a packet for someone else than what its underlay address stands for
    is dropped once decapsulated (--underlay-check=enforce, the default)."""
    result = dp.run("cls", from_underlay(dp, underlay, inner), PF0, steps=4)
    assert result.path == ["ipip_decap", "ipip_decap_inner_mismatch"]
    assert result.frame[14:] == bytes(inner)


@pytest.mark.parametrize("make, edge", [
    (lambda dp: raw_tunnel(dp, bytes(UDP()), nh=17), "ipip_decap_not_tunnel"),
    (lambda dp: bytes(Ether(src=NEIGH_MAC[PF0], dst=dp.port_mac[PF0]) / Dot1Q(vlan=3)
                      / IPv6(src=REMOTE, dst=VMS[VM1].underlay) / INNER4),
     "ipip_decap_not_tunnel"),
    (lambda dp: raw_tunnel(dp, bytes(INNER4), plen=200), "ipip_decap_bad_length"),
])
def test_decap_defensive(dp, make, edge):
    """What cls never sends (not IP-in-IPv6, tagged, longer than the frame): decap checks
    again."""
    assert dp.edge("ipip_decap", make(dp), PF0) == edge


def test_decap_for_any_vm(dp):
    """VM2's address decapsulates for VM2, with VM2's MACs."""
    to_vm2 = IP(src="192.0.2.1", dst="10.0.0.3") / UDP(sport=2, dport=1)
    result = dp.run("ipip_decap", from_underlay(dp, VMS[VM2].underlay, to_vm2), PF1)
    assert (result.path, result.meta["out_port"], result.meta["vni"]) == (
        ["conntrack"], VM2, VNI)
    assert (result.pkt.src, result.pkt.dst) == (dp.port_mac[VM2], VM_MAC[VM2])
    assert VNI2 != VNI


@pytest.mark.parametrize("inner", [INNER4, INNER6], ids=["ipv4", "ipv6"])
def test_encap_full_size(dp, inner):
    """A VM's full 1500-byte packet: the whole tunnel frame (1554 bytes) comes back."""
    big = inner / (b"\xa5" * (1500 - len(inner)))
    assert len(big) == 1500
    result = dp.run("ipip_encap", from_vm(dp, VM1, big), VM1, out_port=PF0, tun_port=VM1,
                    nh_ipv6=REMOTE)
    assert result.path == [f"tx-{PF0}"]
    assert len(result.frame) == 14 + 40 + 1500
    assert result.frame[14 + 40:] == bytes(big)
