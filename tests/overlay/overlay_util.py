# SPDX-License-Identifier: Apache-2.0
"""Helpers for the overlay tests: VMs on the VFs, frames as a VM and the underlay send them,
and a receive that skips the service's own periodic ARP/ND traffic."""
from __future__ import annotations

import time

from scapy.layers.inet import IP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2

VNI = 100
VMS = {  # interface id -> (VF device, kernel name, IPv4, IPv6)
    "vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2"),
    "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3"),
}
VM_MACS = {"vm1": "52:54:00:00:00:01", "vm2": "52:54:00:00:00:02"}
PF0_MAC = harness.PF_MACS[0]
REMOTE_UNDERLAY = "fc00:2::1"


def vf_mac(vm: str) -> str:
    return harness.VF_MAC.format(int(VMS[vm][1].rsplit("_", 1)[1]))


def create_vm(svc: harness.Service, vm: str, vni: int = VNI) -> str:
    """CreateInterface; returns the interface's underlay address."""
    device, _, ipv4, ipv6 = VMS[vm]
    reply = svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=vm.encode(), vni=vni, device_name=device,
        ipv4_config=dpdk_pb2.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert reply.status.code == 0, reply.status
    return reply.underlay_route.decode()


def delete_vm(svc: harness.Service, vm: str) -> None:
    reply = svc.api.DeleteInterface(dpdk_pb2.DeleteInterfaceRequest(interface_id=vm.encode()),
                                    timeout=5)
    assert reply.status.code == 0, reply.status


def create_route(svc: harness.Service, prefix: str, length: int, nexthop: str = REMOTE_UNDERLAY,
                 vni: int = VNI, nh_vni: int = VNI) -> dpdk_pb2.Status:
    ipver = dpdk_pb2.IPV6 if ":" in prefix else dpdk_pb2.IPV4
    route = dpdk_pb2.Route(
        prefix=dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=ipver, address=prefix.encode()),
                               length=length),
        nexthop_vni=nh_vni,
        nexthop_address=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV6, address=nexthop.encode()))
    return svc.api.CreateRoute(dpdk_pb2.CreateRouteRequest(vni=vni, route=route),
                               timeout=5).status


def delete_route(svc: harness.Service, prefix: str, length: int, vni: int = VNI
                 ) -> dpdk_pb2.Status:
    ipver = dpdk_pb2.IPV6 if ":" in prefix else dpdk_pb2.IPV4
    route = dpdk_pb2.Route(prefix=dpdk_pb2.Prefix(
        ip=dpdk_pb2.IpAddress(ipver=ipver, address=prefix.encode()), length=length))
    return svc.api.DeleteRoute(dpdk_pb2.DeleteRouteRequest(vni=vni, route=route),
                               timeout=5).status


def from_vm(vm: str, l3) -> Ether:
    """A frame as the VM sends it: to its gateway's MAC (the VF's)."""
    return Ether(src=VM_MACS[vm], dst=vf_mac(vm)) / l3


def is_overlay(frame: Ether) -> bool:
    """Not the service's own chatter (ARP, ND/RA)."""
    if IP in frame:
        return True
    if IPv6 in frame:
        return frame[IPv6].nh != 58 or frame[IPv6].payload.type not in (133, 134, 135, 136)
    return False


def expect(tap: harness.Tap, timeout: float = 2.0) -> Ether | None:
    """The next data frame on the TAP (periodic ARP/ND skipped), or None."""
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return None
        raw = tap.recv_raw(left)
        if raw is None:
            return None
        frame = Ether(raw)
        if is_overlay(frame):
            return frame


def nothing(tap: harness.Tap, timeout: float = 0.3) -> bool:
    return expect(tap, timeout) is None
