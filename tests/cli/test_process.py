# SPDX-License-Identifier: Apache-2.0
"""The `dplane` executable as an operator or a launcher runs it: help, version, clean
one-line errors (exit 1, never a traceback), and an environment holding only DP_CONF=""."""
from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest

import harness
from dplane import __version__

# the console script next to this interpreter: its shebang is absolute, so it needs no PATH
DPLANE = str(pathlib.Path(sys.executable).parent / "dplane")
BARE_ENV = {"DP_CONF": ""}


def run(*args: str, netns=None, env=BARE_ENV, timeout=60) -> subprocess.CompletedProcess:
    cmd = [DPLANE, *args]
    if netns is not None:
        # `env -i` inside the namespace: the service sees nothing but DP_CONF=""
        cmd = ["ip", "netns", "exec", netns.name, "env", "-i", "DP_CONF="] + cmd
        env = None
    return subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout)


def assert_clean_error(result: subprocess.CompletedProcess, message: str) -> None:
    assert result.returncode == 1, result
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("dplane: ") and message in last, result.stderr


def test_help_probe_like_dpservice():
    result = run("--no-pci", "--no-huge", "--", "--help")
    assert result.returncode == 0
    assert result.stdout.startswith("Usage: dplane [EAL options] -- [service options]")
    assert "--grpc-port" in result.stdout and result.stderr == ""


def test_version_with_empty_environment():
    result = run("--", "--version")
    assert (result.returncode, result.stdout, result.stderr) == (
        0, f"DP Service version {__version__}\n", "")


def test_python_module_entry_point():
    result = subprocess.run([sys.executable, "-m", "dplane", "--", "-v"], capture_output=True,
                            text=True, env=BARE_ENV)
    assert result.stdout == f"DP Service version {__version__}\n"


@pytest.mark.parametrize("args, message", [
    (["--", "--bogus"], "Unknown option '--bogus'"),
    (["--", "--grpc-port=80"], "Invalid argument for '--grpc-port'"),
    (["--", "--nic-type"], "Option '--nic-type' requires an argument"),
    (["--board", "/nonexistent.toml"], "Board file '/nonexistent.toml' not found"),
])
def test_bad_command_lines(args, message):
    assert_clean_error(run(*args), message)


def test_explicit_missing_config_file():
    result = run("--", "--version", env={"DP_CONF": "/nonexistent/dp.conf"})
    assert result.returncode == 0  # --version never reads the config file
    assert_clean_error(run("--vdev=net_null0", env={"DP_CONF": "/nonexistent/dp.conf"}),
                       "Config file '/nonexistent/dp.conf' not found")


def null_eal(netns, *extra):
    return ["-l", "0,1", "--no-huge", "-m", "128", "--no-shconf", "--no-pci", "--no-telemetry",
            f"--file-prefix=dpt{netns.id}", "--log-level=lib.eal:crit", *extra]


def test_bad_eal_argument(netns):
    assert_clean_error(run(*null_eal(netns, "--bogus-eal-option"), "--", "--pf0=x",
                           netns=netns), "Cannot init EAL")


def test_pf_not_found_cleans_up(netns):
    result = run(*harness.tap_eal_args(1, f"dpt{netns.id}"), "--", "--pf0", "nosuch",
                 "--nic-type", "tap", netns=netns)
    assert_clean_error(result, "PF0 interface 'nosuch' not found")
    assert [link for link in netns.links() if link.startswith("dtap")] == []


def test_no_pf0_given(netns):
    assert_clean_error(run(*null_eal(netns, "--vdev=net_null0"), "--", netns=netns),
                       "No PF0 interface given (--pf0)")


def test_too_few_lcores(netns):
    eal = null_eal(netns, "--vdev=net_null0")
    eal[1] = "0"
    assert_clean_error(run(*eal, "--", "--pf0=net_null0", netns=netns), "No worker core")


def test_too_many_lcores(netns):
    eal = null_eal(netns, "--vdev=net_null0")
    eal[:2] = ["--lcores", "0@0,1@1,2@1"]
    assert_clean_error(run(*eal, "--", "--pf0=net_null0", netns=netns),
                       "Too many worker cores requested")


def test_grpc_port_in_use(start_service):
    svc = start_service(nb_vfs=0)
    eal = null_eal(svc.netns, "--vdev=net_null0")
    eal[eal.index(f"--file-prefix=dpt{svc.netns.id}")] = f"--file-prefix=dpt{svc.netns.id}b"
    assert_clean_error(run(*eal, "--", "--pf0=net_null0", "--flow-table-size=4096",
                           netns=svc.netns),
                       "Cannot listen for gRPC on port 1337")


def test_more_ports_than_dpdk_holds(netns):
    from dplane import _firmware as firmware

    eal = null_eal(netns, *[f"--vdev=net_null{i}" for i in range(firmware.MAX_ETHPORTS + 1)])
    assert_clean_error(run(*eal, "--", "--pf0=net_null0", netns=netns),
                       f"this DPDK build holds at most {firmware.MAX_ETHPORTS}")
