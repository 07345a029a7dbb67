# SPDX-License-Identifier: Apache-2.0
"""Start-up and shutdown as an operator sees them: the default sim board, an empty
environment, SIGTERM/SIGINT leaving nothing behind, hugepages when there are some."""
from __future__ import annotations

import glob
import pathlib
import signal
import subprocess
import sys
import time

import pytest

import harness
from dplane.proto import dpdk_pb2

DPLANE = str(pathlib.Path(sys.executable).parent / "dplane")


def leftovers(svc: harness.Service) -> list[str]:
    """TAPs, runtime directories and hugepage files the service left behind."""
    found = [link for link in svc.netns.links() if link.startswith("dtap")]
    found += glob.glob(f"/var/run/dpdk/{svc.prefix}*") + glob.glob(f"/dev/hugepages/{svc.prefix}*")
    return found


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_signal_stops_cleanly(start_service, sig):
    svc = start_service(nb_vfs=2)
    svc.initialize()
    assert {"dtap0", "dtap1", "dtapvf_0", "dtapvf_1"} <= set(svc.netns.links())
    started = time.monotonic()
    status, stderr = svc.terminate(sig)
    assert status == 0, stderr
    assert time.monotonic() - started < 5
    assert leftovers(svc) == []
    assert "Traceback" not in stderr


def test_default_sim_board(netns):
    """`dplane` with no arguments: the sim board's ports and the API on port 1337."""
    proc = subprocess.Popen(["ip", "netns", "exec", netns.name, DPLANE],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env={"DP_CONF": ""})
    svc = harness.Service(netns, proc, "dplane", *harness_stubs(netns))
    try:
        wait_serving(svc)
        assert {"dtap0", "dtap1", "dtapvf_0", "dtapvf_1", "dtapvf_2", "dtapvf_3"} <= set(
            netns.links())
        svc.initialize()
        roles = [(p.name, p.role) for p in svc.stats().ports]
        assert roles == [("dtap0", "pf0"), ("dtap1", "pf1"), ("dtapvf_0", "vf"),
                         ("dtapvf_1", "vf"), ("dtapvf_2", "vf"), ("dtapvf_3", "vf")]
    finally:
        status, stderr = svc.terminate()
    assert status == 0, stderr
    assert [link for link in netns.links() if link.startswith("dtap")] == []


def test_runs_with_only_dp_conf_in_environment(netns):
    eal = harness.tap_eal_args(1, f"dpt{netns.id}")
    cmd = ["ip", "netns", "exec", netns.name, "env", "-i", "DP_CONF=", DPLANE, *eal, "--",
           *harness.SERVICE_OPTS]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    svc = harness.Service(netns, proc, f"dpt{netns.id}", *harness_stubs(netns))
    try:
        wait_serving(svc)
        assert svc.initialize()
    finally:
        status, stderr = svc.terminate()
    assert status == 0, stderr
    assert leftovers(svc) == []


def free_hugepages() -> int:
    with open("/proc/meminfo", encoding="ascii") as f:
        for line in f:
            if line.startswith("HugePages_Free:"):
                return int(line.split()[1])
    return 0


@pytest.mark.hugepages
@pytest.mark.skipif(free_hugepages() < 64, reason="needs 64 free 2 MiB hugepages")
def test_hugepages_in_memory(start_service):
    svc = start_service(nb_vfs=1, hugepages=True)
    svc.initialize()
    status, stderr = svc.terminate()
    assert status == 0, stderr
    assert leftovers(svc) == []


def harness_stubs(netns):
    import grpc

    from dplane.proto import dpdk_pb2_grpc, dplane_pb2_grpc, health_pb2_grpc

    channel = grpc.insecure_channel(f"{netns.ns_ip}:{harness.GRPC_PORT}")
    return (channel, dpdk_pb2_grpc.DPDKironcoreStub(channel), health_pb2_grpc.HealthStub(channel),
            dplane_pb2_grpc.DiagnosticsStub(channel))


def wait_serving(svc: harness.Service, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if svc.proc.poll() is not None:
            pytest.fail(f"dplane exited with {svc.proc.returncode}: {svc.proc.stderr.read()}")
        try:
            svc.api.Initialize(dpdk_pb2.InitializeRequest(), timeout=0.5)
            return
        except Exception:
            time.sleep(0.1)
    pytest.fail("dplane did not serve")


def test_cpu_affinity_restored_after_eal_init(service):
    """EAL pins the thread that initialises it; dplane hands every CPU back to its own
    threads (gRPC, control), while the worker lcore stays on its CPU."""
    allowed = {}
    for task in pathlib.Path(f"/proc/{service.proc.pid}/task").iterdir():
        status = (task / "status").read_text()
        name = (task / "comm").read_text().strip()
        cpus = next(line.split(":")[1].strip() for line in status.splitlines()
                    if line.startswith("Cpus_allowed_list"))
        allowed.setdefault(name, set()).add(cpus)
    everything = process_cpus()
    assert allowed["rte-worker-1"] == {"1"}
    others = {cpus for name, sets in allowed.items() if not name.startswith("rte-")
              for cpus in sets}
    assert others == {everything}, allowed


def process_cpus() -> str:
    with open("/proc/self/status", encoding="ascii") as f:
        return next(line.split(":")[1].strip() for line in f
                    if line.startswith("Cpus_allowed_list"))
