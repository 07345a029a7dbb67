# SPDX-License-Identifier: Apache-2.0
"""Offloaded rules live and die with their flows: a flow whose packets rules carry stays
alive (and its packets are counted), and ages out with its rules once they stop; deleting
what the flows depend on (an interface) or Initialize removes their rules; any change of
forwarding state (a route) makes every rule stale, so that the graph decides again; a full
engine leaves new flows to the graph, counted; --offload-rules is checked."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from dplane.telemetry_client import TelemetryClient, socket_path
from offload_util import (
    REMOTE,
    flow_rules,
    from_vm,
    offload_stats,
    receive,
    route,
    rules,
    set_up,
)

TIMEOUT = 2  # --flow-timeout: aging runs every 2 s


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(opts=["--flow-timeout", str(TIMEOUT)],
                                 telemetry=True) as svc:
        with TelemetryClient(socket_path(svc.prefix)) as client:
            svc.telemetry = client
            yield svc


@pytest.fixture
def fresh(svc) -> harness.Service:
    """The service with no interfaces, initialised, then the two VMs and the default routes."""
    svc.delete_interfaces()
    svc.initialize()
    set_up(svc)
    wait_until(lambda: not flow_rules(svc))  # the warm-up's flows age out
    return svc


def wait_until(cond, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def udp(svc, sport: int, payload: bytes = b"x", to: str = "10.0.0.3",
        out_tap: str = "dtapvf_1") -> bytes | None:
    svc.tap("dtapvf_0").send(from_vm(svc, "vm1", IP(src="10.0.0.2", dst=to) /
                                     UDP(sport=sport, dport=7) / payload))
    return receive(svc.tap(out_tap))


def flows(svc) -> list:
    return list(svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


def test_rules_keep_their_flow_alive_then_age_with_it(fresh):
    svc = fresh
    for i in range(12):  # 3 s: longer than the flow timeout
        assert udp(svc, 5000, b"%d" % i) is not None
        time.sleep(0.25)
    mine = [f for f in flows(svc) if f.key.src_port == 5000]
    assert len(mine) == 1 and mine[0].packets == 12  # the rule's 11 included
    [rule] = [r for r in flow_rules(svc) if "sport 5000" in r["pattern"]]
    assert int(rule["hits"]) == 11
    # idle: flow and rule go together
    wait_until(lambda: not [f for f in flows(svc) if f.key.src_port == 5000])
    assert not [r for r in flow_rules(svc) if "sport 5000" in r["pattern"]]


def test_deleting_an_interface_removes_its_flows_rules(fresh):
    svc = fresh
    for _ in range(2):
        assert udp(svc, 5100) is not None
        assert udp(svc, 5101, to="192.0.2.1", out_tap="dtap0") is not None
    assert len(flow_rules(svc)) == 2
    assert svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm2"),
                                   timeout=5).status.code == 0
    assert [r["pattern"] for r in flow_rules(svc)] == [
        "eth type 0x0800 / ipv4 src 10.0.0.2 dst 192.0.2.1 proto 17 frag 0x0/0x3fff / "
        "udp sport 5101 dport 7"]
    svc.initialize()  # every flow's rule goes, the ports' default jumps stay
    assert flow_rules(svc) == []
    assert len(rules(svc)) == 4
    assert offload_stats(svc)["rules"] == 4


def test_a_route_change_makes_rules_stale(fresh):
    """A more specific route: the flow's next packet takes it, as the graph decides."""
    svc = fresh
    for _ in range(3):
        out = receive_tunnel(svc, 5200)
        assert out[IPv6].dst == REMOTE
    hits = offload_stats(svc)["hits"]
    route(svc, "192.0.2.0", 24, nexthop="fc00:3::1")
    [rule] = [r for r in flow_rules(svc) if "sport 5200" in r["pattern"]]
    assert rule["stale"] == "yes"
    out = receive_tunnel(svc, 5200)
    assert out[IPv6].dst == "fc00:3::1"
    out = receive_tunnel(svc, 5200)  # carried by the new rule
    assert out[IPv6].dst == "fc00:3::1"
    assert offload_stats(svc)["hits"] == hits + 1
    [rule] = [r for r in flow_rules(svc) if "sport 5200" in r["pattern"]]
    assert rule["stale"] == "no" and "dst fc00:3::1" in rule["actions"]


def receive_tunnel(svc, sport: int) -> Ether:
    raw = udp(svc, sport, to="192.0.2.1", out_tap="dtap0")
    assert raw is not None
    return Ether(raw)


def test_a_full_engine_leaves_flows_to_the_graph():
    with harness.running_service(opts=["--offload-rules", "64"], telemetry=True) as svc, \
            TelemetryClient(socket_path(svc.prefix)) as client:
        svc.telemetry = client
        set_up(svc)
        for sport in range(6000, 6080):
            for _ in range(2):
                assert udp(svc, sport) is not None
        stats = offload_stats(svc)
    assert stats["capacity"] == 64 + 2 * 4  # and every port's default and capture rules
    assert stats["rules"] == stats["capacity"]  # full: 4 default rules, 68 flows' rules
    assert stats["refusals"] >= 80 - 68
    # the flows with rules had their second packet carried by them; the others crossed the
    # graph twice, and every packet arrived
    assert stats["hits"] >= 64 - 3


def test_offload_rules_option_is_checked():
    for bad in ("0", "63", "16777217", "many"):
        proc = harness.dplane_options("--offload-rules", bad)
        assert proc.returncode != 0
        assert "offload-rules" in proc.stderr
