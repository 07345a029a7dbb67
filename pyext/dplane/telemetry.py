# SPDX-License-Identifier: Apache-2.0
"""DPDK telemetry with dpservice's commands, on the standard socket.

dpservice answers `/dp_service/...` commands on DPDK's telemetry socket
(`<runtime dir>/dpdk_telemetry.v2`, protocol v2). Their dict keys are node names, interface ids
and addresses (`rx-0-0`, `UDP:1.2.3.4:5353`), and DPDK 22.11 refuses dict keys with anything
but letters, digits, `_` and `/` (rte_tel_data_add_dict_* return -EINVAL): dpservice patches
DPDK for that. dplane does not. Instead it puts its own endpoint, speaking the same protocol,
where clients look for DPDK's:

* after EAL init, DPDK's socket is renamed to `dplane_dpdk_telemetry.<pid>` (a bound socket
  keeps working under a new name) and a socket of ours is bound at its old path;
* every client connection gets a connection to DPDK's socket behind it: the greeting and
  every command that is not ours (`/eal/...`, `/ethdev/...`, `/info`, ...) are relayed
  byte for byte; `/` and `/help` are answered with our commands merged in;
* our commands run on the control thread and are encoded as DPDK encodes (compact JSON,
  `{"<command>": <value>}`, `{"<command>": null}` on failure).

So `dpdk-telemetry.py -f <prefix>`, dpservice-exporter and dplane-exporter all work unchanged.
With EAL's `--no-telemetry` there is no DPDK socket and no socket of ours either.

Commands are registered with `Commands.add(name, help, fn)`; a feature that owns the data
asks for `Commands` and registers its command (features/firewall.py does); for NAT and
virtual services, still to come, placeholders here answer what dpservice answers unused.
"""
from __future__ import annotations

import dataclasses
import glob
import json
import logging
import os
import socket
import socketserver
import sys
import threading
from collections.abc import Callable
from typing import Any

from . import _firmware as _fw
from . import graph_stats
from .cmdline import Config
from .control import ControlThread
from .interfaces import Interfaces
from .tables import Tables
from .telemetry_client import REQUEST_MAX, SOCKET_NAME, TelemetryClient, encode

log = logging.getLogger("dplane.telemetry")

UPSTREAM_NAME = "dplane_dpdk_telemetry.{pid}"  # where DPDK's own socket is moved
CALL_TIMEOUT = 5.0       # a command waits this long for the control thread
STATS_INTERVAL = 1.0     # the stats print, without --no-stats


# ---------------------------------------------------------------------------------------
# Commands.

@dataclasses.dataclass(frozen=True)
class Command:
    name: str
    help: str
    fn: Callable[[str], Any]  # params -> JSON value; runs on the control thread


class Commands:
    """The telemetry commands of this service. A feature that owns data registers its
    commands (a later registration of a name replaces the earlier one: the placeholders
    below stand for features still to come, answering what dpservice answers when nothing
    is in use)."""

    def __init__(self, cfg: Config, tables: Tables, interfaces: Interfaces) -> None:
        self._by_name: dict[str, Command] = {}
        for counter, what in (("obj_count", "objects processed"), ("call_count", "calls made"),
                              ("cycle_count", "cycles used"),
                              ("realloc_count", "reallocations done")):
            self.add(f"/dp_service/graph/{counter}",
                     f"Returns total number of {what} by each graph node.",
                     lambda params, c=counter: graph_stats.blocks(graph_stats.sample(), c))
        self.add("/dp_service/table/saturation",
                 "Returns the current and maximal capacity of each hash table.",
                 lambda params: {name: {"capacity": capacity, "entries": entries}
                                 for name, capacity, entries in tables.usage()})
        self.add("/dp_service/nat/used_port_count",
                 "Returns the number of nat ports in use by each VF interface (attached VM).",
                 lambda params: {iface.id: 0 for iface in interfaces})  # no NAT yet
        self.add("/dp_service/virtsvc/used_port_count",
                 "Returns the number of ports in use by each virtual service.",
                 lambda params: {})  # no virtual services yet
        self.add("/dplane/drops", "Returns the packets dropped per reason (<node>_<reason>).",
                 lambda params: _fw.drop_counters())
        self.add("/dplane/worker/idle", "Returns how the worker waits when idle (--idle) and "
                 "how it spent its idle time: sleeps on interrupts and how they ended "
                 "(wakeups, timeouts), kicks from the control thread, pauses, time asleep "
                 "(asleep_ns), started ports with and without rx interrupts.",
                 lambda params: {"mode": cfg.idle, **_fw.idle_stats()})

    def add(self, name: str, help: str, fn: Callable[[str], Any]) -> None:
        self._by_name[name] = Command(name, help, fn)

    def get(self, name: str) -> Command | None:
        return self._by_name.get(name)

    def names(self) -> list[str]:
        return list(self._by_name)


# ---------------------------------------------------------------------------------------
# Server.

class _Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    socket_type = socket.SOCK_SEQPACKET
    daemon_threads = True
    request_queue_size = 16

    def __init__(self, path: str, proxy: TelemetryProxy) -> None:
        self.proxy = proxy
        super().__init__(path, _Handler)


class _Handler(socketserver.BaseRequestHandler):
    server: _Server

    def handle(self) -> None:
        self.server.proxy.serve_client(self.request)


