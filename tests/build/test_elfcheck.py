# SPDX-License-Identifier: Apache-2.0
"""tools/elfcheck.py against the real built firmware extension, and cases it must reject."""
from __future__ import annotations

import importlib.util
import json
import pathlib
import platform
import subprocess
import sys
from types import ModuleType

import pytest

TOOLS = pathlib.Path(__file__).parents[2] / "tools"
ELFCHECK = TOOLS / "elfcheck.py"
HOST_ARCH = {"amd64": "x86_64", "arm64": "aarch64"}.get(platform.machine(), platform.machine())
OTHER_ARCH = "x86_64" if HOST_ARCH == "aarch64" else "aarch64"
MACHINES = {"x86_64": "EM_X86_64", "aarch64": "EM_AARCH64"}
# Debian's shared DPDK: a PMD that is linked against librte_* (absent -> those tests skip).
DEBIAN_TAP = pathlib.Path(f"/usr/lib/{HOST_ARCH}-linux-gnu/librte_net_tap.so.23")
DEBIAN_EAL = pathlib.Path(f"/usr/lib/{HOST_ARCH}-linux-gnu/librte_eal.so.23")


def _load_elfcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("elfcheck", ELFCHECK)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up here
    spec.loader.exec_module(module)
    return module


elfcheck = _load_elfcheck()


def run_cli(*args: str | pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ELFCHECK), *map(str, args)],
                          capture_output=True, text=True, timeout=60, check=False)


@pytest.fixture(scope="module")
def extension() -> pathlib.Path:
    # find_spec() locates the built .so without loading it.
    spec = importlib.util.find_spec("dplane._firmware")
    assert spec is not None and spec.origin, "dplane._firmware is not built/installed"
    return pathlib.Path(spec.origin)


@pytest.fixture(scope="module")
def report(extension: pathlib.Path):
    return elfcheck.inspect(extension)


def test_cli_passes_on_built_extension(extension: pathlib.Path) -> None:
    result = run_cli(extension)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "PROBLEM" not in result.stdout
    assert MACHINES[HOST_ARCH] in result.stdout
    assert " MB" in result.stdout


def test_inspect_built_extension(report) -> None:
    assert report.machine == MACHINES[HOST_ARCH]
    assert report.size > 1_000_000  # DPDK is in there
    assert not [lib for lib in report.needed if lib.startswith("librte_")], report.needed
    assert "libc.so.6" in report.needed
    assert report.exported == ["PyInit__firmware"]
    expected = {"net_tap", "net_tun", "net_pcap", "net_null", "net_ring",
                "mlx5_eth", "mlx5_common_pci"}
    assert expected <= set(report.pmds), report.pmds
    assert elfcheck.check(report, HOST_ARCH, elfcheck.DEFAULT_PMDS) == []


def default_drivers() -> list[str]:
    """The default of the dpdk_drivers option, read from meson.options."""
    text = (pathlib.Path(__file__).parents[2] / "meson.options").read_text()
    block = text[text.index("option('dpdk_drivers'"):]
    value = block[block.index("value:") + len("value:"):block.index("]") + 1]
    return json.loads(value.replace("'", '"'))


def test_configured_drivers_are_embedded(extension: pathlib.Path, report) -> None:
    """Every driver of the build's dpdk_drivers option is found (or is a bus/mempool)."""
    options_file = extension.parents[1] / "meson-info" / "intro-buildoptions.json"
    if options_file.exists():  # an editable install: the build's own setting
        options = {o["name"]: o["value"] for o in json.loads(options_file.read_text())}
        drivers = options["dpdk_drivers"]
    else:  # an installed wheel, built with the default of meson.options
        drivers = default_drivers()
    checked = [d for d in drivers if d not in elfcheck.unverifiable(drivers)]
    assert {"net_tap", "net_mlx5", "common_mlx5"} <= set(checked)
    assert set(elfcheck.unverifiable(drivers)) == {
        d for d in drivers if d.startswith(("bus_", "mempool_"))}
    assert elfcheck.check(report, HOST_ARCH, drivers) == []


def test_wrong_arch_is_reported(extension: pathlib.Path) -> None:
    result = run_cli(extension, "--arch", OTHER_ARCH)
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1, result.stdout
    assert MACHINES[HOST_ARCH] in problems[0] and MACHINES[OTHER_ARCH] in problems[0]


def test_missing_pmd_is_reported(extension: pathlib.Path, report) -> None:
    result = run_cli(extension, "--pmd", "net_tap", "net_ixgbe")
    assert result.returncode == 1
    problems = [line for line in result.stdout.splitlines() if line.startswith("PROBLEM")]
    assert len(problems) == 1 and "net_ixgbe" in problems[0], result.stdout

    # A driver registering under another name is looked up by that name.
    missing = elfcheck.Report(**{**vars(report), "pmds": ["net_tap"]})
    assert elfcheck.check(missing, HOST_ARCH, ["net_mlx5", "bus_vdev"]) == [
        "PMD net_mlx5 (PMD name mlx5_eth) is not linked in"]


def test_exported_symbols_are_reported(report) -> None:
    leaky = elfcheck.Report(**{**vars(report),
                               "exported": ["PyInit__firmware", "rte_eal_init", "helper"]})
    problems = elfcheck.check(leaky, HOST_ARCH, [])
    assert len(problems) == 2, problems
    assert "rte_eal_init" in problems[0] and "helper" not in problems[0]
    assert "helper" in problems[1] and "rte_eal_init" not in problems[1]


@pytest.mark.parametrize("content", [
    pytest.param(b"this is not an ELF file\n" * 40, id="garbage"),
    pytest.param(None, id="missing"),
    pytest.param("truncated", id="truncated-elf"),
])
def test_unreadable_file_is_one_clean_line(tmp_path: pathlib.Path, extension: pathlib.Path,
                                           content) -> None:
    path = tmp_path / "firmware.so"
    if content == "truncated":
        with open(extension, "rb") as f:
            path.write_bytes(f.read(4096))  # header intact, section table cut off
    elif content is not None:
        path.write_bytes(content)
    result = run_cli(path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr + result.stdout
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("elfcheck: error:") and str(path) in lines[0]


@pytest.mark.skipif(not DEBIAN_TAP.exists(), reason=f"{DEBIAN_TAP} not installed")
def test_shared_dpdk_library_is_reported() -> None:
    report = elfcheck.inspect(DEBIAN_TAP)
    assert "librte_ethdev.so.23" in report.needed
    assert {"net_tap", "net_tun"} <= set(report.pmds)  # found in a plain .so as well
    problems = elfcheck.check(report, HOST_ARCH, ["net_tap"])
    assert len(problems) == 2 and "librte_ethdev.so.23" in problems[0], problems
    assert problems[1].startswith("no DPLANE_DPDK_INFO")  # a Debian library, not dplane

    result = run_cli(DEBIAN_TAP, "--pmd", "net_tap")
    assert result.returncode == 1
    assert "PROBLEM: needs DPDK shared libraries" in result.stdout


@pytest.mark.skipif(not DEBIAN_EAL.exists(), reason=f"{DEBIAN_EAL} not installed")
def test_shared_dpdk_exports_are_reported() -> None:
    report = elfcheck.inspect(DEBIAN_EAL)
    assert "rte_eal_init" in report.exported
    assert not [s for s in report.exported if s.startswith("DPDK_")]  # version nodes
    assert any("exports DPDK symbols" in p for p in elfcheck.check(report, HOST_ARCH, []))
