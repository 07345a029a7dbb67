# SPDX-License-Identifier: Apache-2.0
"""Helpers for the offload tests: two VMs and a default route to the underlay, frames as the
VMs and the underlay send them, the service's offload counters and rules, and a step runner
that sends the same frames into two services and compares what comes out."""
from __future__ import annotations

import contextlib
import socket
from collections.abc import Callable, Iterator, Sequence

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

VNI = 100
VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2", "fd00::2", "52:54:00:00:00:01"),
       "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3", "fd00::3", "52:54:00:00:00:02")}
REMOTE = "fc00:2::1"
ROUTER_MAC = "02:00:00:00:00:fe"
PFS = ("dtap0", "dtap1")


def route(svc: harness.Service, prefix: str, length: int, nexthop: str = REMOTE) -> None:
    ver = pb.IPV6 if ":" in prefix else pb.IPV4
    r = pb.Route(prefix=pb.Prefix(ip=pb.IpAddress(ipver=ver, address=prefix.encode()),
                                  length=length),
                 nexthop_vni=VNI,
                 nexthop_address=pb.IpAddress(ipver=pb.IPV6, address=nexthop.encode()))
    assert svc.api.CreateRoute(pb.CreateRouteRequest(vni=VNI, route=r),
                               timeout=5).status.code == 0


def set_up(svc: harness.Service,
           each_vm: Callable[[harness.Service, str], None] | None = None) -> None:
    """vm1 and vm2 in VNI 100, default routes to REMOTE, every port carrying frames.
    each_vm(svc, vm) runs once the VM's interface exists, before any traffic."""
    svc.underlays = {}
    for vm, (dev, _, ip4, ip6, _) in VMS.items():
        reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
            interface_id=vm.encode(), vni=VNI, device_name=dev,
            ipv4_config=pb.IpConfig(primary_address=ip4.encode()),
            ipv6_config=pb.IpConfig(primary_address=ip6.encode())), timeout=5)
        assert reply.status.code == 0
        svc.underlays[vm] = reply.underlay_route.decode()
        if each_vm is not None:
            each_vm(svc, vm)
    route(svc, "0.0.0.0", 0)
    route(svc, "::", 0)
    warm_up(svc)


@contextlib.contextmanager
def service_pair(opts: dict[str, Sequence[str]],
                 prepare: Callable[[harness.Service], None] = set_up
                 ) -> Iterator[dict[str, harness.Service]]:
    """Services side by side (by name: their options beside the harness's), each with a
    telemetry client (svc.telemetry) and prepared (by default set_up), for a module."""
    with contextlib.ExitStack() as stack:
        out = {}
        for name, svc_opts in opts.items():
            svc = stack.enter_context(harness.running_service(opts=svc_opts, telemetry=True))
            svc.telemetry = stack.enter_context(TelemetryClient(socket_path(svc.prefix)))
            prepare(svc)
            out[name] = svc
        yield out


def vf_mac(vm: str) -> str:
    return harness.VF_MAC.format(int(VMS[vm][1].rsplit("_", 1)[1]))


def from_vm(svc: harness.Service, vm: str, l3) -> bytes:
    return bytes(Ether(src=VMS[vm][4], dst=vf_mac(vm)) / l3)


def from_underlay(svc: harness.Service, vm: str, l3) -> bytes:
    nh = 4 if IP in l3 else 41
    return bytes(Ether(src=ROUTER_MAC, dst=harness.PF_MACS[0]) /
                 IPv6(src=REMOTE, dst=svc.underlays[vm], nh=nh) / l3)


def data_frame(raw: bytes) -> bool:
    """Not the service's own periodic ARP/ND."""
    frame = Ether(raw)
    if IP in frame:
        return True
    return IPv6 in frame and (frame[IPv6].nh != 58 or frame[IPv6].payload.type not in
                              (133, 134, 135, 136))


def receive(tap: harness.Tap, timeout: float = 2.0) -> bytes | None:
    while True:
        raw = tap.recv_raw(timeout)
        if raw is None or data_frame(raw):
            return raw


