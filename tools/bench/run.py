#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""dplane packet-path benchmark: dplane's rx -> cls -> tx against testpmd's io forwarding,
in the same run, on the same ports and traffic.

    python3 tools/bench/run.py [--seconds N] [--packets N] [--flows N] [--size BYTES] [--json]

Both contenders read a pcap replayed forever by net_pcap (infinite_rx) and send everything
to net_null, one forwarding core each, one after the other. Prints Mpps, ns per packet and
dplane's rate as a fraction of testpmd's (the floor). See README.md in this directory.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import math
import os
import pathlib
import platform
import secrets
import shutil
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Iterable, Sequence
from typing import Any

import control
import dut
import grpc
import hugepages
import machine
import testpmd
import vmtcp
from child import ChildError
from measure import MAIN_CPU, Contender, Result, measure
from traffic import Traffic, write_pcap

from dplane.board import DEFAULT_MBUFS

DEFAULT_FLOW_TABLE = 850000  # the service's --flow-table-size default

TESTPMD = "/usr/bin/dpdk-testpmd"
START_TIMEOUT = 90.0  # EAL start-up with --no-huge zeroes all of -m; pcap load
MBUF_BYTES = 2560     # an mbuf with dplane's data room and private area, rounded up
# Beyond these the machine was not quiet (see measure.py)
MIN_SHARE = 0.98       # forwarding thread on its CPU
MAX_STEAL = 0.02       # forwarding CPU stolen by the hypervisor
MAX_OTHER_BUSY = 0.10  # main CPU busy (the main lcores sleep)


# ---------------------------------------------------------------------------------------
# Set-up

