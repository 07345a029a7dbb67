# SPDX-License-Identifier: Apache-2.0
"""Graph counters over telemetry move by exactly the packets sent, node by node."""
from __future__ import annotations

from scapy.layers.l2 import Ether

from dplane.proto import dplane_pb2
from telemetry_util import VMS, vm1_to_vm2, wait_for

PACKETS = 12


def counters(telemetry, counter: str) -> dict[str, int]:
    return telemetry.query(f"/dp_service/graph/{counter}")["Node_0_to_255"]


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before.get(k, 0) for k in after if after[k] != before.get(k, 0)}


def test_counters_follow_packets(svc, telemetry):
    tap = svc.tap(VMS["vm1"][1])
    objs, calls = counters(telemetry, "obj_count"), counters(telemetry, "call_count")
    for i in range(PACKETS):  # each once the previous is through: one packet per walk
        tap.send(vm1_to_vm2(20000 + i))
        assert wait_for(lambda i=i: counters(telemetry, "obj_count")["conntrack"]
                        - objs["conntrack"] > i)
    wait_for(lambda: counters(telemetry, "obj_count")["tx-3"] - objs["tx-3"] >= PACKETS)
    moved = delta(objs, counters(telemetry, "obj_count"))
    called = delta(calls, counters(telemetry, "call_count"))
    for node in ("rx-2-0", "cls", "conntrack"):
        assert moved[node] == PACKETS, (node, moved)
        if node != "rx-2-0":  # a source node is called on every walk, packets or not
            assert called[node] == PACKETS, (node, called)
    # the TX nodes also send what rx_periodic makes (ARP to the VMs every few seconds)
    periodic = moved.get("rx_periodic", 0)
    assert PACKETS <= moved["tx-3"] <= PACKETS + periodic, moved
    assert sum(v for n, v in moved.items() if n.startswith("tx-")) == PACKETS + periodic
    # the same numbers over gRPC
    grpc_objs = {n.name: n.objs for n in svc.diag.GetGraphStats(
        dplane_pb2.GetGraphStatsRequest(), timeout=5).nodes}
    assert grpc_objs["tx-3"] == counters(telemetry, "obj_count")["tx-3"]


def test_drops_counted_per_reason(svc, telemetry):
    tap = svc.tap(VMS["vm2"][1])
    before = telemetry.query("/dplane/drops")
    objs = counters(telemetry, "obj_count")
    for _ in range(3):
        tap.send(Ether(src=VMS["vm2"][4], dst="66:66:66:66:66:01", type=0x88b6) / (b"x" * 50))
    wait_for(lambda: telemetry.query("/dplane/drops")["cls_unknown_ethertype"]
             - before["cls_unknown_ethertype"] >= 3)
    assert delta(before, telemetry.query("/dplane/drops")) == {"cls_unknown_ethertype": 3}
    moved = delta(objs, counters(telemetry, "obj_count"))
    periodic = {n for n in moved if n == "rx_periodic" or n.startswith("tx-")}
    assert {n: v for n, v in moved.items() if n not in periodic} == {
        "rx-3-0": 3, "cls": 3, "cls_unknown_ethertype": 3}
