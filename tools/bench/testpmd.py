# SPDX-License-Identifier: Apache-2.0
"""The floor: dpdk-testpmd in io forwarding mode on the same two ports (pcap in, null out).

testpmd runs non-interactively and prints every port's counters once a second
(--stats-period=1); each block for the last port completes a snapshot, timed when its line
arrived. io mode moves mbufs from the RX burst to the TX burst without touching the data:
what remains is the cost of the two PMDs and of the loop, the least any forwarder pays here.
"""
from __future__ import annotations

import dataclasses
import pathlib
import queue
import re
import shutil
import signal
import time

from child import Child, wait_until
from measure import INTERVAL, Snapshot, WorkerThread, cpu_ticks

PCAP_PORT, NULL_PORT = 0, 1
BURST = 32  # dplane's DP_RX_BURST
RING = 1024  # dplane's DP_RX_RING / DP_TX_RING
MBUF_CACHE = 256  # dplane's DP_MBUF_CACHE
MBUF_DATA_ROOM = 1558 + 128  # dplane's DP_MBUF_DATA_ROOM (with RTE_PKTMBUF_HEADROOM)

_HEADER = re.compile(r"NIC statistics for port (\d+)")
_COUNTERS = {
    "rx_packets": re.compile(r"RX-packets:\s*(\d+)\s+RX-missed:"),
    "rx_missed": re.compile(r"RX-missed:\s*(\d+)"),
    "rx_errors": re.compile(r"RX-errors:\s*(\d+)"),
    "rx_nombuf": re.compile(r"RX-nombuf:\s*(\d+)"),
    "tx_packets": re.compile(r"TX-packets:\s*(\d+)\s+TX-errors:"),
    "tx_errors": re.compile(r"TX-errors:\s*(\d+)"),
}
_ACCUMULATED = re.compile(r"Accumulated forward statistics")
_DROPPED = re.compile(r"(RX|TX)-dropped:\s*(\d+)")


@dataclasses.dataclass
class Setup:
    binary: str
    pcap: pathlib.Path
    file_prefix: str
    memory_mb: int
    mbufs: int
    hugepages: bool = False

    def argv(self) -> list[str]:
        memory = (["--in-memory"] if self.hugepages else ["--no-huge", "--no-shconf"])
        eal = ["-l", "0,1", *memory, "-m", str(self.memory_mb), "--no-pci",
               "--no-telemetry", "--file-prefix", self.file_prefix,
               "--log-level=lib.eal:notice",
               f"--vdev=net_pcap0,rx_pcap={self.pcap},infinite_rx=1",
               "--vdev=net_null0,no-rx=1"]
        app = ["--forward-mode=io", "--auto-start", f"--stats-period={int(INTERVAL)}",
               "--no-flush-rx",  # flushing an infinite pcap would take seconds
               f"--total-num-mbufs={self.mbufs}", f"--mbcache={MBUF_CACHE}",
               f"--mbuf-size={MBUF_DATA_ROOM}", f"--burst={BURST}",
               f"--rxd={RING}", f"--txd={RING}"]
        # line-buffered output: a block's lines arrive when they are printed
        stdbuf = shutil.which("stdbuf")
        prefix = [stdbuf, "-oL"] if stdbuf else []
        return prefix + [self.binary] + eal + ["--"] + app


class StatsParser:
    """Turns testpmd's periodic output into snapshots; remembers its exit summary."""

    def __init__(self, worker: WorkerThread | None = None) -> None:
        self.worker = worker
        self.snapshots: queue.Queue[Snapshot] = queue.Queue()
        self.blocks = 0
        self.run_drops: int | None = None  # forward statistics, whole run, at exit
        self._port: int | None = None
        self._ports: dict[int, dict[str, int]] = {}
        self._summary = False

    def feed(self, line: str, now: float) -> None:
        header = _HEADER.search(line)
        if header:
            self._port = int(header.group(1))
            self._ports[self._port] = {}
            return
        if _ACCUMULATED.search(line):
            self._port, self._summary, self.run_drops = None, True, 0
            return
        if self._summary:
            for _, value in _DROPPED.findall(line):
                self.run_drops = (self.run_drops or 0) + int(value)
            return
        if self._port is None:
            return
        counters = self._ports[self._port]
        for key, rx in _COUNTERS.items():
            m = rx.search(line)
            if m:
                counters[key] = int(m.group(1))
        if self._port == NULL_PORT and "tx_packets" in counters:
            self._port = None
            self._complete(now)

    def _complete(self, now: float) -> None:
        pcap, null = self._ports.get(PCAP_PORT, {}), self._ports[NULL_PORT]
        self.blocks += 1
        self.snapshots.put(Snapshot(
            t=now, tx_packets=null["tx_packets"], rx_packets=pcap.get("rx_packets", 0),
            drops=pcap.get("rx_errors", 0) + null.get("tx_errors", 0),
            rx_nombuf=pcap.get("rx_nombuf", 0), rx_missed=pcap.get("rx_missed", 0),
            cpu=self.worker.cpu_time() if self.worker else None, ticks=cpu_ticks()))


class Testpmd:
    """Source of snapshots from a running testpmd."""

    name = "testpmd io"

    def __init__(self, setup: Setup, workdir: pathlib.Path) -> None:
        self.setup = setup
        self.workdir = workdir
        self.parser = StatsParser()
        self.child: Child | None = None
        self.exit_code: int | None = None

    def start(self, timeout: float) -> None:
        """Returns once the first statistics block is out: forwarding has started."""
        self.child = Child("testpmd", self.setup.argv(), self.workdir / "testpmd.log",
                           on_line=self.parser.feed, cwd=self.workdir)
        self.parser.worker = WorkerThread(self.child.pid)
        wait_until(lambda: self.parser.blocks > 0, timeout, self.child, "statistics")

    def snapshot(self, not_before: float) -> Snapshot:
        assert self.child is not None
        deadline = not_before + 5 * INTERVAL
        while True:
            try:
                snap = self.parser.snapshots.get(timeout=0.2)
            except queue.Empty:
                if not self.child.alive():
                    raise self.child.fail("exited while forwarding") from None
                if time.monotonic() > deadline:
                    raise self.child.fail("statistics stopped coming") from None
                continue
            # blocks come every ~INTERVAL: take the one due now, not the one after it
            if snap.t >= not_before - 0.25 * INTERVAL:
                return snap

    def stop(self) -> int:
        if self.child is not None and self.exit_code is None:
            self.exit_code = self.child.stop(signal.SIGINT)
            # testpmd leaves its runtime directory behind even with --no-shconf
            shutil.rmtree(f"/var/run/dpdk/{self.setup.file_prefix}", ignore_errors=True)
        return self.exit_code if self.exit_code is not None else 0
