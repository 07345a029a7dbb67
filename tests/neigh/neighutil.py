# SPDX-License-Identifier: Apache-2.0
"""Helpers for the ARP/ND tests: addressing, interfaces over gRPC, frames out of a TAP.

Addressing (on top of harness's plan): the VM behind dtapvf_<i> (device net_tap<i+2>) uses
MAC 02:00:00:00:00:<i+1>, IPv4 10.0.0.<i+2>, IPv6 fd00::<i+2>, link-local fe80::<i+2>; the
gateway is 169.254.0.1 / fe80::1 at the VF's own MAC 66:66:66:66:66:<i>.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from scapy.layers.inet6 import ICMPv6ND_NA, ICMPv6ND_RA, IPv6
from scapy.layers.l2 import ARP, Ether

import harness
from dplane.proto import dpdk_pb2

GW4 = "169.254.0.1"
GW6 = "fe80::1"
ALL_NODES = "ff02::1"
ALL_NODES_MAC = "33:33:00:00:00:01"
BROADCAST = "ff:ff:ff:ff:ff:ff"


class Vm:
    """The VM behind VF i: its TAP, addresses and MAC."""

    def __init__(self, svc: harness.Service, i: int, mac: str | None = None) -> None:
        self.svc = svc
        self.i = i
        self.tap_name = f"dtapvf_{i}"
        self.device = f"net_tap{i + 2}"
        self.vf_mac = harness.VF_MAC.format(i)
        self.mac = mac or f"02:00:00:00:00:{i + 1:02x}"
        self.ipv4 = f"10.0.0.{i + 2}"
        self.ipv6 = f"fd00::{i + 2}"
        self.lla = f"fe80::{i + 2}"

    @property
    def tap(self) -> harness.Tap:
        return self.svc.tap(self.tap_name)

    def create(self, iface_id: str, ipv4: str | None = None, ipv6: str | None = None) -> None:
        self.svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
            interface_id=iface_id.encode(), vni=100, device_name=self.device,
            ipv4_config=dpdk_pb2.IpConfig(primary_address=(ipv4 or self.ipv4).encode()),
            ipv6_config=dpdk_pb2.IpConfig(primary_address=(ipv6 or self.ipv6).encode())),
            timeout=5)

    def delete(self, iface_id: str) -> None:
        self.svc.api.DeleteInterface(
            dpdk_pb2.DeleteInterfaceRequest(interface_id=iface_id.encode()), timeout=5)

    def send(self, frame) -> None:
        self.tap.send(frame)

    def arp_request(self, target: str = GW4, **fields) -> Ether:
        arp = dict(op=1, hwsrc=self.mac, psrc=self.ipv4, hwdst="00:00:00:00:00:00",
                   pdst=target)
        arp.update(fields)
        return Ether(dst=BROADCAST, src=self.mac) / ARP(**arp)

    def arp_reply(self, **fields) -> Ether:
        """The VM's answer to the gateway's ARP request for its own address."""
        arp = dict(op=2, hwsrc=self.mac, psrc=self.ipv4, hwdst=self.vf_mac, pdst=GW4)
        arp.update(fields)
        return Ether(dst=self.vf_mac, src=self.mac) / ARP(**arp)

    def expect(self, match: Callable[[Ether], bool], timeout: float = 2.0) -> Ether | None:
        """The next frame out of the VF's TAP that matches; others (periodic announcements)
        are skipped."""
        deadline = time.monotonic() + timeout
        while (left := deadline - time.monotonic()) > 0:
            pkt = self.tap.recv(left)
            if pkt is not None and match(pkt):
                return pkt
        return None


def is_arp_reply(pkt: Ether) -> bool:
    return ARP in pkt and pkt[ARP].op == 2


def is_arp_request(pkt: Ether) -> bool:
    return ARP in pkt and pkt[ARP].op == 1


def is_na(pkt: Ether) -> bool:
    return ICMPv6ND_NA in pkt


def is_ra(pkt: Ether) -> bool:
    return ICMPv6ND_RA in pkt


def is_ipv6(pkt: Ether) -> bool:
    return IPv6 in pkt


def counted(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Drop counters that moved, and by how much."""
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def send_and_count(vm: Vm, frames, reason: str) -> dict[str, int]:
    """Send frames from the VM and wait until `reason` counted them all; what moved."""
    before = vm.svc.drops()
    for frame in frames:
        vm.send(frame)
    after = vm.svc.wait_drops(reason, before.get(reason, 0) + len(frames))
    return counted(before, after)


def still_serving(svc: harness.Service) -> bool:
    reply = svc.api.CheckInitialized(dpdk_pb2.CheckInitializedRequest(), timeout=5)
    return reply.status.code == 0
