# SPDX-License-Identifier: Apache-2.0
"""CreateRoute, DeleteRoute, ListRoutes over real gRPC: every validation text and service
error of the contract, ListRoutes' selection and order, and nothing left behind. A table
filled to its configured size: tests/routes."""
from __future__ import annotations

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb

VF0, VF1 = "net_tap2", "net_tap3"
NEXT_HOP = "fc00:2::64:0:1"


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def address(text: str, ipver: int | None = None) -> pb.IpAddress:
    if ipver is None:
        ipver = pb.IPV6 if ":" in text else pb.IPV4
    return pb.IpAddress(ipver=ipver, address=text.encode())


def route(prefix: str, length: int, nh: str = NEXT_HOP, nh_vni: int = 7,
          ipver: int | None = None, nh_ipver: int | None = None) -> pb.Route:
    return pb.Route(prefix=pb.Prefix(ip=address(prefix, ipver), length=length),
                    nexthop_vni=nh_vni, nexthop_address=address(nh, nh_ipver))


def create(svc, vni: int, *args, **kwargs) -> tuple[int, str]:
    return status(svc.api.CreateRoute(pb.CreateRouteRequest(vni=vni, route=route(
        *args, **kwargs)), timeout=5))


def delete(svc, vni: int, prefix: str, length: int, **kwargs) -> tuple[int, str]:
    return status(svc.api.DeleteRoute(pb.DeleteRouteRequest(vni=vni, route=route(
        prefix, length, **kwargs)), timeout=5))


def listed(svc, vni: int) -> list[tuple[str, int, int, str]]:
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=vni), timeout=10)
    assert status(reply) == (0, "Success")
    return [(r.prefix.ip.address.decode(), r.prefix.length, r.nexthop_vni,
             r.nexthop_address.address.decode()) for r in reply.routes]


def add_interface(svc, iface_id="vm1", device=VF0, vni=100, ipv4="10.0.0.1", ipv6="fd00::1"):
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert status(reply) == (0, "Success")


@pytest.fixture
def svc(shared):
    """The shared service; its interfaces (and with them the VNIs and their routes) go
    afterwards."""
    yield shared
    shared.delete_interfaces()
    assert listed(shared, 0) == []
    used = shared.table_entries()
    assert (used["vni_table"], used["vnf_table"]) == (0, 0)


def test_create_list_delete(svc):
    add_interface(svc)
    assert create(svc, 100, "10.1.0.0", 16) == (0, "Success")
    assert create(svc, 100, "192.168.7.0", 24, nh="fc00:3::1", nh_vni=0) == (0, "Success")
    assert create(svc, 100, "fd01::", 64) == (0, "Success")  # IPv6: created, never listed
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5)
    assert status(reply) == (0, "Success")
    # the interface's /32 points at its VF: not listed either
    assert list(reply.routes) == [
        pb.Route(prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.1.0.0"),
                                  length=16),
                 nexthop_vni=7,
                 nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=NEXT_HOP.encode())),
        pb.Route(prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"192.168.7.0"),
                                  length=24),
                 nexthop_vni=0,
                 nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=b"fc00:3::1")),
    ]
    assert delete(svc, 100, "10.1.0.0", 16) == (0, "Success")
    assert delete(svc, 100, "fd01::", 64) == (0, "Success")
    assert listed(svc, 100) == [("192.168.7.0", 24, 0, "fc00:3::1")]
    assert delete(svc, 100, "192.168.7.0", 24) == (0, "Success")
    assert listed(svc, 100) == []
    # all of them are gone: each can be created again
    for prefix, length in (("10.1.0.0", 16), ("192.168.7.0", 24), ("fd01::", 64)):
        assert create(svc, 100, prefix, length) == (0, "Success")


def test_addresses_read_like_dpservice_and_host_bits_cleared(svc):
    add_interface(svc)
    assert create(svc, 100, "10.9.0.5", 16, nh="FC00:2:0::0001") == (0, "Success")
    assert listed(svc, 100) == [("10.9.0.0", 16, 7, "fc00:2::1")]
    assert create(svc, 100, "10.9.255.255", 16) == (301, "ROUTE_EXISTS")
    assert delete(svc, 100, "10.9.1.1", 16) == (0, "Success")
    assert create(svc, 100, "10.2", 32, nh="fc00:2::1") == (0, "Success")  # 10.0.0.2
    assert listed(svc, 100) == [("10.0.0.2", 32, 7, "fc00:2::1")]


