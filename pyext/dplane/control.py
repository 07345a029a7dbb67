# SPDX-License-Identifier: Apache-2.0
"""The control thread: the only thread that changes dataplane state.

Other threads `call()` a function here; it runs on the control thread (the process's main
thread, which also initialised EAL) one at a time, and the caller waits for its result.
Periodic work is scheduled on the same thread. The API's RPC handlers run on it as a whole
(`executor`): a call then costs no hand-over between threads, and the GIL is not passed
around a pool of handler threads for every call.
"""
from __future__ import annotations

import concurrent.futures
import functools
import heapq
import itertools
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

_WAKE = object()


class _Executor(concurrent.futures.ThreadPoolExecutor):
    """What gRPC hands a thread pool, run on the control thread instead (gRPC takes any
    ThreadPoolExecutor as a method's `experimental_thread_pool`; this one starts no thread)."""

    def __init__(self, control: ControlThread) -> None:
        super().__init__(max_workers=1, thread_name_prefix="unused")
        self._control = control

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any
               ) -> concurrent.futures.Future:
        future: concurrent.futures.Future = concurrent.futures.Future()
        if self._control.stopped:
            future.set_exception(RuntimeError("service is shutting down"))
            return future
        self._control._queue.put((functools.partial(fn, *args, **kwargs), (), future))
        return future

    def shutdown(self, wait: bool = True, *, cancel_futures: bool = False) -> None:
        pass  # the control thread's run() refuses what is left when it ends


class ControlThread:
    """Made on the thread that becomes the control thread (the one that initialised EAL);
    calls made on it run at once, also before run()."""

    def __init__(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.current_thread()
        self._timers: list[tuple[float, int, float, Callable[[], Any]]] = []
        self._seq = itertools.count()
        self.stopped = False
        # for gRPC: runs a method's handlers on this thread
        self.executor: concurrent.futures.ThreadPoolExecutor = _Executor(self)

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
        self.stopped = True
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
