# SPDX-License-Identifier: Apache-2.0
"""The VNF table is sized by --vnf-table-size, and one interface holds at most
--prefixes-per-interface alias prefixes: beyond that CreatePrefix is ROUTE_INSERT (303), as
for a full routing table, with nothing left behind, so that one tenant cannot fill the VNF
table that every other tenant's interfaces need."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb
from routes_util import create as create_route
from routes_util import status, tables

VNF_TABLE = 12
PER_INTERFACE = 4
VFS = ("net_tap2", "net_tap3", "net_tap4")


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service(["--vnf-table-size", str(VNF_TABLE),
                                  "--prefixes-per-interface", str(PER_INTERFACE)],
                                 nb_vfs=len(VFS)) as svc:
        yield svc


@pytest.fixture
def svc(shared):
    yield shared
    shared.delete_interfaces()
    assert tables(shared)["vnf_table"] == (VNF_TABLE, 0)


def add_interface(svc, n: int) -> tuple[int, str]:
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=f"vm{n}".encode(), vni=100, device_name=VFS[n],
        ipv4_config=pb.IpConfig(primary_address=f"10.0.0.{n + 1}".encode()),
        ipv6_config=pb.IpConfig(primary_address=f"fd00::{n + 1}".encode())), timeout=5)
    return status(reply)


def prefix(ip: str, length: int) -> pb.Prefix:
    return pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV6 if ":" in ip else pb.IPV4,
                                     address=ip.encode()), length=length)


def create(svc, n: int, ip: str, length: int = 24) -> tuple[int, str]:
    return status(svc.api.CreatePrefix(pb.CreatePrefixRequest(
        interface_id=f"vm{n}".encode(), prefix=prefix(ip, length)), timeout=5))


def delete(svc, n: int, ip: str, length: int = 24) -> tuple[int, str]:
    return status(svc.api.DeletePrefix(pb.DeletePrefixRequest(
        interface_id=f"vm{n}".encode(), prefix=prefix(ip, length)), timeout=5))


def listed(svc, n: int) -> list[str]:
    reply = svc.api.ListPrefixes(pb.ListPrefixesRequest(interface_id=f"vm{n}".encode()),
                                 timeout=5)
    return [p.ip.address.decode() for p in reply.prefixes]


def test_capacity_is_reported(svc):
    assert tables(svc)["vnf_table"] == (VNF_TABLE, 0)
    assert add_interface(svc, 0) == (0, "Success")
    assert tables(svc)["vnf_table"] == (VNF_TABLE, 1)


def test_prefix_cap_refuses_and_leaves_nothing(svc):
    assert add_interface(svc, 0) == (0, "Success")
    mine = [f"10.1{i}.0.0" for i in range(PER_INTERFACE)]
    for ip in mine:
        assert create(svc, 0, ip) == (0, "Success")
    before = tables(svc)["vnf_table"]
    assert create(svc, 0, "10.99.0.0") == (303, "ROUTE_INSERT")
    assert create(svc, 0, "fd99::", 64) == (303, "ROUTE_INSERT")  # both families count
    # one it has: still ROUTE_EXISTS
    assert create(svc, 0, mine[0]) == (301, "ROUTE_EXISTS")
    # nothing left behind: no underlay address, no route, not listed
    assert tables(svc)["vnf_table"] == before
    assert listed(svc, 0) == mine
    assert create_route(svc, 100, "10.99.0.0", 24) == (0, "Success")  # the prefix was free
    assert delete(svc, 0, "10.99.0.0") == (304, "ROUTE_BAD_PORT")  # a remote route, not ours
    # a prefix gone is room for another
    assert delete(svc, 0, mine[1]) == (0, "Success")
    assert create(svc, 0, "fd99::", 64) == (0, "Success")


def test_one_tenant_cannot_lock_out_the_others(svc):
    """Each interface takes an underlay address and at most PER_INTERFACE prefixes: two
    full tenants leave room for a third interface; only a full table refuses (VNF_INSERT,
    and the prefix's route is taken back)."""
    for n in (0, 1):
        assert add_interface(svc, n) == (0, "Success")
        for i in range(PER_INTERFACE):
            assert create(svc, n, f"10.{n}{i}.0.0") == (0, "Success")
        assert create(svc, n, "10.77.0.0") == (303, "ROUTE_INSERT")
    assert tables(svc)["vnf_table"] == (VNF_TABLE, 10)
    assert add_interface(svc, 2) == (0, "Success")
    assert create(svc, 2, "10.20.0.0") == (0, "Success")
    assert tables(svc)["vnf_table"] == (VNF_TABLE, VNF_TABLE)
    # the table itself is full now
    assert create(svc, 2, "10.21.0.0") == (401, "VNF_INSERT")
    assert create_route(svc, 100, "10.21.0.0", 24) == (0, "Success")  # its route went back
    assert listed(svc, 2) == ["10.20.0.0"]
