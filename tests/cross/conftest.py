# SPDX-License-Identifier: Apache-2.0
"""The aarch64 cross build, shared by the tests under tests/cross.

tools/cross-build runs once per pytest session: the first xdist worker to need it builds under
a file lock and records the outcome with the session's id (PYTEST_XDIST_TESTRUNUID); the other
worker waits for the lock and reuses the outcome. The arm64 sysroot (tools/mksysroot) and the
build directory (build/aarch64) persist between sessions, so a warm run rebuilds only what
changed. Without network (the Debian or PyPI archives cannot be reached) the tests are
skipped, with a reason that says so; a build that fails for any other reason fails them.
"""
from __future__ import annotations

import fcntl
import json
import os
import pathlib
import shutil
import subprocess
import sys
import time
from types import ModuleType

import pytest

import crossutil
from crossutil import BUILD, EXIT_NO_NETWORK, NEEDED_TOOLS, SYSROOT_CACHE, TOOLS, CrossBuild


def _unavailable(reason: str) -> None:
    """Skip, loudly; in CI (CI=true, set by .ci/run) missing tools are a failure instead,
    because tools/setup.sh installs them."""
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason}: tools/setup.sh should have installed it")
    pytest.skip(f"CROSS BUILD NOT TESTED: {reason}")


@pytest.fixture(scope="session")
def cross_build(tmp_path_factory) -> CrossBuild:
    missing = [f"{tool} ({pkg})" for tool, pkg in NEEDED_TOOLS.items() if not shutil.which(tool)]
    if missing:
        _unavailable(f"not installed: {', '.join(missing)}")
    if os.geteuid() != 0 and not os.access(SYSROOT_CACHE.parent, os.W_OK):
        _unavailable(f"needs root or a writable $DPLANE_SYSROOT ({SYSROOT_CACHE})")

    BUILD.mkdir(parents=True, exist_ok=True)
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID") or f"pid-{os.getpid()}"
    marker = BUILD / "test-session.json"
    with open(BUILD / "test-session.lock", "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            outcome = json.loads(marker.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            outcome = {}
        if outcome.get("run_id") != run_id:
            started = time.monotonic()
            proc = subprocess.run(
                [sys.executable, str(TOOLS / "cross-build"), "--sysroot", str(SYSROOT_CACHE)],
                capture_output=True, text=True, check=False, timeout=1800)
            outcome = {"run_id": run_id, "status": proc.returncode,
                       "wheel": proc.stdout.strip(), "log": proc.stderr[-6000:],
                       "seconds": round(time.monotonic() - started, 1)}
            marker.write_text(json.dumps(outcome), encoding="utf-8")
        else:
            outcome["seconds"] = 0.0
        # this worker's own copy of the wheels: another session may rebuild meanwhile
        dist = tmp_path_factory.mktemp("dist")
        if outcome["status"] == 0:
            shutil.copytree(pathlib.Path(outcome["wheel"]).parent, dist, dirs_exist_ok=True)

    if outcome["status"] == EXIT_NO_NETWORK:
        pytest.skip("CROSS BUILD NOT TESTED: the arm64 packages or wheels could not be "
                    "downloaded (no network?):\n" + outcome["log"][-1500:])
    if outcome["status"] != 0:
        pytest.fail(f"tools/cross-build failed ({outcome['status']}):\n{outcome['log']}")
    wheel = dist / pathlib.Path(outcome["wheel"]).name
    return CrossBuild(wheel=wheel, deps=dist / "deps", root=SYSROOT_CACHE / "root",
                      build=pathlib.Path(outcome["wheel"]).parents[1] / "meson",
                      seconds=outcome["seconds"])


@pytest.fixture(scope="session")
def mkimage() -> ModuleType:
    return crossutil.load_tool("mkimage")


@pytest.fixture(scope="session")
def images(cross_build: CrossBuild, tmp_path_factory) -> dict[str, pathlib.Path]:
    """Firmware images of the sim and bluefield2 boards from this session's build."""
    out = tmp_path_factory.mktemp("images")
    made = {}
    for board in ("sim", "bluefield2"):
        path = out / f"{board}.tar"
        proc = subprocess.run(
            [sys.executable, str(TOOLS / "mkimage"), "--board", board, "--wheel",
             str(cross_build.wheel), "--sysroot", str(SYSROOT_CACHE), "-o", str(path)],
            capture_output=True, text=True, check=False, timeout=300)
        assert proc.returncode == 0, proc.stdout + proc.stderr
        made[board] = path
    return made
