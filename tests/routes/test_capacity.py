# SPDX-License-Identifier: Apache-2.0
"""A VNI's routing tables hold --route-table-size routes per family, the VNI's interfaces'
own routes included: beyond that CreateRoute is ROUTE_INSERT (303), nothing of the refused
route is left anywhere, and the VNI keeps routing packets by the routes it holds."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import harness
from dplane.proto import dpdk_pb2 as pb
from overlay_util import create_vm, delete_vm, expect, from_vm, nothing
from routes_util import NEXT_HOP, create, create_many, delete, host, listed, status

CAPACITY = 600
VNI = 100  # overlay_util's VMs live there


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service(["--route-table-size", str(CAPACITY)]) as svc:
        yield svc


@pytest.fixture
def svc(shared):
    yield shared
    shared.delete_interfaces()
    assert listed(shared, 0) == []
    used = shared.table_entries()
    assert (used["vni_table"], used["vnf_table"]) == (0, 0)


def fill(svc, vni: int = VNI) -> list[tuple[str, int]]:
    """Remote /32 routes up to the capacity (the VNI's interface holds one IPv4 route)."""
    routes = [(host(n), 32) for n in range(CAPACITY - 1)]
    assert create_many(svc, vni, routes) == [(0, "Success")] * len(routes)
    return routes


def encapsulated_to(svc, dst: str) -> bool:
    """A VM's packet to dst leaves PF0 in a tunnel to the route's next hop."""
    vm1, pf0 = svc.tap("dtapvf_0"), svc.tap("dtap0")
    pf0.drain()
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst=dst) / UDP(sport=7, dport=7) / b"x"))
    out = expect(pf0)
    return out is not None and out[IPv6].dst == NEXT_HOP and out[IP].dst == dst


def test_full_table_refuses_and_keeps_routing(svc):
    create_vm(svc, "vm1")
    routes = fill(svc)
    assert len(listed(svc, VNI)) == CAPACITY - 1
    # the next route of the family does not fit, whatever its length
    assert create(svc, VNI, "192.0.2.0", 24) == (303, "ROUTE_INSERT")
    assert create(svc, VNI, "0.0.0.0", 0) == (303, "ROUTE_INSERT")
    # an existing one is still ROUTE_EXISTS
    assert create(svc, VNI, host(5), 32) == (301, "ROUTE_EXISTS")
    assert create(svc, VNI, "10.0.0.2", 32) == (301, "ROUTE_EXISTS")  # the VM's own
    # nothing of the refused routes anywhere
    assert sorted(listed(svc, VNI)) == sorted(routes)
    assert delete(svc, VNI, "192.0.2.0", 24) == (302, "ROUTE_NOT_FOUND")
    assert svc.table_entries()["vni_table"] == 1

    # the VNI still routes by what it holds; the refused prefix has no route
    before = svc.drops().get("ipv4_lookup_no_route", 0)
    for n in (0, 300, CAPACITY - 2):
        assert encapsulated_to(svc, host(n))
    svc.tap("dtapvf_0").send(from_vm("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP()))
    assert svc.wait_drops("ipv4_lookup_no_route", before + 1)["ipv4_lookup_no_route"] == \
        before + 1
    assert nothing(svc.tap("dtap0"))

    # the other family has a table of its own
    assert create(svc, VNI, "fd10::", 64) == (0, "Success")
    # a route gone is room for another
    assert delete(svc, VNI, host(0), 32) == (0, "Success")
    assert create(svc, VNI, "192.0.2.0", 24) == (0, "Success")
    assert encapsulated_to(svc, "192.0.2.1")
    assert create(svc, VNI, host(0), 32) == (303, "ROUTE_INSERT")
    # another VNI is not affected
    create_vm(svc, "vm2", vni=200)
    assert create(svc, 200, host(0), 32) == (0, "Success")


def test_interface_routes_count_too(svc):
    """An interface whose /32 does not fit is refused as a whole."""
    create_vm(svc, "vm1")
    fill(svc)
    before = svc.table_entries()
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=b"vm2", vni=VNI, device_name="net_tap3",
        ipv4_config=pb.IpConfig(primary_address=b"10.0.0.3"),
        ipv6_config=pb.IpConfig(primary_address=b"fd00::3")), timeout=5)
    assert status(reply) == (303, "ROUTE_INSERT")
    assert svc.table_entries() == before
    interfaces = svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces
    assert [i.id for i in interfaces] == [b"vm1"]
    # its /128 was taken back too: the IPv6 table holds only vm1's
    assert create(svc, VNI, "fd00::3", 128) == (0, "Success")
    assert delete(svc, VNI, "fd00::3", 128) == (0, "Success")
    # with room again, it can be created
    assert delete(svc, VNI, host(1), 32) == (0, "Success")
    create_vm(svc, "vm2")
    delete_vm(svc, "vm2")
