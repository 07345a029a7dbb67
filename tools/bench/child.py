# SPDX-License-Identifier: Apache-2.0
"""A contender's process: started in its own session, its output kept in a log file (and
optionally handed line by line to a callback with the time it arrived), always reaped.

A child never outlives the bench: stop() escalates to SIGKILL after a timeout, and the child
gets SIGKILL from the kernel should the bench itself die (PR_SET_PDEATHSIG).
"""
from __future__ import annotations

import ctypes
import pathlib
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Sequence

LineHandler = Callable[[str, float], None]

_PR_SET_PDEATHSIG = 1
_libc = ctypes.CDLL(None, use_errno=True)


def _die_with_parent() -> None:
    """Runs in the child between fork and exec."""
    _libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


class ChildError(RuntimeError):
    """A contender failed; the message ends with the tail of its log."""


class Child:
    def __init__(self, name: str, argv: Sequence[str], log_path: pathlib.Path,
                 on_line: LineHandler | None = None,
                 env: dict[str, str] | None = None,
                 cwd: pathlib.Path | None = None) -> None:
        self.name = name
        self.log_path = log_path
        self._on_line = on_line
        self._log = open(log_path, "w", encoding="utf-8", errors="replace")
        self._log.write("$ " + " ".join(argv) + "\n")
        self._log.flush()
        try:
            self._proc = subprocess.Popen(
                list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT, env=env, cwd=cwd, start_new_session=True,
                preexec_fn=_die_with_parent, text=True, errors="replace", bufsize=1)
        except OSError as exc:
            self._log.close()
            raise ChildError(f"{name}: cannot start {argv[0]}: {exc.strerror}") from None
        self._reader = threading.Thread(target=self._read, name=f"{name}-output",
                                        daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._proc.pid

    def alive(self) -> bool:
        return self._proc.poll() is None

    def _read(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            now = time.monotonic()
            self._log.write(line)
            if self._on_line is not None:
                self._on_line(line.rstrip("\n"), now)
        self._log.flush()

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20.0) -> int:
        """Signal the child, wait up to `timeout` s, then SIGKILL. Returns the exit code
        (negative: killed by that signal). Safe to call more than once."""
        if self._proc.poll() is None:
            try:
                self._proc.send_signal(sig)
            except ProcessLookupError:
                pass
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._reader.join(5.0)
        if not self._log.closed:
            self._log.close()
        return self._proc.returncode

    def fail(self, what: str, lines: int = 25) -> ChildError:
        """An error for `what`, with the last lines of the child's output."""
        if not self._log.closed:
            self._log.flush()
        try:
            tail = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            tail = ""
        tail = "\n".join("    " + x for x in tail.splitlines()[-lines:])
        state = "running" if self.alive() else f"exited {self._proc.returncode}"
        return ChildError(f"{self.name}: {what} ({state}); last output:\n{tail}")


def wait_until(predicate: Callable[[], bool], timeout: float, child: Child, what: str,
               poll: float = 0.1) -> None:
    """Poll `predicate` until it holds; fail if the child exits or time runs out."""
    deadline = time.monotonic() + timeout
    while not predicate():
        if not child.alive():
            raise child.fail(f"exited while waiting for {what}")
        if time.monotonic() > deadline:
            raise child.fail(f"no {what} after {timeout:.0f} s")
        time.sleep(poll)

