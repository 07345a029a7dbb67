# SPDX-License-Identifier: Apache-2.0
"""dplane-exporter: Prometheus metrics from the service's telemetry socket.

A drop-in for dpservice-exporter: the same flags (Go style, `-port 9064` or `--port=9064`),
the same metric names and labels, read from the same telemetry commands. Every
`--poll-interval` seconds it waits for the gRPC port on 127.0.0.1 (as dpservice-exporter does:
the service is up once it serves), asks the socket, and replaces the metrics served on
`http://0.0.0.0:<port>/metrics` with the new reading; when the socket goes away it
reconnects and serves only `dplane_telemetry_up 0` meanwhile.

dplane's own metrics: dplane_drops_total{reason}, dplane_graph_objects_total{graph_node},
dplane_table_{entries,capacity,fill_ratio}{table}, dplane_telemetry_up, and how the worker
spends its core: dplane_worker_{sleeps,wakeups,sleep_timeouts,kicks,pauses}_total,
dplane_worker_asleep_seconds_total, dplane_worker_ports{interrupts}; flow offload:
dplane_offload_{hits,misses,installs,refusals,destroys,sampled}_total, dplane_offload_rules,
dplane_offload_not_offloaded_total{reason}; and on a NIC that takes rules (not TAPs):
dplane_offload_nic_{installs,refusals,needs_hairpin}_total, dplane_offload_nic_rules,
dplane_offload_nic_port_{isolated,carrying}{port}.
"""
from __future__ import annotations

import argparse
import logging
import os
import socket
import sys
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import grpc
from prometheus_client import start_http_server
from prometheus_client.core import CollectorRegistry, CounterMetricFamily, GaugeMetricFamily
from prometheus_client.metrics_core import Metric

from . import tls_client
from ._version import __version__
from .proto import health_pb2, health_pb2_grpc
from .telemetry_client import TelemetryClient, default_file_prefix, socket_path
from .tls_client import ClientTls, TlsError, open_channel

log = logging.getLogger("dplane.exporter")

PROG = "dplane-exporter"
RETRY_INTERVAL = 5.0


# ---------------------------------------------------------------------------------------
# One reading of the telemetry socket -> metric families.

def _gauge(name: str, help: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, help, labels=labels)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


def _ethdev_metrics(client: TelemetryClient) -> list[Metric]:
    kinds = {kind: _gauge(f"dpdk_ethdev_{kind}_total", f"DPDK total ethdev {kind}",
                          ["name", "stat"]) for kind in ("errors", "packets", "bytes")}
    misc = _gauge("dpdk_ethdev_misc", "Other DPDK ethdev statistics", ["name", "stat"])
    link = _gauge("dpdk_ethdev_link_status", "Link status of DPDK ethdev", ["name"])
    for port_id in client.query("/ethdev/list") or []:
        info = client.query("/ethdev/info", str(port_id)) or {}
        name = str(info.get("name", port_id))
        if "representor" not in name:  # link state of the uplinks only, as dpservice's
            status = (client.query("/ethdev/link_status", str(port_id)) or {}).get("status")
            if isinstance(status, str) and status.lower() in ("up", "down"):
                link.add_metric([name], 1.0 if status.lower() == "up" else 0.0)
        for stat, value in (client.query("/ethdev/xstats", str(port_id)) or {}).items():
            number = _number(value)
            if number is None:
                continue
            kind = next((k for k in ("bytes", "packets", "errors") if k in stat), None)
            (kinds[kind] if kind else misc).add_metric([name, stat], number)
    return [*kinds.values(), misc, link]


def _heap_metrics(client: TelemetryClient, node: str) -> list[Metric]:
    heap = _gauge("dpdk_heap_info", "Dpservice heap info", ["node", "info"])
    for heap_id in client.query("/eal/heap_list") or []:
        for key, value in (client.query("/eal/heap_info", str(heap_id)) or {}).items():
            number = _number(value)  # the heap's name is a string: not a metric
            if number is not None:
                heap.add_metric([node, key], number)
    return [heap]


