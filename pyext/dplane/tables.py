# SPDX-License-Identifier: Apache-2.0
"""Table usage, as operators see it (telemetry's /dp_service/table/saturation, the exporter,
Diagnostics/GetStats): the firmware's tables, which its modules register in C, and the
tables the Python side keeps, which their owners register here. Control thread only."""
from __future__ import annotations

from collections.abc import Callable

from . import _firmware

Row = dict[str, str]


class Tables:
    def __init__(self) -> None:
        self._own: list[tuple[str, int, Callable[[], int]]] = []
        self._dumpers: dict[str, Callable[[], list[Row]]] = {}

    def register_dump(self, name: str, dump: Callable[[], list[Row]]) -> None:
        """A table's entries, for Diagnostics/DumpTable (dplane-inspect): dump() runs on the
        control thread and returns one row (column -> text) per entry."""
        self._dumpers[name] = dump

    def dump(self, name: str) -> list[Row] | None:
        """The table's rows, or None when nobody dumps it."""
        dump = self._dumpers.get(name)
        return dump() if dump is not None else None

    def register(self, name: str, capacity: int, count: Callable[[], int]) -> None:
        """A table of the control plane: its name, capacity and a function counting its
        entries."""
        self._own.append((name, capacity, count))

    def usage(self) -> list[tuple[str, int, int]]:
        """(name, capacity, entries) of every table."""
        return _firmware.tables() + [(name, capacity, count())
                                     for name, capacity, count in self._own]