class TelemetryProxy:
    """Our socket at `path`, DPDK's at `upstream` behind it."""

    def __init__(self, control: ControlThread, commands: Commands, path: str,
                 upstream: str) -> None:
        self._control = control
        self._commands = commands
        self.path = path
        self.upstream = upstream
        self._clients: set[socket.socket] = set()
        self._lock = threading.Lock()
        self._server = _Server(path, self)
        os.chmod(path, 0o600)  # root's only, as DPDK's own socket: it reads every table
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.2,),
                                        name="telemetry", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        with self._lock:
            for client in self._clients:
                try:
                    client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
        for path in (self.path, self.upstream):
            try:
                os.unlink(path)
            except OSError:
                pass

    def serve_client(self, client: socket.socket) -> None:
        upstream = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        with self._lock:
            self._clients.add(client)
        try:
            upstream.connect(self.upstream)
            greeting = upstream.recv(REQUEST_MAX)
            if not greeting:  # DPDK turned the connection down (too many clients)
                return
            max_len = int(json.loads(greeting).get("max_output_len", 16384))
            client.send(greeting)
            while True:
                request = client.recv(REQUEST_MAX)
                if not request:
                    return
                client.send(self._answer(request, upstream, max_len))
        except (OSError, ValueError) as exc:
            log.debug("telemetry client: %s", exc)
        finally:
            upstream.close()
            with self._lock:
                self._clients.discard(client)

    def _answer(self, request: bytes, upstream: socket.socket, max_len: int) -> bytes:
        name, _, params = request.decode("utf-8", "replace").partition(",")
        cmd = self._commands.get(name)
        if cmd is not None:
            return self._run(cmd, params, max_len)
        help_of = self._commands.get(params) if name == "/help" else None
        if help_of is not None:
            return encode("/help", {params: help_of.help})
        upstream.send(request)
        reply = upstream.recv(max_len * 2)
        if not reply:
            raise ConnectionError("DPDK telemetry closed the connection")
        if name == "/":
            listed = json.loads(reply).get("/") or []
            return encode("/", sorted(set(listed) | set(self._commands.names())))
        return reply

    def _run(self, cmd: Command, params: str, max_len: int) -> bytes:
        try:
            value = self._control.call(cmd.fn, params, timeout=CALL_TIMEOUT)
        except Exception as exc:  # the service is stopping, or a handler failed
            log.warning("telemetry %s: %s", cmd.name, exc)
            value = None
        reply = encode(cmd.name, value)
        if len(reply) > max_len:
            log.warning("telemetry %s: reply of %d bytes exceeds %d", cmd.name, len(reply),
                        max_len)
            reply = encode(cmd.name, None)
        return reply


def find_dpdk_socket(directory: str, pid: int) -> str | None:
    """The telemetry socket this process's DPDK listens on (`dpdk_telemetry.v2`, or
    `dpdk_telemetry.v2:<n>` when another process sharing the runtime directory has the
    first), found by the pid in its greeting."""
    for path in sorted(glob.glob(os.path.join(directory, SOCKET_NAME + "*"))):
        try:
            with TelemetryClient(path, timeout=1.0) as client:
                if client.info.get("pid") == pid:
                    return path
        except (OSError, ValueError):
            continue
    return None


def _remove_stale_upstreams(directory: str) -> None:
    """DPDK sockets moved aside by dplanes that were killed before they could clean up."""
    for path in glob.glob(os.path.join(directory, UPSTREAM_NAME.format(pid="*"))):
        pid = path.rsplit(".", 1)[1]
        if not pid.isdigit() or int(pid) == os.getpid():
            continue
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            try:
                os.unlink(path)
            except OSError:
                pass
        except OSError:  # alive, someone else's
            pass


class Telemetry:
    """The telemetry socket (when EAL runs with telemetry) and the periodic stats print
    (without --no-stats)."""

    def __init__(self, cfg: Config, control: ControlThread, commands: Commands) -> None:
        self._stats = not cfg.no_stats
        self._control = control
        self._commands = commands
        self.proxy: TelemetryProxy | None = None

    def start(self) -> None:
        """After EAL init, on the control thread."""
        directory = _fw.runtime_dir()
        path = find_dpdk_socket(directory, os.getpid()) if directory else None
        if path is None:
            log.info("DPDK telemetry is off: no telemetry socket")
        else:
            try:
                self.proxy = self._serve(directory, path)
                log.info("telemetry socket %s", path)
            except OSError as exc:
                log.warning("no telemetry socket: %s", exc)
        if self._stats and sys.stdout is not None:
            self._control.every(STATS_INTERVAL, graph_stats.StatsPrinter(sys.stdout).print)

    def _serve(self, directory: str, path: str) -> TelemetryProxy:
        _remove_stale_upstreams(directory)
        upstream = os.path.join(directory, UPSTREAM_NAME.format(pid=os.getpid()))
        os.rename(path, upstream)
        try:
            proxy = TelemetryProxy(self._control, self._commands, path, upstream)
        except OSError:
            os.rename(upstream, path)  # leave DPDK's socket as it was
            raise
        proxy.start()
        return proxy

    def stop(self) -> None:
        if self.proxy is not None:
            self.proxy.stop()
            self.proxy = None
