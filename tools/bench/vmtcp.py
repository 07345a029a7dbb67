# SPDX-License-Identifier: Apache-2.0
"""The vm-tcp scenario: two kernel "VMs" on the service's VFs, TCP between them, and what
each worker idle mode (--idle) costs in throughput, latency and CPU.

A VM is a network namespace holding one VF's TAP (moved there and renamed eth0), with its
static address as a /32 and the routes a VM gets from dplane's DHCP (169.254.0.1 on eth0,
the default route through it). Both VMs are in one VNI, so their packets take the service's
VM-to-VM path: TAP -> worker -> TAP. Per idle mode, one service (started as the tests start
it, tests/harness.py) and, in this order:

- iperf3 TCP from VM1 to VM2, `--tcp-runs` runs of `--tcp-seconds`: the receiver's rate,
  the sender's retransmitted segments (/proc/net/snmp in VM1) and the frames dropped at
  both VMs' eth0 (the TAPs' queues);
- ping VM1 -> VM2 with nothing else going on: the round trips a quiet VM sees;
- the worker thread's CPU time over IDLE_SECONDS without traffic.

Beside each phase, the worker's idle counters (telemetry /dplane/worker/idle) say how it
waited: sleeps and how they ended, kicks, pauses, time asleep.
"""
from __future__ import annotations

import contextlib
import ctypes
import json
import os
import pathlib
import re
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from control import percentile

from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

TESTS_DIR = pathlib.Path(__file__).resolve().parents[2] / "tests"

IDLE_MODES = ("interrupt", "pause", "busy")  # the service's --idle
VNI = 100
GATEWAY = "169.254.0.1"  # the service answers ARP for it on every VF


@dataclass(frozen=True)
class Vm:
    index: int    # VF index: the TAP is dtapvf_<index> in the service's namespace
    ipv4: str
    ipv6: str     # CreateInterface needs one; the VMs run with IPv6 off

    @property
    def tap(self) -> str:
        return f"dtapvf_{self.index}"


VMS = (Vm(0, "10.0.0.1", "2001:db8::1"), Vm(1, "10.0.0.2", "2001:db8::2"))
TOOLS = ("iperf3", "ping", "ip", "ss", "sysctl")
IPERF_PORT = 5201
PING_COUNT = 100
PING_INTERVAL = 0.1   # seconds
IDLE_SECONDS = 5.0    # the idle window for the worker's CPU time
REACH_TIMEOUT = 10.0  # VM1 must reach VM2 within this after both are attached
COMMAND_TIMEOUT = 30.0
BUSY_MIN_SHARE = 98.0  # % of a core a busy worker has when nothing else runs on its CPU
IDLE_COUNTERS = ("sleeps", "wakeups", "timeouts", "kicks", "pauses", "asleep_ns")

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


class ScenarioError(RuntimeError):
    """A step of the scenario failed (a command, iperf3, the service)."""


def missing_tools() -> list[str]:
    """Commands the scenario needs that are not installed: it is skipped then."""
    return [t for t in TOOLS if shutil.which(t) is None]


def harness() -> Any:
    """tests/harness.py, which starts the service as the tests do. Imported on first use
    and with the tests' directory last on sys.path, so it shadows none of the bench's
    modules."""
    if str(TESTS_DIR) not in sys.path:
        sys.path.append(str(TESTS_DIR))
    import harness as h

    return h


# ---------------------------------------------------------------------------------------
# Commands

def run(*cmd: str, netns: str | None = None, timeout: float = COMMAND_TIMEOUT) -> str:
    """A command's stdout; its stderr in the error when it fails."""
    if netns:
        cmd = ("ip", "netns", "exec", netns, *cmd)
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                             stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        raise ScenarioError(f"{' '.join(cmd)}: no answer within {timeout:g} s") from None
    if out.returncode != 0:
        raise ScenarioError(f"{' '.join(cmd)}: exit {out.returncode}: "
                            f"{(out.stderr or out.stdout).strip()}")
    return out.stdout


