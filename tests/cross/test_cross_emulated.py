# SPDX-License-Identifier: Apache-2.0
"""The aarch64 build runs: Debian's arm64 python3.11 from the sysroot under
qemu-aarch64-static (user-mode emulation, no binfmt needed), dplane and its aarch64
dependencies installed from the sim image's wheels, on the sim board (net_tap ports work under
qemu-user), answering an x86_64 gRPC client."""
from __future__ import annotations

import os
import pathlib
import shutil
import subprocess
import sys
import tarfile
import time

import grpc
import pytest

import dplane
import harness
from crossutil import CrossBuild
from dplane.proto import dpdk_pb2, dpdk_pb2_grpc, dplane_pb2_grpc, health_pb2, health_pb2_grpc

START_TIMEOUT = 120.0  # seconds; about 8 s on this machine kind


@pytest.fixture(scope="module")
def target(cross_build: CrossBuild, images, tmp_path_factory) -> pathlib.Path:
    """dplane and its dependencies for aarch64, unpacked from the sim image's wheels."""
    top = tmp_path_factory.mktemp("aarch64")
    with tarfile.open(images["sim"]) as tar:
        wheels = [m for m in tar.getmembers() if m.name.endswith(".whl")]
        for m in wheels:
            m.name = pathlib.Path(m.name).name
        tar.extractall(top / "wheels", members=wheels, filter="data")
    dplane_wheel = next((top / "wheels").glob("dplane-*.whl"))
    proc = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--disable-pip-version-check",
         "--no-index", "--find-links", str(top / "wheels"), "--target", str(top / "site"),
         "--platform", "manylinux2014_aarch64", "--platform", "linux_aarch64",
         "--python-version", "3.11", "--implementation", "cp", "--abi", "cp311",
         "--only-binary=:all:", str(dplane_wheel)],
        capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode == 0, proc.stderr
    return top / "site"


def emulated(cross_build: CrossBuild, site: pathlib.Path, *args: str) -> list[str]:
    """The command running `python3.11 -m dplane ARGS` for aarch64, with nothing from the
    host's environment but the site directory."""
    qemu = shutil.which("qemu-aarch64-static")
    assert qemu
    root = cross_build.root
    return ["env", "-i", "DP_CONF=", f"PYTHONPATH={site}", qemu, "-L", str(root),
            str(root / "usr" / "bin" / "python3.11"), "-m", "dplane", *args]


def test_version_and_eal_args_under_emulation(cross_build, target):
    proc = subprocess.run(emulated(cross_build, target, "--", "--version"),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"DP Service version {dplane.__version__}\n"
    proc = subprocess.run(emulated(cross_build, target, "--board", "bluefield2",
                                   "--print-eal-args"),
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "representor=pf[0]vf[0-125]" in proc.stdout


def test_service_answers_an_x86_client(cross_build, target):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespace, TAP devices)")
    ns = harness.Netns()
    prefix = f"dpx{ns.id}"
    cmd = ["ip", "netns", "exec", ns.name,
           *emulated(cross_build, target, "--board", "sim", f"--file-prefix={prefix}",
                     "--", "--no-stats")]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    channel = grpc.insecure_channel(f"{ns.ns_ip}:{harness.GRPC_PORT}")
    svc = harness.Service(ns, proc, prefix, channel, dpdk_pb2_grpc.DPDKironcoreStub(channel),
                          health_pb2_grpc.HealthStub(channel),
                          dplane_pb2_grpc.DiagnosticsStub(channel))
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"emulated dplane exited with {proc.returncode}:\n"
                            f"{proc.stderr.read()}")
            try:
                if svc.health.Check(health_pb2.HealthCheckRequest(), timeout=1).status == \
                        health_pb2.HealthCheckResponse.SERVING:
                    break
            except grpc.RpcError:
                pass
            assert time.monotonic() - started < START_TIMEOUT, "not serving in time"
            time.sleep(0.2)
        serving = time.monotonic() - started

        t0 = time.monotonic()
        uuid = svc.initialize()
        init_rtt = time.monotonic() - t0
        assert len(uuid) == 36
        t0 = time.monotonic()
        reply = svc.api.GetVersion(dpdk_pb2.GetVersionRequest(
            client_protocol="x86_64", client_name="test_cross_emulated",
            client_version="1"), timeout=10)
        version_rtt = time.monotonic() - t0
        assert reply.status.code == 0
        assert reply.service_version == dplane.__version__
        assert svc.api.CheckInitialized(dpdk_pb2.CheckInitializedRequest(),
                                        timeout=10).uuid == uuid
        print(f"\naarch64 dplane under qemu-user: serving after {serving:.1f} s; "
              f"Initialize {init_rtt * 1000:.0f} ms, GetVersion {version_rtt * 1000:.0f} ms "
              f"-> {reply.service_protocol!r} {reply.service_version!r}")
        # the sim board's TAP ports exist in the namespace
        assert {"dtap0", "dtap1", "dtapvf_0"} <= set(ns.links())
    finally:
        status, stderr = svc.terminate(timeout=20)
        ns.delete()
    assert status == 0, stderr
    assert "Traceback" not in stderr
