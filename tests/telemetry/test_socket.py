# SPDX-License-Identifier: Apache-2.0
"""The telemetry socket: DPDK's protocol and commands, dpservice's commands with their key
names (which stock DPDK 22.11 would refuse) and value shapes."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading

import pytest

from dplane.proto import dplane_pb2
from dplane.telemetry_client import SOCKET_NAME, TelemetryClient, runtime_dir, socket_path
from telemetry_util import VMS

OURS = [
    "/dp_service/firewall/rule_count",
    "/dp_service/graph/call_count",
    "/dp_service/graph/cycle_count",
    "/dp_service/graph/obj_count",
    "/dp_service/graph/realloc_count",
    "/dp_service/nat/used_port_count",
    "/dp_service/table/saturation",
    "/dp_service/virtsvc/used_port_count",
    "/dplane/checks",
    "/dplane/drops",
    "/dplane/firewall/stats",
]
DPDK = ["/", "/eal/heap_info", "/eal/heap_list", "/eal/params", "/ethdev/info",
        "/ethdev/link_status", "/ethdev/list", "/ethdev/stats", "/ethdev/xstats", "/help",
        "/info"]


def test_greeting_is_dpdks(svc, telemetry):
    assert telemetry.info["pid"] == svc.proc.pid
    assert telemetry.info["version"].startswith("DPDK ")
    assert telemetry.info["max_output_len"] == 16384
    # the socket sits where DPDK puts it; DPDK's own, renamed, is not one a client finds
    assert sorted(os.listdir(runtime_dir(svc.prefix))) == [
        SOCKET_NAME, f"dplane_dpdk_telemetry.{svc.proc.pid}"]


def test_command_list_has_dpdks_and_ours(telemetry):
    listed = telemetry.query("/")
    assert listed == sorted(listed)
    assert set(OURS + DPDK) <= set(listed)


def test_standard_commands_are_dpdks(telemetry):
    assert telemetry.query("/ethdev/list") == [0, 1, 2, 3]
    assert telemetry.query("/ethdev/info", "2")["name"] == "net_tap2"
    assert telemetry.query("/ethdev/link_status", "0")["status"] == "UP"
    assert "rx_good_packets" in telemetry.query("/ethdev/xstats", "2")
    heap = telemetry.query("/eal/heap_list")[0]
    assert telemetry.query("/eal/heap_info", str(heap))["Heap_size"] > 0
    assert telemetry.query("/info") == telemetry.info
    assert telemetry.query("/help", "/ethdev/list") == {
        "/ethdev/list": "Returns list of available ethdev ports. Takes no parameters"}
    assert telemetry.query_raw("/no/such") == {"/no/such": None}
    assert telemetry.query("/ethdev/info", "99") is None


def test_help_of_ours(telemetry):
    for cmd in OURS:
        assert telemetry.query("/help", cmd)[cmd]


def test_graph_commands(telemetry):
    for counter in ("obj_count", "call_count", "cycle_count", "realloc_count"):
        reply = telemetry.query_raw(f"/dp_service/graph/{counter}")
        assert list(reply) == [f"/dp_service/graph/{counter}"]
        blocks = reply[f"/dp_service/graph/{counter}"]
        assert list(blocks) == ["Node_0_to_255"]
        nodes = blocks["Node_0_to_255"]
        # the graph's names: '-' in keys, which DPDK 22.11's dicts refuse
        assert {"rx-0-0", "rx-1-0", "rx-2-0", "rx-3-0", "tx-0", "tx-1", "tx-2", "tx-3",
                "cls", "conntrack", "drop"} <= set(nodes)
        assert all(isinstance(v, int) and v >= 0 for v in nodes.values())
    calls = telemetry.query("/dp_service/graph/call_count")["Node_0_to_255"]
    assert calls["rx-0-0"] > 0  # source nodes are called on every walk


def test_graph_stats_match_grpc(svc, telemetry):
    names = [n.name for n in svc.diag.GetGraphStats(dplane_pb2.GetGraphStatsRequest(),
                                                    timeout=5).nodes]
    assert list(telemetry.query("/dp_service/graph/obj_count")["Node_0_to_255"]) == names


def test_table_saturation(svc, telemetry):
    tables = telemetry.query("/dp_service/table/saturation")
    expected = {t.name: {"capacity": t.capacity, "entries": t.entries}
                for t in svc.stats().tables}
    expected.pop("conntrack_table")  # moves with traffic from the other tests
    for name, usage in expected.items():
        assert tables[name] == usage
    assert tables["interface_table"] == {"capacity": 128, "entries": len(VMS)}
    assert tables["conntrack_table"]["capacity"] == 65536  # --flow-table-size


def test_per_interface_commands(telemetry):
    # no NAT and no firewall rules yet: every interface uses none, as dpservice reports it
    assert telemetry.query("/dp_service/nat/used_port_count") == {vm: 0 for vm in VMS}
    assert telemetry.query("/dp_service/firewall/rule_count") == {vm: 0 for vm in VMS}
    assert telemetry.query("/dp_service/virtsvc/used_port_count") == {}


def test_drops_match_grpc(svc, telemetry):
    drops = telemetry.query("/dplane/drops")
    assert set(drops) == set(svc.drops())
    assert "cls_unknown_ethertype" in drops


def test_concurrent_clients(svc):
    errors: list[BaseException] = []

    def client() -> None:
        try:
            with TelemetryClient(socket_path(svc.prefix)) as c:
                for _ in range(20):
                    assert c.query("/ethdev/list") == [0, 1, 2, 3]
                    assert "Node_0_to_255" in c.query("/dp_service/graph/obj_count")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=client) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert not errors


@pytest.mark.skipif(not shutil.which("dpdk-telemetry.py"), reason="dpdk-telemetry.py missing")
def test_dpdk_telemetry_script(svc):
    """Debian's dpdk-telemetry.py, non-interactive: one JSON reply per command line."""
    commands = ["/ethdev/list", "/dp_service/graph/call_count", "/dp_service/table/saturation"]
    proc = subprocess.run(["dpdk-telemetry.py", "-f", svc.prefix], input="\n".join(commands),
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    replies = [json.loads(line) for line in proc.stdout.splitlines() if line.strip()]
    assert [next(iter(r)) for r in replies] == commands
    assert "rx-2-0" in replies[1]["/dp_service/graph/call_count"]["Node_0_to_255"]
    assert "interface_table" in replies[2]["/dp_service/table/saturation"]