def _die_with_parent() -> None:
    """Runs in a child between fork and exec: a server never outlives the bench."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


# ---------------------------------------------------------------------------------------
# The VMs

@contextlib.contextmanager
def vm_namespaces(count: int) -> Iterator[list[str]]:
    """Empty network namespaces for the VMs, deleted on the way out whatever happened.
    IPv6 is off in them before any link arrives: a VM's router solicitations, DAD and MLD
    reports would be traffic for the worker in the idle window."""
    names = [f"dpbench-vm{i}-{os.getpid()}" for i in range(count)]
    made: list[str] = []
    try:
        for name in names:
            run("ip", "netns", "add", name)
            made.append(name)
            run("sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1",
                "net.ipv6.conf.default.disable_ipv6=1", netns=name)
            run("ip", "link", "set", "lo", "up", netns=name)
        yield names
    finally:
        for name in made:
            subprocess.run(["ip", "netns", "del", name], capture_output=True, check=False)


def attach_vm(svc: Any, vm: Vm, netns: str) -> None:
    """CreateInterface on the VM's VF (which starts the port: its TAP must still be in the
    service's namespace then), then the TAP into the VM as eth0, configured as dplane's
    DHCP would configure it."""
    svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=f"vm{vm.index}".encode(), vni=VNI, device_name=vm.tap,
        ipv4_config=pb.IpConfig(primary_address=vm.ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=vm.ipv6.encode())), timeout=5)
    run("ip", "link", "set", vm.tap, "netns", netns, "name", "eth0", netns=svc.netns.name)
    run("ip", "link", "set", "eth0", "up", netns=netns)
    run("ip", "addr", "add", f"{vm.ipv4}/32", "dev", "eth0", netns=netns)
    run("ip", "route", "add", GATEWAY, "dev", "eth0", netns=netns)
    run("ip", "route", "add", "default", "via", GATEWAY, netns=netns)


def wait_reachable(src: str, dst: str) -> None:
    """Ping until a reply: the first packets may go while the service has not yet learned
    the VMs' MACs (from their ARP replies)."""
    deadline = time.monotonic() + REACH_TIMEOUT
    while True:
        probe = subprocess.run(["ip", "netns", "exec", src, "ping", "-c", "1", "-W", "1", dst],
                               capture_output=True, text=True, stdin=subprocess.DEVNULL)
        if probe.returncode == 0:
            return
        if time.monotonic() > deadline:
            raise ScenarioError(f"{dst} does not answer ping from {src} within "
                                f"{REACH_TIMEOUT:g} s")
        time.sleep(0.2)


# ---------------------------------------------------------------------------------------
# Counters

def retrans_segs(netns: str) -> int:
    """TCP segments retransmitted by the namespace's stack so far (/proc/net/snmp)."""
    rows = [line.split() for line in run("cat", "/proc/net/snmp", netns=netns).splitlines()
            if line.startswith("Tcp:")]
    return int(dict(zip(rows[0], rows[1], strict=True))["RetransSegs"])


def eth0_drops(netns: str) -> dict[str, int]:
    """Frames dropped at the VM's eth0: tx (the VM sent, the TAP's queue towards the
    service was full) and rx (the service wrote, the VM's stack did not take them)."""
    stats = json.loads(run("ip", "-j", "-s", "link", "show", "eth0", netns=netns))[0]
    s = stats["stats64"]
    return {"tx": int(s["tx"]["dropped"]), "rx": int(s["rx"]["dropped"])}


def idle_counters(svc: Any) -> dict[str, Any]:
    """The worker's idle counters, as telemetry serves them."""
    with TelemetryClient(socket_path(svc.prefix)) as client:
        stats = client.query("/dplane/worker/idle")
    if not isinstance(stats, dict):
        raise ScenarioError(f"telemetry /dplane/worker/idle answered {stats!r}")
    return stats


