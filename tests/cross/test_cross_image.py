# SPDX-License-Identifier: Apache-2.0
"""tools/mkimage: an image per board from the aarch64 wheels, checked before it is written;
--verify finds any changed byte; corrupt or wrong-architecture inputs are refused."""
from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import pathlib
import random
import shutil
import subprocess
import sys
import tarfile
import zipfile

import pytest

import dplane
from crossutil import SYSROOT_CACHE, TOOLS, CrossBuild


def mkimage(*args: str | pathlib.Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(TOOLS / "mkimage"), *map(str, args)],
                          capture_output=True, text=True, timeout=300, check=False)


def build(cross_build: CrossBuild, out: pathlib.Path, *args: str | pathlib.Path,
          board: str = "bluefield2") -> subprocess.CompletedProcess[str]:
    return mkimage("--board", board, "--sysroot", SYSROOT_CACHE, "-o", out, *args)


def members(image: pathlib.Path) -> dict[str, bytes]:
    with tarfile.open(image) as tar:
        top = tar.getmembers()[0].name
        return {m.name[len(top) + 1:]: tar.extractfile(m).read()
                for m in tar.getmembers() if m.isfile()}


def test_image_contents(images):
    files = members(images["bluefield2"])
    manifest = json.loads(files.pop("MANIFEST.json"))
    seal = files.pop("IMAGE.sha256")
    assert len(seal.strip()) == 64
    assert manifest["board"] == "bluefield2" and manifest["arch"] == "aarch64"
    assert manifest["version"] == dplane.__version__
    assert set(files) == set(manifest["files"])
    for name, content in files.items():
        assert hashlib.sha256(content).hexdigest() == manifest["files"][name]["sha256"], name
    wheels = [n for n in files if n.startswith("wheels/")]
    assert any(n.startswith("wheels/dplane-") and n.endswith("linux_aarch64.whl")
               for n in wheels)
    assert any(n.startswith("wheels/grpcio-") for n in wheels)
    assert files["board/bluefield2.toml"] == (
        pathlib.Path(__file__).parents[2] / "board" / "bluefield2.toml").read_bytes()
    unit = files["systemd/dplane.service"].decode()
    assert "ExecStart=/opt/dplane/venv/bin/python3 -m dplane --board /opt/dplane/board.toml" \
        in unit
    assert "Environment=DP_CONF=/etc/dplane/dplane.conf" in unit
    conf = files["etc/dplane.conf"].decode()
    assert "representor=pf[0]vf[0-125]" in conf  # the board's EAL arguments, as a comment
    assert all(line.startswith("#") for line in conf.splitlines() if line.strip())
    assert "representor=pf[0]vf[0-125]" in manifest["eal_args"]
    assert manifest["drivers"] == ["mempool_ring", "bus_pci", "common_mlx5", "net_mlx5"]
    firmware = [k for k in manifest["elf"] if "_firmware" in k]
    assert len(firmware) == 1 and "mlx5_eth" in manifest["elf"][firmware[0]]["pmds"]


def test_verify_passes(images):
    result = mkimage("--verify", images["bluefield2"], "--sysroot", SYSROOT_CACHE)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "OK"
    assert "board bluefield2, aarch64" in lines[0]
    assert any("_firmware" in ln and "EM_AARCH64" in ln and "imports resolved" in ln
               for ln in lines)
    size = images["bluefield2"].stat().st_size
    print(f"\nbluefield2 image: {size / 1e6:.1f} MB\n{result.stdout}")


