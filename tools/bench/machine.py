# SPDX-License-Identifier: Apache-2.0
"""What the figures were measured on: CPU, cores, kernel, DPDK versions, load."""
from __future__ import annotations

import os
import platform
import subprocess


def _run(*argv: str) -> str | None:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=10, check=True)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as f:
            for line in f:
                key, _, value = line.partition(":")
                if key.strip() == "model name":
                    return value.strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def dplane_dpdk_version() -> str:
    """The DPDK dplane's build links statically: whatever pkg-config's libdpdk is."""
    return _run("pkg-config", "--modversion", "libdpdk") or "unknown"


def testpmd_dpdk_version(binary: str) -> str:
    """The version of the package that owns the testpmd binary (Debian)."""
    owner = _run("dpkg-query", "-S", os.path.realpath(binary))
    if owner:
        package = owner.split(":", 1)[0]
        version = _run("dpkg-query", "-W", "-f=${Version}", package)
        if version:
            return version
    return "unknown"


def load_average() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


def describe(testpmd: str) -> dict:
    return {
        "cpu": cpu_model(),
        "cores": os.cpu_count(),
        "kernel": platform.release(),
        "loadavg_before": load_average(),
        "dpdk": {"dplane": dplane_dpdk_version(), "testpmd": testpmd_dpdk_version(testpmd)},
    }