def counters_delta(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """What the idle counters grew by; the port counts are as the phase left them."""
    out: dict[str, Any] = {k: after[k] - before[k] for k in IDLE_COUNTERS}
    out.update(intr_ports=after["intr_ports"], nointr_ports=after["nointr_ports"])
    return out


class Worker:
    """The service's worker thread (comm rte-worker-*): its CPU time."""

    def __init__(self, svc: Any) -> None:
        self.pid, self.tid = find_worker(svc.proc.pid)

    def cpu_seconds(self) -> float:
        """utime + stime in seconds (/proc/<pid>/task/<tid>/stat), counted in clock ticks
        (10 ms)."""
        with open(f"/proc/{self.pid}/task/{self.tid}/stat", encoding="ascii") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def run_seconds(self) -> float:
        """Time on a CPU to the nanosecond (schedstat): the ticks' cross-check, which
        matters when the worker is nearly idle."""
        with open(f"/proc/{self.pid}/task/{self.tid}/schedstat", encoding="ascii") as f:
            return int(f.read().split()[0]) / 1e9


def find_worker(pid: int) -> tuple[int, int]:
    """(pid, tid) of the rte-worker thread in `pid` or a descendant: svc.proc is what the
    harness started (`ip netns exec ... python3 -m dplane`), which today execs the service
    in place but might fork it."""
    todo = [pid]
    while todo:
        p = todo.pop(0)
        try:
            tids = os.listdir(f"/proc/{p}/task")
        except OSError:
            continue
        for tid in tids:
            try:
                with open(f"/proc/{p}/task/{tid}/comm", encoding="utf-8") as f:
                    if f.read().startswith("rte-worker"):
                        return p, int(tid)
                with open(f"/proc/{p}/task/{tid}/children", encoding="ascii") as f:
                    todo += [int(c) for c in f.read().split()]
            except OSError:  # a thread or process that just ended
                continue
    raise ScenarioError(f"no rte-worker thread in process {pid} or its children")


# ---------------------------------------------------------------------------------------
# Traffic

@contextlib.contextmanager
def iperf_server(netns: str) -> Iterator[None]:
    """iperf3 -s in the VM until the body ends. Its output goes to /dev/null: a server left
    holding our pipes would keep a reader of them waiting for ever."""
    server = subprocess.Popen(["ip", "netns", "exec", netns, "iperf3", "-s", "-p",
                               str(IPERF_PORT)],
                              stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, preexec_fn=_die_with_parent)
    try:
        wait_listening(netns, server)
        yield
    finally:
        server.terminate()
        try:
            server.wait(5)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wait_listening(netns: str, server: subprocess.Popen) -> None:
    deadline = time.monotonic() + 5.0
    while not run("ss", "-Hltn", f"sport = :{IPERF_PORT}", netns=netns).strip():
        if server.poll() is not None:
            raise ScenarioError(f"iperf3 -s exited {server.returncode} in {netns}")
        if time.monotonic() > deadline:
            raise ScenarioError(f"iperf3 -s does not listen in {netns} within 5 s")
        time.sleep(0.05)


def tcp_run(vms: Sequence[str], dst: str, seconds: int) -> dict[str, Any]:
    """One iperf3 TCP run from vms[0] to `dst` (in vms[1]): the receiver's rate, and what
    the run cost in retransmissions and drops at both ends."""
    retrans0 = retrans_segs(vms[0])
    drops0 = [eth0_drops(ns) for ns in vms]
    out = run("iperf3", "-c", dst, "-p", str(IPERF_PORT), "-t", str(seconds), "-J",
              netns=vms[0], timeout=seconds + COMMAND_TIMEOUT)
    try:
        report = json.loads(out)
    except json.JSONDecodeError:
        raise ScenarioError(f"iperf3 -J: not JSON: {out[:200]!r}") from None
    if "error" in report:
        raise ScenarioError(f"iperf3: {report['error']}")
    drops1 = [eth0_drops(ns) for ns in vms]
    return {
        "gbit_s": round(report["end"]["sum_received"]["bits_per_second"] / 1e9, 3),
        "retransmits": retrans_segs(vms[0]) - retrans0,
        "drops": {f"vm{i + 1}": {k: b[k] - a[k] for k in a}
                  for i, (a, b) in enumerate(zip(drops0, drops1, strict=True))},
    }


RTT = re.compile(r"time=([0-9.]+) ms")


def ping_rtts(src: str, dst: str) -> dict[str, Any]:
    """PING_COUNT echo requests PING_INTERVAL apart: every round trip, in ms. Lost
    replies only count (ping exits 1 then, which is no error here)."""
    cmd = ["ip", "netns", "exec", src, "ping", "-n", "-c", str(PING_COUNT),
           "-i", str(PING_INTERVAL), dst]
    timeout = PING_COUNT * PING_INTERVAL + COMMAND_TIMEOUT
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, stdin=subprocess.DEVNULL,
                             timeout=timeout)
    except subprocess.TimeoutExpired:
        raise ScenarioError(f"ping: not done within {timeout:g} s") from None
    rtts = sorted(float(m) for m in RTT.findall(out.stdout))
    result: dict[str, Any] = {"sent": PING_COUNT, "received": len(rtts)}
    if rtts:
        result["rtt_ms"] = {"min": rtts[0], "avg": round(statistics.fmean(rtts), 3),
                            "p99": percentile(rtts, 99), "max": rtts[-1]}
    return result


