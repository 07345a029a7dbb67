# SPDX-License-Identifier: Apache-2.0
"""Flows go with the route, prefix, interface or VNI they depend on, and only those: a flush
picks flows by their VNI and port before it looks at their addresses, so flows of another
VNI with the same addresses, and flows to other prefixes, must stay."""
from __future__ import annotations

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from overlay_util import (
    PF0_MAC,
    REMOTE_UNDERLAY,
    create_route,
    create_vm,
    delete_route,
    delete_vm,
    expect,
    from_vm,
)

VM_ADDR = {"vm1": "10.0.0.2", "vm2": "10.0.0.3"}
VF_TAP = {"vm1": "dtapvf_0", "vm2": "dtapvf_1"}


def flows(svc: harness.Service) -> set[tuple[int, str, str]]:
    """(VNI, source, destination) of every flow."""
    reply = svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5)
    return {(f.key.vni, f.key.src, f.key.dst) for f in reply.flows}


def to_underlay(svc: harness.Service, vm: str, dst: str) -> None:
    """A UDP packet from the VM that leaves PF0 in a tunnel: a flow of the VM's VNI."""
    pf0 = svc.tap("dtap0")
    svc.tap(VF_TAP[vm]).send(from_vm(vm, IP(src=VM_ADDR[vm], dst=dst) / UDP(sport=5, dport=6)))
    out = expect(pf0)
    assert out is not None and out[IP].dst == dst


def test_each_removal_takes_its_flows_only(start_service):
    svc = start_service()
    svc.initialize()
    create_vm(svc, "vm1", vni=100)
    create_vm(svc, "vm2", vni=200)
    for vni in (100, 200):
        for net in ("192.0.2.0", "198.51.100.0"):
            assert create_route(svc, net, 24, vni=vni, nh_vni=vni).code == 0
    for vm in ("vm1", "vm2"):
        for dst in ("192.0.2.1", "198.51.100.1"):
            to_underlay(svc, vm, dst)
    # into a prefix of vm1, from the underlay
    reply = svc.api.CreatePrefix(pb.CreatePrefixRequest(interface_id=b"vm1", prefix=pb.Prefix(
        ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.10.0.0"), length=24)), timeout=5)
    assert reply.status.code == 0
    for src, dst in (("203.0.113.9", "10.10.0.5"), ("192.0.2.9", "10.10.0.6")):
        svc.tap("dtap0").send(Ether(src="02:00:00:00:00:fe", dst=PF0_MAC) /
                              IPv6(src=REMOTE_UNDERLAY, dst=reply.underlay_route.decode(),
                                   nh=4) / IP(src=src, dst=dst) / UDP(sport=7, dport=8))
        assert expect(svc.tap("dtapvf_0")) is not None
    everything = {(100, "10.0.0.2", "192.0.2.1"), (100, "10.0.0.2", "198.51.100.1"),
                  (200, "10.0.0.3", "192.0.2.1"), (200, "10.0.0.3", "198.51.100.1"),
                  (100, "203.0.113.9", "10.10.0.5"), (100, "192.0.2.9", "10.10.0.6")}
    assert flows(svc) == everything

    # a route of one VNI: the flows with either end in it (their replies took it), not the
    # other VNI's with the same addresses
    assert delete_route(svc, "192.0.2.0", 24, vni=100).code == 0
    assert flows(svc) == everything - {(100, "10.0.0.2", "192.0.2.1"),
                                       (100, "192.0.2.9", "10.10.0.6")}
    # the prefix: the flow into it
    reply = svc.api.DeletePrefix(pb.DeletePrefixRequest(interface_id=b"vm1", prefix=pb.Prefix(
        ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.10.0.0"), length=24)), timeout=5)
    assert reply.status.code == 0
    assert flows(svc) == {(100, "10.0.0.2", "198.51.100.1"), (200, "10.0.0.3", "192.0.2.1"),
                          (200, "10.0.0.3", "198.51.100.1")}
    # the last interface of VNI 200: every flow of it
    delete_vm(svc, "vm2")
    assert flows(svc) == {(100, "10.0.0.2", "198.51.100.1")}
    delete_vm(svc, "vm1")
    assert flows(svc) == set()
    assert svc.table_entries()["conntrack_table"] == 0
