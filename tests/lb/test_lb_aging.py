# SPDX-License-Identifier: Apache-2.0
"""A load balancer's flows have no replies (the targets answer the clients themselves), so
they age out while the connection behind them lives on in the target VM's own flow. The next
packet must find its way again: to the same target, or to another once its target is gone.
The LB's flow takes no reply key, so the VM's flow, which holds the key the LB flow's reply
would have had (for an IPv6 LB nothing tells them apart), never stands in its way."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import TCP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from test_lb_packets import chosen, create_lb, create_lb_prefix, from_underlay, ipaddr

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from overlay_util import create_route, create_vm, expect, from_vm

VM1_IP6 = "fd00::2"
LB_IP6 = "2001:db8:80::1"
CLIENT6 = "2001:db8:c::10"
REMOTE_TARGET = "fc00:3::b"


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(["--flow-timeout", "1"]) as svc:
        create_vm(svc, "vm1")
        create_vm(svc, "vm2")
        assert create_route(svc, "::", 0).code == 0
        svc.tap("dtap0")
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the TAPs take frames once their ports are up
            svc.tap("dtapvf_1").send(from_vm("vm2", IPv6(src="fd00::3", dst=VM1_IP6) / TCP()))
            if expect(svc.tap("dtapvf_0"), 0.2) is not None:
                break
        yield svc


def lb_flow_gone(svc, timeout: float = 6.0) -> bool:
    """Aging runs every second with this timeout."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        flows = svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows
        # the LB's flow is keyed as it came (vnf_type 0); the VM's as through its LB prefix
        if not any(f.key.dst == LB_IP6 and f.key.vnf_type == 0 for f in flows):
            return True
        time.sleep(0.1)
    return False


def test_connection_outlives_its_lb_flow(svc):
    prefix = create_lb_prefix(svc, "vm1", LB_IP6, 128)
    underlay = create_lb(svc, ip=LB_IP6, targets=[prefix, REMOTE_TARGET])
    # a client port Maglev gives to the local VM
    sport = next(p for p in range(45000, 46000)
                 if chosen([prefix, REMOTE_TARGET], CLIENT6, LB_IP6, 6, p, 80) == prefix)

    def to_lb(flags: str, seq: int, ack: int = 0) -> Ether:
        return from_underlay(underlay, IPv6(src=CLIENT6, dst=LB_IP6) /
                             TCP(sport=sport, dport=80, flags=flags, seq=seq, ack=ack))

    svc.tap("dtap0").send(to_lb("S", 1))
    assert expect(svc.tap("dtapvf_0")) is not None
    # the VM answers from the LB's address (an established connection: a long-lived flow)
    svc.tap("dtapvf_0").send(from_vm("vm1", IPv6(src=LB_IP6, dst=CLIENT6) /
                                     TCP(sport=80, dport=sport, flags="SA", seq=100, ack=2)))
    assert expect(svc.tap("dtap0")) is not None
    svc.tap("dtap0").send(to_lb("A", 2, 101))
    assert expect(svc.tap("dtapvf_0")) is not None
    # the LB's flow (one way: it never sees replies) ages out; the VM's does not
    assert lb_flow_gone(svc)
    full = svc.drops().get("conntrack_table_full", 0)
    svc.tap("dtap0").send(to_lb("PA", 2, 101))
    got = expect(svc.tap("dtapvf_0"))
    assert got is not None and got[TCP].flags == "PA"
    assert svc.drops().get("conntrack_table_full", 0) == full
    # its target goes: the connection's next packet goes to the other target
    reply = svc.api.DeleteLoadBalancerTarget(pb.DeleteLoadBalancerTargetRequest(
        loadbalancer_id=b"lb1", target_ip=ipaddr(prefix)), timeout=5)
    assert reply.status.code == 0
    svc.tap("dtap0").send(to_lb("PA", 3, 101))
    out = expect(svc.tap("dtap0"))
    assert out is not None and out[IPv6].dst == REMOTE_TARGET