def _per_key(client: TelemetryClient, command: str, name: str, help: str,
             label: str) -> Metric:
    metric = _gauge(name, help, [label])
    for key, value in (client.query(command) or {}).items():
        number = _number(value)
        if number is not None:
            metric.add_metric([key], number)
    return metric


def _node_values(client: TelemetryClient, command: str) -> dict[str, float]:
    """Merge the Node_<a>_to_<b> blocks of a graph command."""
    out: dict[str, float] = {}
    for block in (client.query(command) or {}).values():
        for node, value in (block or {}).items():
            number = _number(value)
            if number is not None:
                out[node] = number
    return out


def _service_metrics(client: TelemetryClient, node: str) -> list[Metric]:
    metrics = [
        _per_key(client, "/dp_service/nat/used_port_count", "dps_nat_used_ports_count",
                 "Count of used NAT ports on interface", "interface_id"),
        _per_key(client, "/dp_service/firewall/rule_count", "dps_firewall_rules_count",
                 "Count of firewall rules on interface", "interface_id"),
        _per_key(client, "/dp_service/virtsvc/used_port_count", "dps_virtsvc_used_ports_count",
                 "Count of used virtual service ports", "address"),
    ]
    calls = _gauge("dps_graph_call_count", "Dpservice graph statistics", ["node", "graph_node"])
    for graph_node, value in _node_values(client, "/dp_service/graph/call_count").items():
        calls.add_metric([node, graph_node], value)
    objects = CounterMetricFamily("dplane_graph_objects", "Packets processed per graph node",
                                  labels=["graph_node"])
    for graph_node, value in _node_values(client, "/dp_service/graph/obj_count").items():
        objects.add_metric([graph_node], value)

    saturation = _gauge("dps_hash_table_saturation", "Dpservice hash table saturation",
                        ["table", "stat"])
    entries = _gauge("dplane_table_entries", "Entries in use per table", ["table"])
    capacity = _gauge("dplane_table_capacity", "Capacity per table", ["table"])
    fill = _gauge("dplane_table_fill_ratio", "Entries / capacity per table", ["table"])
    for table, usage in (client.query("/dp_service/table/saturation") or {}).items():
        used, size = _number(usage.get("entries")), _number(usage.get("capacity"))
        if used is None or size is None:
            continue
        saturation.add_metric([table, "capacity"], size)
        saturation.add_metric([table, "entries"], used)
        entries.add_metric([table], used)
        capacity.add_metric([table], size)
        fill.add_metric([table], used / size if size else 0.0)

    drops = CounterMetricFamily("dplane_drops", "Packets dropped per reason",
                                labels=["reason"])
    for reason, value in (client.query("/dplane/drops") or {}).items():
        number = _number(value)
        if number is not None:
            drops.add_metric([reason], number)
    audited = CounterMetricFamily(
        "dplane_underlay_mismatch_audited", "Tunnels delivered although their inner "
        "destination was not what their underlay address stands for (--underlay-check=audit)")
    checks = client.query("/dplane/checks") or {}
    number = _number(checks.get("underlay_mismatch_audited"))
    if number is not None:
        audited.add_metric([], number)
    spoofed = CounterMetricFamily(
        "dplane_spoofed_source_packets", "Packets of a VM whose source was not the VM's "
        "(--source-check: counted when auditing, dropped too when enforcing)",
        labels=["interface_id"])
    for iface, value in (checks.get("spoofed_source") or {}).items():
        number = _number(value)
        if number is not None:
            spoofed.add_metric([iface], number)
    return [*metrics, calls, objects, saturation, entries, capacity, fill, drops,
            *_firewall_metrics(client), audited, spoofed, *_idle_metrics(client),
            *_offload_metrics(client)]