def test_every_flipped_byte_is_found(images, mkimage, capsys):
    raw = images["bluefield2"].read_bytes()
    with tarfile.open(images["bluefield2"]) as tar:
        infos = tar.getmembers()
    wheel = next(m for m in infos if m.name.endswith("linux_aarch64.whl"))
    manifest = next(m for m in infos if m.name.endswith("MANIFEST.json"))
    seal = infos[-1]
    # one byte in each kind of place, and a sample of the rest
    places = {"wheel data": wheel.offset_data + wheel.size // 2,
              "wheel header": wheel.offset + 20, "manifest": manifest.offset_data + 30,
              "seal": seal.offset_data + 3, "seal header": seal.offset + 1,
              "end of archive": len(raw) - 100, "first byte": 0}
    places.update((f"random {i}", pos) for i, pos in
                  enumerate(random.Random(7).sample(range(len(raw)), 40)))
    flipped = images["bluefield2"].with_name("flipped.tar")
    missed = []
    for what, pos in places.items():
        data = bytearray(raw)
        data[pos] ^= 0x10
        flipped.write_bytes(data)
        status = mkimage.main(["--verify", str(flipped)])
        out, err = capsys.readouterr()
        if status != 1 or ("PROBLEM" not in out and "mkimage: error" not in err):
            missed.append((what, pos))
        if what == "wheel data":
            assert f"wheels/{wheel.name.rsplit('/', 1)[1]}: sha256 mismatch" in out, out
            assert "image digest mismatch" in out
    assert missed == []


def test_image_for_the_sim_board(images):
    files = members(images["sim"])
    manifest = json.loads(files["MANIFEST.json"])
    assert manifest["drivers"] == ["mempool_ring", "bus_vdev", "net_tap"]
    assert "--vdev=net_tap0,iface=dtap0" in manifest["eal_args"]


# ---------------------------------------------------------------------------------------
# Refused inputs: nothing is written

def rewrite_wheel(src: pathlib.Path, dest: pathlib.Path, replace: dict[str, bytes]) -> None:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dest, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            zout.writestr(info, replace.get(info.filename, zin.read(info)))


def no_deps(tmp_path: pathlib.Path) -> pathlib.Path:
    (tmp_path / "deps").mkdir(exist_ok=True)
    return tmp_path / "deps"


def test_wrong_architecture_wheel_tag_is_refused(cross_build, tmp_path):
    wheel = tmp_path / cross_build.wheel.name.replace("linux_aarch64", "linux_x86_64")
    with zipfile.ZipFile(cross_build.wheel) as zf:
        meta = next(n for n in zf.namelist() if n.endswith(".dist-info/WHEEL"))
        text = zf.read(meta).replace(b"linux_aarch64", b"linux_x86_64")
    rewrite_wheel(cross_build.wheel, wheel, {meta: text})
    result = build(cross_build, tmp_path / "img.tar", "--wheel", wheel)
    assert result.returncode == 1
    assert "cp311-cp311-linux_x86_64, not aarch64" in result.stderr
    assert not (tmp_path / "img.tar").exists()


def test_x86_extension_inside_is_refused(cross_build, tmp_path):
    spec = importlib.util.find_spec("dplane._firmware")
    assert spec is not None and spec.origin
    native = pathlib.Path(spec.origin).read_bytes()
    wheel = tmp_path / cross_build.wheel.name
    rewrite_wheel(cross_build.wheel, wheel,
                  {"dplane/_firmware.cpython-311-aarch64-linux-gnu.so": native})
    result = build(cross_build, tmp_path / "img.tar", "--wheel", wheel,
                   "--deps", no_deps(tmp_path))
    assert result.returncode == 1
    assert "machine is EM_X86_64, expected EM_AARCH64 for aarch64" in result.stdout
    assert "no image written" in result.stderr
    assert not (tmp_path / "img.tar").exists()


