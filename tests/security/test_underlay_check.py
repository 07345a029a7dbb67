# SPDX-License-Identifier: Apache-2.0
"""A tunnel from the underlay carries a packet for the VM its outer destination stands for, or
none: through an interface's or an alias prefix's underlay address only packets for that
VM's addresses (its own, or one whose route leads to its VF: its prefixes). Anything else
(another VM of this host, another tenant, an address nobody has) is dropped as
ipip_decap_inner_mismatch (--underlay-check=enforce, the default) or delivered and counted
(audit)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2"),
       "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3")}
REMOTE_UNDERLAY = "fc00:2::1"
ROUTER_MAC = "02:00:00:00:00:fe"


@pytest.fixture(scope="module", params=["enforce", "audit"])
def svc(request) -> Iterator[harness.Service]:
    opts = [] if request.param == "enforce" else ["--underlay-check", "audit"]
    with harness.running_service(opts=opts, telemetry=True) as svc:
        svc.mode = request.param
        svc.underlays = {}
        for vm, (device, _, ipv4, ipv6) in VMS.items():
            reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
                interface_id=vm.encode(), vni=100, device_name=device,
                ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
                ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
            assert reply.status.code == 0
            svc.underlays[vm] = reply.underlay_route.decode()
        reply = svc.api.CreatePrefix(pb.CreatePrefixRequest(
            interface_id=b"vm1", prefix=pb.Prefix(ip=pb.IpAddress(
                ipver=pb.IPV4, address=b"192.168.50.0"), length=24)), timeout=5)
        assert reply.status.code == 0
        svc.underlays["prefix"] = reply.underlay_route.decode()
        for _ in range(30):  # until the VF's TAP takes frames (its port has just started)
            tunnel(svc, "vm1", IP(src="198.51.100.9", dst="10.0.0.2") / UDP() / b"warm-up")
            if delivered(svc, "vm1", b"warm-up"):
                break
        with TelemetryClient(socket_path(svc.prefix)) as client:
            svc.telemetry = client
            yield svc


def tunnel(svc, to: str, inner) -> None:
    svc.tap("dtap0").send(Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                          IPv6(src=REMOTE_UNDERLAY, dst=svc.underlays[to],
                               nh=41 if IPv6 in inner else 4) / inner)


def delivered(svc, vm: str, marker: bytes) -> bool:
    tap = svc.tap(VMS[vm][1])
    while (raw := tap.recv_raw(0.4)) is not None:
        if marker in raw:
            return True
    return False


CASES = [  # (underlay of, inner destination, for whom it is)
    ("vm1", "10.0.0.2", True), ("vm1", "fd00::2", True),
    ("vm1", "192.168.50.7", True),    # vm1's prefix, through vm1's own underlay address
    ("vm1", "10.0.0.3", False),       # vm2's address, through vm1's underlay address
    ("vm1", "fd00::3", False),
    ("vm1", "10.9.9.9", False),       # nobody's
    ("vm1", "8.8.8.8", False),        # the internet's
    ("prefix", "192.168.50.7", True), ("prefix", "192.168.50.255", True),
    ("prefix", "10.0.0.2", True),     # vm1's own address, through its prefix's
    ("prefix", "192.168.51.1", False), ("prefix", "10.0.0.3", False),
    ("prefix", "fd00::3", False),
]


@pytest.mark.parametrize("to, dst, belongs", CASES)
def test_inner_destination(svc, to, dst, belongs):
    checks0, drops0 = svc.telemetry.query("/dplane/checks"), svc.drops()
    marker = f"ul-{to}-{dst}".encode()
    src = "2001:db8::9" if ":" in dst else "198.51.100.9"
    l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
    tunnel(svc, to, l3 / UDP(sport=5353, dport=5353) / Raw(marker))
    # delivered to the VM behind the underlay address, when it is to be delivered at all
    assert delivered(svc, "vm1", marker) is (belongs or svc.mode == "audit")
    checks, drops = svc.telemetry.query("/dplane/checks"), svc.drops()
    mismatch = drops["ipip_decap_inner_mismatch"] - drops0["ipip_decap_inner_mismatch"]
    audited = checks["underlay_mismatch_audited"] - checks0["underlay_mismatch_audited"]
    assert checks["underlay_check"] == svc.mode
    if belongs:
        assert (mismatch, audited) == (0, 0)
    elif svc.mode == "enforce":
        assert (mismatch, audited) == (1, 0)
    else:
        assert (mismatch, audited) == (0, 1)
