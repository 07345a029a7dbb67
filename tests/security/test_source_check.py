# SPDX-License-Identifier: Apache-2.0
"""A VM cannot send as someone else: a packet from a VF whose source is not the VM's (its
interface's address, an address of its alias prefix, an IPv6 link-local one) is a spoof,
counted per interface (--source-check=audit, the default) and, enforcing, dropped before it
creates a flow. DHCP from 0.0.0.0 is answered whatever the mode."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from dplane.telemetry_client import TelemetryClient, socket_path

VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2", "52:54:00:00:00:01"),
       "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3", "52:54:00:00:00:02")}


@pytest.fixture(scope="module", params=["audit", "enforce"])
def svc(request) -> Iterator[harness.Service]:
    opts = [] if request.param == "audit" else ["--source-check", "enforce"]
    with harness.running_service(opts=opts, telemetry=True) as svc:
        svc.mode = request.param
        for vm, (device, _, ipv4, ipv6, _) in VMS.items():
            reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
                interface_id=vm.encode(), vni=100, device_name=device,
                ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
                ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
            assert reply.status.code == 0
        for addr, length, ipver in (("192.168.60.0", 24, pb.IPV4), ("fd60::", 64, pb.IPV6)):
            assert svc.api.CreatePrefix(pb.CreatePrefixRequest(
                interface_id=b"vm1", prefix=pb.Prefix(ip=pb.IpAddress(
                    ipver=ipver, address=addr.encode()), length=length)),
                timeout=5).status.code == 0
        for addr, length, ipver in (("203.0.113.80", 32, pb.IPV4),
                                    ("2001:db8:80::1", 128, pb.IPV6)):
            assert svc.api.CreateLoadBalancerPrefix(pb.CreateLoadBalancerPrefixRequest(
                interface_id=b"vm1", prefix=pb.Prefix(ip=pb.IpAddress(
                    ipver=ipver, address=addr.encode()), length=length)),
                timeout=5).status.code == 0
        for _ in range(30):  # until vm2's TAP takes frames (its port has just started)
            if send(svc, "10.0.0.2", "10.0.0.3", b"warm-up"):
                break
        with TelemetryClient(socket_path(svc.prefix)) as client:
            svc.telemetry = client
            yield svc


def send(svc, src: str, dst: str, marker: bytes) -> bool:
    """From vm1's VF to vm2: did it arrive?"""
    l3 = IPv6(src=src, dst=dst) if ":" in dst else IP(src=src, dst=dst)
    svc.tap("dtapvf_0").send(Ether(src=VMS["vm1"][4], dst=harness.VF_MAC.format(0)) / l3 /
                             UDP(sport=4000, dport=4000) / Raw(marker))
    tap = svc.tap("dtapvf_1")
    while (raw := tap.recv_raw(0.4)) is not None:
        if marker in raw:
            return True
    return False


def flows(svc) -> int:
    return len(svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


@pytest.mark.parametrize("src, dst, spoof", [
    ("10.0.0.2", "10.0.0.3", False),       # its own address
    ("fd00::2", "fd00::3", False),
    ("192.168.60.9", "10.0.0.3", False),   # its alias prefix
    ("fd60::9", "fd00::3", False),
    ("fe80::5054:ff:fe00:1", "fd00::3", False),  # link-local
    ("203.0.113.80", "10.0.0.3", False),   # its LB prefixes (it answers from the LB's address)
    ("2001:db8:80::1", "fd00::3", False),
    ("203.0.113.81", "10.0.0.3", True),    # next to one
    ("10.0.0.3", "10.0.0.3", True),        # vm2's address
    ("fd00::3", "fd00::3", True),
    ("8.8.8.8", "10.0.0.3", True),         # the internet's
    ("192.168.61.9", "10.0.0.3", True),    # next to its prefix
    ("2001:db8::1", "fd00::3", True),
    ("0.0.0.0", "10.0.0.3", True),         # not DHCP
])
def test_sources(svc, src, dst, spoof):
    before = svc.telemetry.query("/dplane/checks")
    drops0, flows0 = svc.drops()["conntrack_spoofed_source"], flows(svc)
    arrived = send(svc, src, dst, f"src-{src}".encode())
    after = svc.telemetry.query("/dplane/checks")
    counted = after["spoofed_source"]["vm1"] - before["spoofed_source"]["vm1"]
    dropped = svc.drops()["conntrack_spoofed_source"] - drops0
    assert after["source_check"] == svc.mode
    assert after["spoofed_source"]["vm2"] == 0
    if not spoof:
        assert (arrived, counted, dropped) == (True, 0, 0)
    elif svc.mode == "audit":
        assert (arrived, counted, dropped) == (True, 1, 0)
    else:
        assert (arrived, counted, dropped) == (False, 1, 1)
        assert flows(svc) == flows0  # no state for it


def test_settings_in_get_stats(svc):
    """An operator sees which checks are on (Diagnostics/GetStats), dpservice's options and
    the features' alike."""
    options = svc.stats().options
    assert options["source-check"] == svc.mode
    assert options["underlay-check"] == "enforce"
    assert options["firewall-enforce"] == "false"
    assert options["flow-timeout"] == "30" and options["nic-type"] == "tap"
    assert "help" not in options and "print-eal-args" not in options


def test_dhcp_from_nowhere_is_answered(svc):
    tap = svc.tap("dtapvf_0")
    mac = VMS["vm1"][4]
    tap.send(Ether(src=mac, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255") /
             UDP(sport=68, dport=67) /
             BOOTP(chaddr=bytes.fromhex(mac.replace(":", "")) + b"\0" * 10, xid=77) /
             DHCP(options=[("message-type", "discover"), "end"]))
    while (raw := tap.recv_raw(1.0)) is not None:
        frame = Ether(raw)
        if BOOTP in frame and frame[BOOTP].xid == 77:
            assert frame[BOOTP].yiaddr == "10.0.0.2"
            return
    pytest.fail("no DHCP offer")