IDLE_COUNTERS = (
    ("sleeps", "dplane_worker_sleeps", "Times the worker slept on its ports' rx interrupts"),
    ("wakeups", "dplane_worker_wakeups", "Sleeps ended by a packet or by the control thread"),
    ("timeouts", "dplane_worker_sleep_timeouts", "Sleeps ended by their timeout"),
    ("kicks", "dplane_worker_kicks", "Wake-ups the control thread asked for (packets it queued)"),
    ("pauses", "dplane_worker_pauses", "Short pauses (--idle=pause, or a port without rx "
     "interrupts)"),
)


def _counters(stats: dict, table: Sequence[tuple[str, str, str]]) -> list[Metric]:
    """A counter family per (field, name, help) of table, with the field's value if any."""
    out = []
    for field, name, help in table:
        metric = CounterMetricFamily(name, help)
        number = _number(stats.get(field))
        if number is not None:
            metric.add_metric([], number)
        out.append(metric)
    return out


def _idle_metrics(client: TelemetryClient) -> list[Metric]:
    """How the worker spends its core (--idle), from /dplane/worker/idle."""
    idle = client.query("/dplane/worker/idle") or {}
    out = _counters(idle, IDLE_COUNTERS)
    asleep = CounterMetricFamily("dplane_worker_asleep_seconds",
                                 "Time the worker spent asleep or paused")
    number = _number(idle.get("asleep_ns"))
    if number is not None:
        asleep.add_metric([], number / 1e9)
    ports = _gauge("dplane_worker_ports", "Started ports the worker waits on, by whether they "
                   "deliver rx interrupts", ["interrupts"])
    for field, label in (("intr_ports", "yes"), ("nointr_ports", "no")):
        number = _number(idle.get(field))
        if number is not None:
            ports.add_metric([label], number)
    return [*out, asleep, ports]


OFFLOAD_COUNTERS = (
    ("hits", "dplane_offload_hits", "Packets the flows' rules carried past the graph"),
    ("misses", "dplane_offload_misses", "Packets the engine read and left to the graph"),
    ("installs", "dplane_offload_installs", "Rules made"),
    ("refusals", "dplane_offload_refusals", "Rules the engine refused (full, too many shapes)"),
    ("destroys", "dplane_offload_destroys", "Rules removed (with their flows, or stale)"),
    ("sampled", "dplane_offload_sampled", "Packets copied to the capture sink"),
)


def _offload_metrics(client: TelemetryClient) -> list[Metric]:
    """The flow offload engine (firmware/offload), from /dplane/offload."""
    stats = client.query("/dplane/offload") or {}
    out = _counters(stats, OFFLOAD_COUNTERS)
    rules = _gauge("dplane_offload_rules", "Rules in the engine", [])
    number = _number(stats.get("rules"))
    if number is not None:
        rules.add_metric([], number)
    not_offloaded = CounterMetricFamily("dplane_offload_not_offloaded",
                                        "Flows' packets no rule can express, by reason",
                                        labels=["reason"])
    for reason, count in (stats.get("not_offloaded") or {}).items():
        number = _number(count)
        if number is not None:
            not_offloaded.add_metric([reason], number)
    return [*out, rules, not_offloaded, *_offload_nic_metrics(stats.get("nic"))]


OFFLOAD_NIC_COUNTERS = (
    ("installs", "dplane_offload_nic_installs", "Flows' rules the NIC took"),
    ("refusals", "dplane_offload_nic_refusals",
     "Flows' rules the NIC refused (the engine runs them)"),
    ("needs_hairpin", "dplane_offload_nic_needs_hairpin",
     "Flows' rules left to the engine: across to PF1, or from a PF back out"),
)


