# SPDX-License-Identifier: Apache-2.0
"""2 MB hugepages for a run (--hugepages): reserved from the kernel when too few are free,
given back afterwards. Both contenders then run with --in-memory, as in production."""
from __future__ import annotations

import contextlib
import math
import pathlib
from collections.abc import Iterator

POOL = pathlib.Path("/sys/kernel/mm/hugepages/hugepages-2048kB")
PAGE_MB = 2
SLACK_PAGES = 64  # EAL's own allocations on top of -m


class HugepageError(RuntimeError):
    pass


def _read(name: str) -> int:
    return int((POOL / name).read_text(encoding="ascii"))


def _write_total(pages: int) -> None:
    (POOL / "nr_hugepages").write_text(str(pages), encoding="ascii")


@contextlib.contextmanager
def reserved(memory_mb: int) -> Iterator[int]:
    """Makes sure memory_mb (plus slack) of free 2 MB pages exist while the block runs;
    yields how many pages are free."""
    if not POOL.is_dir():
        raise HugepageError(f"no 2 MB hugepage pool ({POOL})")
    need = math.ceil(memory_mb / PAGE_MB) + SLACK_PAGES
    total, free = _read("nr_hugepages"), _read("free_hugepages")
    changed = free < need
    try:
        if changed:
            _write_total(total + need - free)
            free = _read("free_hugepages")
            if free < need:
                raise HugepageError(f"only {free} of {need} hugepages could be reserved "
                                    f"({memory_mb} MB): memory too fragmented or too small")
        yield free
    finally:
        if changed:
            _write_total(total)
