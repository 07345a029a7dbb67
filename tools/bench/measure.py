# SPDX-License-Identifier: Apache-2.0
"""How both contenders are measured, the same way.

A contender is a Source of counter snapshots. After the warm-up, one snapshot about every
second until the window is `seconds` long; the figures come from the window's two ends (the
1-s steps in between only show how steady the rate was).

Beside the counters, every snapshot reads what says whether the machine was quiet:
- the scheduler's account of the forwarding thread (/proc/<pid>/task/<tid>/schedstat: time
  on the CPU). A thread that had its CPU to itself was on it for the whole window; anything
  less means another task ran there and the wall-clock rate is low by that much;
- the CPUs' tick counters (/proc/stat): steal on the forwarding CPU (a virtual machine's
  vCPU not running at all) and how busy the other CPU was (on a quiet machine it only runs
  the contender's main lcore, which sleeps; busy, it can still slow the forwarding core
  through shared caches, memory bandwidth or an SMT sibling).
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Protocol

MAIN_CPU, WORKER_CPU = 0, 1  # EAL "-l 0,1": lcore 0 is the main lcore, lcore 1 forwards
INTERVAL = 1.0  # seconds between snapshots


@dataclasses.dataclass(frozen=True)
class CpuTime:
    run_ns: int   # on the CPU
    wait_ns: int  # runnable, waiting for the CPU


@dataclasses.dataclass(frozen=True)
class CpuTicks:
    """One CPU's line of /proc/stat, in ticks."""

    busy: int   # user, nice, system, irq, softirq
    steal: int  # the hypervisor ran something else
    total: int  # every state


def cpu_ticks() -> dict[int, CpuTicks]:
    ticks = {}
    with open("/proc/stat", encoding="ascii") as f:
        for line in f:
            name, *fields = line.split()
            if not name.startswith("cpu") or name == "cpu":
                continue
            v = [int(x) for x in fields[:8]] + [0] * (8 - len(fields[:8]))
            user, nice, system, _idle, _iowait, irq, softirq, steal = v
            ticks[int(name[3:])] = CpuTicks(user + nice + system + irq + softirq, steal,
                                            sum(v))
    return ticks


@dataclasses.dataclass(frozen=True)
class Snapshot:
    t: float          # time.monotonic() when the counters were read
    tx_packets: int   # sent by the null port: the forwarded packets
    rx_packets: int   # received from the pcap port
    drops: int        # every drop counter the contender keeps, summed
    rx_nombuf: int    # pcap port
    rx_missed: int    # pcap port
    cpu: CpuTime | None = None  # the forwarding thread
    ticks: dict[int, CpuTicks] = dataclasses.field(default_factory=dict)
    # dplane: every graph node's (objects, TSC cycles) so far (GetGraphStats)
    nodes: dict[str, tuple[int, int]] = dataclasses.field(default_factory=dict)


class Source(Protocol):
    def snapshot(self, not_before: float) -> Snapshot:
        """Counters read at or (for testpmd: very shortly) after `not_before`."""


class Contender(Source, Protocol):
    name: str

    def start(self, timeout: float) -> None:
        """Start the process; return once it forwards."""

    def stop(self) -> int:
        """Stop the process (idempotent); its exit code."""


class WorkerThread:
    """The process's forwarding thread: the one pinned to the worker CPU alone."""

    def __init__(self, pid: int, cpu: int = WORKER_CPU) -> None:
        self.pid, self.cpu = pid, cpu
        self.tid: int | None = None

    def _find(self) -> int | None:
        best, best_run = None, -1
        try:
            tids = [int(t) for t in os.listdir(f"/proc/{self.pid}/task")]
        except OSError:
            return None
        for tid in tids:
            try:
                if os.sched_getaffinity(tid) != {self.cpu}:
                    continue
                run = _schedstat(self.pid, tid).run_ns
            except OSError:
                continue
            if run > best_run:
                best, best_run = tid, run
        return best

    def cpu_time(self) -> CpuTime | None:
        if self.tid is None:
            self.tid = self._find()
            if self.tid is None:
                return None
        try:
            return _schedstat(self.pid, self.tid)
        except OSError:
            return None


def _schedstat(pid: int, tid: int) -> CpuTime:
    with open(f"/proc/{pid}/task/{tid}/schedstat", encoding="ascii") as f:
        run, wait, _ = f.read().split()
    return CpuTime(int(run), int(wait))


def _tick_share(a: Snapshot, b: Snapshot, cpu: int, what: str) -> float | None:
    if cpu not in a.ticks or cpu not in b.ticks:
        return None
    total = b.ticks[cpu].total - a.ticks[cpu].total
    if total <= 0:
        return None
    return (getattr(b.ticks[cpu], what) - getattr(a.ticks[cpu], what)) / total


