# SPDX-License-Identifier: Apache-2.0
"""dplane's own DPDK (tools/mkdpdk): Debian's source of the installed version, built with room
for 132 ports, installed under /usr/local, cached, and what the extension was built with."""
from __future__ import annotations

import importlib.util
import json
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

from dplane import _firmware as firmware

REPO = pathlib.Path(__file__).resolve().parents[2]
TOOLS = REPO / "tools"
TRIPLET = "x86_64-linux-gnu" if os.uname().machine == "x86_64" else "aarch64-linux-gnu"
ARCH = "amd64" if TRIPLET.startswith("x86_64") else "arm64"
MANIFEST = pathlib.Path(f"/usr/local/lib/{TRIPLET}/dplane-dpdk.json")


sys.path.insert(0, str(TOOLS))
import elfcheck  # noqa: E402  (tools/elfcheck.py)
from ociimage import load_tool  # noqa: E402  (tools/ociimage.py)

mkdpdk = load_tool("mkdpdk")


def debian_version() -> str:
    out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libdpdk-dev"],
                         capture_output=True, text=True, check=True).stdout
    return out.strip()


def upstream(version: str) -> str:
    """22.11.11-0+deb12u1 -> 22.11.11"""
    return version.split(":")[-1].split("-")[0]


@pytest.fixture(scope="module")
def manifest() -> dict:
    if not MANIFEST.exists():
        pytest.fail(f"{MANIFEST} missing: tools/mkdpdk (run by tools/setup.sh) has not run")
    return json.loads(MANIFEST.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def report():
    spec = importlib.util.find_spec("dplane._firmware")
    assert spec is not None and spec.origin
    return elfcheck.inspect(spec.origin)


def test_the_extension_holds_dpservices_ports(report):
    version = upstream(debian_version())
    # the headers' limit, and the linked ethdev's (rte_eth_fp_ops[] counted by its size)
    assert report.dpdk == {"version": version, "max_ethports": 132, "fp_ops_size": 128,
                           "linked_ethports": 132}
    assert firmware.MAX_ETHPORTS == 132  # what the linked ethdev answers at run time
    assert elfcheck.check_dpdk(report.dpdk) == []
    assert elfcheck.check_dpdk(report.dpdk, version) == []


@pytest.mark.parametrize("info, problem", [
    ({"version": "22.11.11", "max_ethports": 32},
     "its DPDK holds 32 ports (RTE_MAX_ETHPORTS), dplane needs 128"),
    ({"version": "23.11.0", "max_ethports": 132}, "built with DPDK 23.11.0, expected 22.11"),
    ({"version": "22.111.0", "max_ethports": 132}, "built with DPDK 22.111.0, expected 22.11"),
    ({"version": "22.11.11"}, "its DPDK holds None ports"),
    ({"version": "22.11.11", "max_ethports": 132, "fp_ops_size": 128, "linked_ethports": 32},
     "compiled with DPDK headers for 132 ports but linked with an ethdev archive for 32"),
    ({}, "no DPLANE_DPDK_INFO"),
])
def test_elfcheck_refuses_another_dpdk(report, info, problem):
    bad = elfcheck.Report(**{**vars(report), "dpdk": info})
    problems = elfcheck.check(bad, report.machine.removeprefix("EM_").lower(),
                              elfcheck.DEFAULT_PMDS)
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_elfcheck_asks_for_one_release(report):
    assert elfcheck.check_dpdk({"version": "22.11.11", "max_ethports": 132}, "22.11.11") == []
    assert elfcheck.check_dpdk({"version": "22.11.11", "max_ethports": 132}, "22.11.1") == [
        "built with DPDK 22.11.11, expected 22.11.1"]


def test_elfcheck_cli_reports_the_dpdk(report):
    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, str(TOOLS / "elfcheck.py"), report.path, *args],
                              capture_output=True, text=True, timeout=60, check=False)

    version = upstream(debian_version())
    ok = cli()
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"  DPDK:     {version}, max_ethports 132 (linked: 132)" in ok.stdout
    bad = cli("--min-ethports", "200", "--dpdk-version", "21.11")
    assert bad.returncode == 1
    assert f"PROBLEM: built with DPDK {version}, expected 21.11" in bad.stdout
    assert "PROBLEM: its DPDK holds 132 ports (RTE_MAX_ETHPORTS), dplane needs 200" in bad.stdout


def test_mkdpdk_installed_debians_version_with_132_ports(manifest):
    assert manifest["version"] == debian_version()
    assert manifest["max_ethports"] == 132 and manifest["arch"] == ARCH
    files = manifest["files"]
    assert all(pathlib.Path("/", f).is_file() for f in files)
    lib = f"usr/local/lib/{TRIPLET}/"
    assert f"{lib}pkgconfig/libdpdk.pc" in files and f"{lib}librte_eal.a" in files
    assert f"{lib}librte_net_mlx5.a" in files and f"{lib}librte_net_tap.a" in files
    # no shared library: under /usr/local it would replace Debian's for dpdk-testpmd & co
    assert not [f for f in files if ".so" in f or "/bin/" in f]
    # only the drivers dplane links (meson.options dpdk_drivers)
    drivers = sorted(f.removeprefix(f"{lib}librte_").removesuffix(".a") for f in files
                     if f.startswith(f"{lib}librte_") and f.removeprefix(f"{lib}librte_")
                     .startswith(("net_", "bus_", "common_", "mempool_")))
    assert drivers == sorted(d.replace("/", "_") for d in mkdpdk.drivers())
    # pkg-config finds it first, with the version Debian ships
    version = subprocess.run(["pkg-config", "--modversion", "libdpdk"],
                             capture_output=True, text=True, check=True).stdout.strip()
    assert version == upstream(debian_version())
    prefix = subprocess.run(["pkg-config", "--variable=prefix", "libdpdk"],
                            capture_output=True, text=True, check=True).stdout.strip()
    assert prefix == "/usr/local"
    config = pathlib.Path("/usr/local/include/rte_build_config.h").read_text()
    assert "#define RTE_MAX_ETHPORTS 132" in config