def _offload_nic_metrics(nic: Any) -> list[Metric]:
    """The NIC's side of offload, when the ports' NIC takes rules (absent on TAPs)."""
    if not isinstance(nic, dict):
        return []
    out = _counters(nic, OFFLOAD_NIC_COUNTERS)
    rules = _gauge("dplane_offload_nic_rules", "Rules the NIC carries", [])
    number = _number(nic.get("rules"))
    if number is not None:
        rules.add_metric([], number)
    isolated = _gauge("dplane_offload_nic_port_isolated",
                      "1 if the PF is isolated (only the underlay's tunnels come here)", ["port"])
    carrying = _gauge("dplane_offload_nic_port_carrying",
                      "1 if the port's flows' rules go to its NIC", ["port"])
    for port, info in (nic.get("ports") or {}).items():
        if isinstance(info, dict):
            isolated.add_metric([port], 1.0 if info.get("isolated") else 0.0)
            carrying.add_metric([port], 1.0 if info.get("carrying") else 0.0)
    return [*out, rules, isolated, carrying]


FIREWALL_COUNTERS = (
    ("flows_denied", "dplane_firewall_denied_flows",
     "Flows the firewall rules deny (decisions), per interface and direction"),
    ("audit_denied", "dplane_firewall_audit_denied_packets",
     "Packets the rules deny but that pass because the firewall only audits"),
    ("dropped", "dplane_firewall_dropped_packets",
     "Packets the rules deny, dropped (--firewall-enforce)"),
)


def _firewall_metrics(client: TelemetryClient) -> list[Metric]:
    """What enforcing the firewall cuts (or would cut), from /dplane/firewall/stats."""
    stats = client.query("/dplane/firewall/stats") or {}
    out = []
    for field, name, help in FIREWALL_COUNTERS:
        metric = CounterMetricFamily(name, help, labels=["interface_id", "direction"])
        for iface, counters in stats.items():
            for direction in ("ingress", "egress"):
                number = _number((counters.get(direction) or {}).get(field))
                if number is not None:
                    metric.add_metric([iface, direction], number)
        out.append(metric)
    return out


def read_metrics(client: TelemetryClient, node: str) -> list[Metric]:
    """Every metric, from one pass over the telemetry commands."""
    return [*_ethdev_metrics(client), *_heap_metrics(client, node),
            *_service_metrics(client, node)]


def _up(value: bool) -> Metric:
    up = _gauge("dplane_telemetry_up", "1 when the last reading of the telemetry socket "
                "succeeded", [])
    up.add_metric([], 1.0 if value else 0.0)
    return up


# ---------------------------------------------------------------------------------------
# Serving the latest reading.

