# SPDX-License-Identifier: Apache-2.0
"""Test harness: the real service in its own network namespace.

Addressing plan (write it down once, keep traces readable):
  netns        dpt-<id>                 one per service instance
  gRPC         10.<200+id/16384>...     a veth pair dpg<id>r (root, .1/30) <-> dpg<id>n (netns,
                                        .2/30); the client connects to <.2>:1337 over it
  ports        dtap0 (PF0, 22:22:22:22:22:00), dtap1 (PF1, 22:22:22:22:22:01),
               dtapvf_<i> (VF i, 66:66:66:66:66:<i>)
  underlay     fc00:1::1 (--ipv6)
"""
from __future__ import annotations

import contextlib
import ctypes
import errno
import itertools
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

import grpc

from dplane.proto import (
    dpdk_pb2,
    dpdk_pb2_grpc,
    dplane_pb2,
    dplane_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
)

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
GRPC_PORT = 1337

PF_MACS = ("22:22:22:22:22:00", "22:22:22:22:22:01")
VF_MAC = "66:66:66:66:66:{:02x}"

_libc = ctypes.CDLL(None, use_errno=True)


def run(*cmd: str, check: bool = True, netns: str | None = None
        ) -> subprocess.CompletedProcess:
    if netns:
        cmd = ("ip", "netns", "exec", netns) + cmd
    return subprocess.run(cmd, check=check, capture_output=True, text=True)


@contextlib.contextmanager
def in_netns(name: str) -> Iterator[None]:
    """Run the body with this thread in network namespace `name` (sockets created inside
    stay there)."""
    own = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{name}", os.O_RDONLY)
    try:
        if _libc.setns(target, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns({name})")
        try:
            yield
        finally:
            if _libc.setns(own, CLONE_NEWNET) != 0:
                raise OSError(ctypes.get_errno(), "setns(back)")
    finally:
        os.close(target)
        os.close(own)


class Netns:
    """A network namespace with IPv6 off (no RS/MLD noise) and a veth link to the root
    namespace for gRPC."""

    _ids = itertools.count()

    def __init__(self) -> None:
        while True:
            self.id = (os.getpid() * 64 + next(self._ids)) % 16000
            self.name = f"dpt-{self.id}"
            if run("ip", "netns", "add", self.name, check=False).returncode == 0:
                break
        self.root_if, self.ns_if = f"dpg{self.id}r", f"dpg{self.id}n"
        base = f"10.{200 + self.id // 4096}.{(self.id % 4096) // 16}.{(self.id % 16) * 16}"
        prefix = base.rsplit(".", 1)[0]
        last = int(base.rsplit(".", 1)[1])
        self.root_ip, self.ns_ip = f"{prefix}.{last + 1}", f"{prefix}.{last + 2}"
        try:
            run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1", netns=self.name)
            run("ip", "link", "set", "lo", "up", netns=self.name)
            run("ip", "link", "del", self.root_if, check=False)
            run("ip", "link", "add", self.root_if, "type", "veth", "peer", "name", self.ns_if,
                "netns", self.name)
            run("ip", "addr", "add", f"{self.root_ip}/28", "dev", self.root_if)
            run("ip", "link", "set", self.root_if, "up")
            run("ip", "addr", "add", f"{self.ns_ip}/28", "dev", self.ns_if, netns=self.name)
            run("ip", "link", "set", self.ns_if, "up", netns=self.name)
        except BaseException:
            self.delete()
            raise

    def links(self) -> list[str]:
        out = run("ip", "-o", "link", "show", netns=self.name).stdout
        return [line.split(":")[1].strip().split("@")[0] for line in out.splitlines()]

    def delete(self) -> None:
        run("ip", "link", "del", self.root_if, check=False)
        run("ip", "netns", "del", self.name, check=False)


def invalid_argument(call, request) -> str:
    """The details of the INVALID_ARGUMENT error that the RPC must fail with."""
    try:
        call(request, timeout=5)
    except grpc.RpcError as err:
        assert err.code() == grpc.StatusCode.INVALID_ARGUMENT, err
        return err.details()
    raise AssertionError(f"{type(request).__name__} did not fail with INVALID_ARGUMENT")


class Tap:
    """Raw L2 socket on a TAP inside the service's namespace: send scapy frames in, read
    the frames the service sends out."""

    def __init__(self, netns: str, ifname: str) -> None:
        self.ifname = ifname
        with in_netns(netns):
            # protocol 0 receives nothing until bind() names the interface and the protocol:
            # opened with ETH_P_ALL the socket would queue every interface's frames (the
            # management link's gRPC traffic included) in between
            self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)
            self.sock.bind((ifname, ETH_P_ALL))
        self.sock.setblocking(False)

    def send(self, frame) -> None:
        # a link that went down (port stopped) leaves an error pending on the socket:
        # reading SO_ERROR clears it, so a re-created interface's port can be used again
        self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
        self.sock.send(bytes(frame))

    def recv(self, timeout: float = 1.0):
        """The next frame the service sent out of this port, as scapy Ether, or None."""
        from scapy.layers.l2 import Ether

        raw = self.recv_raw(timeout)
        return None if raw is None else Ether(raw)

    def recv_raw(self, timeout: float = 1.0) -> bytes | None:
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            if not select.select([self.sock], [], [], left)[0]:
                return None
            try:
                data, addr = self.sock.recvfrom(65535)
            except OSError as exc:
                if exc.errno == errno.ENETDOWN:  # reported once after the link went down
                    continue
                raise
            if addr[2] != PACKET_OUTGOING:  # our own transmissions echo back: skip
                return data

    def drain(self) -> None:
        while self.recv_raw(0.05) is not None:
            pass

    def close(self) -> None:
        self.sock.close()


