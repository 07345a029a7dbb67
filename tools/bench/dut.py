# SPDX-License-Identifier: Apache-2.0
"""The device under test: the dplane service on a temporary board whose pf0 (net_pcap,
replaying the pcap forever) is cross-connected to pf1 (net_null, which receives nothing):
every frame takes rx -> cls -> tx, with cls parsing it fully before sending it on.

Counters come from dplane's own diagnostics (dplane.v1.Diagnostics/GetStats over gRPC), the
snapshot time being the middle of the call.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import signal
import sys
import time

import grpc
from child import Child, wait_until
from measure import Snapshot, WorkerThread, cpu_ticks

from dplane.proto import dplane_pb2, dplane_pb2_grpc, health_pb2, health_pb2_grpc

RPC_TIMEOUT = 5.0


@dataclasses.dataclass
class Setup:
    pcap: pathlib.Path
    file_prefix: str
    memory_mb: int
    mbufs: int
    grpc_port: int

    def board(self) -> str:
        """The board TOML (strings quoted as JSON, which TOML basic strings accept)."""
        q = json.dumps
        return f"""\
# Written by tools/bench/run.py: pcap in on pf0, patched to a null pf1.
[board]
name = "bench"
description = "net_pcap (infinite replay) cross-connected to net_null"

[eal]
lcores = "0,1"
memory = "no-huge"
memory-mb = {self.memory_mb}
file-prefix = {q(self.file_prefix)}
args = ["--no-pci", "--no-telemetry", "--log-level=lib.eal:notice"]

[firmware]
mbufs = {self.mbufs}

[[port]]
role = "pf0"
driver = "net_pcap"
devargs = {q(f"rx_pcap={self.pcap},infinite_rx=1")}
xconnect = "pf1"

[[port]]
role = "pf1"
driver = "net_null"
devargs = "no-rx=1"

[service]
pf0 = "net_pcap0"
pf1 = "net_null0"
nic-type = "tap"
grpc-port = {self.grpc_port}
no-stats = true
"""


class Dplane:
    """Source of snapshots from a running dplane service."""

    name = "dplane cls"

    def __init__(self, setup: Setup, workdir: pathlib.Path) -> None:
        self.setup = setup
        self.workdir = workdir
        self.child: Child | None = None
        self.worker: WorkerThread | None = None
        self.exit_code: int | None = None
        self._channel: grpc.Channel | None = None

    def start(self, timeout: float) -> None:
        """Returns once gRPC health says SERVING: the ports and the worker are running."""
        board = self.workdir / "bench-board.toml"
        board.write_text(self.setup.board(), encoding="utf-8")
        # DP_CONF="": no dpservice.conf from this machine may change the set-up
        env = dict(os.environ, DP_CONF="", PYTHONUNBUFFERED="1")
        argv = [sys.executable, "-m", "dplane", "--board", str(board)]
        self.child = Child("dplane", argv, self.workdir / "dplane.log", env=env,
                           cwd=self.workdir)
        self.worker = WorkerThread(self.child.pid)
        self._channel = grpc.insecure_channel(f"localhost:{self.setup.grpc_port}")
        wait_until(self._serving, timeout, self.child, "gRPC health SERVING", poll=0.2)

    def _serving(self) -> bool:
        stub = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def snapshot(self, not_before: float) -> Snapshot:
        assert self.child is not None and self.worker is not None
        delay = not_before - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stub = dplane_pb2_grpc.DiagnosticsStub(self._channel)
        before = time.monotonic()
        try:
            stats = stub.GetStats(dplane_pb2.GetStatsRequest(), timeout=RPC_TIMEOUT)
        except grpc.RpcError as exc:
            raise self.child.fail(f"GetStats failed: {exc.code().name}") from None
        after = time.monotonic()
        cpu, ticks = self.worker.cpu_time(), cpu_ticks()
        ports = {p.role: p for p in stats.ports}
        if "pf0" not in ports or "pf1" not in ports:
            raise self.child.fail(f"GetStats lacks pf0/pf1: {sorted(ports)}")
        pf0, pf1 = ports["pf0"], ports["pf1"]
        return Snapshot(
            t=(before + after) / 2, tx_packets=pf1.tx_packets, rx_packets=pf0.rx_packets,
            drops=sum(stats.drops.values()) + pf0.rx_errors + pf1.tx_errors,
            rx_nombuf=pf0.rx_nombuf, rx_missed=pf0.rx_missed, cpu=cpu, ticks=ticks)

    def stop(self) -> int:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.child is not None and self.exit_code is None:
            self.exit_code = self.child.stop(signal.SIGTERM)
        return self.exit_code if self.exit_code is not None else 0
