# SPDX-License-Identifier: Apache-2.0
"""CreatePrefix, DeletePrefix, ListPrefixes over real gRPC: IPv4 and IPv6 prefixes with
generated or preferred underlays, every validation text and service error of the contract,
DeletePrefix's precedence of route errors, prefixes going with their interface and
surviving ResetVni/Initialize, and nothing left behind."""
from __future__ import annotations

import errno
import ipaddress

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb

VF0, VF1 = "net_tap2", "net_tap3"
UNDERLAY_NET = ipaddress.IPv6Network("fc00:1::/64")  # --ipv6 fc00:1::1


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def prefix(ip: str, length: int, ipver: int | None = None) -> pb.Prefix:
    if ipver is None:
        ipver = pb.IPV6 if ":" in ip else pb.IPV4
    return pb.Prefix(ip=pb.IpAddress(ipver=ipver, address=ip.encode()), length=length)


def create(svc, ip: str, length: int, iface: bytes = b"vm1", preferred: str = "",
           ipver: int | None = None) -> pb.CreatePrefixResponse:
    return svc.api.CreatePrefix(pb.CreatePrefixRequest(
        interface_id=iface, prefix=prefix(ip, length, ipver),
        preferred_underlay_route=preferred.encode()), timeout=5)


def delete(svc, ip: str, length: int, iface: bytes = b"vm1") -> tuple[int, str]:
    return status(svc.api.DeletePrefix(pb.DeletePrefixRequest(
        interface_id=iface, prefix=prefix(ip, length)), timeout=5))


def listed(svc, iface: bytes = b"vm1") -> list[tuple[str, int, str]]:
    reply = svc.api.ListPrefixes(pb.ListPrefixesRequest(interface_id=iface), timeout=5)
    assert status(reply) == (0, "Success")
    return [(p.ip.address.decode(), p.length, p.underlay_route.decode())
            for p in reply.prefixes]


def add_interface(svc, iface_id="vm1", device=VF0, vni=100, ipv4="10.0.0.1", ipv6="fd00::1"):
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert status(reply) == (0, "Success")
    return reply.underlay_route.decode()


def create_route(svc, vni: int, ip: str, length: int) -> tuple[int, str]:
    route = pb.Route(prefix=prefix(ip, length), nexthop_vni=vni,
                     nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=b"fc00:2::1"))
    return status(svc.api.CreateRoute(pb.CreateRouteRequest(vni=vni, route=route), timeout=5))


def delete_route(svc, vni: int, ip: str, length: int) -> tuple[int, str]:
    route = pb.Route(prefix=prefix(ip, length))
    return status(svc.api.DeleteRoute(pb.DeleteRouteRequest(vni=vni, route=route), timeout=5))


def vnfs(svc) -> int:
    return svc.table_entries()["vnf_table"]


@pytest.fixture
def svc(shared):
    """The shared service; its interfaces go afterwards, and with them their prefixes."""
    yield shared
    shared.delete_interfaces()
    assert vnfs(shared) == 0


def test_create_list_delete(svc):
    iface_underlay = add_interface(svc)
    reply = create(svc, "10.10.0.0", 24)
    assert status(reply) == (0, "Success")
    generated = ipaddress.IPv6Address(reply.underlay_route.decode())
    assert generated in UNDERLAY_NET and generated.packed[8:11] == b"\xd0\x00\x00"
    # generated underlays count on from the interface's
    assert int(generated) == int(ipaddress.IPv6Address(iface_underlay)) + 1
    reply = create(svc, "fd10::", 64, preferred="fc00:1::8000:0:5")
    assert status(reply) == (0, "Success") and reply.underlay_route == b"fc00:1::8000:0:5"
    assert vnfs(svc) == 3

    got = svc.api.ListPrefixes(pb.ListPrefixesRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (0, "Success")
    assert list(got.prefixes) == [
        pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.10.0.0"), length=24,
                  underlay_route=str(generated).encode()),
        pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV6, address=b"fd10::"), length=64,
                  underlay_route=b"fc00:1::8000:0:5"),
    ]
    # the prefixes route in the VNI to the VF, so they are not remote routes
    assert status(svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5)) == \
        (0, "Success")
    assert not svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5).routes

    assert delete(svc, "10.10.0.0", 24) == (0, "Success")
    assert listed(svc) == [("fd10::", 64, "fc00:1::8000:0:5")]
    assert delete(svc, "fd10::", 64) == (0, "Success")
    assert listed(svc) == []
    assert vnfs(svc) == 1
    # route and underlay are both free again
    assert status(create(svc, "10.10.0.0", 24)) == (0, "Success")
    assert status(create(svc, "fd10::", 64, preferred="fc00:1::8000:0:5")) == (0, "Success")


