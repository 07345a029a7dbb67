# SPDX-License-Identifier: Apache-2.0
"""The graph stats print (without --no-stats), the node blocks of the telemetry replies, and
a service started with EAL's --no-telemetry (no socket)."""
from __future__ import annotations

import os
import signal
import subprocess
import tempfile
import threading
import time

import harness
from dplane.graph_stats import NodeStats, StatsPrinter, blocks
from dplane.telemetry_client import SOCKET_NAME, runtime_dir
from telemetry_util import wait_for


def node(name: str, objs: int = 0, calls: int = 0, cycles: int = 0) -> NodeStats:
    return NodeStats(name, objs, calls, cycles, 1)


def test_blocks_of_256_nodes():
    nodes = [node(f"n{i}", objs=i) for i in range(300)]
    shaped = blocks(nodes, "obj_count")
    assert list(shaped) == ["Node_0_to_255", "Node_256_to_511"]
    assert len(shaped["Node_0_to_255"]) == 256 and shaped["Node_256_to_511"]["n299"] == 299
    assert blocks([], "call_count") == {}


class _Out:
    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text += text

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return False


def test_printer_rows_and_rates():
    printer = StatsPrinter(_Out())
    printer.format([node("cls", objs=10, calls=5, cycles=500)], now=time.monotonic())
    text = printer.format([node("cls", objs=2_000_010, calls=10, cycles=1000), node("idle")],
                          now=printer._prev_time + 1.0)
    lines = text.splitlines()
    assert lines[1].split("|")[1].strip() == "Node"
    rows = [line for line in lines if line.startswith("| cls")]
    assert len(rows) == 1 and "idle" not in text  # nodes without packets are left out
    cells = [c.strip() for c in rows[0].split("|")[1:-1]]
    assert cells == ["cls", "10", "2000010", "1", "200001.000", "2.000000", "100.0"]


def test_stats_printed_without_no_stats(netns):
    """The sim board's way: stats on stdout every second; here with EAL's --no-telemetry,
    which leaves the service without a telemetry socket."""
    opts = [o for o in harness.SERVICE_OPTS if o != "--no-stats"]
    cmd = ["ip", "netns", "exec", netns.name,
           *harness.dplane_cmd(*harness.tap_eal_args(2, f"dpt{netns.id}"), "--", *opts)]
    lines: list[str] = []
    with tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=err, text=True)
        reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
        reader.start()
        try:
            assert wait_for(lambda: sum(line.startswith("| Node") for line in list(lines))
                            >= 2 or proc.poll() is not None, timeout=30)
            assert proc.poll() is None, err.seek(0) or err.read()
            assert sum(line.startswith("| Node") for line in list(lines)) >= 2
            directory = runtime_dir(f"dpt{netns.id}")
            assert not os.path.exists(os.path.join(directory, SOCKET_NAME))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(15)
            reader.join(5)
    assert proc.returncode == 0
