# SPDX-License-Identifier: Apache-2.0
"""tools/mkimage --format oci: a linux/arm64 OCI image archive whose root file system is built
from Debian bookworm's arm64 packages and the aarch64 wheels of the cross build. It is the
same bytes when built twice; --verify (our own checks and skopeo) passes, and refuses a
flipped byte anywhere; and it runs: its root file system, unpacked, starts dplane on the sim
board under qemu-aarch64-static in a chroot, as the image's user with the capabilities its
labels name, in a network namespace of its own, and an x86_64 gRPC client creates an
interface whose VM gets a DHCP offer through the VF's TAP."""

from __future__ import annotations

import gzip
import io
import json
import os
import pathlib
import random
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Iterator
from types import ModuleType

import grpc
import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import harness
from crossutil import SYSROOT_CACHE, TOOLS, CrossBuild, load_tool
from dplane.proto import dpdk_pb2, dpdk_pb2_grpc, dplane_pb2_grpc, health_pb2, health_pb2_grpc

EXIT_NO_NETWORK = 3
START_TIMEOUT = 120.0  # seconds: about 10 s under qemu-user on this machine kind
VM_MAC = "02:00:00:00:00:07"
VM_IP, VM_IP6 = "10.7.0.2", "fd00::7"
VF = ("net_tap2", "dtapvf_0", "66:66:66:66:66:00")


def mkimage(*args: str | pathlib.Path, env: dict | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(TOOLS / "mkimage"), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
        env=env,
    )


def skip_unless_skopeo() -> None:
    if shutil.which("skopeo") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("skopeo is not installed: tools/setup.sh should have installed it")
        pytest.skip("OCI IMAGE NOT CHECKED BY SKOPEO: skopeo is not installed")


@pytest.fixture(scope="module")
def ociimage() -> ModuleType:
    load_tool("mkimage")  # puts tools/ on sys.path (ociimage imports elfcheck)
    return load_tool("ociimage.py")


def build(
    cross_build: CrossBuild, out: pathlib.Path, board: str, env: dict | None = None
) -> tuple[pathlib.Path, float, str]:
    path = out / f"dplane-{board}.oci.tar"
    started = time.monotonic()
    proc = mkimage(
        "--format",
        "oci",
        "--board",
        board,
        "--wheel",
        cross_build.wheel,
        "--sysroot",
        SYSROOT_CACHE,
        "-o",
        path,
        env=env,
    )
    if proc.returncode == EXIT_NO_NETWORK:
        pytest.skip(
            "OCI IMAGE NOT TESTED: the Debian arm64 packages could not be downloaded "
            f"(no network?):\n{proc.stderr[-1500:]}"
        )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return path, time.monotonic() - started, proc.stdout


@pytest.fixture(scope="module")
def sim_image(cross_build: CrossBuild, tmp_path_factory) -> dict:
    """The sim board's image, built twice: the second time elsewhere, from another working
    directory, time zone and umask, with the Debian packages already resolved."""
    first, t1, out = build(cross_build, tmp_path_factory.mktemp("oci-a"), "sim")
    other = tmp_path_factory.mktemp("oci-b")
    env = {**os.environ, "TZ": "Asia/Tokyo", "LC_ALL": "C"}
    old = os.umask(0o077)
    cwd = os.getcwd()
    try:
        os.chdir(other)
        second, t2, _ = build(cross_build, other, "sim", env)
    finally:
        os.chdir(cwd)
        os.umask(old)
    return {"path": first, "again": second, "seconds": (t1, t2), "stdout": out}