def warm_up(svc: harness.Service) -> None:
    """Until the VF ports and PF0 carry frames (a port takes frames a little after
    CreateInterface started it)."""
    for src, dst_tap, dst_ip in (("vm1", "dtapvf_1", "10.0.0.3"), ("vm2", "dtapvf_0", "10.0.0.2"),
                                 ("vm1", "dtap0", "192.0.2.99")):
        frame = from_vm(svc, src, IP(src=VMS[src][2], dst=dst_ip) / UDP(sport=9, dport=9))
        for _ in range(30):
            svc.tap(VMS[src][1]).send(frame)
            if receive(svc.tap(dst_tap), timeout=0.2) is not None:
                break
        else:
            raise AssertionError(f"{src} -> {dst_ip}: no frame")
    for tap in ("dtapvf_0", "dtapvf_1", "dtap0"):
        svc.tap(tap).drain()


def neutral(svc: harness.Service, raw: bytes | None) -> bytes | None:
    """The frame with the service's underlay addresses (its own choice) as placeholders."""
    if raw is None:
        return None
    for i, (_, underlay) in enumerate(sorted(svc.underlays.items())):
        raw = raw.replace(socket.inet_pton(socket.AF_INET6, underlay), b"underlay%08d" % i)
    return raw


def offload_stats(svc: harness.Service) -> dict:
    return svc.telemetry.query("/dplane/offload")


def rules(svc: harness.Service) -> list[dict[str, str]]:
    rows = svc.diag.DumpTable(harness.dplane_pb2.DumpTableRequest(name="offload_rules"),
                              timeout=5).rows
    return [dict(r.fields) for r in rows]


def flow_rules(svc: harness.Service) -> list[dict[str, str]]:
    """The flows' rules (not the VFs' default jumps)."""
    return [r for r in rules(svc) if r["group"] != "0" or r["age"] != "-"]


# (into TAP, frame of the service and the frames out so far, the TAPs it may leave by)
Step = tuple[str, Callable[[harness.Service, list], bytes], tuple[str, ...]]


def first_out(svc: harness.Service, taps: tuple[str, ...]) -> tuple[str, bytes | None]:
    """The frame the step made, and the port it left by (any of taps)."""
    for _ in range(20):
        for name in taps:
            raw = receive(svc.tap(name), timeout=0.05)
            if raw is not None:
                return name, raw
    return "-", None


def run_steps(svc: harness.Service, steps: list[Step]) -> list[tuple[str, bytes | None]]:
    raw_out: list = []
    got = []
    for into, frame, outs in steps:
        svc.tap(into).send(frame(svc, raw_out))
        name, raw = first_out(svc, outs)
        raw_out.append(raw)
        got.append((name, neutral(svc, raw)))
    return got


def steps_differential(services, steps: list[Step], dropped: frozenset[int] = frozenset()
                       ) -> dict[str, dict]:
    """Both services ("off" and "on") take the steps; their frames must match, and each
    step but those `dropped` (by index) must make one. The counters with offload on, before
    and after."""
    before = offload_stats(services["on"])
    off = run_steps(services["off"], steps)
    on = run_steps(services["on"], steps)
    assert [i for i, (_, frame) in enumerate(off) if frame is None] == sorted(dropped), off
    for i, (a, b) in enumerate(zip(off, on, strict=True)):
        assert a == b, f"step {i}: {a[0]} {Ether(a[1]) if a[1] else None!r} != " \
                       f"{b[0]} {Ether(b[1]) if b[1] else None!r}"
    return {"before": before, "after": offload_stats(services["on"])}


def delta(seen: dict, *path: str) -> int:
    a, b = seen["before"], seen["after"]
    for key in path:
        a, b = a[key], b[key]
    return b - a


def vm_step(vm: str, l3, outs: tuple[str, ...] = PFS) -> Step:
    tap = {"vm1": "dtapvf_0", "vm2": "dtapvf_1"}[vm]
    return (tap, lambda s, _: from_vm(s, vm, l3), outs)


def net_step(vm: str, l3) -> Step:
    tap = {"vm1": "dtapvf_0", "vm2": "dtapvf_1"}[vm]
    return ("dtap0", lambda s, _: from_underlay(s, vm, l3), (tap,))