def test_default_route_listed_first(svc):
    add_interface(svc)
    for prefix, length in (("10.1.0.0", 16), ("0.0.0.0", 0), ("10.2.0.0", 16)):
        assert create(svc, 100, prefix, length) == (0, "Success")
    routes = listed(svc, 100)
    assert routes[0] == ("0.0.0.0", 0, 7, NEXT_HOP)
    assert sorted(routes[1:]) == [("10.1.0.0", 16, 7, NEXT_HOP), ("10.2.0.0", 16, 7, NEXT_HOP)]
    assert delete(svc, 100, "0.0.0.0", 0) == (0, "Success")
    assert [r[0] for r in listed(svc, 100)] == ["10.1.0.0", "10.2.0.0"]


def test_list_one_vni_or_all(svc):
    assert listed(svc, 0) == []  # no VNI at all: an empty list, no error
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5)
    assert status(reply) == (206, "NO_VNI") and not reply.routes
    add_interface(svc, "a", VF0, vni=100)
    add_interface(svc, "b", VF1, vni=200)
    assert create(svc, 100, "10.1.0.0", 16, nh_vni=100) == (0, "Success")
    assert create(svc, 200, "10.2.0.0", 16, nh_vni=200) == (0, "Success")
    assert create(svc, 200, "10.1.0.0", 16, nh_vni=201) == (0, "Success")  # per VNI
    assert listed(svc, 100) == [("10.1.0.0", 16, 100, NEXT_HOP)]
    assert sorted(listed(svc, 200)) == [("10.1.0.0", 16, 201, NEXT_HOP),
                                        ("10.2.0.0", 16, 200, NEXT_HOP)]
    assert sorted(listed(svc, 0)) == sorted(listed(svc, 100) + listed(svc, 200))
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=300), timeout=5)
    assert status(reply) == (206, "NO_VNI")


def test_service_errors(svc):
    # no VNI tables yet
    assert create(svc, 100, "10.1.0.0", 16) == (206, "NO_VNI")
    assert delete(svc, 100, "10.1.0.0", 16) == (206, "NO_VNI")
    assert create(svc, 0, "10.1.0.0", 16) == (206, "NO_VNI")
    # an IPv4 next hop, checked before the VNI
    assert create(svc, 100, "10.1.0.0", 16, nh="192.168.0.1") == (204, "BAD_IPVER")
    add_interface(svc)
    assert create(svc, 100, "10.1.0.0", 16, nh="192.168.0.1") == (204, "BAD_IPVER")
    assert create(svc, 100, "10.1.0.0", 16) == (0, "Success")
    assert create(svc, 100, "10.1.0.0", 16, nh="fc00:9::1") == (301, "ROUTE_EXISTS")
    # the interface's own addresses are routes of the VNI
    assert create(svc, 100, "10.0.0.1", 32) == (301, "ROUTE_EXISTS")
    assert create(svc, 100, "fd00::1", 128) == (301, "ROUTE_EXISTS")
    # lengths up to 255 pass validation; the table refuses what does not fit the family
    assert create(svc, 100, "10.3.0.0", 33) == (303, "ROUTE_INSERT")
    assert create(svc, 100, "fd03::", 129) == (303, "ROUTE_INSERT")
    assert delete(svc, 100, "10.3.0.0", 33) == (302, "ROUTE_NOT_FOUND")
    assert delete(svc, 100, "10.4.0.0", 16) == (302, "ROUTE_NOT_FOUND")
    assert delete(svc, 100, "10.1.0.0", 24) == (302, "ROUTE_NOT_FOUND")  # exact match only
    # the interface's routes lead to its VF, not to the PF: not ours to delete
    assert delete(svc, 100, "10.0.0.1", 32) == (304, "ROUTE_BAD_PORT")
    assert delete(svc, 100, "fd00::1", 128) == (304, "ROUTE_BAD_PORT")
    # and they are still there
    assert create(svc, 100, "10.0.0.1", 32) == (301, "ROUTE_EXISTS")
    assert listed(svc, 100) == [("10.1.0.0", 16, 7, NEXT_HOP)]


