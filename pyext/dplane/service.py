# SPDX-License-Identifier: Apache-2.0
"""The dplane process: command line → EAL → ports → graph and worker → gRPC, then the control
loop on the main thread until SIGTERM/SIGINT, then everything released in reverse order."""
from __future__ import annotations

import ipaddress
import json
import logging
import os
import signal
import sys
import threading
import time
import uuid
from collections.abc import Callable, Sequence

from . import announce, cmdline, firmware, ports, telemetry, tracing
from . import board as boards
from .cmdline import Config
from .control import ControlThread
from .errors import ConfigError
from .flows import Flows
from .interfaces import MAX_INTERFACES, Interface, Interfaces
from .prefixes import Prefixes
from .routes import Routes
from .underlay import UnderlayGenerator
from .uplinks import Uplinks
from .vnis import Vnis

log = logging.getLogger("dplane")

REQUIRED_LCORES = 2  # the main lcore (control) and one worker
# periodic ARP/NA/RA to the VMs: every 5 s for the first cycles, every 30 s once initialised
MAINTENANCE_FAST, MAINTENANCE_FAST_CYCLES, MAINTENANCE_SLOW = 5.0, 5, 30.0


class _JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {"ts": record.created, "level": record.levelname.lower(),
                 "logger": record.name, "msg": record.getMessage()}
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def _setup_logging(cfg: Config) -> None:
    handler = logging.StreamHandler(sys.stderr)
    if cfg.log_format == "json":
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger("dplane")
    root.handlers[:] = [handler]
    root.setLevel(logging.INFO)
    root.propagate = False


def _restore_affinity(cpus: set[int]) -> None:
    """EAL pinned this thread, and the threads it created (interrupts), to the main lcore's
    CPU; threads created later (gRPC) would inherit that. Hand every thread but the worker
    lcores back all the CPUs the process had."""
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/comm", encoding="utf-8") as f:
                if f.read().startswith("rte-worker"):
                    continue
            os.sched_setaffinity(int(task), cpus)
        except OSError:  # a thread that just ended
            pass