def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        description="Measure dplane's packet path (rx -> cls -> tx) against testpmd's io "
                    "forwarding floor.")
    p.add_argument("--seconds", type=float, default=5.0,
                   help="measurement window per contender (default 5)")
    p.add_argument("--warmup", type=float, default=2.0,
                   help="seconds of forwarding before the window opens (default 2)")
    p.add_argument("--packets", type=int, default=4096,
                   help="frames in the pcap, replayed forever (default 4096)")
    p.add_argument("--flows", type=int, default=1024,
                   help="distinct IPv4/UDP 5-tuples among them (default 1024)")
    p.add_argument("--size", type=int, default=64,
                   help="frame size in bytes on the wire, FCS included (default 64)")
    p.add_argument("--seed", type=int, default=1, help="seed of the flows (default 1)")
    p.add_argument("--rounds", type=int, default=1,
                   help="testpmd then dplane, this many times; medians reported (default 1)")
    p.add_argument("--testpmd", default=TESTPMD, help=f"testpmd binary (default {TESTPMD})")
    p.add_argument("--scenario", choices=("cls", "encap", "newflow", "lb", "control", "vm-tcp"),
                   default="cls",
                   help="cls: pf0 patched to pf1 through cls (default); encap: a VM's "
                        "traffic on a VF through conntrack, route lookup and IP-in-IPv6 "
                        "encapsulation out of pf0; newflow: the encap path where every "
                        "frame of the pcap's first pass is a new flow (flows/s); lb: "
                        "clients' flows tunnelled to a load balancer on pf0, each sent on "
                        "to its Maglev target (re-encapsulated, back out of pf0); control: "
                        "the gRPC API's rates (routes, interfaces, concurrent clients); "
                        "vm-tcp: TCP, ping and the worker's idle CPU between two kernel VMs "
                        "on VF TAPs, per worker idle mode")
    p.add_argument("--hugepages", action="store_true",
                   help="run both contenders on 2 MB hugepages (--in-memory), as in "
                        "production; the pages are reserved for the run and given back")
    p.add_argument("--flow-table-size", type=int, default=None,
                   help="newflow: conntrack table size in keys (default: the service's "
                        "850000, or twice --flows plus 1024 when that is more)")
    p.add_argument("--fw-rules", type=int, default=None,
                   help="encap, newflow: firewall egress rules on the VM's interface, a new "
                        "flow decided by the last (default none); newflow then measures "
                        "how fast the firewall decides the flows, which exist before the "
                        "route does")
    p.add_argument("--nat", action="store_true",
                   help="encap, newflow: the VM has a NAT (a NAT IP, ports 1024-65534); its "
                        "flows leave with the NAT IP and a port of dpservice's choosing: "
                        "encap measures the SNAT of established flows, newflow how fast "
                        "new NAT flows get their ports")
    p.add_argument("--offload", choices=("on", "off"), default="on",
                   help="encap, newflow, lb: the flows' rules in the software flow engine in "
                        "front of the graph (on, the service's default) or every packet "
                        "through the graph (off: --no-offload)")
    c = p.add_argument_group("control scenario")
    c.add_argument("--routes", type=int, default=100000,
                   help="routes loaded into one VNI with --window calls in flight "
                        "(default 100000)")
    c.add_argument("--sequential", type=int, default=2000,
                   help="calls of GetVersion, CreateRoute and DeleteRoute one at a time "
                        "(default 2000)")
    c.add_argument("--window", type=int, default=64,
                   help="calls in flight when loading and deleting --routes (default 64)")
    c.add_argument("--cycles", type=int, default=200,
                   help="CreateInterface+DeleteInterface cycles (default 200)")
    c.add_argument("--clients", type=int, default=16,
                   help="concurrent clients doing mixed calls (default 16)")
    c.add_argument("--calls", type=int, default=500,
                   help="mixed calls per client (default 500)")
    c.add_argument("--route-table-size", type=int, default=None,
                   help="the service's --route-table-size (default: its own, raised to "
                        "--routes plus the interface's /32 when that is more)")
    v = p.add_argument_group("vm-tcp scenario")
    v.add_argument("--idle-modes", default=",".join(vmtcp.IDLE_MODES),
                   help="the service's --idle modes to measure, comma-separated, one "
                        f"service each (default {','.join(vmtcp.IDLE_MODES)})")
    v.add_argument("--tcp-runs", type=int, default=3,
                   help="iperf3 runs VM1 -> VM2 per mode (default 3)")
    v.add_argument("--tcp-seconds", type=int, default=5,
                   help="seconds per iperf3 run (default 5)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    args = p.parse_args(argv)
    if args.scenario == "vm-tcp":
        return check_vmtcp_args(p, args)
    if args.scenario == "control":
        for name in ("routes", "sequential", "window", "cycles", "clients", "calls"):
            if getattr(args, name) < 1:
                p.error(f"--{name} must be at least 1")
        if args.routes >= 1 << 24:
            p.error("--routes must be below 16777216")
        return args
    if args.seconds < 1 or args.warmup < 0:
        p.error("--seconds must be at least 1 and --warmup at least 0")
    if not 1 <= args.rounds <= 100:
        p.error("--rounds must be 1..100")
    if not 1 <= args.packets <= 1 << 20:
        p.error("--packets must be 1..1048576")
    if args.scenario == "newflow":  # one frame per flow
        args.packets = args.flows = max(args.flows, args.packets)
        if args.flow_table_size is not None and args.flow_table_size < 2 * args.flows:
            p.error("--flow-table-size must hold two keys per flow: at least twice --flows")
    if not shutil.which(args.testpmd):
        p.error(f"testpmd not found: {args.testpmd}")
    try:
        traffic(args).validate()
    except ValueError as exc:
        p.error(str(exc))
    return args


def check_vmtcp_args(p: argparse.ArgumentParser, args: argparse.Namespace
                     ) -> argparse.Namespace:
    """vm-tcp needs none of the packet scenarios' options (no testpmd, no pcap): only its
    own are checked. --idle-modes becomes a list, in the order given, each mode once."""
    modes = [m.strip() for m in args.idle_modes.split(",") if m.strip()]
    unknown = [m for m in modes if m not in vmtcp.IDLE_MODES]
    if not modes or unknown:
        p.error(f"--idle-modes: {', '.join(unknown) or 'none given'}: choose among "
                f"{', '.join(vmtcp.IDLE_MODES)}")
    args.idle_modes = list(dict.fromkeys(modes))
    if args.hugepages:
        p.error("--hugepages: vm-tcp starts the service as the tests do, without them")
    if args.tcp_runs < 1 or args.tcp_seconds < 1:
        p.error("--tcp-runs and --tcp-seconds must be at least 1")
    if not 1 <= args.rounds <= 100:
        p.error("--rounds must be 1..100")
    return args


def traffic(args: argparse.Namespace) -> Traffic:
    # a VM sends from its own address (the service checks sources, --source-check)
    src = dut.VM_IPV4 if args.scenario in ("encap", "newflow") else None
    lb = (dut.LB_UNDERLAY, dut.LB_IP, dut.LB_PORT) if args.scenario == "lb" else None
    return Traffic(packets=args.packets, flows=args.flows, size=args.size, seed=args.seed,
                   src=src, lb=lb)


def pool(packets: int) -> tuple[int, int]:
    """(mbufs, memory MB) for both contenders. net_pcap with infinite_rx copies the whole
    pcap into mbufs of the port's pool and keeps them: dplane's default pool on top."""
    mbufs = packets + DEFAULT_MBUFS
    memory_mb = max(1024, math.ceil(mbufs * MBUF_BYTES / 2**20) + 512)
    return mbufs, memory_mb


def file_prefix(tag: str) -> str:
    """Unique per run: never the default prefix, never another DPDK user's."""
    return f"dpbench-{tag}-{os.getpid()}-{secrets.token_hex(3)}"


def free_tcp_port() -> int:
    """A port nobody listens on now (dplane listens on [::]:port)."""
    for family, host in ((socket.AF_INET6, "::"), (socket.AF_INET, "")):
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.bind((host, 0))
                return s.getsockname()[1]
        except OSError:
            continue
    raise OSError("no free TCP port")


# ---------------------------------------------------------------------------------------
# Running

@dataclasses.dataclass
class Outcome:
    """One contender in one round."""

    result: Result
    exit_code: int
    run_drops: int | None = None  # testpmd's forward statistics (whole run, at exit)


def run_one(contender: Contender, args: argparse.Namespace) -> Outcome:
    try:
        contender.start(START_TIMEOUT)
        snaps = measure(contender, args.warmup, args.seconds)
    finally:
        exit_code = contender.stop()
    result = Result.from_window(snaps)
    if result.packets == 0:
        raise ChildError(f"{contender.name}: forwarded nothing in the window")
    return Outcome(result, exit_code)


def run_round(args: argparse.Namespace, workdir: pathlib.Path, pcap: pathlib.Path
              ) -> dict[str, Outcome]:
    mbufs, memory_mb = pool(args.packets)
    floor = testpmd.Testpmd(testpmd.Setup(args.testpmd, pcap, file_prefix("tp"), memory_mb,
                                          mbufs, args.hugepages), workdir)
    out = {"testpmd": run_one(floor, args)}
    out["testpmd"].run_drops = floor.parser.run_drops
    dplane = dut.Dplane(dut.Setup(pcap, file_prefix("dp"), dplane_memory_mb(args), mbufs,
                                  free_tcp_port(), args.scenario, hugepages=args.hugepages,
                                  flow_table_size=newflow_table_size(args),
                                  fw_rules=args.fw_rules or 0, nat=args.nat,
                                  options=offload_options(args)),
                        workdir)
    out["dplane"] = run_one(dplane, args)
    return out


# ---------------------------------------------------------------------------------------
# Reporting

def median(values: Iterable[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


def summarize(rounds: list[dict[str, Outcome]]) -> dict[str, Any]:
    summary: dict[str, Any] = {}
    for name in ("testpmd", "dplane"):
        results = [r[name].result for r in rounds]
        mpps = statistics.median(x.mpps for x in results)
        summary[name] = {
            "mpps": round(mpps, 4),
            "ns_per_pkt": round(1e3 / mpps, 2),
            "cpu_ns_per_pkt": _round(median(x.cpu_ns_per_pkt for x in results), 2),
            "worker_cpu_share_min": _round(min((x.cpu_share for x in results
                                                if x.cpu_share is not None), default=None), 4),
        }
    summary["dplane"]["node_cycles_per_obj"] = node_medians(
        [r["dplane"].result for r in rounds])
    tp, dp = summary["testpmd"], summary["dplane"]
    summary["ratio"] = round(dp["mpps"] / tp["mpps"], 4)
    summary["added_ns_per_pkt"] = round(dp["ns_per_pkt"] - tp["ns_per_pkt"], 2)
    if tp["cpu_ns_per_pkt"] and dp["cpu_ns_per_pkt"]:
        summary["cpu_ratio"] = round(tp["cpu_ns_per_pkt"] / dp["cpu_ns_per_pkt"], 4)
        summary["added_cpu_ns_per_pkt"] = round(dp["cpu_ns_per_pkt"] - tp["cpu_ns_per_pkt"], 2)
    return summary


def node_medians(results: list[Result]) -> dict[str, float]:
    """Each graph node's median TSC cycles per object over the rounds, costliest first."""
    names = {name for r in results for name in r.node_cycles}
    medians = {name: median(r.node_cycles.get(name) for r in results) for name in names}
    return {name: round(v, 1) for name, v in
            sorted(medians.items(), key=lambda kv: -kv[1]) if v is not None}


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _machine_warnings(name: str, r: Result) -> list[str]:
    out = []
    if r.cpu_share is not None and r.cpu_share < MIN_SHARE:
        out.append(f"the {name} forwarding thread was on its CPU only {r.cpu_share:.0%} of "
                   f"the window: another task ran there")
    if r.steal is not None and r.steal > MAX_STEAL:
        out.append(f"the hypervisor stole {r.steal:.0%} of the forwarding CPU during {name}")
    if r.other_busy is not None and r.other_busy > MAX_OTHER_BUSY:
        out.append(f"CPU {MAIN_CPU} was {r.other_busy:.0%} busy during {name}: something "
                   f"else ran beside the forwarding core")
    return out


def problems(rounds: list[dict[str, Outcome]]) -> tuple[list[str], list[str]]:
    """(errors, warnings). An error fails the bench; a warning questions its figures."""
    errors: list[str] = []
    warnings: list[str] = []
    noisy = False
    for i, r in enumerate(rounds, 1):
        tag = f"round {i}: " if len(rounds) > 1 else ""
        dp, tp = r["dplane"], r["testpmd"]
        if dp.exit_code != 0:
            errors.append(f"{tag}dplane exited {dp.exit_code} on SIGTERM (expected 0)")
        if tp.exit_code != 0:
            warnings.append(f"{tag}testpmd exited {tp.exit_code} on SIGINT")
        lost = {"drops": dp.result.drops, "rx_nombuf": dp.result.rx_nombuf,
                "rx_missed": dp.result.rx_missed}
        if any(lost.values()):
            warnings.append(f"{tag}dplane lost packets in the window: " +
                            ", ".join(f"{k} {v}" for k, v in lost.items()))
        for name, o in (("testpmd", tp), ("dplane", dp)):
            found = _machine_warnings(name, o.result)
            noisy = noisy or bool(found)
            warnings += [tag + w for w in found]
    if noisy:
        warnings.append("the machine was not quiet: wall-clock figures are low and noisy; "
                        "cpu-ns/pkt is the fairer comparison. Rerun on a quiet machine.")
    return errors, warnings


def detail_line(name: str, o: Outcome) -> str:
    r = o.result
    parts = [f"{r.mpps:.2f} Mpps over {r.elapsed:.2f} s"]
    if r.step_mpps:
        parts.append(f"1-s steps {min(r.step_mpps):.2f}..{max(r.step_mpps):.2f}")
    if r.cpu_share is not None and r.cpu_ns_per_pkt is not None:
        parts.append(f"worker on CPU {r.cpu_share:.1%} ({r.cpu_ns_per_pkt:.1f} cpu-ns/pkt)")
    if r.steal is not None:
        parts.append(f"steal {r.steal:.1%}")
    if r.other_busy is not None:
        parts.append(f"CPU {MAIN_CPU} busy {r.other_busy:.1%}")
    drops = f"drops {r.drops}"
    if o.run_drops is not None:
        drops += f" (whole run: {o.run_drops})"
    parts += [drops, f"rx_nombuf {r.rx_nombuf}", f"rx_missed {r.rx_missed}",
              f"exit {o.exit_code}"]
    return f"{name}: " + ", ".join(parts)


def text_report(report: dict[str, Any], rounds: list[dict[str, Outcome]]) -> str:
    m, p, s = report["machine"], report["params"], report["summary"]
    tp, dp = s["testpmd"], s["dplane"]
    load = " ".join(f"{x:.2f}" for x in m["loadavg_before"])
    n = len(rounds)
    lines = [
        "dplane bench: net_pcap rx -> forward -> net_null tx, one forwarding core",
        f"machine     : {m['cpu']}, {m['cores']} cores, Linux {m['kernel']} (load {load})",
        f"DPDK        : {m['dpdk']['dplane']} in dplane (static), "
        f"{m['dpdk']['testpmd']} for testpmd",
        f"traffic     : {p['size']}-byte frames, {p['flows']} flows, {p['packets']} frames in "
        f"the pcap; {p['mbufs']} mbufs, burst {p['burst']}, "
        f"{'2 MB hugepages' if p['hugepages'] else '4 KiB pages (--no-huge)'}",
        f"window      : {p['seconds']:g} s after {p['warmup']:g} s warm-up, "
        + ("1 round" if n == 1 else f"{n} rounds (medians)"),
        f"testpmd io  : {tp['mpps']:.2f} Mpps  {tp['ns_per_pkt']:.1f} ns/pkt",
        f"dplane {p['scenario'] + (' nat' if p.get('nat') else ''):<5}: "
        f"(offload {p.get('offload', 'on')}) "
        f"{dp['mpps']:.2f} Mpps  {dp['ns_per_pkt']:.1f} ns/pkt  "
        f"ratio {s['ratio']:.2f} of floor",
        f"dplane adds : {s['added_ns_per_pkt']:+.1f} ns/pkt to io forwarding"
        + (f" (CPU time: {s['added_cpu_ns_per_pkt']:+.1f} ns/pkt, ratio {s['cpu_ratio']:.2f})"
           if "cpu_ratio" in s else ""),
    ]
    if dp.get("node_cycles_per_obj"):
        lines.append("dplane nodes: " + ", ".join(
            f"{name} {c:g}" for name, c in dp["node_cycles_per_obj"].items())
            + " (TSC cycles per packet)")
    lines += [
        "details:",
    ]
    for i, r in enumerate(rounds, 1):
        tag = f"  [{i}] " if n > 1 else "  "
        lines.append(tag + detail_line("testpmd io", r["testpmd"]))
        lines.append(tag + detail_line(f"dplane {p['scenario']}", r["dplane"]))
    lines += [f"warning: {w}" for w in report["warnings"]]
    lines += [f"error: {e}" for e in report["errors"]]
    return "\n".join(lines)


def round_dict(r: dict[str, Outcome]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, o in r.items():
        out[name] = dict(o.result.to_dict(), exit_code=o.exit_code)
        if o.run_drops is not None:
            out[name]["run_drops"] = o.run_drops
    out["ratio"] = round(r["dplane"].result.mpps / r["testpmd"].result.mpps, 4)
    return out


def build_report(args: argparse.Namespace, info: dict[str, Any],
                 rounds: list[dict[str, Outcome]]) -> dict[str, Any]:
    mbufs, memory_mb = pool(args.packets)
    errors, warnings = problems(rounds)
    return {
        "machine": info,
        "params": {"seconds": args.seconds, "warmup": args.warmup, "packets": args.packets,
                   "flows": args.flows, "size": args.size, "seed": args.seed,
                   "rounds": args.rounds, "mbufs": mbufs, "memory_mb": memory_mb,
                   "burst": testpmd.BURST, "ring": testpmd.RING,
                   "scenario": args.scenario, "hugepages": args.hugepages,
                   "fw_rules": args.fw_rules, "nat": args.nat, "offload": args.offload},
        "summary": summarize(rounds),
        "rounds": [round_dict(r) for r in rounds],
        "warnings": warnings,
        "errors": errors,
    }


# ---------------------------------------------------------------------------------------

def _exit_on_sigterm(signum: int, frame: object) -> None:
    raise SystemExit(128 + signum)  # unwinds through every finally: children stopped


NEWFLOW_TIMEOUT = 60.0


def run_newflow(args: argparse.Namespace, workdir: pathlib.Path, pcap: pathlib.Path
                ) -> dict[str, Any]:
    """Every frame a new 5-tuple: the pcap holds --flows distinct flows, one frame each, and
    the rate is how fast the conntrack table fills with their keys (two per flow) once the
    VF starts, sampled over gRPC. Only the first pass counts: after it the flows exist.
    With --fw-rules: how fast the firewall decides them once the route exists (its rules
    were created before), sampled over telemetry: a flow is decided at its first packet that
    gets past the route lookup."""
    mbufs, _ = pool(args.packets)
    table = newflow_table_size(args)
    dplane = dut.Dplane(dut.Setup(pcap, file_prefix("nf"), newflow_memory_mb(args), mbufs,
                                  free_tcp_port(), "newflow", flow_table_size=table,
                                  hugepages=args.hugepages, fw_rules=args.fw_rules or 0,
                                  nat=args.nat, telemetry=args.fw_rules is not None,
                                  options=offload_options(args)), workdir)
    samples: list[tuple[float, int]] = []
    # keys, two per flow; or the firewall's decisions, one per flow
    per_flow = 1 if args.fw_rules is not None else 2
    sample = dplane.fw_decisions if args.fw_rules is not None else dplane.conntrack_keys
    target = args.flows * per_flow
    try:
        dplane.start(START_TIMEOUT)
        started = dplane.attach_vm()
        deadline = time.monotonic() + NEWFLOW_TIMEOUT
        while time.monotonic() < deadline:
            samples.append(sample())
            if samples[-1][1] >= target:
                break
    finally:
        exit_code = dplane.stop()
    done = [t for t, keys in samples if keys >= target]
    if not done:
        raise ChildError(f"dplane newflow: only {samples[-1][1] // per_flow if samples else 0} of "
                         f"{args.flows} flows within {NEWFLOW_TIMEOUT:g} s")
    # the rate between the first samples past 10 % and past 90 % of the keys: the table
    # filling steadily, without the start (the first sample comes late) or the end
    first = next((t, k) for t, k in samples if k >= target // 10)
    last = next((t, k) for t, k in samples if k >= target * 9 // 10)
    flows = (last[1] - first[1]) // per_flow
    seconds = last[0] - first[0]
    return {"flows": args.flows, "table_size": table,
            "seconds_from_start": round(done[0] - started, 4),
            "measured_flows": flows, "measured_seconds": round(seconds, 4),
            "flows_per_s": round(flows / seconds) if seconds > 0 else None,
            "ns_per_flow": round(seconds * 1e9 / flows, 1) if flows else None,
            "samples": len(samples), "exit": exit_code}


def offload_options(args: argparse.Namespace) -> dict[str, Any]:
    """[service] keys: offload off, or the engine's rules for every flow (one rule each:
    only the VM sends) beyond its default."""
    if args.offload == "off":
        return {"no-offload": "true"}
    return {"offload-rules": args.flows + 1024} if args.flows + 1024 > 65536 else {}


OFFLOAD_RULE_BYTES = 512  # a rule (320 bytes) and its key in the engine's table


def dplane_memory_mb(args: argparse.Namespace) -> int:
    """The pool, and with many flows their conntrack table and their rules."""
    _, memory_mb = pool(args.packets)
    if args.flows * 2 + 1024 <= DEFAULT_FLOW_TABLE:
        return memory_mb
    return newflow_memory_mb(args) + math.ceil(args.flows * OFFLOAD_RULE_BYTES / 2**20)


def newflow_table_size(args: argparse.Namespace) -> int:
    return args.flow_table_size or max(DEFAULT_FLOW_TABLE, args.flows * 2 + 1024)


def newflow_memory_mb(args: argparse.Namespace) -> int:
    """The pool as for the other scenarios, the table itself, and room: the pcap copy and
    the pool take more than pool() counts."""
    _, memory_mb = pool(args.packets)
    return math.ceil(memory_mb * 1.5) + math.ceil(newflow_table_size(args) * 1.25 * 200 / 2**20)


def memory_mb(args: argparse.Namespace) -> int:
    return newflow_memory_mb(args) if args.scenario == "newflow" else dplane_memory_mb(args)


def main_newflow(args: argparse.Namespace) -> int:
    with tempfile.TemporaryDirectory(prefix="dplane-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        pcap = workdir / "traffic.pcap"
        write_pcap(traffic(args), pcap)
        try:
            results = [run_newflow(args, workdir, pcap) for _ in range(args.rounds)]
        except ChildError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    rate = median(r["flows_per_s"] for r in results)
    if args.json:
        print(json.dumps({"scenario": "newflow", "rounds": results, "flows_per_s": rate}))
    else:
        print(f"dplane newflow{' (NAT)' if args.nat else ''}: {args.flows} new flows, "
              f"{args.size}-byte frames, "
              f"table of {newflow_table_size(args)} keys, "
              f"{'hugepages' if args.hugepages else 'no hugepages'}, {len(results)} round(s)")
        for r in results:
            if r["flows_per_s"] is None:  # the table filled between two samples
                print(f"  too fast to sample ({r['samples']} samples): raise --flows")
                continue
            print(f"  {r['measured_flows']} flows in {r['measured_seconds'] * 1e3:.0f} ms: "
                  f"{r['flows_per_s'] / 1e6:.2f} M flows/s, {r['ns_per_flow']} ns/flow "
                  f"({r['samples']} samples, exit {r['exit']})")
        if rate is not None:
            print(f"median      : {rate / 1e6:.2f} M new flows/s")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if not args.hugepages:
        return main_scenario(args)
    try:
        with hugepages.reserved(memory_mb(args)):
            return main_scenario(args)
    except hugepages.HugepageError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1


DEFAULT_ROUTE_TABLE = 100000  # the service's --route-table-size default


def route_table_size(args: argparse.Namespace) -> int | None:
    """The --route-table-size to start the service with; None: its default."""
    if args.route_table_size is not None:
        return args.route_table_size
    needed = args.routes + 1  # and the interface's own /32
    return needed if needed > DEFAULT_ROUTE_TABLE else None


def main_control(args: argparse.Namespace) -> int:
    """The control-plane scenario (control.py): the service on null PFs and TAP VFs in a
    network namespace of the bench's own, driven over gRPC from this process."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    control.enter_private_netns()  # before any thread: gRPC's must live there too
    mbufs, memory_mb = pool(4096)
    size = route_table_size(args)
    results = []
    with tempfile.TemporaryDirectory(prefix="dplane-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        try:
            for _ in range(args.rounds):
                port = free_tcp_port()
                dplane = dut.Dplane(dut.Setup(
                    workdir / "none.pcap", file_prefix("cp"), memory_mb, mbufs, port,
                    "control", hugepages=args.hugepages, vfs=control.VFS,
                    options={} if size is None else {"route-table-size": size}), workdir)
                try:
                    dplane.start(START_TIMEOUT)
                    try:
                        results.append(control.run(f"127.0.0.1:{port}", args,
                                                   dplane.child.pid))
                    except (grpc.RpcError, RuntimeError) as exc:
                        raise dplane.child.fail(f"control scenario: {exc!r}") from None
                finally:
                    exit_code = dplane.stop()
                results[-1]["exit"] = exit_code
        except ChildError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
    if args.json:
        print(json.dumps({"scenario": "control", "route_table_size": size,
                          "rounds": results}, indent=2))
        return 0
    print(f"dplane control plane: a Python gRPC client (grpcio {control.grpc.__version__}), "
          f"{args.rounds} round(s), route table size "
          f"{size if size is not None else 'default'}")
    for i, r in enumerate(results, 1):
        if len(results) > 1:
            print(f"round {i}:")
        for line in control.text_report(r, args):
            print("  " + line)
    return 0 if all(r["exit"] == 0 for r in results) else 1


def main_vmtcp(args: argparse.Namespace) -> int:
    """The vm-tcp scenario (vmtcp.py): per idle mode, a service as the tests start it, two
    kernel VMs on its VFs, iperf3 and ping between them, the idle worker's CPU. Skipped
    (exit 1) without root or without its tools."""
    missing = vmtcp.missing_tools()
    if missing:
        print(f"bench: vm-tcp skipped: {', '.join(missing)} not installed (tools/setup.sh "
              f"installs them from Debian)", file=sys.stderr)
        return 1
    if os.geteuid() != 0:
        print("bench: vm-tcp skipped: needs root (network namespaces, TAP devices)",
              file=sys.stderr)
        return 1
    signal.signal(signal.SIGTERM, _exit_on_sigterm)  # the VMs' namespaces are deleted
    info = dict(cpu=machine.cpu_model(), cores=os.cpu_count(), kernel=platform.release(),
                loadavg_before=machine.load_average(), iperf3=vmtcp.iperf3_version())
    try:
        rounds = vmtcp.run_rounds(args.idle_modes, args.rounds, args.tcp_runs,
                                  args.tcp_seconds)
    except (vmtcp.ScenarioError, grpc.RpcError) as exc:
        print(f"bench: vm-tcp: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("bench: interrupted", file=sys.stderr)
        return 130
    errors, warnings = vmtcp_problems(rounds)
    if args.json:
        print(json.dumps({"scenario": "vm-tcp", "machine": info,
                          "params": {"idle_modes": args.idle_modes, "rounds": args.rounds,
                                     "tcp_runs": args.tcp_runs,
                                     "tcp_seconds": args.tcp_seconds,
                                     "ping_count": vmtcp.PING_COUNT,
                                     "ping_interval": vmtcp.PING_INTERVAL,
                                     "idle_seconds": vmtcp.IDLE_SECONDS},
                          "rounds": rounds, "warnings": warnings, "errors": errors},
                         indent=2))
    else:
        print(vmtcp_text_report(args, info, rounds, errors, warnings))
    return 1 if errors else 0


def vmtcp_problems(rounds: list[dict[str, dict[str, Any]]]) -> tuple[list[str], list[str]]:
    """(errors, warnings), as problems() for the packet scenarios: a service that did not
    exit 0 fails the bench; a noisy machine only questions the figures."""
    errors: list[str] = []
    warnings: list[str] = []
    for i, modes in enumerate(rounds, 1):
        tag = f"round {i}: " if len(rounds) > 1 else ""
        for mode, r in modes.items():
            if r["exit"] != 0:
                errors.append(f"{tag}dplane --idle {mode} exited {r['exit']} on SIGTERM "
                              f"(expected 0)")
            warnings += [tag + w for w in vmtcp.warnings(r)]
    return errors, warnings


def vmtcp_text_report(args: argparse.Namespace, info: dict[str, Any],
                      rounds: list[dict[str, dict[str, Any]]], errors: list[str],
                      warnings: list[str]) -> str:
    load = " ".join(f"{x:.2f}" for x in info["loadavg_before"])
    lines = [
        f"dplane vm-tcp: two kernel VMs (netns on VF TAPs) in VNI {vmtcp.VNI}, "
        f"{vmtcp.VMS[0].ipv4} -> {vmtcp.VMS[1].ipv4}",
        f"machine       : {info['cpu']}, {info['cores']} cores, Linux {info['kernel']} "
        f"(load {load}), {info['iperf3']}",
        f"per mode      : iperf3 TCP {args.tcp_runs} x {args.tcp_seconds} s, ping "
        f"{vmtcp.PING_COUNT} x {vmtcp.PING_INTERVAL:g} s, {vmtcp.IDLE_SECONDS:g} s idle; "
        + ("1 round" if args.rounds == 1 else f"{args.rounds} rounds"),
    ]
    for i, modes in enumerate(rounds, 1):
        if len(rounds) > 1:
            lines.append(f"round {i}:")
        for r in modes.values():
            lines += vmtcp.text_report(r)
    lines += [f"warning: {w}" for w in warnings]
    lines += [f"error: {e}" for e in errors]
    return "\n".join(lines)


def main_scenario(args: argparse.Namespace) -> int:
    if args.scenario == "control":
        return main_control(args)
    if args.scenario == "vm-tcp":
        return main_vmtcp(args)
    if args.scenario == "newflow":
        return main_newflow(args)
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    info = machine.describe(args.testpmd)
    rounds: list[dict[str, Outcome]] = []
    with tempfile.TemporaryDirectory(prefix="dplane-bench-") as tmp:
        workdir = pathlib.Path(tmp)
        pcap = workdir / "traffic.pcap"
        write_pcap(traffic(args), pcap)
        try:
            for _ in range(args.rounds):
                rounds.append(run_round(args, workdir, pcap))
        except ChildError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            print("bench: interrupted", file=sys.stderr)
            return 130
    report = build_report(args, info, rounds)
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(text_report(report, rounds))
    return 1 if report["errors"] else 0


if __name__ == "__main__":
    sys.exit(main())