def tap_eal_args(nb_vfs: int, prefix: str, hugepages: bool = False,
                 telemetry: bool = False, memory_mb: int | None = None) -> list[str]:
    """telemetry: serve the telemetry socket (/var/run/dpdk/<prefix>/dpdk_telemetry.v2);
    memory_mb: EAL's memory (default 128 MB of hugepages, or 256 MB without)."""
    if hugepages:
        memory = ["--in-memory", "-m", str(memory_mb or 128)]
    else:
        memory = ["--no-huge", "-m", str(memory_mb or 256), "--no-shconf"]
    args = ["-l", "0,1", *memory, "--no-pci",
            "--log-level=lib.telemetry:error" if telemetry else "--no-telemetry",
            f"--file-prefix={prefix}", "--log-level=lib.eal:notice",
            "--log-level=pmd.net.tap:crit",
            f"--vdev=net_tap0,iface=dtap0,mac={PF_MACS[0]}",
            f"--vdev=net_tap1,iface=dtap1,mac={PF_MACS[1]}"]
    args += [f"--vdev=net_tap{i + 2},iface=dtapvf_{i},mac={VF_MAC.format(i)}"
             for i in range(nb_vfs)]
    return args


SERVICE_OPTS = ["--pf0", "dtap0", "--pf1", "dtap1", "--vf-pattern", "dtapvf_",
                "--nic-type", "tap", "--ipv6", "fc00:1::1", "--no-stats",
                "--flow-table-size", "65536"]


def dplane_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "dplane", *args]


def dplane_options(*opts: str) -> subprocess.CompletedProcess:
    """dplane run with these service options and no EAL ones, to its end (for options it
    must refuse before starting anything)."""
    return subprocess.run(dplane_cmd("--", *opts), capture_output=True, text=True, timeout=30)