class Service:
    """State shared by the API handlers. Mutated only on the control thread."""

    def __init__(self, cfg: Config) -> None:
        self.cfg = cfg
        self.uuid = str(uuid.uuid4()).upper()
        self.initialized = False
        self.control = ControlThread()
        self.ports: list[ports.Port] = []
        self.vnis = Vnis()
        self.underlays = UnderlayGenerator(cfg.ipv6)
        self.interfaces: Interfaces  # once the ports are known
        self.flows = Flows(cfg.flow_table_size, cfg.flow_timeout)
        self.uplinks: Uplinks  # once the dataplane runs
        self.routes: Routes
        self.prefixes: Prefixes
        # things to send to every VM with an interface, on the maintenance timer
        self.maintenance: list[Callable[[Interface], None]] = []
        self._maintenance_cycles = 0
        self.telemetry: telemetry.Telemetry | None = None
        self.traces = tracing.TraceSessions(self)  # dplane-dump, --graphtrace-loglevel
        self._stop = threading.Event()
        self._signals = 0

    # -- control-thread operations -------------------------------------------------------

    def initialize(self) -> None:
        """Initialize: allowed at any time. Every VNI's routing tables are rebuilt with only
        the interfaces' own routes."""
        for vni in self.vnis:
            self.vnis.reset(vni)
        self.initialized = True

    def _maintain(self) -> None:
        for iface in self.interfaces:
            for send in self.maintenance:
                try:
                    send(iface)
                except OSError as exc:
                    log.warning("maintenance for %s: %s", iface.id, exc)
        self._maintenance_cycles += 1
        fast = self._maintenance_cycles < MAINTENANCE_FAST_CYCLES or not self.initialized
        self.control.after(MAINTENANCE_FAST if fast else MAINTENANCE_SLOW, self._maintain)

    def _connect_flows(self) -> None:
        """Flows go with what they depend on."""
        self.interfaces.after_delete.append(self.flows.interface_deleted)
        self.vnis.on_destroy.append(self.flows.vni_destroyed)
        self.routes.on_remove.append(self.flows.prefix_removed)
        self.prefixes.on_remove.append(self.flows.prefix_removed)

    def table_usage(self) -> list[tuple[str, int, int]]:
        """(name, capacity, entries) of every table, the firmware's and ours."""
        return firmware.tables() + [("interface_table", MAX_INTERFACES, len(self.interfaces))]

    # -- lifecycle ---------------------------------------------------------------------

    def _on_signal(self, signum: int, frame: object) -> None:
        self._signals += 1
        if self._signals > 1:
            os._exit(128 + signum)  # second signal: give up at once
        self._stop.set()
        self.control.wake()

    def run(self) -> int:
        cfg = self.cfg
        _setup_logging(cfg)
        if cfg.debug_coredumps:
            with open("/proc/self/coredump_filter", "w", encoding="ascii") as f:
                f.write("0x7f")
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

        vdevs = sum(1 for a in cfg.eal_args if a == "--vdev" or a.startswith("--vdev="))
        if vdevs > firmware.MAX_ETHPORTS:
            raise ConfigError(f"Too many ports: {vdevs} virtual devices, this DPDK build holds "
                              f"at most {firmware.MAX_ETHPORTS} (RTE_MAX_ETHPORTS)")
        affinity = os.sched_getaffinity(0)
        try:
            firmware.eal_init(["dplane"] + cfg.eal_args)
        except OSError as exc:
            raise ConfigError(f"Cannot init EAL: {exc.strerror}") from None
        _restore_affinity(affinity)

        server = None
        try:
            lcores = firmware.lcore_count()
            if lcores > REQUIRED_LCORES:
                raise ConfigError("Too many worker cores requested (dplane needs exactly "
                                  "two lcores, e.g. -l 0,1)")
            if lcores < REQUIRED_LCORES:
                raise ConfigError("No worker core (dplane needs exactly two lcores, "
                                  "e.g. -l 0,1)")
            self.ports = ports.assign(firmware.ethdevs(), cfg.pf0, cfg.pf1, cfg.vf_pattern,
                                      cfg.nic_type)
            self.interfaces = Interfaces(self.ports, self.vnis, self.underlays)
            self.routes = Routes(self.ports, self.vnis)
            self.prefixes = Prefixes(self.interfaces, self.vnis, self.underlays,
                                     cfg.prefixes_per_interface)
            announce.install(self)
            self._connect_flows()
            firmware.service_conf_set(
                cfg.dhcp_mtu, [ipaddress.IPv4Address(a).packed for a in cfg.dhcp_dns],
                [ipaddress.IPv6Address(a).packed for a in cfg.dhcpv6_dns],
                cfg.enable_ipv6_overlay, cfg.wcmp)
            self.flows.configure()
            firmware.vni_conf_set(cfg.route_table_size)
            firmware.vnf_conf_set(cfg.vnf_table_size)
            xconnect = cfg.board.xconnects() if cfg.board is not None else {}
            mbufs = cfg.board.mbufs if cfg.board is not None else boards.DEFAULT_MBUFS
            try:
                firmware.start(mbufs, ports.port_confs(self.ports, xconnect))
            except OSError as exc:
                raise ConfigError(f"Cannot start the dataplane: {exc.strerror}") from None
            log.info("dataplane running: %s", ", ".join(
                f"{p.role}={p.name}(port {p.port_id})" for p in self.ports))

            from .server import Server
            server = Server(self, cfg.grpc_port)
            self.control.after(MAINTENANCE_FAST, self._maintain)
            self.control.every(self.flows.aging_interval, self.flows.age)
            self.uplinks = Uplinks(self.ports, self.control)
            self.uplinks.start()
            self.telemetry = telemetry.start(self)  # telemetry socket, stats print
            server.start()
            log.info("gRPC API listening on port %d", cfg.grpc_port)
            if cfg.graphtrace_loglevel:
                tracing.log_graph(self.traces, cfg.graphtrace_loglevel)
            if self._stop.is_set():  # a signal during start-up
                return 0
            self.control.run(self._stop)
            log.info("stopping")
            return 0
        finally:
            started = time.monotonic()
            if server is not None:
                server.stop(grace=1.0)
            if self.telemetry is not None:
                self.telemetry.stop()
            firmware.eal_cleanup()
            log.info("stopped in %.2f s", time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        result = cmdline.parse(argv, os.environ, boards.load_board, boards.default_board)
        if isinstance(result, str):
            sys.stdout.write(result)
            return 0
        return Service(result).run()
    except ConfigError as exc:
        print(f"dplane: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