def test_mkdpdk_again_builds_nothing(manifest):
    key = subprocess.run([sys.executable, str(TOOLS / "mkdpdk"), "--print-key"],
                         capture_output=True, text=True, timeout=60, check=True).stdout.strip()
    assert key == manifest["key"]
    proc = subprocess.run([sys.executable, str(TOOLS / "mkdpdk")], capture_output=True,
                          text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "is installed" in proc.stderr and "building" not in proc.stderr


def test_mkdpdk_install_replaces_an_older_build(manifest, tmp_path):
    stage = next(mkdpdk.default_cache().glob(f"*-{ARCH}-{manifest['key']}")) / "stage"
    lib = tmp_path / f"usr/local/lib/{TRIPLET}"
    # an older build left an archive this one does not have
    lib.mkdir(parents=True)
    (lib / "librte_gone.a").write_text("old")
    (tmp_path / "usr/local/include/gone/deeper").mkdir(parents=True)
    (tmp_path / "usr/local/include/gone/deeper/rte_gone.h").write_text("old")
    (lib / "dplane-dpdk.json").write_text(json.dumps({
        "key": "older", "files": [f"usr/local/lib/{TRIPLET}/librte_gone.a",
                                  "usr/local/include/gone/deeper/rte_gone.h"]}))
    mkdpdk.install(stage, tmp_path, ARCH, manifest["version"], manifest["key"])
    assert not (lib / "librte_gone.a").exists()
    assert not (tmp_path / "usr/local/include/gone").exists()  # its emptied folders too
    assert json.loads((lib / "dplane-dpdk.json").read_text())["files"] == manifest["files"]
    got = sorted(str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*")
                 if p.is_file() and p.name != "dplane-dpdk.json")
    assert got == sorted(manifest["files"])
    # a file that went missing is put back; a current install is left alone otherwise
    (lib / "librte_eal.a").unlink()
    mkdpdk.install(stage, tmp_path, ARCH, manifest["version"], manifest["key"])
    assert (lib / "librte_eal.a").exists()


@pytest.mark.parametrize("rel, wanted", [
    ("usr/local/include/rte_ethdev.h", True),
    (f"usr/local/lib/{TRIPLET}/librte_eal.a", True),
    (f"usr/local/lib/{TRIPLET}/pkgconfig/libdpdk.pc", True),
    (f"usr/local/lib/{TRIPLET}/pkgconfig/libdpdk-libs.pc", True),
    (f"usr/local/lib/{TRIPLET}/librte_eal.so.23.0", False),
    (f"usr/local/lib/{TRIPLET}/librte_eal.so", False),
    (f"usr/local/lib/{TRIPLET}/dpdk/pmds-23.0/librte_net_tap.so", False),
    ("usr/local/bin/dpdk-devbind.py", False),
    ("usr/local/share/dpdk/examples/x.c", False),
])
def test_mkdpdk_installs_headers_archives_and_pkgconfig_only(rel, wanted):
    assert mkdpdk.wanted(rel, ARCH) is wanted


def test_meson_refuses_debians_32_port_dpdk(tmp_path):
    if shutil.which("meson") is None:
        pytest.fail("meson is not installed: tools/setup.sh installs it")
    env = {**os.environ,
           "PKG_CONFIG_LIBDIR": f"/usr/lib/{TRIPLET}/pkgconfig:/usr/share/pkgconfig"}
    env.pop("PKG_CONFIG_PATH", None)
    proc = subprocess.run(["meson", "setup", str(tmp_path / "b"), str(REPO)], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert proc.returncode != 0
    out = proc.stdout + proc.stderr
    assert "holds 32 ports, dplane needs 128 (2 PFs + 126 VFs)" in out, out[-3000:]
    assert "run tools/mkdpdk" in out


def test_mkdpdk_keeps_the_recently_used_builds(tmp_path):
    def made(name: str, age: int) -> pathlib.Path:
        d = tmp_path / name
        (d / "stage").mkdir(parents=True)
        (d / "build.json").write_text("{}")
        os.utime(d / "build.json", (1_000_000 - age, 1_000_000 - age))
        return d

    newest = made("22.11.11-0+deb12u1-amd64-aaaa", 1)
    older = made("22.11.10-0+deb12u1-amd64-bbbb", 2)
    oldest = made("22.11.9-0+deb12u1-amd64-cccc", 3)
    other_arch = made("22.11.9-0+deb12u1-arm64-dddd", 9)
    (tmp_path / "work-amd64").mkdir()  # a build in progress, and the sources, stay
    (tmp_path / "src").mkdir()
    assert mkdpdk.prune(tmp_path, "amd64") == [oldest.name]
    assert newest.exists() and older.exists() and other_arch.exists()
    assert (tmp_path / "work-amd64").exists() and (tmp_path / "src").exists()
    assert mkdpdk.prune(tmp_path, "amd64") == []
