# SPDX-License-Identifier: Apache-2.0
"""NAT ports go back when their flows age out: a service with a 1-second flow timeout, a
NATed VM's flows, and the port tables and the telemetry count empty again once conntrack's
aging has removed them (the same release path as a flush, through the worker)."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP
from test_nat_packets import (
    INTERNET,
    NAT_IP,
    VM2_IP,
    create_nat,
    out_of_pf,
    telemetry,
    wait_entries,
)

import harness
from overlay_util import create_route, create_vm, expect, from_vm


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(["--flow-timeout", "1"], telemetry=True) as svc:
        create_vm(svc, "vm1")
        create_vm(svc, "vm2")
        assert create_route(svc, "0.0.0.0", 0).code == 0
        svc.tap("dtap0")  # listening before anything is sent
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:  # the TAPs take frames once their ports are up
            svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst="10.0.0.2") / UDP()))
            if expect(svc.tap("dtapvf_0"), 0.2) is not None:
                break
        yield svc


def test_ports_come_back_when_flows_age_out(svc):
    create_nat(svc, "vm2", 1000, 1100)
    for sport in (5000, 5001, 5002):
        svc.tap("dtapvf_1").send(from_vm("vm2", IP(src=VM2_IP, dst=INTERNET) /
                                         UDP(sport=sport, dport=53)))
        assert out_of_pf(svc).src == NAT_IP
    assert telemetry(svc, "/dp_service/nat/used_port_count")["vm2"] == 3
    assert svc.table_entries()["nat_portmap_table"] == 3
    # aging runs every second with this timeout: two rounds at most
    for table in ("nat_portoverload_table", "nat_portmap_table", "conntrack_table"):
        assert wait_entries(svc, table, 0, timeout=6.0) == 0, table
    assert telemetry(svc, "/dp_service/nat/used_port_count")["vm2"] == 0