def test_prefixes_are_per_interface_and_masked(svc):
    add_interface(svc, "a", VF0)
    add_interface(svc, "b", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert status(create(svc, "10.20.0.5", 16, b"a")) == (0, "Success")
    assert status(create(svc, "10.30.0.0", 16, b"b")) == (0, "Success")
    assert [p[:2] for p in listed(svc, b"a")] == [("10.20.0.0", 16)]
    assert [p[:2] for p in listed(svc, b"b")] == [("10.30.0.0", 16)]
    assert delete(svc, "10.20.1.1", 16, b"a") == (0, "Success")
    assert listed(svc, b"a") == []


def test_prefix_routes_share_the_vni_table(svc):
    add_interface(svc)
    assert status(create(svc, "10.10.0.0", 24)) == (0, "Success")
    assert create_route(svc, 100, "10.10.0.0", 24) == (301, "ROUTE_EXISTS")
    assert delete_route(svc, 100, "10.10.0.0", 24) == (304, "ROUTE_BAD_PORT")
    assert create_route(svc, 100, "10.11.0.0", 24) == (0, "Success")
    assert status(create(svc, "10.11.0.0", 24)) == (301, "ROUTE_EXISTS")
    # an IPv4 /0 prefix is the VNI's default route
    assert status(create(svc, "0.0.0.0", 0)) == (0, "Success")
    assert create_route(svc, 100, "0.0.0.0", 0) == (301, "ROUTE_EXISTS")


def test_service_errors(svc):
    for iface in (b"nope", b"vm1"):
        assert status(create(svc, "10.10.0.0", 24, iface)) == (205, "NO_VM")
        assert delete(svc, "10.10.0.0", 24, iface) == (205, "NO_VM")
        reply = svc.api.ListPrefixes(pb.ListPrefixesRequest(interface_id=iface), timeout=5)
        assert status(reply) == (205, "NO_VM") and not reply.prefixes
    add_interface(svc)
    assert status(create(svc, "10.10.0.0", 24)) == (0, "Success")
    assert status(create(svc, "10.10.0.0", 24)) == (301, "ROUTE_EXISTS")
    # the interface's own addresses
    assert status(create(svc, "10.0.0.1", 32)) == (301, "ROUTE_EXISTS")
    assert status(create(svc, "fd00::1", 128)) == (301, "ROUTE_EXISTS")
    # a length the family cannot have
    assert status(create(svc, "10.20.0.0", 33)) == (303, "ROUTE_INSERT")
    assert status(create(svc, "fd20::", 129)) == (303, "ROUTE_INSERT")
    # an underlay address in use: VNF_INSERT, and nothing is left behind
    before = vnfs(svc)
    first = create(svc, "10.20.0.0", 24, preferred="fc00:1::8000:0:7")
    assert status(first) == (0, "Success")
    reply = create(svc, "10.30.0.0", 24, preferred="fc00:1::8000:0:7")
    assert status(reply) == (401, "VNF_INSERT") and not reply.underlay_route
    assert vnfs(svc) == before + 1
    assert [p[0] for p in listed(svc)] == ["10.10.0.0", "10.20.0.0"]
    assert status(create(svc, "10.30.0.0", 24)) == (0, "Success")  # its route was taken back


def test_interface_underlay_as_preferred_is_taken(svc):
    underlay = "fc00:1::8000:0:9"
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=b"vm1", vni=100, device_name=VF0,
        ipv4_config=pb.IpConfig(primary_address=b"10.0.0.1"),
        ipv6_config=pb.IpConfig(primary_address=b"fd00::1"),
        preferred_underlay_route=underlay.encode()), timeout=5)
    assert status(reply) == (0, "Success")
    assert status(create(svc, "10.30.0.0", 24, preferred=underlay)) == (401, "VNF_INSERT")
    assert listed(svc) == [] and vnfs(svc) == 1
    assert status(create(svc, "10.30.0.0", 24)) == (0, "Success")


