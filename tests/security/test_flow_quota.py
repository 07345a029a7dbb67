# SPDX-License-Identifier: Apache-2.0
"""One VM cannot fill the connection tracking table for every other: with
--flow-quota-per-interface, a VM flooding new flows gets that many and no more (the rest
dropped as conntrack_quota_exceeded, its existing flows going on), and another VM still
opens every one of its new flows, although the flood alone would have filled the table.
Flows that go give their place back."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether
from scapy.packet import Raw

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

TABLE_KEYS = 1024  # 512 flows
QUOTA = 200
VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "52:54:00:00:00:01", 0),
       "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "52:54:00:00:00:02", 1)}


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(opts=["--flow-table-size", str(TABLE_KEYS),
                                       "--flow-quota-per-interface", str(QUOTA)],
                                 telemetry=True) as svc:
        for vm in VMS:
            create(svc, vm)
        route = pb.Route(prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"0.0.0.0")),
                         nexthop_vni=100, nexthop_address=pb.IpAddress(ipver=pb.IPV6,
                                                                       address=b"fc00:2::1"))
        assert svc.api.CreateRoute(pb.CreateRouteRequest(vni=100, route=route),
                                   timeout=5).status.code == 0
        with TelemetryClient(socket_path(svc.prefix)) as client:
            svc.telemetry = client
            yield svc


def create(svc, vm: str) -> None:
    device, _, ipv4, _, _ = VMS[vm]
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=vm.encode(), vni=100, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=b"::")), timeout=5)
    assert reply.status.code == 0, reply.status


def flows_to_underlay(svc, vm: str, sports: range) -> int:
    """New UDP flows from the VM to the underlay, one packet each: how many came out."""
    _, tap, ipv4, mac, index = VMS[vm]
    frames = [bytes(Ether(src=mac, dst=harness.VF_MAC.format(index)) /
                    IP(src=ipv4, dst="192.0.2.1") / UDP(sport=sport, dport=53) /
                    Raw(f"q-{vm}-{sport}".encode())) for sport in sports]
    out = svc.tap("dtap0")
    out.drain()
    for frame in frames:
        svc.tap(tap).send(frame)
    seen = set()
    while (raw := out.recv_raw(0.5)) is not None:
        if f"q-{vm}-".encode() in raw:
            seen.add(raw[-12:])
    return len(seen)


def test_a_flood_gets_its_quota_and_no_more(svc):
    checks = svc.telemetry.query("/dplane/checks")
    assert checks["flow_quota"] == QUOTA
    tables = {t.name: t.capacity for t in svc.stats().tables}
    assert tables["conntrack_table"] == TABLE_KEYS  # (the last --flow-table-size wins)
    for _ in range(30):  # until the ports carry traffic
        if flows_to_underlay(svc, "vm1", range(1, 2)) == 1:
            break
    drops = svc.drops()["conntrack_quota_exceeded"]
    # vm1 floods 600 new flows: more than the whole table (512 flows) could take
    assert flows_to_underlay(svc, "vm1", range(1000, 1600)) == QUOTA - 1
    assert svc.drops()["conntrack_quota_exceeded"] == drops + 600 - (QUOTA - 1)
    assert svc.telemetry.query("/dplane/checks")["flows"]["vm1"] == QUOTA
    # vm2 opens every one of its 100 new flows
    assert flows_to_underlay(svc, "vm2", range(1000, 1100)) == 100
    assert svc.drops()["conntrack_table_full"] == 0
    # vm1's existing flows go on
    assert flows_to_underlay(svc, "vm1", range(1000, 1050)) == 50


def test_flows_that_go_give_their_place_back(svc):
    """Deleting the interface removes its flows; the new interface on the port starts
    with the whole quota."""
    reply = svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert reply.status.code == 0
    deadline = time.monotonic() + 5
    create(svc, "vm1")
    while svc.telemetry.query("/dplane/checks")["flows"].get("vm1") != 0:
        assert time.monotonic() < deadline
        time.sleep(0.1)
    for _ in range(30):
        if flows_to_underlay(svc, "vm1", range(2, 3)) == 1:
            break
    assert flows_to_underlay(svc, "vm1", range(3000, 3100)) == 100
