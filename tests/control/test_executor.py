# SPDX-License-Identifier: Apache-2.0
"""The control thread's executor, which gRPC runs the API's handlers with: what it is given
runs on the control thread, one at a time and in order, a call() from there runs inline,
and once the thread has stopped nothing is accepted (the future fails at once)."""
from __future__ import annotations

import concurrent.futures
import threading

import pytest

from dplane.control import ControlThread


def test_submitted_work_runs_on_the_control_thread_in_order():
    control = ControlThread()
    stop = threading.Event()
    seen: list[tuple[int, bool]] = []
    threads = set(threading.enumerate())

    def work(i: int) -> int:
        # a handler's call() from the control thread runs inline (no queue, no deadlock)
        assert control.call(lambda: control.is_current)
        seen.append((i, control.is_current))
        return i * i

    assert isinstance(control.executor, concurrent.futures.ThreadPoolExecutor)  # for gRPC
    futures = [control.executor.submit(work, i) for i in range(20)]
    futures.append(control.executor.submit(stop.set))
    control.run(stop)
    assert [f.result(timeout=1) for f in futures[:-1]] == [i * i for i in range(20)]
    assert seen == [(i, True) for i in range(20)]
    assert set(threading.enumerate()) <= threads  # the executor started no thread


def test_errors_reach_the_caller_and_stop_refuses():
    control = ControlThread()
    stop = threading.Event()

    def fail() -> None:
        raise ValueError("bad request")

    failed = control.executor.submit(fail)
    control.executor.submit(stop.set)
    control.run(stop)
    with pytest.raises(ValueError):
        failed.result(timeout=1)
    late = control.executor.submit(lambda: None)
    assert late.done()
    with pytest.raises(RuntimeError):
        late.result()