def test_delete_errors_route_first(svc):
    """dpservice looks at the route first (302, 304), the underlay address only then."""
    add_interface(svc, "a", VF0)
    add_interface(svc, "b", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert status(create(svc, "10.20.0.0", 16, b"b")) == (0, "Success")
    assert create_route(svc, 100, "10.40.0.0", 16) == (0, "Success")
    assert delete(svc, "10.30.0.0", 16, b"a") == (302, "ROUTE_NOT_FOUND")
    assert delete(svc, "10.20.0.0", 24, b"b") == (302, "ROUTE_NOT_FOUND")  # exact only
    assert delete(svc, "10.20.0.0", 33, b"b") == (302, "ROUTE_NOT_FOUND")
    assert delete(svc, "10.20.0.0", 16, b"a") == (304, "ROUTE_BAD_PORT")  # b's prefix
    assert delete(svc, "10.0.0.2", 32, b"a") == (304, "ROUTE_BAD_PORT")  # b's address
    assert delete(svc, "10.40.0.0", 16, b"a") == (304, "ROUTE_BAD_PORT")  # a remote route
    # a's own address routes to a's VF but is no prefix: left alone (dpservice removes it)
    assert delete(svc, "10.0.0.1", 32, b"a") == (201, "NOT_FOUND")
    assert delete(svc, "fd00::1", 128, b"a") == (201, "NOT_FOUND")
    assert status(create(svc, "10.0.0.1", 32, b"a")) == (301, "ROUTE_EXISTS")
    # nothing was removed by the failed deletes
    assert [p[:2] for p in listed(svc, b"b")] == [("10.20.0.0", 16)]
    assert delete_route(svc, 100, "10.40.0.0", 16) == (0, "Success")


INVALID = [
    (dict(iface=b""), "Invalid interface_id"),
    (dict(iface=b"x" * 64), "Invalid interface_id"),
    (dict(iface=b"", ip="bad"), "Invalid interface_id"),  # the id first
    (dict(ip="10.0.0.256"), "Invalid prefix.ip"),
    (dict(ip=""), "Invalid prefix.ip"),
    (dict(ip="fd00::", ipver=pb.IPV4), "Invalid prefix.ip"),
    (dict(ip="10.0.0.0", ipver=pb.IPV6), "Invalid prefix.ip"),
    (dict(ip="10.0.0.0", ipver=9), "Invalid prefix.ip"),
    (dict(ip="bad", length=256), "Invalid prefix.ip"),  # the address before the length
    (dict(length=256), "Invalid prefix.length"),
]


def request_fields(fields: dict) -> tuple[bytes, pb.Prefix]:
    fields = dict(iface=b"vm1", ip="10.10.0.0", length=24) | fields
    return fields["iface"], prefix(fields["ip"], fields["length"], fields.get("ipver"))


@pytest.mark.parametrize("fields, message", INVALID + [
    (dict(preferred=b"fc00:2::8000:0:1"), "Invalid preferred_underlay_route"),  # other /64
    (dict(preferred=b"fc00:1::d000:0:0:1"), "Invalid preferred_underlay_route"),  # no 0x80
    (dict(preferred=b"10.0.0.1"), "Invalid preferred_underlay_route"),
    (dict(preferred=b"x", length=256), "Invalid prefix.length"),  # the underlay last
])
def test_create_validation(svc, fields, message):
    iface, pfx = request_fields(fields)
    request = pb.CreatePrefixRequest(interface_id=iface, prefix=pfx,
                                     preferred_underlay_route=fields.get("preferred", b""))
    assert harness.invalid_argument(svc.api.CreatePrefix, request) == message


@pytest.mark.parametrize("fields, message", INVALID)
def test_delete_validation(svc, fields, message):
    iface, pfx = request_fields(fields)
    request = pb.DeletePrefixRequest(interface_id=iface, prefix=pfx)
    assert harness.invalid_argument(svc.api.DeletePrefix, request) == message


@pytest.mark.parametrize("iface", [b"", b"x" * 64])
def test_list_validation(svc, iface):
    request = pb.ListPrefixesRequest(interface_id=iface)
    assert harness.invalid_argument(svc.api.ListPrefixes, request) == "Invalid interface_id"


def test_prefixes_go_with_their_interface(svc):
    """Unlike dpservice, which leaves their routes and underlays behind."""
    add_interface(svc, "a", VF0)
    add_interface(svc, "b", VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert status(create(svc, "10.10.0.0", 24, b"a")) == (0, "Success")
    assert status(create(svc, "fd10::", 64, b"a", preferred="fc00:1::8000:0:5")) == \
        (0, "Success")
    assert status(create(svc, "10.20.0.0", 24, b"b")) == (0, "Success")
    assert vnfs(svc) == 5
    svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"a"), timeout=5)
    assert vnfs(svc) == 2
    # the routes are gone from the VNI (it lives on with b), the underlay is free
    assert create_route(svc, 100, "10.10.0.0", 24) == (0, "Success")
    assert delete_route(svc, 100, "10.10.0.0", 24) == (0, "Success")
    add_interface(svc, "a", VF0)
    assert listed(svc, b"a") == []
    assert status(create(svc, "fd10::", 64, b"a", preferred="fc00:1::8000:0:5")) == \
        (0, "Success")
    assert [p[:2] for p in listed(svc, b"b")] == [("10.20.0.0", 24)]


