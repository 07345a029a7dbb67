# SPDX-License-Identifier: Apache-2.0
"""Helpers of the routing-table tests: many routes at once over gRPC, listing, table usage."""
from __future__ import annotations

import itertools
from collections.abc import Iterable

import harness
from dplane.proto import dpdk_pb2 as pb

NEXT_HOP = "fc00:2::64:0:1"


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def address(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6 if ":" in text else pb.IPV4, address=text.encode())


def route(prefix: str, length: int, nh_vni: int = 7) -> pb.Route:
    return pb.Route(prefix=pb.Prefix(ip=address(prefix), length=length), nexthop_vni=nh_vni,
                    nexthop_address=address(NEXT_HOP))


def create(svc: harness.Service, vni: int, prefix: str, length: int, nh_vni: int = 7
           ) -> tuple[int, str]:
    return status(svc.api.CreateRoute(pb.CreateRouteRequest(
        vni=vni, route=route(prefix, length, nh_vni)), timeout=5))


def delete(svc: harness.Service, vni: int, prefix: str, length: int) -> tuple[int, str]:
    return status(svc.api.DeleteRoute(pb.DeleteRouteRequest(
        vni=vni, route=route(prefix, length)), timeout=5))


def listed(svc: harness.Service, vni: int) -> list[tuple[str, int]]:
    reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=vni), timeout=10)
    assert status(reply) == (0, "Success")
    return [(r.prefix.ip.address.decode(), r.prefix.length) for r in reply.routes]


def pipelined(call, requests: Iterable, window: int = 64) -> list[tuple[int, str]]:
    """Many calls, up to `window` in flight: their statuses, in order."""
    out: list[tuple[int, str]] = []
    requests = iter(requests)
    while True:
        pending = [call.future(r, timeout=30) for r in itertools.islice(requests, window)]
        if not pending:
            return out
        out += [status(f.result()) for f in pending]


def create_many(svc: harness.Service, vni: int, prefixes: Iterable[tuple[str, int]]
                ) -> list[tuple[int, str]]:
    return pipelined(svc.api.CreateRoute, (pb.CreateRouteRequest(vni=vni, route=route(p, n))
                                           for p, n in prefixes))


def host(n: int) -> str:
    """The n-th address of 10.64.0.0/10."""
    return f"10.{64 + (n >> 16)}.{(n >> 8) & 0xFF}.{n & 0xFF}"


def tables(svc: harness.Service) -> dict[str, tuple[int, int]]:
    """(capacity, entries) of every table of the service."""
    return {t.name: (t.capacity, t.entries) for t in svc.stats().tables}