# ---------------------------------------------------------------------------------------
# One idle mode

def run_mode(mode: str, tcp_runs: int, tcp_seconds: int) -> dict[str, Any]:
    """One service with `--idle mode`, two VMs on it, the three phases. The VMs'
    namespaces outlive the service (its TAPs go with it) and are deleted last."""
    h = harness()
    with vm_namespaces(len(VMS)) as vms, \
            contextlib.redirect_stdout(sys.stderr):  # the harness prints a failed exit
        try:
            with h.running_service(opts=["--idle", mode], nb_vfs=len(VMS),
                                   telemetry=True) as svc:
                result = {"mode": mode, **measure_mode(svc, vms, tcp_runs, tcp_seconds)}
        except h.ServiceFailed as exc:
            raise ScenarioError(f"dplane --idle {mode}: {exc}") from None
        result["exit"] = svc.proc.returncode  # stopped with SIGTERM: 0 expected
    return result


def measure_mode(svc: Any, vms: list[str], tcp_runs: int, tcp_seconds: int
                 ) -> dict[str, Any]:
    """The phases in the order that keeps each clean: TCP first, ping once the iperf3
    server is gone (the path is otherwise idle), the idle window last, after every
    packet."""
    for vm, ns in zip(VMS, vms, strict=True):
        attach_vm(svc, vm, ns)
    wait_reachable(vms[0], VMS[1].ipv4)
    worker = Worker(svc)
    reported_mode = idle_counters(svc).get("mode")
    tcp, tcp_idle, tcp_cpu = phase(svc, worker, lambda: tcp_phase(vms, tcp_runs,
                                                                  tcp_seconds))
    ping, ping_idle, ping_cpu = phase(svc, worker, lambda: ping_rtts(vms[0], VMS[1].ipv4))
    _, idle_idle, idle_cpu = phase(svc, worker, lambda: time.sleep(IDLE_SECONDS))
    return {"service_mode": reported_mode, "tcp": tcp, "ping": ping,
            "worker_cpu_pct": {"tcp": tcp_cpu, "ping": ping_cpu, "idle": idle_cpu},
            "idle_counters": {"tcp": tcp_idle, "ping": ping_idle, "idle": idle_idle}}


def phase(svc: Any, worker: Worker, body: Callable[[], Any]
          ) -> tuple[Any, dict[str, Any], dict[str, float]]:
    """body()'s result, the idle counters' growth over it, and the worker's CPU time as %
    of one core over it (utime+stime, and schedstat's precise figure)."""
    counters0 = idle_counters(svc)
    t0, cpu0, run0 = time.monotonic(), worker.cpu_seconds(), worker.run_seconds()
    result = body()
    t1, cpu1, run1 = time.monotonic(), worker.cpu_seconds(), worker.run_seconds()
    counters1 = idle_counters(svc)
    wall = t1 - t0
    cpu = {"seconds": round(wall, 3), "utime_stime": round((cpu1 - cpu0) / wall * 100, 2),
           "schedstat": round((run1 - run0) / wall * 100, 2)}
    return result, counters_delta(counters0, counters1), cpu