INVALID = [
    (dict(prefix="10.0.0.0", length=256), "Invalid route.prefix.length"),
    (dict(prefix="bad", length=256), "Invalid route.prefix.length"),  # length first
    (dict(prefix="10.0.0.256", length=24), "Invalid route.prefix.ip"),
    (dict(prefix="", length=24), "Invalid route.prefix.ip"),
    (dict(prefix="fd00::", length=64, ipver=pb.IPV4), "Invalid route.prefix.ip"),
    (dict(prefix="10.0.0.0", length=8, ipver=pb.IPV6), "Invalid route.prefix.ip"),
    (dict(prefix="10.0.0.0", length=8, ipver=7), "Invalid route.prefix.ip"),
]
INVALID_NEXT_HOP = [
    (dict(nh="fc00::zz"), "Invalid route.nexthop_address"),
    (dict(nh=""), "Invalid route.nexthop_address"),
    (dict(nh="fc00::1", nh_ipver=pb.IPV4), "Invalid route.nexthop_address"),
    (dict(nh="fc00::1", nh_ipver=5), "Invalid route.nexthop_address"),
    (dict(prefix="x", nh="x"), "Invalid route.prefix.ip"),  # the prefix first
]


@pytest.mark.parametrize("fields, message", INVALID + INVALID_NEXT_HOP)
def test_create_validation(svc, fields, message):
    fields = dict(prefix="10.1.0.0", length=16) | fields
    request = pb.CreateRouteRequest(vni=100, route=route(**fields))
    assert harness.invalid_argument(svc.api.CreateRoute, request) == message


@pytest.mark.parametrize("fields, message", INVALID)
def test_delete_validation(svc, fields, message):
    request = pb.DeleteRouteRequest(vni=100, route=route(**fields))
    assert harness.invalid_argument(svc.api.DeleteRoute, request) == message


def test_delete_needs_no_next_hop(svc):
    add_interface(svc)
    assert create(svc, 100, "10.1.0.0", 16) == (0, "Success")
    request = pb.DeleteRouteRequest(vni=100, route=pb.Route(prefix=pb.Prefix(
        ip=address("10.1.0.0"), length=16)))
    assert status(svc.api.DeleteRoute(request, timeout=5)) == (0, "Success")


def test_reset_and_initialize_drop_routes(svc):
    """As in dpservice: the VNI's tables are rebuilt with only the interfaces' routes."""
    add_interface(svc)
    for reset in (lambda: svc.api.ResetVni(pb.ResetVniRequest(vni=100, type=pb.VNI_BOTH),
                                           timeout=5),
                  svc.initialize):
        assert create(svc, 100, "10.1.0.0", 16) == (0, "Success")
        assert create(svc, 100, "fd01::", 64) == (0, "Success")
        reset()
        assert listed(svc, 100) == []
        assert delete(svc, 100, "fd01::", 64) == (302, "ROUTE_NOT_FOUND")
        assert delete(svc, 100, "10.0.0.1", 32) == (304, "ROUTE_BAD_PORT")  # still there


def test_routes_go_with_their_vni(svc):
    add_interface(svc)
    assert create(svc, 100, "10.1.0.0", 16) == (0, "Success")
    svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5)) == \
        (206, "NO_VNI")
    add_interface(svc)  # fresh tables
    assert listed(svc, 100) == []


def test_removals_are_reported(monkeypatch):
    """on_remove hears of every route deleted (host bits cleared). A reset of the VNI is not
    reported: it drops routes, not the flows of the VNI's own interfaces."""
    from types import SimpleNamespace

    from dplane import _firmware as firmware
    from dplane.cmdline import Config
    from dplane.features.routes import Routes
    from dplane.lifecycle import Lifecycle
    from dplane.ports import Ports
    from dplane.vnis import Vnis

    calls = []
    monkeypatch.setattr(firmware, "route_del", lambda *args: calls.append(args))
    monkeypatch.setattr(firmware, "vni_create", lambda vni: None)
    monkeypatch.setattr(firmware, "vni_reset", lambda vni: None)
    ports = [SimpleNamespace(role="pf0", port_id=0), SimpleNamespace(role="pf1", port_id=1),
             SimpleNamespace(role="vf", port_id=2)]
    vnis = Vnis(Config(eal_args=[], board=None), Lifecycle())
    vnis.ref(100)  # tables, as if an interface used them
    routes = Routes(Ports(ports), vnis)
    removed = []
    routes.on_remove.append(lambda *args: removed.append(args))

    routes.delete(100, bytes([10, 1, 2, 3]), 16)
    assert calls == [(100, bytes([10, 1, 2, 3]), 16, 0)]  # only a route leading to PF0
    assert removed == [(100, bytes([10, 1, 0, 0]), 16)]
    vnis.reset(100)
    assert removed[1:] == []