@pytest.mark.parametrize("damage", ["truncated", "garbage", "bad-crc", "bad-elf"])
def test_corrupt_wheel_is_refused(cross_build, tmp_path, damage):
    data = cross_build.wheel.read_bytes()
    wheel = tmp_path / cross_build.wheel.name
    if damage == "truncated":
        wheel.write_bytes(data[:len(data) // 2])
    elif damage == "garbage":
        wheel.write_bytes(b"not a wheel\n" * 100)
    elif damage == "bad-crc":  # flip a byte inside the (stored-compressed) extension
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            info = zf.getinfo("dplane/_firmware.cpython-311-aarch64-linux-gnu.so")
        pos = info.header_offset + 30 + len(info.filename) + len(info.extra) + 1000
        damaged = bytearray(data)
        damaged[pos] ^= 0xFF
        wheel.write_bytes(damaged)
    else:  # a valid zip whose extension is not a valid ELF file
        rewrite_wheel(cross_build.wheel, wheel, {
            "dplane/_firmware.cpython-311-aarch64-linux-gnu.so": b"\x7fELF" + b"\0" * 60})
    result = build(cross_build, tmp_path / "img.tar", "--wheel", wheel,
                   "--deps", no_deps(tmp_path))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    error = result.stderr.strip().splitlines()[-1]
    assert error.startswith("mkimage: error: ") and wheel.name in error, result.stderr
    expected = {"truncated": "not a valid wheel", "garbage": "not a valid wheel",
                "bad-crc": "corrupt", "bad-elf": "ELF file"}[damage]
    assert expected in error
    assert not (tmp_path / "img.tar").exists()


def test_firmware_with_a_32_port_dpdk_is_refused(cross_build, tmp_path):
    """The firmware's own record of its DPDK says 32 ports (Debian's build): refused, and
    so is the disagreement with the ethdev actually linked (132)."""
    name = "dplane/_firmware.cpython-311-aarch64-linux-gnu.so"
    with zipfile.ZipFile(cross_build.wheel) as zf:
        data = zf.read(name)
    assert data.count(b'"max_ethports": 132,') == 1
    wheel = tmp_path / cross_build.wheel.name
    rewrite_wheel(cross_build.wheel, wheel,
                  {name: data.replace(b'"max_ethports": 132,', b'"max_ethports":  32,')})
    result = build(cross_build, tmp_path / "img.tar", "--wheel", wheel,
                   "--deps", no_deps(tmp_path))
    assert result.returncode == 1
    assert "its DPDK holds 32 ports (RTE_MAX_ETHPORTS), dplane needs 128" in result.stdout
    assert ("compiled with DPDK headers for 32 ports but linked with an ethdev archive for "
            "132") in result.stdout
    assert not (tmp_path / "img.tar").exists()


def test_missing_driver_is_refused(cross_build, tmp_path):
    result = build(cross_build, tmp_path / "img.tar", "--pmd", "net_ixgbe")
    assert result.returncode == 1
    assert "PROBLEM:" in result.stdout and "PMD net_ixgbe is not linked in" in result.stdout
    assert not (tmp_path / "img.tar").exists()


def test_bad_board_is_refused(cross_build, tmp_path):
    board = tmp_path / "bad.toml"
    board.write_text('[[port]]\nrole = "pf0"\npci = "0000:03:00.0"\nvf-representors = "9-2"\n')
    result = mkimage("--board", board, "--sysroot", SYSROOT_CACHE, "-o", tmp_path / "img.tar")
    assert result.returncode == 1
    assert f"{board}: port[0].vf-representors: bad VF range '9-2'" in result.stderr
    result = mkimage("--board", "nosuchboard", "--sysroot", SYSROOT_CACHE)
    assert "board 'nosuchboard' not found" in result.stderr and "bluefield2" in result.stderr


def test_verify_rejects_other_files(tmp_path, images):
    junk = tmp_path / "junk.tar"
    junk.write_bytes(b"junk" * 1000)
    result = mkimage("--verify", junk)
    assert result.returncode == 1 and "not a dplane image" in result.stderr
    # a tar, but not sealed: an image repacked by hand
    repacked = tmp_path / "repacked.tar"
    with tarfile.open(images["sim"]) as tin, tarfile.open(repacked, "w") as tout:
        for m in tin.getmembers()[:-1]:
            tout.addfile(m, tin.extractfile(m) if m.isfile() else None)
    result = mkimage("--verify", repacked)
    assert result.returncode == 1 and "image is truncated or corrupt" in result.stdout
    shutil.rmtree(tmp_path, ignore_errors=True)