def tcp_phase(vms: list[str], runs: int, seconds: int) -> dict[str, Any]:
    with iperf_server(vms[1]):
        results = [tcp_run(vms, VMS[1].ipv4, seconds) for _ in range(runs)]
    return {"runs": results,
            "median_gbit_s": round(statistics.median(r["gbit_s"] for r in results), 3),
            "retransmits": sum(r["retransmits"] for r in results),
            "drops": {vm: {k: sum(r["drops"][vm][k] for r in results) for k in ("tx", "rx")}
                      for vm in results[0]["drops"]}}


# ---------------------------------------------------------------------------------------
# The scenario

def run_rounds(modes: Sequence[str], rounds: int, tcp_runs: int, tcp_seconds: int
               ) -> list[dict[str, dict[str, Any]]]:
    """Every mode in every round; each mode its own service."""
    return [{mode: run_mode(mode, tcp_runs, tcp_seconds) for mode in modes}
            for _ in range(rounds)]


def iperf3_version() -> str:
    try:
        return run("iperf3", "--version").splitlines()[0].strip()
    except (ScenarioError, IndexError):
        return "unknown"


def text_report(r: dict[str, Any]) -> list[str]:
    """One block per idle mode."""
    tcp, ping, cpu = r["tcp"], r["ping"], r["worker_cpu_pct"]
    runs = " ".join(f"{x['gbit_s']:.2f}" for x in tcp["runs"])
    d = tcp["drops"]
    lines = [
        f"idle {r['mode']}" + ("" if r["service_mode"] == r["mode"]
                               else f" (the service reports {r['service_mode']!r})") + ":",
        f"  TCP VM1->VM2  : {runs} Gbit/s (median {tcp['median_gbit_s']:.2f}), "
        f"{tcp['retransmits']} retransmits, dropped at eth0: "
        f"VM1 tx {d['vm1']['tx']} rx {d['vm1']['rx']}, VM2 tx {d['vm2']['tx']} "
        f"rx {d['vm2']['rx']}",
        "  ping VM1->VM2 : " + ping_text(ping),
        f"  worker CPU    : idle {cpu['idle']['utime_stime']:.1f} % of a core over "
        f"{cpu['idle']['seconds']:.1f} s (schedstat {cpu['idle']['schedstat']:.2f} %), "
        f"during TCP {cpu['tcp']['utime_stime']:.1f} %, during ping "
        f"{cpu['ping']['utime_stime']:.1f} %",
    ]
    for name, label in (("tcp", "during TCP"), ("ping", "during ping"), ("idle", "idle")):
        lines.append(f"  {label:<14}: " + counters_text(r["idle_counters"][name]))
    lines.append(f"  service exit  : {r['exit']}")
    return lines


def warnings(r: dict[str, Any]) -> list[str]:
    """What questions a mode's figures. A busy worker never leaves its CPU: if it had less
    of it in the idle window, another task ran there, and the other figures are noisy."""
    share = r["worker_cpu_pct"]["idle"]["schedstat"]
    if r["mode"] == "busy" and share < BUSY_MIN_SHARE:
        return [f"idle busy: the worker had {share:.1f} % of its CPU in the idle window: "
                f"another task ran there (the machine was not quiet)"]
    return []


def ping_text(ping: dict[str, Any]) -> str:
    text = f"{ping['received']}/{ping['sent']} replies"
    if "rtt_ms" in ping:
        ms = ping["rtt_ms"]
        text += f", rtt min {ms['min']:.3f} avg {ms['avg']:.3f} p99 {ms['p99']:.3f} ms"
    return text


def counters_text(c: dict[str, Any]) -> str:
    return (f"sleeps {c['sleeps']} (wakeups {c['wakeups']}, timeouts {c['timeouts']}), "
            f"kicks {c['kicks']}, pauses {c['pauses']}, asleep {c['asleep_ns'] / 1e9:.2f} s; "
            f"ports {c['intr_ports']} with rx interrupts, {c['nointr_ports']} without")
