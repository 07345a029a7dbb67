# SPDX-License-Identifier: Apache-2.0
"""Addresses no VM can have and VNIs no packet can carry are refused where dpservice takes
them: interface addresses that are broadcast, multicast, loopback or link-local, and route
next hops in a VNI beyond 24 bits. INVALID_ARGUMENT with dpservice's text for the field and
the reason after it; 0.0.0.0 and :: keep meaning "no address"; nothing is left behind."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        yield svc


def create(ipv4: str, ipv6: str) -> pb.CreateInterfaceRequest:
    return pb.CreateInterfaceRequest(
        interface_id=b"vm1", vni=100, device_name="net_tap2",
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode()))


@pytest.mark.parametrize("ipv4, ipv6, text", [
    ("255.255.255.255", "::", "Invalid ipv4_config.primary_address: 255.255.255.255 is the "
     "broadcast address"),
    ("224.0.0.1", "fd00::1", "Invalid ipv4_config.primary_address: 224.0.0.1 is a multicast "
     "address"),
    ("239.255.255.250", "::", "Invalid ipv4_config.primary_address: 239.255.255.250 is a "
     "multicast address"),
    ("127.0.0.1", "::", "Invalid ipv4_config.primary_address: 127.0.0.1 is a loopback address"),
    ("169.254.0.1", "::", "Invalid ipv4_config.primary_address: 169.254.0.1 is a link-local "
     "address"),
    ("10.0.0.1", "ff02::1", "Invalid ipv6_config.primary_address: ff02::1 is a multicast "
     "address"),
    ("0.0.0.0", "::1", "Invalid ipv6_config.primary_address: ::1 is a loopback address"),
    ("0.0.0.0", "fe80::1", "Invalid ipv6_config.primary_address: fe80::1 is a link-local "
     "address"),
    # dpservice's own checks come first
    ("not-an-ip", "ff02::1", "Invalid ipv4_config.primary_address"),
    ("0.0.0.0", "::", "Invalid ipv4_config.primary_address and ipv6_config.primary_address "
     "combination"),
])
def test_unusable_interface_addresses(svc, ipv4, ipv6, text):
    assert harness.invalid_argument(svc.api.CreateInterface, create(ipv4, ipv6)) == text
    assert list(svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces) == []


@pytest.mark.parametrize("ipv4, ipv6", [("10.0.0.1", "::"), ("0.0.0.0", "fd00::1"),
                                        ("192.0.2.255", "2001:db8::ff"),
                                        ("169.253.255.255", "fec0::1")])
def test_usable_addresses_still_work(svc, ipv4, ipv6):
    reply = svc.api.CreateInterface(create(ipv4, ipv6), timeout=5)
    assert reply.status.code == 0, reply.status
    svc.delete_interfaces()


def route(nh_vni: int) -> pb.CreateRouteRequest:
    return pb.CreateRouteRequest(vni=100, route=pb.Route(
        prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"192.0.2.0"), length=24),
        nexthop_vni=nh_vni, nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=b"fc00:2::1")))


def test_next_hop_vni_beyond_24_bits(svc):
    assert svc.api.CreateInterface(create("10.0.0.1", "::"), timeout=5).status.code == 0
    try:
        for vni in (1 << 24, (1 << 32) - 1):
            assert harness.invalid_argument(svc.api.CreateRoute, route(vni)) == \
                "Invalid route.nexthop_vni: VNI exceeds 24-bit range"
        # a bad next hop address is still reported first, as dpservice does
        bad = route(1 << 24)
        bad.route.nexthop_address.address = b"nope"
        assert harness.invalid_argument(svc.api.CreateRoute, bad) == \
            "Invalid route.nexthop_address"
        assert svc.api.CreateRoute(route((1 << 24) - 1), timeout=5).status.code == 0
        routes = svc.api.ListRoutes(pb.ListRoutesRequest(vni=100), timeout=5).routes
        assert [r.nexthop_vni for r in routes if r.prefix.length == 24] == [(1 << 24) - 1]
    finally:
        svc.delete_interfaces()
