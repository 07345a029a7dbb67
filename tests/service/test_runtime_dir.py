# SPDX-License-Identifier: Apache-2.0
"""EAL's runtime directory /var/run/dpdk/<prefix>/ in the default (shared) memory mode, as
operators and dpservice's scripts start the service (no --in-memory, no --no-shconf): a
clean exit removes it, unless another process still uses it.

A primary leaves there the shared config (`config`, write-locked by the primary with fcntl),
`hugepage_info`, one `fbarray_*` file per memory list and one for the memzones (every process
that maps one holds a shared flock on it; a secondary also creates its own `fbarray_*_<pid>`),
and the multi-process sockets `mp_socket` (primary) and `mp_socket_<pid>_<tsc>` (secondaries).
`--no-huge` without `--no-shconf` still writes config and the fbarrays, so most cases need no
hugepages; a real secondary needs them (hugepage_info), so that test reserves 2 MB pages and
mounts its own hugetlbfs, and gives both back.
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator

import pytest

import harness

HUGEPAGES = pathlib.Path("/sys/kernel/mm/hugepages/hugepages-2048kB")
SHARED_MEMORY_MB = 128
HUGEPAGES_NEEDED = SHARED_MEMORY_MB // 2 + 32  # the primary's -m plus room for EAL
HUGEPAGES_LOCK = "/run/lock/dplane-test-hugepages.lock"


def shared_mode_eal(prefix: str, huge_dir: str | None = None) -> list[str]:
    """The tests' EAL arguments without --no-shconf (and with hugepages from huge_dir)."""
    args = [a for a in harness.tap_eal_args(1, prefix) if a != "--no-shconf"]
    if huge_dir is not None:
        args = [a for a in args if a != "--no-huge"]
        args[args.index("-m") + 1] = str(SHARED_MEMORY_MB)
        args.append(f"--huge-dir={huge_dir}")
    return args


@contextlib.contextmanager
def shared_service(netns: harness.Netns, huge_dir: str | None = None
                   ) -> Iterator[tuple[harness.Service, pathlib.Path]]:
    """A running service in shared memory mode and its runtime directory; whatever is left
    of the directory is removed at the end (some tests expect it to stay)."""
    prefix = f"dpt{netns.id}"
    path = pathlib.Path("/var/run/dpdk") / prefix
    svc = None
    try:
        svc = harness.start_service(netns, shared_mode_eal(prefix, huge_dir),
                                    harness.SERVICE_OPTS)
        assert svc.prefix == prefix
        svc.initialize()
        found = names(path)
        # shared memory mode for real: the config and the fbarrays are files
        assert {"config", "fbarray_memzone", "mp_socket"} <= found, found
        yield svc, path
    finally:
        if svc is not None and not svc.stopped:
            svc.terminate()
        shutil.rmtree(path, ignore_errors=True)


def names(path: pathlib.Path) -> set[str]:
    return {p.name for p in path.iterdir()}


def stop(svc: harness.Service, sig: int = signal.SIGTERM) -> None:
    status, stderr = svc.terminate(sig)
    assert status == 0, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_clean_exit_removes_the_runtime_dir(netns, sig):
    with shared_service(netns) as (svc, path):
        stop(svc, sig)
        assert not path.exists(), sorted(names(path))


def bind_and_close(path: pathlib.Path) -> None:
    """A unix socket file nobody listens on any more (its process died)."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.close()


def test_leftovers_of_a_dead_secondary_are_removed_too(netns):
    """A secondary that crashed leaves its socket and its own fbarray behind: nobody uses
    them, so they go with the rest."""
    with shared_service(netns) as (svc, path):
        bind_and_close(path / "mp_socket_4242_deadbeef")
        (path / "fbarray_memseg-2048k-0-0_4242").write_bytes(bytes(4096))
        stop(svc)
        assert not path.exists(), sorted(names(path))


def test_only_what_eal_made_is_removed(netns):
    """A file EAL never creates is not ours to delete: it stays, and so does the directory;
    EAL's own files are gone."""
    with shared_service(netns) as (svc, path):
        (path / "notes.txt").write_text("an operator's file\n")
        stop(svc)
        assert names(path) == {"notes.txt"}