class Snapshot:
    """The metrics of the latest reading; what a scrape returns."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._metrics: list[Metric] = [_up(False)]

    def set(self, metrics: list[Metric], up: bool) -> None:
        with self._lock:
            self._metrics = [*metrics, _up(up)]

    def collect(self) -> Iterator[Metric]:
        with self._lock:
            metrics = list(self._metrics)
        yield from metrics


def grpc_listening(port: int, timeout: float = 2.0, address: str = "127.0.0.1",
                   tls: ClientTls | None = None) -> bool:
    """Whether the service serves gRPC: its port accepts connections or, with the --tls-*
    flags, its health service answers SERVING over TLS (a handshake with our certificate)."""
    if tls is not None and tls.credentials() is not None:
        target = f"[{address}]:{port}" if ":" in address else f"{address}:{port}"
        with open_channel(target, tls) as channel:
            try:
                reply = health_pb2_grpc.HealthStub(channel).Check(
                    health_pb2.HealthCheckRequest(), timeout=timeout)
            except grpc.RpcError:
                return False
            return reply.status == health_pb2.HealthCheckResponse.SERVING
    try:
        with socket.create_connection((address, port), timeout=timeout):
            return True
    except OSError:
        return False


class Poller:
    def __init__(self, path: str, grpc_port: int, interval: float, node: str,
                 grpc_address: str, snapshot: Snapshot, tls: ClientTls | None = None) -> None:
        self.path, self.grpc_port, self.interval = path, grpc_port, interval
        self.grpc_address, self.tls = grpc_address, tls
        self.node, self.snapshot = node, snapshot
        self._client: TelemetryClient | None = None

    def poll_once(self) -> bool:
        if self._client is None:
            if not grpc_listening(self.grpc_port, address=self.grpc_address, tls=self.tls):
                log.warning("gRPC port %s:%d is not open", self.grpc_address, self.grpc_port)
                self.snapshot.set([], False)
                return False
            try:
                self._client = TelemetryClient(self.path)
                log.info("connected to %s", self.path)
            except (OSError, ValueError) as exc:
                log.warning("cannot connect to %s: %s", self.path, exc)
                self.snapshot.set([], False)
                return False
        try:
            self.snapshot.set(read_metrics(self._client, self.node), True)
            return True
        except (OSError, ValueError, AttributeError, TypeError) as exc:
            log.warning("reading %s failed: %s; reconnecting", self.path, exc)
            self._client.close()
            self._client = None
            self.snapshot.set([], False)
            return False

    def run(self, stop: threading.Event) -> None:
        while not stop.is_set():
            ok = self.poll_once()
            stop.wait(self.interval if ok else min(self.interval, RETRY_INTERVAL))


# ---------------------------------------------------------------------------------------
# Command line.

def _flag(parser: argparse.ArgumentParser, name: str, **kwargs: Any) -> None:
    """A Go-style flag: -name and --name, with a value as `-name v` or `-name=v`."""
    parser.add_argument(f"-{name}", f"--{name}", dest=name.replace("-", "_"), **kwargs)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG, allow_abbrev=False,
        description="Export dplane statistics from its DPDK telemetry socket to Prometheus.")
    _flag(parser, "hostname", default="", help="Hostname to use (defaults to $NODE_NAME, "
          "then the current hostname)")
    _flag(parser, "file-prefix", default=None, help="File prefix of the service's DPDK "
          "telemetry socket (default: $DP_FILE_PREFIX, else 'dplane' when that socket "
          "exists, else 'rte')")
    _flag(parser, "poll-interval", type=float, default=20.0, help="Polling interval in "
          "seconds (default 20)")
    _flag(parser, "port", type=int, default=9064, help="Port on which exporter will be "
          "running (default 9064)")
    _flag(parser, "grpc-port", type=int, default=1337, help="Port on which the service "
          "serves gRPC (default 1337)")
    _flag(parser, "grpc-address", default="127.0.0.1", help="Address on which the service "
          "serves gRPC: its --grpc-listen when it serves one address (default 127.0.0.1; "
          "without --tls-ca the exporter only checks that the port is open)")
    tls_client.add_arguments(parser)
    parser.add_argument("-v", "--v", dest="version", action="store_true",
                        help="Print version and exit")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.version:
        print(f"{PROG} version {__version__}")
        return 0
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    if not 1024 <= args.port <= 65535:
        log.error("port must be in range 1024 - 65535")
        return 1
    if args.poll_interval <= 0:
        log.error("poll-interval must be positive")
        return 1
    tls = ClientTls.from_args(args)
    try:
        tls.credentials()
    except TlsError as exc:
        log.error("%s", exc)
        return 1
    node = args.hostname or os.environ.get("NODE_NAME") or socket.gethostname()
    path = socket_path(args.file_prefix or default_file_prefix())

    snapshot = Snapshot()
    registry = CollectorRegistry(auto_describe=False)
    registry.register(snapshot)
    try:
        start_http_server(args.port, addr="0.0.0.0", registry=registry)
    except OSError as exc:
        log.error("cannot listen on port %d: %s", args.port, exc.strerror)
        return 1
    log.info("serving metrics on :%d/metrics from %s (host %s)", args.port, path, node)
    stop = threading.Event()
    try:
        Poller(path, args.grpc_port, args.poll_interval, node, args.grpc_address,
               snapshot, tls).run(stop)
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