@dataclass
class Service:
    """A running dplane: its namespace, process, gRPC stubs and TAP sockets."""

    netns: Netns
    proc: subprocess.Popen
    prefix: str
    channel: grpc.Channel
    api: dpdk_pb2_grpc.DPDKironcoreStub
    health: health_pb2_grpc.HealthStub
    diag: dplane_pb2_grpc.DiagnosticsStub
    taps: dict[str, Tap] = field(default_factory=dict)
    stopped: bool = False

    def tap(self, ifname: str) -> Tap:
        if ifname not in self.taps:
            self.taps[ifname] = Tap(self.netns.name, ifname)
        return self.taps[ifname]

    def stats(self) -> dplane_pb2.GetStatsResponse:
        return self.diag.GetStats(dplane_pb2.GetStatsRequest(), timeout=5)

    def drops(self) -> dict[str, int]:
        return dict(self.stats().drops)

    def table_entries(self) -> dict[str, int]:
        """Keys in each of the service's tables, by table name."""
        return {t.name: t.entries for t in self.stats().tables}

    def delete_interfaces(self) -> None:
        """Deletes every interface, and with them their VNIs, routes and prefixes."""
        for iface in self.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(),
                                             timeout=5).interfaces:
            self.api.DeleteInterface(dpdk_pb2.DeleteInterfaceRequest(interface_id=iface.id),
                                     timeout=5)

    def wait_drops(self, reason: str, count: int, timeout: float = 3.0) -> dict[str, int]:
        """Poll the drop counters until `reason` reaches `count` (packets are asynchronous)."""
        deadline = time.monotonic() + timeout
        while True:
            drops = self.drops()
            if drops.get(reason, 0) >= count or time.monotonic() > deadline:
                return drops
            time.sleep(0.02)

    def initialize(self) -> str:
        return self.api.Initialize(dpdk_pb2.InitializeRequest(), timeout=5).uuid

    def terminate(self, sig: int = signal.SIGTERM, timeout: float = 10.0) -> tuple[int, str]:
        """Stop the service; returns (exit status, stderr)."""
        for tap in self.taps.values():
            tap.close()
        self.taps.clear()
        self.channel.close()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.stopped = True
        return self.proc.returncode, self.proc.stderr.read() if self.proc.stderr else ""


class _Drained:
    """A pipe read to the end by a thread as the process writes, so the process never blocks
    on it; read() returns everything once the writer has closed it."""

    def __init__(self, pipe) -> None:
        self._chunks: list[str] = []
        self._thread = threading.Thread(target=self._drain, args=(pipe,), daemon=True)
        self._thread.start()

    def _drain(self, pipe) -> None:
        for line in pipe:
            self._chunks.append(line)
        pipe.close()

    def read(self) -> str:
        self._thread.join(5.0)
        return "".join(self._chunks)


class ServiceFailed(Exception):
    pass


def start_service(netns: Netns, eal_args: Sequence[str], opts: Sequence[str],
                  timeout: float = 30.0, env: dict | None = None) -> Service:
    prefix = f"dpt{netns.id}"
    cmd = ["ip", "netns", "exec", netns.name] + dplane_cmd(*eal_args, "--", *opts)
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, env=env)
    proc.stderr = _Drained(proc.stderr)  # a full pipe would block the service's logging
    channel = grpc.insecure_channel(f"{netns.ns_ip}:{GRPC_PORT}")
    svc = Service(netns, proc, prefix, channel, dpdk_pb2_grpc.DPDKironcoreStub(channel),
                  health_pb2_grpc.HealthStub(channel), dplane_pb2_grpc.DiagnosticsStub(channel))
    deadline = time.monotonic() + timeout
    while True:
        if proc.poll() is not None:
            channel.close()
            raise ServiceFailed(f"dplane exited with {proc.returncode}:\n{proc.stderr.read()}")
        try:
            reply = svc.health.Check(health_pb2.HealthCheckRequest(), timeout=0.5)
            if reply.status == health_pb2.HealthCheckResponse.SERVING:
                return svc
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            proc.kill()
            proc.wait()
            channel.close()
            raise ServiceFailed(f"dplane did not serve within {timeout} s:\n"
                                f"{proc.stderr.read()}")
        time.sleep(0.1)


@contextlib.contextmanager
def running_service(opts: Sequence[str] = (), nb_vfs: int = 2,
                    telemetry: bool = False) -> Iterator[Service]:
    """A dplane on TAPs in its own netns, initialised, with SERVICE_OPTS plus `opts`; stopped
    and its namespace removed afterwards. For module-scoped fixtures."""
    if os.geteuid() != 0:
        import pytest

        pytest.skip("needs root (network namespaces, TAP devices)")
    ns = Netns()
    svc = None
    try:
        svc = start_service(ns, tap_eal_args(nb_vfs, f"dpt{ns.id}", telemetry=telemetry),
                            [*SERVICE_OPTS, *opts])
        svc.initialize()
        yield svc
    finally:
        if svc is not None:
            status, err = svc.terminate()
            if status != 0:
                print(f"dplane exited with {status}:\n{err}")
        ns.delete()
