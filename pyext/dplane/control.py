# SPDX-License-Identifier: Apache-2.0
"""The control thread: the only thread that changes dataplane state.

gRPC handler threads validate requests and then `call()` a function here; it runs on the
control thread (the process's main thread, which also initialised EAL) one at a time, and the
caller waits for its result. Periodic work is scheduled on the same thread.
"""
from __future__ import annotations

import concurrent.futures
import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

_WAKE = object()


class ControlThread:
    """Made on the thread that becomes the control thread (the one that initialised EAL);
    calls made on it run at once, also before run()."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.current_thread()
        self._timers: list[tuple[float, int, float, Callable[[], Any]]] = []
        self._seq = itertools.count()

    @property
    def is_current(self) -> bool:
        return self._thread is threading.current_thread()

    def call(self, fn: Callable[..., Any], *args: Any, timeout: float | None = None) -> Any:
        """Run fn(*args) on the control thread and return its result (or raise its error)."""
        if self.is_current:
            return fn(*args)
        future: concurrent.futures.Future = concurrent.futures.Future()
        self._queue.put((fn, args, future))
        return future.result(timeout)

    def every(self, interval: float, fn: Callable[[], Any]) -> None:
        """Run fn on the control thread every `interval` seconds (first run after one)."""
        self._queue.put((self._add_timer, (interval, fn), None))

    def after(self, delay: float, fn: Callable[[], Any]) -> None:
        """Run fn on the control thread once, `delay` seconds from now."""
        self._queue.put((self._add_timer, (delay, fn, False), None))

    def _add_timer(self, interval: float, fn: Callable[[], Any], repeat: bool = True) -> None:
        heapq.heappush(self._timers, (time.monotonic() + interval, next(self._seq),
                                      interval if repeat else 0.0, fn))

    def wake(self) -> None:
        """Make run() re-check its stop condition now (safe from a signal handler)."""
        self._queue.put(_WAKE)

    def run(self, stop: threading.Event) -> None:
        """Serve calls and timers until `stop` is set."""
        if not self.is_current:
            raise RuntimeError("ControlThread.run() on another thread than its own")
        while not stop.is_set():
            timeout = 0.5
            if self._timers:
                timeout = max(0.0, min(timeout, self._timers[0][0] - time.monotonic()))
            try:
                item = self._queue.get(timeout=timeout)
            except queue.Empty:
                item = None
            if item is not None and item is not _WAKE:
                self._execute(*item)
            self._run_timers()
        # refuse what is still queued: the dataplane is going away
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                break
            if item is not _WAKE and item[2] is not None:
                item[2].set_exception(RuntimeError("service is shutting down"))

    def _execute(self, fn: Callable[..., Any], args: tuple,
                 future: concurrent.futures.Future | None) -> None:
        if future is None:
            fn(*args)
            return
        if not future.set_running_or_notify_cancel():
            return
        try:
            future.set_result(fn(*args))
        except BaseException as exc:  # handed to the caller, who re-raises it
            future.set_exception(exc)

    def _run_timers(self) -> None:
        now = time.monotonic()
        while self._timers and self._timers[0][0] <= now:
            _, _, interval, fn = heapq.heappop(self._timers)
            fn()
            if interval:
                heapq.heappush(self._timers, (now + interval, next(self._seq), interval, fn))