def test_prefix_routes_survive_reset_and_initialize(svc):
    add_interface(svc)
    assert status(create(svc, "10.10.0.0", 24)) == (0, "Success")
    assert status(create(svc, "fd10::", 64)) == (0, "Success")
    before = listed(svc)
    for reset in (lambda: svc.api.ResetVni(pb.ResetVniRequest(vni=100, type=pb.VNI_BOTH),
                                           timeout=5),
                  svc.initialize):
        reset()
        assert listed(svc) == before
        for ip, length in (("10.10.0.0", 24), ("fd10::", 64)):
            assert create_route(svc, 100, ip, length) == (301, "ROUTE_EXISTS")
            assert delete_route(svc, 100, ip, length) == (304, "ROUTE_BAD_PORT")
    assert delete(svc, "10.10.0.0", 24) == (0, "Success")
    assert delete(svc, "fd10::", 64) == (0, "Success")
    assert create_route(svc, 100, "10.10.0.0", 24) == (0, "Success")


class FakeTables:
    """Stand-in for the firmware's route and VNF tables (no EAL needed)."""

    def __init__(self) -> None:
        self.routes: dict[tuple[int, bytes, int], int] = {}
        self.vnfs: dict[bytes, tuple] = {}

    def route_add(self, vni, prefix, length, port_id, nh_vni=0, nh_ipv6=b""):
        if (vni, prefix, length) in self.routes:
            raise OSError(errno.EEXIST, "exists")
        self.routes[vni, prefix, length] = port_id

    def route_del(self, vni, prefix, length, port_id=-1):
        del self.routes[vni, prefix, length]

    def vnf_add(self, underlay, vnf_type, port_id, vni, prefix=b"", length=0):
        if underlay in self.vnfs:
            raise OSError(errno.EEXIST, "exists")
        self.vnfs[underlay] = (vnf_type, port_id, vni, prefix, length)

    def vnf_del(self, underlay):
        del self.vnfs[underlay]


def test_removals_are_reported(monkeypatch):
    """on_remove hears of every prefix that goes: deleted, or with its interface."""
    from types import SimpleNamespace

    from dplane import _firmware as firmware
    from dplane.cmdline import Config
    from dplane.features.prefixes import Prefixes
    from dplane.lifecycle import Lifecycle
    from dplane.underlay import UnderlayGenerator
    from dplane.vnis import Vnis

    fake = FakeTables()
    for name in ("route_add", "route_del", "vnf_add", "vnf_del"):
        monkeypatch.setattr(firmware, name, getattr(fake, name))
    iface = SimpleNamespace(id="vm1", vni=100, port=SimpleNamespace(port_id=2))
    interfaces = SimpleNamespace(find={"vm1": iface}.get, on_delete=[])
    cfg = Config(eal_args=[], board=None)
    prefixes = Prefixes(cfg, interfaces, Vnis(cfg, Lifecycle()), UnderlayGenerator("fc00:1::1"))
    removed = []
    prefixes.on_remove.append(lambda *args: removed.append(args))

    net4, net6 = ipaddress.ip_address("10.1.2.0").packed, ipaddress.ip_address("fd10::").packed
    pfx = prefixes.create("vm1", ipaddress.ip_address("10.1.2.3").packed, 24)
    assert (pfx.prefix, fake.routes) == (net4, {(100, net4, 24): 2})
    assert fake.vnfs == {pfx.underlay: (firmware.VNF_ALIAS_PFX, 2, 100, net4, 24)}
    prefixes.create("vm1", net6, 64)
    prefixes.delete("vm1", net4, 24)
    assert removed == [(100, net4, 24)]
    for hook in interfaces.on_delete:
        hook(iface)
    assert removed == [(100, net4, 24), (100, net6, 64)]
    assert fake.routes == {} and fake.vnfs == {}