def measure(source: Source, warmup: float, seconds: float) -> list[Snapshot]:
    """Snapshots spanning `seconds`, the first `warmup` seconds from now."""
    first = source.snapshot(time.monotonic() + warmup)
    snaps = [first]
    step = 1
    while snaps[-1].t - first.t < seconds - 0.1 * INTERVAL:
        snaps.append(source.snapshot(first.t + min(step * INTERVAL, seconds)))
        step += 1
    return snaps


def _node_cycles(a: Snapshot, b: Snapshot) -> dict[str, float]:
    """Cycles per object of the nodes on the measured path: those that handled at least 1 %
    as many objects as the busiest (not the periodic node or an idle port's)."""
    objs = {name: (n - a.nodes.get(name, (0, 0))[0], c - a.nodes.get(name, (0, 0))[1])
            for name, (n, c) in b.nodes.items()}
    busiest = max((n for n, _ in objs.values()), default=0)
    return {name: c / n for name, (n, c) in objs.items() if n and n * 100 >= busiest}


@dataclasses.dataclass(frozen=True)
class Result:
    """One contender over one window."""

    packets: int
    elapsed: float
    drops: int
    rx_nombuf: int
    rx_missed: int
    step_mpps: list[float]            # rate of every step between two snapshots
    cpu_run_ns: int | None = None  # forwarding thread, over the window
    cpu_wait_ns: int | None = None
    steal: float | None = None       # share of the forwarding CPU's ticks stolen
    other_busy: float | None = None  # share of the main CPU's ticks busy
    # dplane: TSC cycles per object of every node that handled objects in the window
    node_cycles: dict[str, float] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_window(cls, snaps: list[Snapshot]) -> Result:
        a, b = snaps[0], snaps[-1]
        steps = [(y.tx_packets - x.tx_packets) / (y.t - x.t) / 1e6
                 for x, y in zip(snaps, snaps[1:], strict=False) if y.t > x.t]
        run = wait = None
        if a.cpu is not None and b.cpu is not None:
            run, wait = b.cpu.run_ns - a.cpu.run_ns, b.cpu.wait_ns - a.cpu.wait_ns
        return cls(packets=b.tx_packets - a.tx_packets, elapsed=b.t - a.t,
                   drops=b.drops - a.drops, rx_nombuf=b.rx_nombuf - a.rx_nombuf,
                   rx_missed=b.rx_missed - a.rx_missed, step_mpps=steps,
                   cpu_run_ns=run, cpu_wait_ns=wait,
                   steal=_tick_share(a, b, WORKER_CPU, "steal"),
                   other_busy=_tick_share(a, b, MAIN_CPU, "busy"),
                   node_cycles=_node_cycles(a, b))

    @property
    def mpps(self) -> float:
        return self.packets / self.elapsed / 1e6

    @property
    def ns_per_pkt(self) -> float:
        """Wall-clock time per packet of the one forwarding core."""
        return self.elapsed * 1e9 / self.packets if self.packets else float("inf")

    @property
    def cpu_share(self) -> float | None:
        """Part of the window the forwarding thread was on its CPU (1.0: had it alone)."""
        if self.cpu_run_ns is None:
            return None
        return self.cpu_run_ns / (self.elapsed * 1e9)

    @property
    def cpu_ns_per_pkt(self) -> float | None:
        """CPU time of the forwarding thread per packet: what a quiet machine would show as
        ns/pkt, give or take the caches another task disturbed."""
        if self.cpu_run_ns is None or not self.packets:
            return None
        return self.cpu_run_ns / self.packets

    def to_dict(self) -> dict:
        return {
            "mpps": round(self.mpps, 4),
            "ns_per_pkt": round(self.ns_per_pkt, 2),
            "packets": self.packets,
            "elapsed_s": round(self.elapsed, 4),
            "step_mpps": [round(x, 3) for x in self.step_mpps],
            "worker_cpu_share": None if self.cpu_share is None else round(self.cpu_share, 4),
            "worker_wait_ms": (None if self.cpu_wait_ns is None
                               else round(self.cpu_wait_ns / 1e6, 1)),
            "cpu_ns_per_pkt": (None if self.cpu_ns_per_pkt is None
                               else round(self.cpu_ns_per_pkt, 2)),
            "worker_cpu_steal": None if self.steal is None else round(self.steal, 4),
            "main_cpu_busy": None if self.other_busy is None else round(self.other_busy, 4),
            "drops": self.drops,
            "rx_nombuf": self.rx_nombuf,
            "rx_missed": self.rx_missed,
            "node_cycles_per_obj": {k: round(v, 1) for k, v in self.node_cycles.items()},
        }