@contextlib.contextmanager
def holding(argv_code: str, netns: harness.Netns) -> Iterator[subprocess.Popen]:
    """A helper process (Python code in the service's netns) that prints 'ready' once it
    holds what it holds, and keeps it until its stdin is closed."""
    proc = subprocess.Popen(["ip", "netns", "exec", netns.name, sys.executable, "-c",
                             argv_code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)
    try:
        output = []
        for line in proc.stdout:
            output.append(line)
            if line.strip() == "ready":
                break
        else:
            pytest.fail(f"helper did not get ready:\n{''.join(output)}")
        yield proc
    finally:
        proc.stdin.close()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


LOCK_FBARRAY = """
import fcntl, sys
f = open({path!r}, "rb")
fcntl.flock(f, fcntl.LOCK_SH)  # what every process mapping an fbarray holds
print("ready", flush=True)
sys.stdin.read()
"""

BIND_SOCKET = """
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind({path!r})  # a secondary's multi-process socket
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.parametrize("how", ["fbarray-lock", "mp-socket"])
def test_kept_while_another_process_uses_it(netns, how):
    """What a secondary shows of itself, alone: a shared lock on the memzone fbarray (an
    attached secondary), or a live multi-process socket (one attaching). Then nothing is
    removed: the secondary still needs config and the fbarrays."""
    with shared_service(netns) as (svc, path):
        if how == "fbarray-lock":
            code = LOCK_FBARRAY.format(path=str(path / "fbarray_memzone"))
        else:
            code = BIND_SOCKET.format(path=str(path / "mp_socket_4242_1"))
        before = names(path) - {"mp_socket"}
        with holding(code, netns):
            stop(svc)
            assert {"config", "fbarray_memzone"} <= names(path)
            assert names(path) == before | ({"mp_socket_4242_1"} if how == "mp-socket"
                                            else set())


@pytest.fixture
def huge_dir() -> Iterator[str]:
    """A private hugetlbfs with enough free 2 MB pages for one primary; the kernel's page
    count is put back afterwards. One such test at a time on the machine (the pool is
    machine-wide): the others wait for the lock."""
    if not HUGEPAGES.is_dir():
        pytest.skip("no 2 MB hugepage pool")
    with open(HUGEPAGES_LOCK, "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield from _reserved_huge_dir()


def _reserved_huge_dir() -> Iterator[str]:
    total = int((HUGEPAGES / "nr_hugepages").read_text())
    free = int((HUGEPAGES / "free_hugepages").read_text())
    changed = free < HUGEPAGES_NEEDED
    mount = tempfile.mkdtemp(prefix="dpt-huge-")
    mounted = False
    try:
        if changed:
            (HUGEPAGES / "nr_hugepages").write_text(str(total + HUGEPAGES_NEEDED - free))
            if int((HUGEPAGES / "free_hugepages").read_text()) < HUGEPAGES_NEEDED:
                pytest.skip("cannot reserve enough 2 MB hugepages")
        mounted = subprocess.run(["mount", "-t", "hugetlbfs", "-o", "pagesize=2M", "nodev",
                                  mount], capture_output=True).returncode == 0
        if not mounted:
            pytest.skip("cannot mount hugetlbfs")
        yield mount
    finally:
        if mounted:
            subprocess.run(["umount", mount], check=True)  # frees the service's page files
        os.rmdir(mount)
        if changed:
            (HUGEPAGES / "nr_hugepages").write_text(str(total))


SECONDARY = """
import sys
from dplane import _firmware
_firmware.eal_init(["secondary", "-l", "0", "--proc-type=secondary", "--no-pci",
                    "--no-telemetry", "--log-level=lib.eal:notice",
                    "--file-prefix={prefix}", "--huge-dir={huge_dir}"])
print("ready", flush=True)
sys.stdin.read()
"""


@pytest.mark.hugepages
def test_kept_while_a_secondary_is_attached(netns, huge_dir):
    """A real DPDK secondary process attached to the service: the service's exit leaves the
    directory (and what the secondary maps) in place."""
    with shared_service(netns, huge_dir) as (svc, path):
        assert "hugepage_info" in names(path)
        with holding(SECONDARY.format(prefix=svc.prefix, huge_dir=huge_dir), netns):
            attached = names(path)
            assert any(n.startswith("mp_socket_") for n in attached), attached
            stop(svc)
            assert {"config", "hugepage_info", "fbarray_memzone"} <= names(path)
            assert names(path) == attached - {"mp_socket"}


@pytest.mark.hugepages
def test_hugepages_shared_mode_removes_the_runtime_dir(netns, huge_dir):
    with shared_service(netns, huge_dir) as (svc, path):
        stop(svc)
        assert not path.exists(), sorted(names(path))