def read(path: pathlib.Path) -> dict[str, bytes]:
    with tarfile.open(path) as tar:
        return {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def blob(files: dict[str, bytes], digest: str) -> bytes:
    return files[f"blobs/sha256/{digest.removeprefix('sha256:')}"]


def parts(path: pathlib.Path) -> tuple[dict, dict, dict, list[bytes]]:
    """index, manifest, config and the compressed layers of an archive."""
    files = read(path)
    index = json.loads(files["index.json"])
    manifest = json.loads(blob(files, index["manifests"][0]["digest"]))
    config = json.loads(blob(files, manifest["config"]["digest"]))
    return index, manifest, config, [blob(files, d["digest"]) for d in manifest["layers"]]


def test_the_same_inputs_give_the_same_image(sim_image):
    a, b = sim_image["path"], sim_image["again"]
    index_a, index_b = parts(a)[0], parts(b)[0]
    digest = index_a["manifests"][0]["digest"]
    assert digest == index_b["manifests"][0]["digest"]
    assert a.read_bytes() == b.read_bytes()
    for suffix in (".podman.service", ".kubelet.yaml"):
        name = a.name.removesuffix(".oci.tar") + suffix
        assert (a.parent / name).read_text() == (b.parent / name).read_text()
    t1, t2 = sim_image["seconds"]
    size = a.stat().st_size
    print(
        f"\nsim OCI image: {size / 1e6:.1f} MB, manifest {digest}; built in {t1:.1f} s, "
        f"again in {t2:.1f} s: identical\n{sim_image['stdout']}"
    )


def test_layout_config_and_root_file_system(sim_image, ociimage):
    path = sim_image["path"]
    with tarfile.open(path) as tar:
        names = tar.getnames()
        assert all(m.mtime == 0 and m.uid == 0 for m in tar.getmembers())
    assert names == sorted(names)
    assert {"oci-layout", "index.json", "blobs", "blobs/sha256"} <= set(names)
    index, manifest, config, layers = parts(path)
    assert json.loads(read(path)["oci-layout"]) == {"imageLayoutVersion": "1.0.0"}
    desc = index["manifests"][0]
    assert desc["platform"] == {"architecture": "arm64", "os": "linux", "variant": "v8"}
    assert desc["annotations"]["org.opencontainers.image.ref.name"] == "localhost/dplane:0.1.0-sim"
    assert [d["mediaType"] for d in manifest["layers"]] == [
        "application/vnd.oci.image.layer.v1.tar+gzip"
    ] * 2
    assert (config["architecture"], config["os"]) == ("arm64", "linux")
    cfg = config["config"]
    assert cfg["Entrypoint"] == [
        "/usr/bin/python3.11",
        "-m",
        "dplane",
        "--board",
        "/etc/dplane/board.toml",
    ]
    assert "DP_CONF=/etc/dplane/dplane.conf" in cfg["Env"]
    assert cfg["User"] == "10001:10001" and cfg["WorkingDir"] == "/var/lib/dplane"
    labels = cfg["Labels"]
    assert labels["dplane.board"] == "sim" and labels["dplane.capabilities"] == "NET_ADMIN"
    assert labels["dplane.devices"] == "/dev/net/tun" and labels["dplane.hugepages"] == "none"
    assert "--vdev=net_tap0,iface=dtap0" in labels["dplane.eal-args"]

    owned = []
    for gz in layers:
        assert gz[4:8] == b"\0\0\0\0"  # gzip without a time
        with tarfile.open(fileobj=io.BytesIO(gzip.decompress(gz))) as tar:
            members = tar.getmembers()
        assert [m.name for m in members] == sorted(m.name for m in members)
        assert all(m.mtime == 0 for m in members)
        assert {(m.uid, m.gid) for m in members} <= {(0, 0), (10001, 10001)}
        owned += [m.name for m in members if m.uid]
    assert owned == ["var/lib/dplane"]

    image = ociimage.read_image(path.read_bytes())
    assert image.problems == []
    nodes = image.tree.nodes
    assert not [
        p for p in nodes if p.startswith(("usr/share/man/", "usr/share/locale/", "usr/share/info/"))
    ]
    docs = [p for p in nodes if p.startswith("usr/share/doc/") and nodes[p].kind == "file"]
    assert docs and all(p.endswith("/copyright") for p in docs)
    for path_ in (
        "usr/bin/python3.11",
        "etc/dplane/board.toml",
        "etc/dplane/dplane.conf",
        "usr/local/bin/dplane-cli",
        "usr/lib/aarch64-linux-gnu/libmlx5.so.1",
        "usr/lib/aarch64-linux-gnu/libibverbs.so.1",
        "etc/libibverbs.d/mlx5.driver",
        "usr/local/lib/python3.11/dist-packages/dplane/__init__.py",
        "usr/local/lib/python3.11/dist-packages/grpc/__init__.py",
    ):
        assert image.tree.get(path_) is not None, path_
    assert image.tree.resolve("lib/ld-linux-aarch64.so.1") is not None
    assert nodes["tmp"].mode == 0o1777
    passwd = nodes["etc/passwd"].data.decode()
    assert "dplane:x:10001:10001:" in passwd
    packages = nodes["usr/share/dplane/debian-packages.txt"].data.decode().split()[::2]
    assert {
        "python3.11-minimal",
        "libpython3.11-stdlib",
        "libibverbs1",
        "ibverbs-providers",
        "libnuma1",
        "libbsd0",
        "libpcap0.8",
        "libc6",
    } <= set(packages)
    assert not {"dpkg", "debconf", "adduser", "perl-base"} & set(packages)
    board = (pathlib.Path(__file__).parents[2] / "board" / "sim.toml").read_bytes()
    assert nodes["etc/dplane/board.toml"].data == board
    assert nodes[
        "usr/local/lib/python3.11/dist-packages/dplane/__pycache__/__init__.cpython-311.pyc"
    ].data[8:16] != bytes(8)  # hash-based byte code


def test_deployment_files(sim_image, cross_build, tmp_path):
    yaml = pytest.importorskip("yaml")
    stem = sim_image["path"].name.removesuffix(".oci.tar")
    pod = yaml.safe_load((sim_image["path"].parent / f"{stem}.kubelet.yaml").read_text())
    spec = pod["spec"]
    assert spec["hostNetwork"] is True
    (container,) = spec["containers"]
    assert container["image"] == "localhost/dplane:0.1.0-sim"
    assert {"name": "DP_CONF", "value": "/etc/dplane/dplane.conf"} in container["env"]
    assert container["securityContext"]["capabilities"]["add"] == ["NET_ADMIN"]
    unit = (sim_image["path"].parent / f"{stem}.podman.service").read_text()
    assert "--cap-drop=all --cap-add=NET_ADMIN --device=/dev/net/tun" in unit
    assert "--network=host" in unit and "localhost/dplane:0.1.0-sim" in unit

    # a DPU board: root, hugepages, the mlx5 devices, privileged in the pod (said why)
    path, seconds, _ = build(cross_build, tmp_path, "bluefield2")
    _, _, config, _ = parts(path)
    cfg = config["config"]
    assert cfg["User"] == "0:0"
    assert cfg["Labels"]["dplane.capabilities"] == "IPC_LOCK,NET_ADMIN,NET_RAW,SYS_ADMIN"
    assert cfg["Labels"]["dplane.devices"] == "/dev/infiniband,/dev/vfio"
    assert "representor=pf[0]vf[0-125]" in cfg["Labels"]["dplane.eal-args"]
    pod = yaml.safe_load((tmp_path / "dplane-bluefield2.kubelet.yaml").read_text())
    (container,) = pod["spec"]["containers"]
    assert container["securityContext"] == {"privileged": True}
    assert container["resources"]["limits"]["hugepages-2Mi"] == "2048Mi"
    assert {"name": "hugepages", "emptyDir": {"medium": "HugePages-2Mi"}} in pod["spec"]["volumes"]
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/dev/hugepages", "/dev/infiniband", "/dev/vfio", "/etc/dplane/dplane.conf"} <= mounts
    unit = (tmp_path / "dplane-bluefield2.podman.service").read_text()
    assert (
        "--cap-add=IPC_LOCK --cap-add=NET_ADMIN --cap-add=NET_RAW --cap-add=SYS_ADMIN "
        "--device=/dev/infiniband --device=/dev/vfio"
    ) in unit
    assert "--volume=/dev/hugepages:/dev/hugepages" in unit
    print(f"\nbluefield2 OCI image: {path.stat().st_size / 1e6:.1f} MB in {seconds:.1f} s")


def test_verify_passes(sim_image):
    skip_unless_skopeo()
    result = mkimage("--verify", sim_image["path"])
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert lines[-1] == "OK"
    assert "OCI archive" in lines[0] and "board sim, linux/arm64, 2 layers" in lines[0]
    assert any("every size and sha256 matches" in ln for ln in lines)
    assert any("all EM_AARCH64 with every DT_NEEDED inside the image" in ln for ln in lines)
    assert any("_firmware" in ln and "imports resolved in the image" in ln for ln in lines)
    assert any(ln.strip().startswith("skopeo: inspect linux/arm64 sha256:") for ln in lines)
    print("\n" + result.stdout)


def test_every_flipped_byte_is_refused(sim_image, tmp_path, capsys):
    mk = load_tool("mkimage")
    raw = sim_image["path"].read_bytes()
    with tarfile.open(sim_image["path"]) as tar:
        infos = {m.name: m for m in tar.getmembers()}
    files = read(sim_image["path"])
    index = json.loads(files["index.json"])
    manifest_name = f"blobs/sha256/{index['manifests'][0]['digest'][7:]}"
    manifest = json.loads(files[manifest_name])
    layer = infos[f"blobs/sha256/{manifest['layers'][1]['digest'][7:]}"]
    config = infos[f"blobs/sha256/{manifest['config']['digest'][7:]}"]
    places = {
        "layer blob": layer.offset_data + layer.size // 2,
        "manifest": infos[manifest_name].offset_data + 40,
        "index.json": infos["index.json"].offset_data + 30,
        "index.json digest": infos["index.json"].offset_data
        + files["index.json"].index(b"sha256:")
        + 20,
        "config": config.offset_data + 100,
        "oci-layout": infos["oci-layout"].offset_data + 5,
        "a blob's tar header": layer.offset + 3,
        "checksum field's last byte": layer.offset + 155,
        "padding after index.json": infos["index.json"].offset_data + infos["index.json"].size + 1,
        "end of archive": len(raw) - 100,
        "first byte": 0,
    }
    places.update(
        (f"random {i}", pos) for i, pos in enumerate(random.Random(11).sample(range(len(raw)), 4))
    )
    flipped = tmp_path / "flipped.oci.tar"
    missed = []
    for what, pos in places.items():
        data = bytearray(raw)
        data[pos] ^= 0x10
        flipped.write_bytes(data)
        status = mk.main(["--verify", str(flipped), "--no-skopeo"])
        out, err = capsys.readouterr()
        if status != 1 or ("PROBLEM" not in out and "mkimage: error" not in err):
            missed.append((what, pos, out[-500:]))
        if what == "layer blob":
            assert "manifest layers[1]: blob sha256:" in out and "corrupt" in out, out
        elif what == "manifest":
            assert "index.json manifests[0]: blob sha256:" in out, out
        elif what == "index.json":
            assert "index.json" in out, out
    assert missed == []


def test_verify_refuses_a_layer_for_another_architecture(sim_image, ociimage, tmp_path, capsys):
    """An x86_64 ELF file in the root file system (the archive sound as such) is refused."""
    mk = load_tool("mkimage")
    files = read(sim_image["path"])
    index = json.loads(files["index.json"])
    manifest = json.loads(blob(files, index["manifests"][0]["digest"]))
    config = json.loads(blob(files, manifest["config"]["digest"]))
    extra = ociimage.Tree()
    extra.file("usr/local/bin/x86-tool", pathlib.Path(sys.executable).resolve().read_bytes(), 0o755)
    raw = ociimage.layer_tar(extra, 0)
    gz = ociimage.gzip_bytes(raw)
    config["rootfs"]["diff_ids"].append(f"sha256:{ociimage.sha256(raw)}")
    cfg = ociimage.canonical_json(config)
    manifest["config"] = ociimage.descriptor(ociimage.MEDIA_CONFIG, cfg)
    manifest["layers"].append(ociimage.descriptor(ociimage.MEDIA_LAYER, gz))
    mani = ociimage.canonical_json(manifest)
    index["manifests"][0].update(ociimage.descriptor(ociimage.MEDIA_MANIFEST, mani))
    blobs = {
        d["digest"][7:]: files.get(f"blobs/sha256/{d['digest'][7:]}", gz)
        for d in manifest["layers"]
    }
    blobs.update({ociimage.sha256(b): b for b in (cfg, mani)})
    bad = tmp_path / "x86.oci.tar"
    bad.write_bytes(ociimage.image_archive(ociimage.canonical_json(index), blobs, 0))
    status = mk.main(["--verify", str(bad), "--no-skopeo"])
    out = capsys.readouterr().out
    assert status == 1
    assert "/usr/local/bin/x86-tool: machine EM_X86_64, not EM_AARCH64" in out, out
    assert "every size and sha256 matches" in out  # the archive itself was sound


# ---------------------------------------------------------------------------------------
# It runs


@pytest.fixture
def rootfs(sim_image, ociimage) -> Iterator[tuple[pathlib.Path, dict]]:
    """The image's root file system, unpacked from its layers, with qemu-aarch64-static
    copied in (the one file that is not the image's), and the image config. Not under
    pytest's tmp_path, which the image's unprivileged user could not reach."""
    qemu = shutil.which("qemu-aarch64-static")
    if qemu is None:
        pytest.skip("OCI IMAGE NOT RUN: qemu-aarch64-static is not installed")
    image = ociimage.read_image(sim_image["path"].read_bytes())
    assert image.problems == []
    top = pathlib.Path(tempfile.mkdtemp(prefix="dplane-oci-"))
    try:
        top.chmod(0o755)
        root = top / "rootfs"
        ociimage.write_tree(image.tree, root)
        (root / "usr" / "libexec").mkdir(exist_ok=True)
        shutil.copy(qemu, root / "usr" / "libexec" / "qemu-aarch64-static")
        yield root, image.config["config"]
    finally:
        # the container's mounts live in its own mount namespace, gone with it; were one
        # of them here, removing the tree would reach into the host's /dev or /sys
        mounted = [d for d in ("proc", "sys", "dev") if os.path.ismount(top / "rootfs" / d)]
        assert not mounted, f"still mounted under {top}/rootfs: {mounted}"
        shutil.rmtree(top)


def container_command(root: pathlib.Path, cfg: dict, netns: str, args: list[str]) -> list[str]:
    """The image's entry point as a container runtime would start it: in the namespace, in
    a mount namespace of its own with /proc, a read-only /sys, a /dev with only the usual
    nodes and those the image's labels ask for, chrooted into the root file system, as the
    image's user with the image's capabilities (ambient) and environment. chroot(1) itself
    needs CAP_SYS_CHROOT, which is therefore kept too; nothing else is."""
    uid, gid = cfg["User"].split(":")
    caps = [c.lower() for c in cfg["Labels"]["dplane.capabilities"].split(",") if c]
    capset = ",".join(f"+{c}" for c in [*caps, "sys_chroot"])
    devices = ["null", "zero", "full", "random", "urandom", "tty"]
    devices += [d.removeprefix("/dev/") for d in cfg["Labels"]["dplane.devices"].split(",") if d]
    mounts = [
        f"mount -t proc proc {root}/proc",
        f"mount -t sysfs -o ro sysfs {root}/sys",
        f"mount -t tmpfs -o mode=755,nosuid tmpfs {root}/dev",
        f"mkdir -p {root}/dev/shm {root}/dev/net",
        f"mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs {root}/dev/shm",
    ]
    mounts += [f"touch {root}/dev/{d} && mount --bind /dev/{d} {root}/dev/{d}" for d in devices]
    env = [*cfg["Env"], f"HOME={cfg['WorkingDir']}"]
    run = [
        "setpriv",
        f"--reuid={uid}",
        f"--regid={gid}",
        "--clear-groups",
        f"--inh-caps=-all,{capset}",
        f"--ambient-caps={capset}",
        f"--bounding-set=-all,{capset}",
        "env",
        "-i",
        *env,
        "chroot",
        str(root),
        "/usr/libexec/qemu-aarch64-static",
        *cfg["Entrypoint"],
        *args,
    ]
    script = " && ".join(mounts) + ' && exec "$@"'
    return [
        "ip",
        "netns",
        "exec",
        netns,
        "unshare",
        "--mount",
        "--propagation",
        "private",
        "sh",
        "-c",
        script,
        "container",
        *run,
    ]


def wait_serving(svc: harness.Service, started: float) -> float:
    while True:
        if svc.proc.poll() is not None:
            pytest.fail(
                f"dplane in the image exited with {svc.proc.returncode}:\n{svc.proc.stderr.read()}"
            )
        try:
            if (
                svc.health.Check(health_pb2.HealthCheckRequest(), timeout=1).status
                == health_pb2.HealthCheckResponse.SERVING
            ):
                return time.monotonic() - started
        except grpc.RpcError:
            pass
        assert time.monotonic() - started < START_TIMEOUT, "not serving in time"
        time.sleep(0.2)


def test_image_runs_dplane_under_emulation(rootfs):
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespace, TAP devices, chroot)")
    if shutil.which("setpriv") is None:
        pytest.skip("needs setpriv (util-linux)")
    root, cfg = rootfs
    assert cfg["User"] != "0:0"  # the sim board runs unprivileged
    ns = harness.Netns()
    prefix = f"dpoci{ns.id}"
    cmd = container_command(root, cfg, ns.name, [f"--file-prefix={prefix}", "--", "--no-stats"])
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    proc.stderr = harness._Drained(proc.stderr)
    channel = grpc.insecure_channel(f"{ns.ns_ip}:{harness.GRPC_PORT}")
    svc = harness.Service(
        ns,
        proc,
        prefix,
        channel,
        dpdk_pb2_grpc.DPDKironcoreStub(channel),
        health_pb2_grpc.HealthStub(channel),
        dplane_pb2_grpc.DiagnosticsStub(channel),
    )
    try:
        serving = wait_serving(svc, started)
        # the process is the image's user, with the image's capabilities only
        status = pathlib.Path(f"/proc/{proc.pid}/status").read_text()
        fields = dict(line.split(":", 1) for line in status.splitlines())
        assert fields["Uid"].split()[:2] == ["10001", "10001"]
        cap_eff = int(fields["CapEff"], 16)
        assert cap_eff == (1 << 12) | (1 << 18)  # CAP_NET_ADMIN, CAP_SYS_CHROOT (chroot's)

        uuid = svc.initialize()
        assert len(uuid) == 36
        svc.api.CreateInterface(
            dpdk_pb2.CreateInterfaceRequest(
                interface_id=b"vm-oci",
                vni=100,
                device_name=VF[0],
                ipv4_config=dpdk_pb2.IpConfig(primary_address=VM_IP.encode()),
                ipv6_config=dpdk_pb2.IpConfig(primary_address=VM_IP6.encode()),
            ),
            timeout=10,
        )
        tap = svc.tap(VF[1])
        discover = (
            Ether(dst="ff:ff:ff:ff:ff:ff", src=VM_MAC)
            / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67)
            / BOOTP(chaddr=bytes.fromhex(VM_MAC.replace(":", "")), xid=0x0C1)
            / DHCP(options=[("message-type", "discover"), "end"])
        )
        offer = None
        deadline = time.monotonic() + 20
        while offer is None and time.monotonic() < deadline:
            try:
                tap.send(discover)
            except OSError:  # the VF's link still coming up
                time.sleep(0.1)
                continue
            reply = tap.recv(timeout=2.0)
            if reply is not None and reply.haslayer(BOOTP):
                offer = reply
        assert offer is not None, "no DHCP offer"
        assert (offer[Ether].src, offer[Ether].dst) == (VF[2], VM_MAC)
        assert offer[BOOTP].yiaddr == VM_IP and offer[BOOTP].xid == 0x0C1
        assert ("message-type", 2) in offer[DHCP].options  # OFFER
        listed = svc.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(), timeout=10)
        assert [i.id for i in listed.interfaces] == [b"vm-oci"]
        print(
            f"\nthe sim image under qemu-user: serving after {serving:.1f} s as uid 10001; "
            f"Initialize, CreateInterface, DHCP OFFER {offer[BOOTP].yiaddr} through "
            f"{VF[1]}"
        )
    finally:
        status, stderr = svc.terminate(timeout=30)
        ns.delete()
    assert status == 0, stderr
    assert "Traceback" not in stderr
