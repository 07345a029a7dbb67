# SPDX-License-Identifier: Apache-2.0
"""Statistics of the graph nodes: sampled from the worker graph on the control thread, shaped
as dpservice's telemetry shapes them, and printed to stdout every second unless --no-stats."""
from __future__ import annotations

import dataclasses
import time
from typing import TextIO

from . import _firmware as _fw

# dpservice's telemetry command suffix -> NodeStats field
COUNTERS = {
    "obj_count": "objs",
    "call_count": "calls",
    "cycle_count": "cycles",
    "realloc_count": "realloc_count",
}
BLOCK_SIZE = 256  # a DPDK telemetry dict holds at most 256 entries: nodes come in blocks


@dataclasses.dataclass(frozen=True)
class NodeStats:
    name: str           # as in the graph: "rx-0-0", "cls", "tx-2", ...
    objs: int           # packets the node processed
    calls: int          # calls of its process function
    cycles: int         # TSC cycles spent in it (sampled: one walk in 16, times 16)
    realloc_count: int  # times its object array grew


def sample() -> list[NodeStats]:
    """Every node of the worker graph, in graph order. Control thread; [] when the dataplane
    is not running."""
    try:
        return [NodeStats(*row) for row in _fw.graph_stats()]
    except OSError:
        return []


def blocks(nodes: list[NodeStats], counter: str) -> dict[str, dict[str, int]]:
    """One counter of every node, in dpservice's shape: {"Node_0_to_255": {name: value},
    "Node_256_to_511": {...}, ...}."""
    field = COUNTERS[counter]
    out: dict[str, dict[str, int]] = {}
    for start in range(0, len(nodes), BLOCK_SIZE):
        out[f"Node_{start}_to_{start + BLOCK_SIZE - 1}"] = {
            node.name: getattr(node, field) for node in nodes[start:start + BLOCK_SIZE]}
    return out


class StatsPrinter:
    """Prints the nodes that processed packets as a table, with rates since the previous
    print, like DPDK's cluster stats. Screen clearing only on a terminal."""

    COLUMNS = ("Node", "calls", "objs", "realloc_count", "objs/call", "objs/sec(10E6)",
               "cycles/call")

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self._prev: dict[str, int] = {}
        self._prev_time = time.monotonic()

    def format(self, nodes: list[NodeStats], now: float) -> str:
        elapsed = max(now - self._prev_time, 1e-9)
        width = max([len(self.COLUMNS[0])] + [len(n.name) for n in nodes])
        rule = "+" + "-" * (width + 2) + ("+" + "-" * 16) * (len(self.COLUMNS) - 1) + "+"
        lines = [rule, "| " + self.COLUMNS[0].ljust(width) + " "
                 + "".join(f"|{c:>15} " for c in self.COLUMNS[1:]) + "|", rule]
        for node in nodes:
            if not node.objs:
                continue
            rate = (node.objs - self._prev.get(node.name, 0)) / elapsed / 1e6
            per_call = node.objs / node.calls if node.calls else 0.0
            cycles = node.cycles / node.calls if node.calls else 0.0
            lines.append(f"| {node.name.ljust(width)} |{node.calls:>15} |{node.objs:>15} "
                         f"|{node.realloc_count:>15} |{per_call:>15.3f} |{rate:>15.6f} "
                         f"|{cycles:>15.1f} |")
        lines.append(rule)
        self._prev = {node.name: node.objs for node in nodes}
        self._prev_time = now
        return "\n".join(lines) + "\n"

    def print(self) -> None:
        """Control thread, every second."""
        text = self.format(sample(), time.monotonic())
        if self._out.isatty():
            text = "\033[2J\033[1;1H" + text
        try:
            self._out.write(text)
            self._out.flush()
        except (OSError, ValueError):  # stdout closed or gone: nobody is reading
            pass
