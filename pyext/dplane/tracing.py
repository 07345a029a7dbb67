# SPDX-License-Identifier: Apache-2.0
"""Packet trace sessions (the server side of dplane-dump).

One session at a time. Starting one selects graph nodes by name and turns tracing on in the
firmware; the gRPC handler thread then drains the trace ring through the control thread every
few milliseconds and streams what it finds. The session ends when the client goes away, when
StopTrace is called, or when the service stops; the workers never wait for any of it.
"""
from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterator

from . import _firmware as _fw
from .cmdline import Config
from .control import ControlThread
from .pktfmt import format_line
from .proto import dplane_pb2

INGRESS_NODE = "cls"      # every packet a port received enters the graph here (rx-* -> cls)
EGRESS_PREFIX = "tx-"     # tx-<port>: a packet handed to a port
# The drain is paced so that a busy trace costs the service a bounded share of CPU (on a small
# machine the workers share cores with it): at most READ_BATCH / POLL_S records a second
# reach the client; beyond that the ring overflows and the workers count them as lost.
POLL_S = 0.01             # between two drains of the ring
READ_BATCH = 512          # records per drain (and per streamed message at most)


log = logging.getLogger("dplane.graphtrace")


class TraceBusy(Exception):
    """Another trace session is running."""


def select_nodes(graph_nodes: list[str], drop_reasons: list[str], drops: bool, nodes: bool,
                 node_regex: str) -> list[str]:
    """The node names a session traces. Raises re.error for a bad regex."""
    selected = [n for n in graph_nodes if n == INGRESS_NODE or n.startswith(EGRESS_PREFIX)]
    reasons = set(drop_reasons)
    if nodes:
        pattern = re.compile(node_regex)
        selected += [n for n in graph_nodes if n not in reasons and pattern.search(n)]
    if drops:
        selected += drop_reasons
    return list(dict.fromkeys(selected))


def _begin(names: list[str]) -> None:
    """Control thread: a fresh session tracing exactly `names`."""
    _fw.trace_stop()
    _fw.trace_select(names)
    _fw.trace_start()


def _drain() -> tuple[list[tuple[int, str, int, bool, int, bytes]], int, int]:
    """Control thread."""
    records = _fw.trace_read(READ_BATCH)
    traced, lost = _fw.trace_stats()
    return records, traced, lost


class TraceSessions:
    def __init__(self, control: ControlThread) -> None:
        self._control = control
        self._lock = threading.Lock()
        self._current: threading.Event | None = None  # set = the session must end

    def end(self) -> bool:
        """End the running session, if any (its stream ends within a poll interval)."""
        with self._lock:
            current, self._current = self._current, None
        if current is not None:
            current.set()
        # also when no stream is attached (e.g. left over): tracing must end
        self._control.call(_fw.trace_stop)
        return current is not None

    def run(self, request: dplane_pb2.TraceRequest,
            is_active: threading.Event) -> Iterator[dplane_pb2.TraceEvents]:
        """Stream one session until `is_active` is set (client gone) or stop() is called.
        Raises TraceBusy, re.error. end() ends it too."""
        control = self._control
        graph = [row[0] for row in control.call(_fw.graph_stats)]
        reasons = list(control.call(_fw.drop_counters))
        names = select_nodes(graph, reasons, request.drops, request.nodes, request.node_regex)
        end = threading.Event()
        with self._lock:
            if self._current is not None:
                raise TraceBusy()
            self._current = end
        try:
            control.call(_begin, names)
            yield dplane_pb2.TraceEvents()  # tracing is on: the client may say so
            while not end.is_set() and not is_active.is_set():
                records, traced, lost = control.call(_drain)
                if records:
                    yield dplane_pb2.TraceEvents(traced=traced, lost=lost, packets=[
                        dplane_pb2.TracedPacket(timestamp_ns=ts, node=node, port=port,
                                                dropped=dropped, length=length, data=data)
                        for ts, node, port, dropped, length, data in records])
                end.wait(POLL_S)
        except RuntimeError:  # the service is shutting down
            return
        finally:
            with self._lock:
                if self._current is end:
                    self._current = None
                    try:
                        control.call(_fw.trace_stop)
                    except RuntimeError:
                        pass


class GraphTraceLog:
    """--graphtrace-loglevel: the trace in the service's log, as dpservice's test builds do
    (1: packets entering and leaving the graph, and drops; 2: every node too). It holds the
    one trace session for the life of the service."""

    def __init__(self, cfg: Config, sessions: TraceSessions) -> None:
        self._level = cfg.graphtrace_loglevel
        self._sessions = sessions

    def start(self) -> None:
        if self._level:
            threading.Thread(target=self._run, name="graphtrace", daemon=True).start()

    def _run(self) -> None:
        request = dplane_pb2.TraceRequest(drops=True, nodes=self._level >= 2)
        try:
            for events in self._sessions.run(request, threading.Event()):
                for pkt in events.packets:
                    log.info("%s", format_line(pkt))
        except TraceBusy:
            log.warning("graph trace not logged: a dplane-dump session is running")
        except Exception:  # never take the service down with it
            log.exception("graph trace logging stopped")
