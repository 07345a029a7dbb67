# SPDX-License-Identifier: Apache-2.0
"""The control-plane scenario: how fast the gRPC API changes the dataplane, measured from a
plain Python gRPC client (grpcio, the generated stubs), as a host controller would call it.

The service runs on a board of two null PFs and net_tap VFs, in a private network namespace
that the bench enters first (so the TAPs never appear on the host). Every figure is taken
on the client's side, with the wall clock:

- GetVersion one at a time: an RPC that changes nothing, i.e. the floor of this client and
  of the service's RPC path together;
- CreateRoute and DeleteRoute one at a time (a new call once the previous one answered);
- a VNI loaded with `--routes` routes with `--window` calls in flight (grpc futures), then
  emptied the same way: the time to load and to delete, and the rates;
- CreateInterface + DeleteInterface cycles on one VF, one call at a time;
- `--clients` concurrent clients (threads, one channel each) doing `--calls` mixed calls
  each: calls/s over all of them, and the latency percentiles of every call.
"""
from __future__ import annotations

import collections
import ctypes
import dataclasses
import ipaddress
import os
import statistics
import subprocess
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import grpc

from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dpdk_pb2_grpc

CLONE_NEWNET = 0x40000000
RPC_TIMEOUT = 60.0
NEXT_HOP = "fc00:2::1"
ROUTES_VNI = 100   # the VNI the routes are loaded into (interface "bench-routes" on VF 0)
MIXED_IFACES = 4   # interfaces the concurrent clients share (VFs 1..4), VNIs 200..203
CYCLE_VNI = 300    # the interface created and deleted over and over, on the last VF
VFS = 1 + MIXED_IFACES + 1


