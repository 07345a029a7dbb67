# SPDX-License-Identifier: Apache-2.0
"""dplane-inspect against the service's own view (ListFlows, GetStats, ListInterfaces)."""
from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import pytest

import harness
from dplane import inspect_cli
from dplane._version import __version__
from dplane.proto import dpdk_pb2, dplane_pb2
from telemetry_util import VMS, VNI, vm1_to_vm2, wait_for


def inspect(svc: harness.Service, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    status = inspect_cli.run(["--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}", *args],
                             out, err)
    assert status == 0, err.getvalue()
    return out.getvalue()


def entries(svc: harness.Service, table: str) -> int:
    return svc.table_entries()[table]


@pytest.fixture(scope="module")
def flows(svc: harness.Service) -> list[dplane_pb2.Flow]:
    """Some flows of vm1 to vm2, and then the table as ListFlows has it (once quiet)."""
    tap = svc.tap(VMS["vm1"][1])
    for sport in range(40000, 40005):
        tap.send(vm1_to_vm2(sport))

    def listed() -> list[dplane_pb2.Flow]:
        found = svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows
        return [f for f in found if 40000 <= f.key.src_port < 40005]
    assert len(wait_for(lambda: len(listed()) == 5 and listed())) == 5
    return list(svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


def test_list(svc):
    assert inspect(svc) == ("Supported tables (-t argument):\n  conntrack\n  iface\n  vnf\n"
                            "  snat\n  dnat\n  portmap\n  portoverload\n  lb\n  lb_id\n"
                            "  vni\n  offload\n")
    assert json.loads(inspect(svc, "-o", "json")) == ["conntrack", "iface", "vnf", "snat",
                                                      "dnat", "portmap", "portoverload", "lb",
                                                      "lb_id", "vni", "offload"]


@pytest.mark.parametrize("table, name", [("iface", "interface_table"), ("vnf", "vnf_table"),
                                         ("vni", "vni_table"), ("lb", "loadbalancer_table"),
                                         ("lb_id", "loadbalancer_id_table"),
                                         ("offload", "offload_rules")])
def test_count_matches_get_stats(svc, table, name):
    count = entries(svc, name)
    assert inspect(svc, "-t", table) == f"Table '{name}' has {count} entries\n"
    assert json.loads(inspect(svc, "-t", table, "-o", "json")) == {"table": name,
                                                                   "entries": count}
    assert inspect(svc, "-t", table, "-o", "csv") == f"TABLE,ENTRIES\n{name},{count}\n"
    assert inspect(svc, "-t", table, "-o", "table").split() == ["TABLE", "ENTRIES", name,
                                                                str(count)]


def test_conntrack_dump_matches_list_flows(svc, flows):
    rows = json.loads(inspect(svc, "-t", "conntrack", "--dump", "-o", "json"))
    ours = [r for r in rows if r["src"].startswith("10.0.0.2:4000")]
    assert len(ours) == 5  # the original directions of the five flows
    by_src = {(f.key.src, f.key.src_port): f for f in flows}
    for row in ours:
        addr, port = row["src"].rsplit(":", 1)
        flow = by_src[(addr, int(port))]
        assert row == {"type": "none", "vni": VNI, "proto": "udp", "src": row["src"],
                       "dst": f"{flow.key.dst}:{flow.key.dst_port}", "port_id": 2,
                       "state": "none", "age": row["age"], "timeout": flow.timeout_s,
                       "dir": "orig", "packets": 1}
    replies = [r for r in rows if r["dst"].startswith("10.0.0.2:4000")]
    assert len(replies) == 5 and {r["dir"] for r in replies} == {"reply"}

    # one row per key: two per flow, as the table counts them (retried: flows age out)
    def same() -> bool:
        dumped = json.loads(inspect(svc, "-t", "conntrack", "--dump", "-o", "json"))
        listed = svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows
        return len(dumped) == 2 * len(listed) == entries(svc, "conntrack_table")
    assert wait_for(same)


def test_conntrack_count(svc, flows):
    def same() -> bool:
        text = inspect(svc, "-t", "conntrack")
        return text == f"Table 'conntrack_table' has {entries(svc, 'conntrack_table')} entries\n"
    assert wait_for(same)


def test_iface_dump(svc):
    listed = svc.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=5).interfaces
    rows = json.loads(inspect(svc, "-t", "iface", "--dump", "-o", "json"))
    assert rows == [{"iface_id": i.id.decode(), "vni": VNI, "device": i.pci_name,
                     "ipv4": i.primary_ipv4.decode(), "ipv6": i.primary_ipv6.decode(),
                     "underlay": i.underlay_route.decode()}
                    for i in sorted(listed, key=lambda i: i.id)]
    assert [r["iface_id"] for r in rows] == list(VMS)


def test_vnf_dump(svc):
    listed = svc.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=5).interfaces
    rows = json.loads(inspect(svc, "-t", "vnf", "--dump", "-o", "json"))
    expected = {i.underlay_route.decode(): i.pci_name for i in listed}
    assert {r["ul"] for r in rows} == set(expected)
    for row in rows:
        port = int(expected[row["ul"]].removeprefix("net_tap"))
        assert row == {"ul": row["ul"], "type": "iface", "vni": VNI, "port_id": port,
                       "prefix": "", "length": 0}
    assert len(rows) == entries(svc, "vnf_table")


