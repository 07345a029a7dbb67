# SPDX-License-Identifier: Apache-2.0
"""IPv4 header checksums are verified where packets enter: a VM's packet with a wrong one
is dropped as cls_bad_ipv4_checksum (net_tap gives the port's verdict, rx offload), a
tunnel's inner packet as ipip_decap_bad_inner_checksum (summed in software); correct ones,
options included, pass. dpservice forwards them all."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP, IPOption_Router_Alert
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from dplane.proto import dpdk_pb2 as pb

VM1_MAC = "52:54:00:00:00:01"


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        svc.underlays = {}
        for vm, device, ipv4 in (("vm1", "net_tap2", "10.0.0.2"), ("vm2", "net_tap3", "10.0.0.3")):
            reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
                interface_id=vm.encode(), vni=100, device_name=device,
                ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
                ipv6_config=pb.IpConfig(primary_address=b"::")), timeout=5)
            assert reply.status.code == 0
            svc.underlays[vm] = reply.underlay_route.decode()
        for _ in range(30):  # until vm2's TAP takes frames (its port has just started)
            if from_vm1(svc, IP(src="10.0.0.2", dst="10.0.0.3") / UDP() / Raw(b"warm-up")):
                break
        yield svc


def arrived(svc, tap: str, marker: bytes) -> bool:
    while (raw := svc.tap(tap).recv_raw(0.4)) is not None:
        if marker in raw:
            return True
    return False


def from_vm1(svc, pkt) -> bool:
    svc.tap("dtapvf_0").send(Ether(src=VM1_MAC, dst=harness.VF_MAC.format(0)) / pkt)
    return arrived(svc, "dtapvf_1", bytes(pkt[Raw]))


@pytest.mark.parametrize("chksum, options, good", [
    (None, [], True), (None, [IPOption_Router_Alert()], True),
    (0x0000, [], False), (0xffff, [], False), ("off-by-one", [], False),
    ("off-by-one", [IPOption_Router_Alert()], False)])
def test_from_a_vm(svc, chksum, options, good):
    pkt = IP(src="10.0.0.2", dst="10.0.0.3", options=options) / UDP(sport=9, dport=9) / \
        Raw(f"ck-{chksum}-{len(options)}".encode())
    if chksum == "off-by-one":
        pkt = IP(bytes(pkt))
        pkt.chksum = (pkt.chksum + 1) & 0xffff
    elif chksum is not None:
        pkt.chksum = chksum
    drops = svc.drops()["cls_bad_ipv4_checksum"]
    assert from_vm1(svc, pkt) is good
    assert svc.drops()["cls_bad_ipv4_checksum"] == drops + (not good)


@pytest.mark.parametrize("good", [True, False])
def test_inside_a_tunnel(svc, good):
    inner = IP(src="198.51.100.1", dst="10.0.0.2") / UDP(sport=9, dport=9) / \
        Raw(f"tunnel-{good}".encode())
    if not good:
        inner.chksum = 0x4242
    drops = svc.drops()["ipip_decap_bad_inner_checksum"]
    svc.tap("dtap0").send(Ether(src="02:00:00:00:00:fe", dst=harness.PF_MACS[0]) /
                          IPv6(src="fc00:2::1", dst=svc.underlays["vm1"], nh=4) / inner)
    assert arrived(svc, "dtapvf_0", bytes(inner[Raw])) is good
    assert svc.drops()["ipip_decap_bad_inner_checksum"] == drops + (not good)