def enter_private_netns() -> None:
    """Move the bench (before it starts any thread) into a network namespace of its own with
    its loopback up: the service started from here has its TAPs there, and the client reaches
    it on 127.0.0.1. IPv6 is off on new interfaces (no router solicitations on the VFs)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, "unshare(CLONE_NEWNET): the control scenario needs root")
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    with open("/proc/sys/net/ipv6/conf/default/disable_ipv6", "w", encoding="ascii") as f:
        f.write("1")


# ---------------------------------------------------------------------------------------
# Requests

def ip(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6 if ":" in text else pb.IPV4, address=text.encode())


def prefix(text: str) -> pb.Prefix:
    net = ipaddress.ip_network(text)
    return pb.Prefix(ip=ip(str(net.network_address)), length=net.prefixlen)


def route(text: str, nh_vni: int = 7) -> pb.Route:
    return pb.Route(prefix=prefix(text), nexthop_vni=nh_vni, nexthop_address=ip(NEXT_HOP))


def host(base: int, i: int) -> str:
    """The i-th /32 of the /8 `base` (i < 2**24)."""
    return f"{base}.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}/32"


def create_route(vni: int, text: str) -> pb.CreateRouteRequest:
    return pb.CreateRouteRequest(vni=vni, route=route(text))


def delete_route(vni: int, text: str) -> pb.DeleteRouteRequest:
    return pb.DeleteRouteRequest(vni=vni, route=pb.Route(prefix=prefix(text)))


def create_interface(iface: str, vni: int, vf: int, ipv4: str, ipv6: str
                     ) -> pb.CreateInterfaceRequest:
    return pb.CreateInterfaceRequest(
        interface_id=iface.encode(), vni=vni, device_name=f"dpbvf_{vf}",
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode()))


# ---------------------------------------------------------------------------------------
# Calling

def cpu_seconds(pid: int | None = None) -> float:
    """User + system CPU time of a process (this one by default), all its threads."""
    with open(f"/proc/{pid or 'self'}/stat", encoding="ascii") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class CpuMeter:
    """CPU time the client (this process) and the service spent over a stretch of calls."""

    service_pid: int | None = None

    def __enter__(self) -> CpuMeter:
        self.client0 = cpu_seconds()
        self.service0 = cpu_seconds(self.service_pid) if self.service_pid else 0.0
        return self

    def __exit__(self, *exc: object) -> None:
        self.client = cpu_seconds() - self.client0
        self.service = (cpu_seconds(self.service_pid) - self.service0
                        if self.service_pid else 0.0)


@dataclasses.dataclass
class Calls:
    """What a run of calls did."""

    calls: int = 0
    errors: int = 0
    first_error: str | None = None
    seconds: float = 0.0
    latencies: list[float] = dataclasses.field(default_factory=list)  # seconds, per call
    client_cpu: float | None = None   # seconds
    service_cpu: float | None = None  # seconds (the service's threads, worker included)

    def reply(self, name: str, reply: Any) -> bool:
        self.calls += 1
        if reply.status.code == 0:
            return True
        self.errors += 1
        if self.first_error is None:
            self.first_error = f"{name} #{self.calls}: {reply.status.code} " \
                               f"{reply.status.message}"
        return False

    @property
    def per_s(self) -> float:
        return self.calls / self.seconds if self.seconds else 0.0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"calls": self.calls, "errors": self.errors,
                               "seconds": round(self.seconds, 4), "per_s": round(self.per_s)}
        if self.first_error:
            out["first_error"] = self.first_error
        if self.client_cpu is not None and self.calls:
            out["client_cpu_us_per_call"] = round(self.client_cpu / self.calls * 1e6, 1)
            out["service_cpu_us_per_call"] = round(self.service_cpu / self.calls * 1e6, 1)
        if self.latencies:
            ms = sorted(x * 1e3 for x in self.latencies)
            out["latency_ms"] = {"mean": round(statistics.fmean(ms), 3),
                                 "p50": round(percentile(ms, 50), 3),
                                 "p99": round(percentile(ms, 99), 3),
                                 "max": round(ms[-1], 3)}
        return out


def percentile(ordered: Sequence[float], p: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    rank = max(1, -(-len(ordered) * p // 100))
    return ordered[int(rank) - 1]


def sequential(name: str, call: grpc.UnaryUnaryMultiCallable, requests: Iterable[Any],
               stop_on_error: bool = False) -> Calls:
    """One call at a time: the next is sent once the previous one answered."""
    out = Calls()
    with CpuMeter() as cpu:
        started = time.perf_counter()
        for request in requests:
            t0 = time.perf_counter()
            reply = call(request, timeout=RPC_TIMEOUT)
            out.latencies.append(time.perf_counter() - t0)
            if not out.reply(name, reply) and stop_on_error:
                break
        out.seconds = time.perf_counter() - started
    out.client_cpu, out.service_cpu = cpu.client, cpu.service
    return out


def pipelined(name: str, call: grpc.UnaryUnaryMultiCallable, requests: Iterable[Any],
              window: int, stop_on_error: bool = False) -> Calls:
    """`window` calls in flight (grpc futures): a new call as soon as the oldest answered.
    With stop_on_error, no new call after the first error (those in flight still count)."""
    out = Calls()
    in_flight: collections.deque = collections.deque()
    stopping = False
    with CpuMeter() as cpu:
        started = time.perf_counter()
        for request in requests:
            if len(in_flight) >= window:
                if not out.reply(name, in_flight.popleft().result()) and stop_on_error:
                    stopping = True
            if stopping:
                break
            in_flight.append(call.future(request, timeout=RPC_TIMEOUT))
        while in_flight:
            out.reply(name, in_flight.popleft().result())
        out.seconds = time.perf_counter() - started
    out.client_cpu, out.service_cpu = cpu.client, cpu.service
    return out


# ---------------------------------------------------------------------------------------
# The measurements

class ControlBench:
    def __init__(self, address: str, args: Any) -> None:
        self.address = address
        self.args = args
        # ListRoutes of a loaded VNI is larger than grpc's default limit of 4 MB
        self.channel = grpc.insecure_channel(address, options=[
            ("grpc.max_receive_message_length", -1)])
        self.api = dpdk_pb2_grpc.DPDKironcoreStub(self.channel)

    def close(self) -> None:
        self.channel.close()

    def must(self, call: Callable[..., Any], request: Any) -> Any:
        reply = call(request, timeout=RPC_TIMEOUT)
        if reply.status.code != 0:
            raise RuntimeError(f"set-up call failed: {reply.status.code} "
                               f"{reply.status.message}\n{request}")
        return reply

    def setup(self) -> None:
        self.must(self.api.Initialize, pb.InitializeRequest())
        self.must(self.api.CreateInterface, create_interface(
            "bench-routes", ROUTES_VNI, 0, "10.0.0.1", "fd00::1"))
        for k in range(MIXED_IFACES):
            self.must(self.api.CreateInterface, create_interface(
                f"bench-mixed-{k}", 200 + k, 1 + k, f"10.2.{k}.1", f"fd00:2:{k}::1"))

    def get_version(self) -> Calls:
        return sequential("GetVersion", self.api.GetVersion,
                          [GET_VERSION] * self.args.sequential)

    def get_version_pipelined(self) -> Calls:
        """The same with --window calls in flight: the service's RPC path alone (GetVersion
        never leaves the gRPC thread), as far as this client can drive it."""
        return pipelined("GetVersion", self.api.GetVersion,
                         [GET_VERSION] * (self.args.sequential * 5), self.args.window)

    def routes_sequential(self) -> tuple[Calls, Calls]:
        texts = [host(12, i) for i in range(self.args.sequential)]
        created = sequential("CreateRoute", self.api.CreateRoute,
                             [create_route(ROUTES_VNI, t) for t in texts], stop_on_error=True)
        made = texts[:created.calls - created.errors]
        deleted = sequential("DeleteRoute", self.api.DeleteRoute,
                             [delete_route(ROUTES_VNI, t) for t in made])
        return created, deleted

    def routes_load(self) -> tuple[Calls, float, Calls]:
        """(the load, seconds to list what was loaded, deleting it)."""
        texts = [host(11, i) for i in range(self.args.routes)]
        requests = [create_route(ROUTES_VNI, t) for t in texts]
        loaded = pipelined("CreateRoute", self.api.CreateRoute, requests, self.args.window,
                           stop_on_error=True)
        t0 = time.perf_counter()
        listed = self.api.ListRoutes(pb.ListRoutesRequest(vni=ROUTES_VNI), timeout=RPC_TIMEOUT)
        list_s = time.perf_counter() - t0
        made = [f"{r.prefix.ip.address.decode()}/{r.prefix.length}" for r in listed.routes]
        deleted = pipelined("DeleteRoute", self.api.DeleteRoute,
                            [delete_route(ROUTES_VNI, t) for t in made], self.args.window)
        return loaded, list_s, deleted

    def interface_cycles(self) -> tuple[Calls, Calls, float]:
        create = create_interface("bench-cycle", CYCLE_VNI, VFS - 1, "10.3.0.1", "fd00:3::1")
        delete = pb.DeleteInterfaceRequest(interface_id=b"bench-cycle")
        created, deleted = Calls(), Calls()
        meter = CpuMeter().__enter__()
        started = time.perf_counter()
        for _ in range(self.args.cycles):
            t0 = time.perf_counter()
            ok = created.reply("CreateInterface",
                               self.api.CreateInterface(create, timeout=RPC_TIMEOUT))
            t1 = time.perf_counter()
            created.latencies.append(t1 - t0)
            if not ok:
                break
            deleted.reply("DeleteInterface", self.api.DeleteInterface(delete,
                                                                      timeout=RPC_TIMEOUT))
            deleted.latencies.append(time.perf_counter() - t1)
        seconds = time.perf_counter() - started
        meter.__exit__()
        created.client_cpu, created.service_cpu = meter.client, meter.service
        created.seconds = sum(created.latencies)
        deleted.seconds = sum(deleted.latencies)
        return created, deleted, seconds

    def mixed(self) -> tuple[Calls, dict[str, Calls]]:
        """--clients threads, each with its own channel, --calls calls each: the same cycle
        of ten calls, on the interface (and VNI) it shares with a few other clients."""
        barrier = threading.Barrier(self.args.clients + 1)
        results: list[list[tuple[str, float, float, Any]]] = [
            [] for _ in range(self.args.clients)]
        failures: list[BaseException] = []

        def client(c: int) -> None:
            channel = grpc.insecure_channel(self.address)
            try:
                api = dpdk_pb2_grpc.DPDKironcoreStub(channel)
                api.GetVersion(GET_VERSION, timeout=RPC_TIMEOUT)  # connected
                k = c % MIXED_IFACES
                calls = mixed_calls(api, c, f"bench-mixed-{k}".encode(), 200 + k)
                barrier.wait()
                n = 0
                while n < self.args.calls:
                    for name, call, request in calls(n // len(MIXED_CYCLE)):
                        if n >= self.args.calls:
                            break
                        t0 = time.perf_counter()
                        reply = call(request, timeout=RPC_TIMEOUT)
                        results[c].append((name, t0, time.perf_counter(), reply))
                        n += 1
            except BaseException as exc:  # reported by the main thread
                failures.append(exc)
                barrier.abort()
            finally:
                channel.close()

        threads = [threading.Thread(target=client, args=(c,), daemon=True)
                   for c in range(self.args.clients)]
        for t in threads:
            t.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        with CpuMeter() as cpu:
            for t in threads:
                t.join()
        if failures:
            raise RuntimeError(f"a mixed client failed: {failures[0]!r}") from failures[0]
        total = Calls()
        by_name: dict[str, Calls] = collections.defaultdict(Calls)
        flat = [r for rs in results for r in rs]
        for name, t0, t1, reply in flat:
            total.reply(name, reply)
            total.latencies.append(t1 - t0)
            by_name[name].reply(name, reply)
            by_name[name].latencies.append(t1 - t0)
        if flat:
            total.seconds = max(r[2] for r in flat) - min(r[1] for r in flat)
        total.client_cpu, total.service_cpu = cpu.client, cpu.service
        return total, dict(by_name)


GET_VERSION = pb.GetVersionRequest(client_protocol="bench", client_name="bench",
                                   client_version="0")
MIXED_CYCLE = ("CreateRoute", "CreateRoute6", "GetInterface", "ListRoutes", "CreatePrefix",
               "CheckVniInUse", "DeletePrefix", "DeleteRoute", "DeleteRoute6", "GetVersion")


def mixed_calls(api: dpdk_pb2_grpc.DPDKironcoreStub, c: int, iface: bytes, vni: int
                ) -> Callable[[int], list[tuple[str, Any, Any]]]:
    """The i-th cycle of client c: every object it creates, it deletes in the same cycle,
    and no two clients touch the same prefix."""
    def cycle(i: int) -> list[tuple[str, Any, Any]]:
        v4, v6 = f"13.{c}.{i & 255}.0/24", f"fd13:{c:x}:{i:x}::/64"
        pfx = f"172.{16 + c}.{i & 255}.0/24"
        return [
            ("CreateRoute", api.CreateRoute, create_route(vni, v4)),
            ("CreateRoute6", api.CreateRoute, create_route(vni, v6)),
            ("GetInterface", api.GetInterface, pb.GetInterfaceRequest(interface_id=iface)),
            ("ListRoutes", api.ListRoutes, pb.ListRoutesRequest(vni=vni)),
            ("CreatePrefix", api.CreatePrefix,
             pb.CreatePrefixRequest(interface_id=iface, prefix=prefix(pfx))),
            ("CheckVniInUse", api.CheckVniInUse,
             pb.CheckVniInUseRequest(vni=vni, type=pb.VNI_IPV4)),
            ("DeletePrefix", api.DeletePrefix,
             pb.DeletePrefixRequest(interface_id=iface, prefix=prefix(pfx))),
            ("DeleteRoute", api.DeleteRoute, delete_route(vni, v4)),
            ("DeleteRoute6", api.DeleteRoute, delete_route(vni, v6)),
            ("GetVersion", api.GetVersion, GET_VERSION),
        ]
    return cycle


def run(address: str, args: Any, service_pid: int) -> dict[str, Any]:
    """Every measurement, in order, against the service at `address` (set up from scratch:
    Initialize, the interfaces)."""
    CpuMeter.service_pid = service_pid
    bench = ControlBench(address, args)
    try:
        bench.setup()
        out: dict[str, Any] = {"get_version": bench.get_version().to_dict(),
                               "get_version_pipelined": bench.get_version_pipelined().to_dict()}
        created, deleted = bench.routes_sequential()
        out["create_route"] = created.to_dict()
        out["delete_route"] = deleted.to_dict()
        loaded, list_s, emptied = bench.routes_load()
        out["load_routes"] = loaded.to_dict()
        out["list_loaded_routes_s"] = round(list_s, 4)
        out["delete_loaded_routes"] = emptied.to_dict()
        icreated, ideleted, seconds = bench.interface_cycles()
        out["interface_cycles"] = {
            "cycles": icreated.calls - icreated.errors, "seconds": round(seconds, 4),
            "per_s": round((icreated.calls - icreated.errors) / seconds) if seconds else 0,
            "create": icreated.to_dict(), "delete": ideleted.to_dict()}
        total, by_name = bench.mixed()
        out["mixed"] = total.to_dict()
        out["mixed_by_call"] = {k: v.to_dict() for k, v in sorted(by_name.items())}
        return out
    finally:
        bench.close()


def text_report(r: dict[str, Any], args: Any) -> list[str]:
    """Two lines per measurement: the rate (and latencies), then the CPU time per call of
    the client and of the service, and the first error if any."""
    out: list[str] = []

    def line(label: str, d: dict[str, Any], rate: str, what: str = "") -> None:
        ms = d.get("latency_ms")
        text = f"{label:<28}: {rate}{what}"
        if ms:
            text += f"  (p50 {ms['p50']:.2f} ms, p99 {ms['p99']:.2f} ms)"
        out.append(text)
        extra = []
        if "client_cpu_us_per_call" in d:
            extra.append(f"CPU per call: client {d['client_cpu_us_per_call']:.0f} us, "
                         f"service {d['service_cpu_us_per_call']:.0f} us")
        if d.get("errors"):
            extra.append(f"{d['errors']} errors, first: {d['first_error']}")
        if extra:
            out.append(" " * 30 + "; ".join(extra))

    w = args.window
    ld, dl, ic = r["load_routes"], r["delete_loaded_routes"], r["interface_cycles"]
    line("GetVersion, one at a time", r["get_version"], f"{r['get_version']['per_s']:>6} calls/s")
    line(f"GetVersion, {w} in flight", r["get_version_pipelined"],
         f"{r['get_version_pipelined']['per_s']:>6} calls/s")
    line("CreateRoute, one at a time", r["create_route"],
         f"{r['create_route']['per_s']:>6} calls/s")
    line("DeleteRoute, one at a time", r["delete_route"],
         f"{r['delete_route']['per_s']:>6} calls/s")
    line(f"CreateRoute, {w} in flight", ld, f"{ld['per_s']:>6} calls/s",
         f": {ld['calls'] - ld['errors']} routes into one VNI in {ld['seconds']:.2f} s")
    out.append(f"{'ListRoutes of them':<28}: {r['list_loaded_routes_s']:.2f} s")
    line(f"DeleteRoute, {w} in flight", dl, f"{dl['per_s']:>6} calls/s",
         f": {dl['calls'] - dl['errors']} routes in {dl['seconds']:.2f} s")
    line("CreateInterface+Delete", ic["create"], f"{ic['per_s']:>6} cycles/s",
         f" (create {ic['create']['latency_ms']['mean']:.2f} ms, delete "
         f"{ic['delete'].get('latency_ms', {}).get('mean', 0):.2f} ms on average)")
    line(f"{args.clients} clients x {args.calls} mixed", r["mixed"],
         f"{r['mixed']['per_s']:>6} calls/s")
    return out