def test_vni_dump_formats(svc):
    rows = json.loads(inspect(svc, "-t", "vni", "--dump", "-o", "json"))
    assert rows == [{"vni": VNI, "ipv4_routes": 2, "ipv6_routes": 2}]  # the VMs' /32, /128
    table = inspect(svc, "-t", "vni", "--dump", "-o", "csv")
    assert list(csv.reader(io.StringIO(table))) == [["VNI", "IPV4_ROUTES", "IPV6_ROUTES"],
                                                     [str(VNI), "2", "2"]]
    assert inspect(svc, "-t", "vni", "--dump", "-o", "table").split() == [
        "VNI", "IPV4_ROUTES", "IPV6_ROUTES", str(VNI), "2", "2"]
    assert inspect(svc, "-t", "vni", "--dump") == (
        f"vni: {VNI}, ipv4_routes: 2, ipv6_routes: 2\n")


def ip4(text: str) -> dpdk_pb2.IpAddress:
    return dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4, address=text.encode())


def test_snat_and_dnat_dumps(svc):
    """A VIP on vm1, a NAT on vm2 and a neighbour's range of the same NAT IP: one snat row
    per VM, one dnat entry per address (the NAT IP's shared), counted as GetStats counts."""
    assert svc.api.CreateVip(dpdk_pb2.CreateVipRequest(
        interface_id=b"vm1", vip_ip=ip4("203.0.113.1")), timeout=5).status.code == 0
    assert svc.api.CreateNat(dpdk_pb2.CreateNatRequest(
        interface_id=b"vm2", nat_ip=ip4("198.51.100.1"), min_port=100, max_port=200),
        timeout=5).status.code == 0
    assert svc.api.CreateNeighborNat(dpdk_pb2.CreateNeighborNatRequest(
        nat_ip=ip4("198.51.100.1"), vni=VNI, min_port=200, max_port=300,
        underlay_route=b"fc00:9::1"), timeout=5).status.code == 0
    try:
        snat = json.loads(inspect(svc, "-t", "snat", "--dump", "-o", "json"))
        assert [(r["ip"], r["vip_ip"], r["nat_ip"], r["min_port"], r["max_port"])
                for r in snat] == [("10.0.0.2", "203.0.113.1", "", 0, 0),
                                   ("10.0.0.3", "", "198.51.100.1", 100, 200)]
        dnat = json.loads(inspect(svc, "-t", "dnat", "--dump", "-o", "json"))
        assert sorted((r["ip"], r["vni"], r["dnat_ip"]) for r in dnat) == [
            ("198.51.100.1", VNI, "0.0.0.0"), ("203.0.113.1", VNI, "10.0.0.2")]
        assert inspect(svc, "-t", "dnat") == "Table 'dnat_table' has 2 entries\n"
        assert inspect(svc, "-t", "snat") == "Table 'snat_table' has 2 entries\n"
    finally:
        svc.api.DeleteVip(dpdk_pb2.DeleteVipRequest(interface_id=b"vm1"), timeout=5)
        svc.api.DeleteNat(dpdk_pb2.DeleteNatRequest(interface_id=b"vm2"), timeout=5)
        svc.api.DeleteNeighborNat(dpdk_pb2.DeleteNeighborNatRequest(
            nat_ip=ip4("198.51.100.1"), vni=VNI, min_port=200, max_port=300), timeout=5)
    assert inspect(svc, "-t", "dnat") == "Table 'dnat_table' has 0 entries\n"


def test_missing_table_and_errors(svc):
    out, err = io.StringIO(), io.StringIO()
    assert inspect_cli.run(["-t", "vnf_rev"], out, err) == 1
    assert "dplane has no 'vnf_rev' table" in err.getvalue()
    err = io.StringIO()
    assert inspect_cli.run(["--address", "127.0.0.1:1", "-t", "vnf"], out, err) == 1
    assert "UNAVAILABLE" in err.getvalue()


def test_console_entry(svc):
    proc = subprocess.run([sys.executable, "-m", "dplane.inspect_cli", "-v"],
                          capture_output=True, text=True, timeout=30)
    assert (proc.returncode, proc.stdout) == (0, f"DP Service version {__version__}\n")
    proc = subprocess.run([sys.executable, "-m", "dplane.inspect_cli", "--file-prefix", "x",
                           "--address", f"{svc.netns.ns_ip}:{harness.GRPC_PORT}",
                           "-t", "iface", "-o", "csv"],
                          capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"TABLE,ENTRIES\ninterface_table,{len(VMS)}\n"
