# SPDX-License-Identifier: Apache-2.0
"""Helpers of the telemetry tests.

Addressing: VNI 100; vm1 on dtapvf_0 (port 2, 10.0.0.2, fd00::2), vm2 on dtapvf_1 (port 3,
10.0.0.3, fd00::3); the VMs' own MACs 52:54:00:00:00:0<n>.
"""
from __future__ import annotations

import time
from collections.abc import Callable

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2

VNI = 100
VMS = {  # interface id -> (device, TAP, IPv4, IPv6, VM MAC)
    "vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2", "52:54:00:00:00:01"),
    "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3", "52:54:00:00:00:02"),
}


def create_vm(svc: harness.Service, vm: str) -> None:
    device, _, ipv4, ipv6, _ = VMS[vm]
    reply = svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=vm.encode(), vni=VNI, device_name=device,
        ipv4_config=dpdk_pb2.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert reply.status.code == 0, reply.status


def vm1_to_vm2(sport: int) -> Ether:
    """A UDP datagram vm1 sends to vm2 (routed VF to VF: rx-2-0 ... tx-3)."""
    _, tap, src, _, mac = VMS["vm1"]
    gateway = harness.VF_MAC.format(int(tap.rsplit("_", 1)[1]))
    return (Ether(src=mac, dst=gateway) / IP(src=src, dst=VMS["vm2"][2]) /
            UDP(sport=sport, dport=7))


def wait_for(predicate: Callable[[], object], timeout: float = 3.0) -> object:
    """Poll until predicate() is truthy; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.02)
