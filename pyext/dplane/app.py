# SPDX-License-Identifier: Apache-2.0
"""The composition root: the dplane process from the command line to SIGTERM.

command line -> EAL -> ports -> every feature assembled (assembly.py) and configured ->
dataplane (mempool, ports, graph, worker) -> features started -> gRPC -> the control loop
on the main thread until SIGTERM/SIGINT -> everything released in reverse order.

Features are found, not listed: every module of the packages `dplane.features` (one per
feature: its domain objects) and `dplane.api` (one per feature: its RPCs) is imported, which
registers their components (`@component`) and API classes (`@api`). Each class gets the
narrow objects its constructor asks for by type; this module only makes the few that every
feature shares (configuration, control thread, ports, underlay addresses, table usage).
"""
from __future__ import annotations

import importlib
import json
import logging
import os
import pkgutil
import signal
import sys
import threading
import time
from collections.abc import Sequence

from . import _firmware, api, cmdline, features, ports
from . import board as boards
from .assembly import Assembly, components
from .auth import load_allow_list, load_tls
from .cmdline import Config
from .control import ControlThread
from .diagnostics import Diagnostics
from .errors import ConfigError
from .lifecycle import Lifecycle
from .server import Limits, Server, trim_memory
from .tables import Tables
from .telemetry import Telemetry
from .tracing import GraphTraceLog
from .underlay import UnderlayGenerator

log = logging.getLogger("dplane")

REQUIRED_LCORES = 2  # the main lcore (control) and one worker
# what the service has whatever its features: observability and diagnostics
INFRASTRUCTURE: list[type] = [Telemetry, GraphTraceLog, Diagnostics]
TRIM_INTERVAL = 5.0  # seconds between trims of the heap (server.trim_memory)


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


def load_features() -> None:
    """Import every module of dplane.features and dplane.api: they register themselves."""
    for package in (features, api):
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{package.__name__}.{module.name}")


def _eal_init(cfg: Config) -> None:
    vdevs = sum(1 for a in cfg.eal_args if a == "--vdev" or a.startswith("--vdev="))
    if vdevs > _firmware.MAX_ETHPORTS:
        raise ConfigError(f"Too many ports: {vdevs} virtual devices, this DPDK build holds "
                          f"at most {_firmware.MAX_ETHPORTS} (RTE_MAX_ETHPORTS)")
    affinity = os.sched_getaffinity(0)
    try:
        _firmware.eal_init(["dplane"] + cfg.eal_args)
    except OSError as exc:
        raise ConfigError(f"Cannot init EAL: {exc.strerror}") from None
    _restore_affinity(affinity)


def _check_lcores() -> None:
    lcores = _firmware.lcore_count()
    if lcores > REQUIRED_LCORES:
        raise ConfigError("Too many worker cores requested (dplane needs exactly two lcores, "
                          "e.g. -l 0,1)")
    if lcores < REQUIRED_LCORES:
        raise ConfigError("No worker core (dplane needs exactly two lcores, e.g. -l 0,1)")


class _Signals:
    """SIGTERM/SIGINT end the control loop; a second one ends the process at once."""

    def __init__(self, control: ControlThread) -> None:
        self.stop = threading.Event()
        self._control = control
        self._count = 0
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum: int, frame: object) -> None:
        self._count += 1
        if self._count > 1:
            os._exit(128 + signum)
        self.stop.set()
        self._control.wake()


def run(cfg: Config) -> int:
    _setup_logging(cfg)
    # the API's TLS material and allow list: read before anything starts
    tls = load_tls(cfg.grpc_tls_cert, cfg.grpc_tls_key, cfg.grpc_tls_client_ca,
                   cfg.grpc_allow)
    roles = load_allow_list(cfg.grpc_allow)
    if cfg.debug_coredumps:
        with open("/proc/self/coredump_filter", "w", encoding="ascii") as f:
            f.write("0x7f")
    control = ControlThread()
    signals = _Signals(control)
    _eal_init(cfg)

    parts = Assembly()
    server = None
    try:
        _check_lcores()
        port_list = ports.assign(ports.ethdevs(), cfg.pf0, cfg.pf1, cfg.vf_pattern,
                                 cfg.nic_type)
        for obj in (cfg, control, Lifecycle(), ports.Ports(port_list),
                    UnderlayGenerator(cfg.ipv6), Tables()):
            parts.provide(obj)
        load_features()
        parts.build_all(components() + api.classes() + INFRASTRUCTURE)
        parts.call("configure")  # firmware settings: before the dataplane starts

        xconnect = cfg.board.xconnects() if cfg.board is not None else {}
        mbufs = cfg.board.mbufs if cfg.board is not None else boards.DEFAULT_MBUFS
        try:
            _firmware.core_start(mbufs, ports.port_confs(port_list, xconnect), cfg.idle)
        except OSError as exc:
            raise ConfigError(f"Cannot start the dataplane: {exc.strerror}") from None
        log.info("dataplane running: %s", ", ".join(
            f"{p.role}={p.name}(port {p.port_id})" for p in port_list))

        # the API's handlers run on the control thread; diagnostics and health in the pool
        limits = Limits(cfg.grpc_max_connections, cfg.grpc_idle_timeout,
                        cfg.grpc_handshake_timeout)
        server = Server(cfg.grpc_port, api.generic_handler(parts.get(Lifecycle), parts,
                                                           control.executor),
                        parts.get(Diagnostics), limits, cfg.grpc_listen, tls, roles)
        parts.call("start")
        server.start()
        control.every(TRIM_INTERVAL, trim_memory)
        log.info("gRPC API listening on %s port %d%s", cfg.grpc_listen or "all addresses",
                 cfg.grpc_port, ", TLS" + (" with client certificates" if tls.client_ca
                                           else "") if tls else "")
        if not signals.stop.is_set():  # else a signal came during start-up
            control.run(signals.stop)
            log.info("stopping")
        return 0
    finally:
        started = time.monotonic()
        if server is not None:
            server.stop(grace=1.0)
        parts.call_reversed("stop")
        _firmware.eal_cleanup()
        log.info("stopped in %.2f s", time.monotonic() - started)


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        load_features()  # their options are part of the command line
        result = cmdline.parse(argv, os.environ, boards.load_board, boards.default_board)
        if isinstance(result, str):
            sys.stdout.write(result)
            return 0
        return run(result)
    except ConfigError as exc:
        print(f"dplane: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
