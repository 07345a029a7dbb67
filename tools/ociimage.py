# SPDX-License-Identifier: Apache-2.0
"""dplane as an OCI image for the DPU (`tools/mkimage --format oci`), and its verification.

The image is a linux/arm64 OCI image archive: the OCI image layout (`oci-layout`,
`index.json`, `blobs/sha256/...`) as one tar file, which `podman load`, `skopeo copy
oci-archive:FILE ...` and `ctr images import` take. Its root file system is built here from
Debian bookworm's arm64 packages only, no base image:

* layer 1, "debian": the packages ROOT_PACKAGES need (python3.11-minimal,
  libpython3.11-stdlib, rdma-core's libibverbs1 and ibverbs-providers for mlx5, the libraries
  the firmware needs, ...) resolved by apt against a private state (the one of
  tools/mksysroot, whose .deb cache is reused) with the packages only maintainer scripts use
  (NOT_IN_IMAGE: dpkg, debconf, adduser, ...) counted as installed, and unpacked with
  `dpkg-deb --fsys-tarfile` in a merged-/usr layout (/bin, /lib, /sbin are links into
  /usr), without docs (copyright files are kept), man pages, locales or iconv modules
  (DROP); plus /etc/passwd and /etc/group with root and the user `dplane` (USER_ID), the
  directories a container needs (/tmp, /run, ...), the Python byte code of the standard
  library, and /usr/share/dplane/debian-packages.txt (every package and version).
* layer 2, "dplane": dplane and its Python dependencies installed from the aarch64 wheels of
  tools/cross-build into /usr/local/lib/python3.11/dist-packages (console scripts in
  /usr/local/bin), with byte code; the board profile as /etc/dplane/board.toml and the
  default $DP_CONF, /etc/dplane/dplane.conf.

The image config runs `/usr/bin/python3.11 -m dplane --board /etc/dplane/board.toml` (the
board's EAL arguments and service options; arguments after the image name are appended, and
$DP_CONF's file overrides the board), as the user `dplane` where the board needs no
hugepages and no PCI device (sim), else as root; its labels say which capabilities and
devices the board needs (capabilities()).

Everything is reproducible: the same wheels, board and Debian packages give the same bytes
(sorted tar entries, every mtime SOURCE_DATE_EPOCH or 0, owners 0 but the dplane user's
home, gzip without name or time, JSON with sorted keys, byte code with hash-based
invalidation compiled with PYTHONHASHSEED=0).

verify() checks an archive: its tar structure byte for byte (headers, padding, the end), the
layout, every blob's size and sha256 from index.json to the manifest to the config and the
layers, each layer's uncompressed digest against the config's diff_ids, that the archive is
exactly what this module writes for those blobs (so that no byte outside a blob can change
either), then the root file system (the user, the entry point, every ELF file: EM_AARCH64
and every DT_NEEDED found inside the image; the firmware's drivers, exports and symbols as
tools/elfcheck.py checks them), and finally skopeo reads it (`skopeo inspect` and `skopeo
copy` to a directory, which checks every blob's digest again).
"""

from __future__ import annotations

import base64
import csv
import dataclasses
import fcntl
import gzip
import hashlib
import importlib.machinery
import importlib.util
import io
import json
import os
import pathlib
import posixpath
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
import zlib
from collections.abc import Iterable
from types import ModuleType

import elfcheck

TOOLS = pathlib.Path(__file__).resolve().parent
ARCH = "arm64"
TRIPLET = "aarch64-linux-gnu"
PYVER = "3.11"
PYTHON = f"/usr/bin/python{PYVER}"
SITE = f"usr/local/lib/python{PYVER}/dist-packages"
SCRIPTS = "usr/local/bin"
ETC = "etc/dplane"
BOARD_FILE = f"/{ETC}/board.toml"
CONF_FILE = f"/{ETC}/dplane.conf"
USER, USER_ID = "dplane", 10001
HOME = f"/var/lib/{USER}"
IMAGE_NAME = "localhost/dplane"
EXIT_NO_NETWORK = 3

MEDIA_INDEX = "application/vnd.oci.image.index.v1+json"
MEDIA_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MEDIA_CONFIG = "application/vnd.oci.image.config.v1+json"
MEDIA_LAYER = "application/vnd.oci.image.layer.v1.tar+gzip"
OCI_LAYOUT = b'{"imageLayoutVersion":"1.0.0"}'
REF_NAME = "org.opencontainers.image.ref.name"
FORMAT = "dplane-oci/1"  # in the index's annotations: what verify() expects

# The roots of the Debian part: the interpreter and its standard library, rdma-core for
# mlx5, the libraries the firmware needs (more are added from the wheels' DT_NEEDED through
# SONAME_PACKAGES), /etc/os-release (base-files) and /etc/protocols, /etc/services (netbase).
ROOT_PACKAGES = (
    "base-files",
    "netbase",
    f"python{PYVER}-minimal",
    f"libpython{PYVER}-stdlib",
    "libibverbs1",
    "ibverbs-providers",
    "libnuma1",
    "libbsd0",
    "libpcap0.8",
    "libstdc++6",
)
# Shared libraries the firmware may need (tools/elfcheck.SYSTEM_LIBRARIES) -> the package
SONAME_PACKAGES = {
    "libc.so.6": "libc6",
    "libm.so.6": "libc6",
    "libdl.so.2": "libc6",
    "libpthread.so.0": "libc6",
    "librt.so.1": "libc6",
    "libutil.so.1": "libc6",
    "libresolv.so.2": "libc6",
    "ld-linux-aarch64.so.1": "libc6",
    "libgcc_s.so.1": "libgcc-s1",
    "libstdc++.so.6": "libstdc++6",
    "libatomic.so.1": "libatomic1",
    "libz.so.1": "zlib1g",
    "libnuma.so.1": "libnuma1",
    "libbsd.so.0": "libbsd0",
    "libmd.so.0": "libmd0",
    "libibverbs.so.1": "libibverbs1",
    "libmlx5.so.1": "ibverbs-providers",
    "libmlx4.so.1": "ibverbs-providers",
    "libpcap.so.0.8": "libpcap0.8",
    "libelf.so.1": "libelf1",
    "libjansson.so.4": "libjansson4",
    "libsystemd.so.0": "libsystemd0",
    "libcrypto.so.3": "libssl3",
    "libssl.so.3": "libssl3",
    "libnl-3.so.200": "libnl-3-200",
    "libnl-route-3.so.200": "libnl-route-3-200",
    "libfdt.so.1": "libfdt1",
    "libexpat.so.1": "libexpat1",
}
# Packages whose dependants need them only in their maintainer scripts, which are never run
# here: apt counts them as installed (with what they provide), so that they and their own
# dependencies (perl, PAM, ...) stay out of the image.
NOT_IN_IMAGE = {
    "dpkg": "",
    "tar": "",
    "debconf": "debconf-2.0",
    "adduser": "",
    "passwd": "",
    "mawk": "awk",
    "install-info": "",
}
# Left out of the root file system: documentation (but the copyright files), manuals,
# translations, bug-report and lintian data, debugger helpers, glibc's iconv modules (nothing
# in the image uses iconv beyond UTF-8/ASCII, which glibc has built in), Python's test
# support package and its pydoc topics.
DROP = re.compile(
    r"^usr/share/(man|info|locale|lintian|linda|bug|doc-base|gdb|gcc)(/|$)|"
    rf"^usr/lib/{TRIPLET}/gconv(/|$)|"
    rf"^usr/lib/python{PYVER}/(test|pydoc_data)(/|$)"
)
MERGED = ("bin", "sbin", "lib")  # merged /usr: these are links to usr/...
LIB_DIRS = (f"/lib/{TRIPLET}", f"/usr/lib/{TRIPLET}", "/lib", "/usr/lib")  # ld.so's own
FIRMWARE_RE = re.compile(rf"^{SITE}/dplane/_firmware\..*\.so$")
ELF_MAGIC = b"\x7fELF"


class Refused(Exception):
    """The image cannot be built, or an archive is not sound; the message says why."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def log(msg: str) -> None:
    print(f"mkimage: {msg}", file=sys.stderr, flush=True)


def epoch() -> int:
    """Every timestamp in the image: SOURCE_DATE_EPOCH, else 0."""
    return int(os.environ.get("SOURCE_DATE_EPOCH") or 0)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def canonical_json(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


# ---------------------------------------------------------------------------------------
# A root file system in memory


@dataclasses.dataclass
class Node:
    kind: str  # "file", "dir" or "link"
    mode: int = 0o644
    data: bytes = b""
    target: str = ""  # of a link
    uid: int = 0
    gid: int = 0


class Tree:
    """Paths (relative, no leading /) -> nodes; parents are directories."""

    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def mkdir(self, path: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        """A directory with all its parents; an existing one gets this mode and owner."""
        parts = path.strip("/").split("/")
        for i in range(1, len(parts)):
            parent = "/".join(parts[:i])
            if parent not in self.nodes:
                self.nodes[parent] = Node("dir", 0o755)
        old = self.nodes.get("/".join(parts))
        if old is not None and old.kind != "dir":
            raise Refused(f"/{path}: a {old.kind}, not a directory")
        self.nodes["/".join(parts)] = Node("dir", mode, uid=uid, gid=gid)

    def add(self, path: str, node: Node, where: str = "") -> None:
        path = path.strip("/")
        if not path or any(p in ("", ".", "..") for p in path.split("/")):
            raise Refused(f"{path!r}{' from ' + where if where else ''}: not a plain path")
        parent = posixpath.dirname(path)
        if parent and parent not in self.nodes:
            self.mkdir(parent)
        elif parent and self.nodes[parent].kind != "dir":
            raise Refused(
                f"/{path}{' from ' + where if where else ''}: under a "
                f"{self.nodes[parent].kind}, not a directory"
            )
        old = self.nodes.get(path)
        if old is not None:
            if node.kind == "dir" and old.kind == "dir":
                return  # as dpkg does: a directory that exists is kept as it is
            if (old.kind, old.data, old.target) != (node.kind, node.data, node.target):
                raise Refused(
                    f"/{path}{' from ' + where if where else ''}: already in the image, different"
                )
        self.nodes[path] = node

    def file(self, path: str, data: bytes, mode: int = 0o644) -> None:
        self.add(path, Node("file", mode, data))

    def resolve(self, path: str, hops: int = 40) -> str | None:
        """The path of the node `path` names inside this root, every symlink followed (those
        pointing out of the root stay inside it, as in a chroot); None if there is none."""
        todo = [p for p in path.split("/") if p]
        done: list[str] = []
        while todo:
            part = todo.pop(0)
            if part == ".":
                continue
            if part == "..":
                if done:
                    done.pop()
                continue
            here = "/".join([*done, part])
            node = self.nodes.get(here)
            if node is None:
                return None
            if node.kind == "link":
                hops -= 1
                if hops < 0:
                    return None
                target = [p for p in node.target.split("/") if p]
                if node.target.startswith("/"):
                    done = []
                todo = target + todo
                continue
            if todo and node.kind != "dir":
                return None
            done.append(part)
        return "/".join(done)

    def get(self, path: str) -> Node | None:
        real = self.resolve(path)
        return None if real is None else self.nodes.get(real)

    def overlay(self, other: Tree) -> Tree:
        merged = Tree()
        merged.nodes = {**self.nodes, **other.nodes}
        return merged

    def size(self) -> int:
        return sum(len(n.data) for n in self.nodes.values())


def layer_tar(tree: Tree, stamp: int) -> bytes:
    """The tree as an uncompressed layer tar: sorted, every entry owned as in the tree, all
    times `stamp`, no user or group names."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(tree.nodes):
            node = tree.nodes[path]
            info = tarfile.TarInfo(path)
            info.mtime, info.uid, info.gid = stamp, node.uid, node.gid
            info.uname = info.gname = ""
            info.mode = node.mode
            if node.kind == "dir":
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            elif node.kind == "link":
                info.type, info.linkname = tarfile.SYMTYPE, node.target
                tar.addfile(info)
            else:
                info.size = len(node.data)
                tar.addfile(info, io.BytesIO(node.data))
    return buf.getvalue()


def gzip_bytes(data: bytes) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, mtime=0, compresslevel=6) as gz:
        gz.write(data)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------
# Debian's packages


def load_tool(name: str) -> ModuleType:
    """A script of tools/ without .py (tools/mksysroot) as a module."""
    modname = name.replace("-", "_")
    if modname in sys.modules:
        return sys.modules[modname]
    loader = importlib.machinery.SourceFileLoader(modname, str(TOOLS / name))
    spec = importlib.util.spec_from_loader(modname, loader)
    assert spec is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[modname] = module
    loader.exec_module(module)
    return module


def cache_top(arg: str | None) -> pathlib.Path:
    """tools/mksysroot's cache directory (DIR with DIR/root, DIR/apt, DIR/debs), from
    --sysroot (DIR or DIR/root), $DPLANE_SYSROOT or the default."""
    mksysroot = load_tool("mksysroot")
    top = pathlib.Path(arg) if arg else mksysroot.default_dir()
    if top.name == "root" and (top.parent / "apt").is_dir():
        top = top.parent
    return top.absolute()


def debian_packages(top: pathlib.Path, roots: Iterable[str]) -> dict[str, pathlib.Path]:
    """package -> its arm64 .deb, for everything `roots` needs but NOT_IN_IMAGE. Resolved
    with tools/mksysroot's apt state (its lists; an update only when there are none or a
    download fails) and kept in DIR/oci/ (the sysroot's .debs are linked, not downloaded
    again); the same roots again need no network, until the sysroot changes (`mksysroot
    --refresh`): then the image's packages are resolved again, so that the image has the
    versions the firmware was built against."""
    mksysroot = load_tool("mksysroot")
    roots = sorted(set(roots))
    sysroot = (mksysroot.read_stamp(top / "root") or {}).get("packages")
    key = sha256(canonical_json([roots, NOT_IN_IMAGE, sysroot]))[:16]
    oci = top / "oci"
    debs = oci / "debs"
    try:
        debs.mkdir(parents=True, exist_ok=True)
        with open(top / ".lock", "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            stamp = oci / "packages.json"
            try:
                known = json.loads(stamp.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                known = {}
            if known.get("key") == key and all(
                (debs / f).is_file() for f in known["files"].values()
            ):
                return {p: debs / f for p, f in known["files"].items()}
            files = resolve_and_fetch(mksysroot, top, oci, roots)
            stamp.write_text(
                json.dumps(
                    {
                        "key": key,
                        "roots": roots,
                        "files": {p: f.name for p, f in sorted(files.items())},
                    },
                    indent=1,
                )
                + "\n",
                encoding="utf-8",
            )
            keep = {f.name for f in files.values()}
            for deb in debs.glob("*.deb"):
                if deb.name not in keep:
                    deb.unlink()
            return files
    except mksysroot.Failed as exc:
        raise Refused(str(exc), exc.status) from None


def resolve_and_fetch(
    mksysroot: ModuleType, top: pathlib.Path, oci: pathlib.Path, roots: list[str]
) -> dict[str, pathlib.Path]:
    status = oci / "status"
    status.write_text("", encoding="utf-8")
    apt = mksysroot.Apt(top / "apt", status=status)
    if not any((top / "apt" / "lists").glob("*Packages*")):
        log("no arm64 package lists yet: apt-get update")
        apt.update()
    updated = False
    while True:
        # the stand-ins: installed at the candidate version, providing what they provide
        policy = apt.run("policy", *[f"{p}:{ARCH}" for p in NOT_IN_IMAGE], tool="apt-cache")
        versions = dict(
            re.findall(r"^(\S+?)(?::\S+)?:\n\s+Installed: .*\n\s+Candidate: (\S+)", policy, re.M)
        )
        stubs = []
        for pkg, provides in NOT_IN_IMAGE.items():
            if versions.get(pkg, "(none)") == "(none)":
                continue
            stubs.append(
                f"Package: {pkg}\nStatus: install ok installed\nPriority: optional\n"
                f"Architecture: {ARCH}\nVersion: {versions[pkg]}\n"
                + (f"Provides: {provides}\n" if provides else "")
                + "Description: not in the image (maintainer scripts only)\n"
            )
        status.write_text("\n".join(stubs), encoding="utf-8")
        wanted = apt.closure(roots)
        debs = oci / "debs"
        files: dict[str, pathlib.Path] = {}
        missing: dict[str, str] = {}
        for pkg, version in wanted.items():
            found = mksysroot.deb_file(debs, pkg, version)
            shared = mksysroot.deb_file(top / "debs", pkg, version)
            if found is None and shared is not None:
                found = debs / shared.name
                try:
                    os.link(shared, found)
                except OSError:
                    shutil.copyfile(shared, found)
            if found is None:
                missing[pkg] = version
            else:
                files[pkg] = found
        if missing:
            log(
                f"downloading {len(missing)} of {len(wanted)} arm64 packages: "
                f"{' '.join(sorted(missing))}"
            )
            with tempfile.TemporaryDirectory(dir=oci) as tmp:
                try:
                    apt.download(missing, pathlib.Path(tmp))
                except mksysroot.Failed as exc:
                    if updated:
                        raise Refused(
                            f"cannot download the arm64 packages: {exc}", EXIT_NO_NETWORK
                        ) from None
                    log("download failed: apt-get update and again")
                    apt.update()
                    updated = True
                    continue
                for deb in pathlib.Path(tmp).glob("*.deb"):
                    deb.rename(debs / deb.name)
            for pkg, version in missing.items():
                found = mksysroot.deb_file(debs, pkg, version)
                if found is None:
                    raise Refused(f"{pkg} {version}: downloaded, but not found in {debs}")
                files[pkg] = found
        return files


def deb_version(deb: pathlib.Path) -> str:
    out = subprocess.run(
        ["dpkg-deb", "-f", str(deb), "Version"], capture_output=True, text=True, check=True
    ).stdout
    return out.strip()


def merged_path(path: str) -> str:
    """Where a package's path lands with a merged /usr (lib/x -> usr/lib/x)."""
    head = path.split("/", 1)[0]
    return f"usr/{path}" if head in MERGED or head == "lib64" else path


def dropped(path: str) -> bool:
    if DROP.match(path):
        return True
    if path.startswith("usr/share/doc/"):
        # usr/share/doc/PKG (a directory or a link to another's) and PKG/copyright stay
        rest = path[len("usr/share/doc/") :].split("/")
        return not (len(rest) == 1 or (len(rest) == 2 and rest[1] == "copyright"))
    return False


def unpack_debs(debs: dict[str, pathlib.Path]) -> Tree:
    tree = Tree()
    for top in MERGED:
        tree.add(top, Node("link", 0o777, target=f"usr/{top}"))
    for pkg, deb in sorted(debs.items()):
        proc = subprocess.run(
            ["dpkg-deb", "--fsys-tarfile", str(deb)], capture_output=True, check=False
        )
        if proc.returncode != 0:
            raise Refused(f"{deb.name}: dpkg-deb failed: {proc.stderr.decode()[-500:]}")
        with tarfile.open(fileobj=io.BytesIO(proc.stdout), mode="r:") as tar:
            for m in tar:
                orig = posixpath.normpath(m.name.lstrip("./") or ".")
                if orig == ".":
                    continue
                path = merged_path(orig)
                if orig in MERGED or dropped(path):
                    continue
                mode = m.mode & 0o7777
                if m.isdir():
                    tree.add(path, Node("dir", mode), pkg)
                elif m.issym():
                    target = m.linkname
                    if path != orig and not target.startswith("/"):
                        # a relative link that moved: the same target, from its new place
                        absolute = posixpath.normpath(
                            posixpath.join("/", posixpath.dirname(orig), target)
                        )
                        target = posixpath.relpath(
                            "/" + merged_path(absolute.lstrip("/")), "/" + posixpath.dirname(path)
                        )
                    tree.add(path, Node("link", 0o777, target=target), pkg)
                elif m.isfile() or m.islnk():  # a hard link: a copy of its target
                    f = tar.extractfile(m)
                    tree.add(path, Node("file", mode, f.read() if f else b""), pkg)
                else:
                    raise Refused(f"{deb.name}: {m.name}: device or fifo, not expected")
    return tree


def passwd_files(tree: Tree) -> None:
    tree.file(
        "etc/passwd",
        (
            "root:x:0:0:root:/root:/usr/sbin/nologin\n"
            f"{USER}:x:{USER_ID}:{USER_ID}:dplane service:{HOME}:/usr/sbin/nologin\n"
            "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n"
        ).encode(),
    )
    tree.file("etc/group", (f"root:x:0:\n{USER}:x:{USER_ID}:\nnogroup:x:65534:\n").encode())
    tree.file(
        "etc/nsswitch.conf",
        b"# the image has only files: no NIS, no systemd-resolved\n"
        b"passwd: files\ngroup: files\nshadow: files\nhosts: files dns\n"
        b"networks: files\nprotocols: files\nservices: files\nethers: files\n"
        b"rpc: files\n",
    )


def skeleton(tree: Tree) -> None:
    """What a container's root needs besides the packages' files."""
    for path, mode in (
        ("dev", 0o755),
        ("proc", 0o555),
        ("sys", 0o555),
        ("run", 0o755),
        ("tmp", 0o1777),
        ("var/tmp", 0o1777),
        ("root", 0o700),
        ("var/run", None),
        ("run/dpdk", 0o755),
    ):
        if mode is None:
            if "var/run" not in tree.nodes:
                tree.add("var/run", Node("link", 0o777, target="/run"))
            continue
        tree.mkdir(path, mode)
    tree.mkdir(HOME.lstrip("/"), 0o750, USER_ID, USER_ID)
    if "usr/bin/python3" not in tree.nodes:
        tree.add("usr/bin/python3", Node("link", 0o777, target=f"python{PYVER}"))


# ---------------------------------------------------------------------------------------
# Python: wheels and byte code


def record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def launcher(name: str, entry: str, dist: str) -> bytes:
    """A console script: `entry` is module:function (or module:object.function)."""
    module, _, attr = entry.partition(":")
    attr = attr.split("[", 1)[0].strip()
    if not attr or not module.strip():
        raise Refused(f"{dist}: console script {name} = {entry!r}: not module:function")
    head, _, rest = attr.partition(".")
    call = f"{head}{'.' + rest if rest else ''}"
    return (
        f"#!{PYTHON}\n"
        f"# {name}: a console script of {dist}, written by tools/mkimage\n"
        f"import sys\n\nfrom {module.strip()} import {head}\n\n"
        f"sys.exit({call}())\n"
    ).encode()


def install_wheel(tree: Tree, name: str, data: bytes) -> str:
    """Install one wheel into SITE (scripts into SCRIPTS), as pip would without byte code;
    returns its distribution name."""
    zf = zipfile.ZipFile(io.BytesIO(data))
    infos = [i for i in zf.infolist() if not i.is_dir()]
    dist_info = sorted(
        {
            i.filename.split("/", 1)[0]
            for i in infos
            if i.filename.split("/", 1)[0].endswith(".dist-info")
        }
    )
    if len(dist_info) != 1:
        raise Refused(f"{name}: not one .dist-info directory")
    dinfo = dist_info[0]
    data_dir = dinfo[: -len(".dist-info")] + ".data"
    dist = dinfo[: -len(".dist-info")].rsplit("-", 1)[0]
    installed: dict[str, bytes] = {}  # path relative to SITE's parent-less root -> data
    for info in infos:
        member = info.filename
        content = zf.read(info)
        executable = bool((info.external_attr >> 16) & 0o111)
        if member.startswith(data_dir + "/"):
            _, kind, rest = member.split("/", 2)
            if kind in ("purelib", "platlib"):
                dest = f"{SITE}/{rest}"
            elif kind == "scripts":
                dest = f"{SCRIPTS}/{rest}"
                if content.startswith(b"#!python"):
                    content = f"#!{PYTHON}".encode() + content[len(b"#!python") :]
                executable = True
            elif kind == "data":
                dest = f"usr/local/{rest}"
            elif kind == "headers":
                dest = f"usr/local/include/python{PYVER}/{dist}/{rest}"
            else:
                raise Refused(f"{name}: {member}: unknown wheel data directory")
        elif member in (f"{dinfo}/RECORD", f"{dinfo}/RECORD.jws", f"{dinfo}/RECORD.p7s"):
            continue
        else:
            dest = f"{SITE}/{member}"
        tree.add(dest, Node("file", 0o755 if executable else 0o644, content), name)
        installed[dest] = content
    # console scripts
    try:
        entry_points = zf.read(f"{dinfo}/entry_points.txt").decode()
    except KeyError:
        entry_points = ""
    section = ""
    for line in entry_points.splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]")
        elif section == "console_scripts" and "=" in line:
            script, _, entry = (x.strip() for x in line.partition("="))
            content = launcher(script, entry, dist)
            tree.add(f"{SCRIPTS}/{script}", Node("file", 0o755, content), name)
            installed[f"{SCRIPTS}/{script}"] = content
    installed[f"{SITE}/{dinfo}/INSTALLER"] = b"mkimage\n"
    tree.file(f"{SITE}/{dinfo}/INSTALLER", b"mkimage\n")
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    for path, content in sorted(installed.items()):
        writer.writerow(
            [posixpath.relpath("/" + path, "/" + SITE), record_hash(content), len(content)]
        )
    writer.writerow([f"{dinfo}/RECORD", "", ""])
    tree.file(f"{SITE}/{dinfo}/RECORD", out.getvalue().encode())
    return dist


def check_requirements(wheels: list[tuple[str, bytes]], installed: set[str]) -> list[str]:
    """Requirements of the wheels (for Python 3.11 on Linux aarch64, no extras) that no
    installed distribution meets by name."""

    def norm(name: str) -> str:
        return re.sub(r"[-_.]+", "-", name).lower()

    try:
        from packaging.requirements import InvalidRequirement, Requirement
    except ImportError:  # pragma: no cover (pip's own copy is not meant to be imported)
        return []
    env = {
        "python_version": PYVER,
        "python_full_version": f"{PYVER}.2",
        "platform_machine": "aarch64",
        "sys_platform": "linux",
        "os_name": "posix",
        "platform_system": "Linux",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }
    have = {norm(n) for n in installed}
    problems = []
    for name, data in wheels:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            meta = next(n for n in zf.namelist() if n.endswith(".dist-info/METADATA"))
            text = zf.read(meta).decode("utf-8", "replace")
        for line in text.splitlines():
            if not line.startswith("Requires-Dist:"):
                continue
            try:
                req = Requirement(line.split(":", 1)[1].strip())
            except InvalidRequirement:
                problems.append(f"{name}: cannot read {line!r}")
                continue
            if req.marker is not None and not req.marker.evaluate(env):
                continue
            if norm(req.name) not in have:
                problems.append(f"{name} needs {req}, which no wheel provides")
    return problems


_COMPILE = r"""
import importlib._bootstrap_external as ext, importlib.util, json, sys
jobs = json.load(sys.stdin)
out = {}
for path, source in jobs:
    data = source.encode("latin-1")
    try:
        code = compile(data, "/" + path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError):
        continue
    pyc = ext._code_to_hash_pyc(code, importlib.util.source_hash(data), True)
    out[path] = bytes(pyc).decode("latin-1")
json.dump(out, sys.stdout)
"""


def compile_python(tree: Tree, prefixes: tuple[str, ...]) -> int:
    """Byte code (checked-hash .pyc, PEP 552) next to every .py under `prefixes`, compiled
    by this host's Python in a fresh process with a fixed hash seed, so that it is the same
    for the same sources. Only with a Python 3.11 here (the same magic number as the
    image's); otherwise the image compiles at run time."""
    if sys.version_info[:2] != tuple(int(x) for x in PYVER.split(".")):
        log(
            f"host Python is {sys.version_info[0]}.{sys.version_info[1]}, not {PYVER}: "
            "no byte code in the image"
        )
        return 0
    tag = f"cpython-{PYVER.replace('.', '')}"
    jobs = [
        (path, node.data.decode("latin-1"))
        for path, node in sorted(tree.nodes.items())
        if node.kind == "file" and path.endswith(".py") and path.startswith(prefixes)
    ]
    proc = subprocess.run(
        [sys.executable, "-I", "-c", _COMPILE],
        input=json.dumps(jobs),
        capture_output=True,
        text=True,
        env={"PYTHONHASHSEED": "0", "PATH": os.environ.get("PATH", "")},
        check=False,
    )
    if proc.returncode != 0:
        raise Refused(f"compiling the Python byte code failed:\n{proc.stderr[-2000:]}")
    done = json.loads(proc.stdout)
    for path, pyc in done.items():
        head, name = posixpath.split(path)
        tree.file(f"{head}/__pycache__/{name[:-3]}.{tag}.pyc", pyc.encode("latin-1"))
    return len(done)


# ---------------------------------------------------------------------------------------
# The board: what the container needs


@dataclasses.dataclass
class BoardInfo:
    name: str
    description: str
    text: str  # the profile
    memory: str  # "no-huge", "in-memory", "hugepages"
    memory_mb: int
    pci: bool  # some port is a PCI device
    drivers: list[str]
    eal_line: str  # `dplane --board X --print-eal-args`

    @property
    def rootless(self) -> bool:
        """Whether dplane runs as the unprivileged user: no hugepages, no PCI device."""
        return self.memory == "no-huge" and not self.pci

    @property
    def hugepages(self) -> bool:
        return self.memory != "no-huge"


@dataclasses.dataclass
class Needs:
    capabilities: list[str]  # without CAP_
    optional: list[str]  # useful with some NICs or options, not needed by the board
    devices: list[str]
    why: dict[str, str]


def capabilities(board: BoardInfo) -> Needs:
    """What the service needs from the container runtime on this board, and why."""
    caps: dict[str, str] = {}
    optional: dict[str, str] = {}
    devices = []
    if any(d in ("net_tap", "net_tun") for d in board.drivers):
        caps["NET_ADMIN"] = "net_tap creates its TAP devices (TUNSETIFF) and sets them up"
        devices.append("/dev/net/tun")
    if "net_pcap" in board.drivers:
        caps["NET_RAW"] = "net_pcap reads and writes its interfaces through packet sockets"
    if board.pci:
        caps["NET_ADMIN"] = "mlx5 configures its netdevs and flow rules through netlink"
        caps["NET_RAW"] = "mlx5 opens raw Ethernet queue pairs through ibverbs"
        caps["IPC_LOCK"] = "ibverbs pins (mlocks) the memory it registers for DMA"
        caps["SYS_ADMIN"] = (
            "mlx5 DevX objects and flow steering; DPDK reads physical "
            "addresses from /proc/self/pagemap"
        )
        optional["SYS_RAWIO"] = (
            "direct PCI resource access: a vfio-pci or uio-bound NIC, "
            "--iova-mode=pa; not mlx5, which works through ibverbs"
        )
        devices += ["/dev/infiniband", "/dev/vfio"]
    elif board.hugepages:
        caps["IPC_LOCK"] = "DPDK locks its hugepage memory"
    return Needs(sorted(caps), sorted(optional), devices, {**caps, **optional})


def image_config(
    board: BoardInfo,
    version: str,
    diff_ids: list[str],
    packages: int,
    stamp: int,
    history: list[str],
) -> dict:
    needs = capabilities(board)
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(stamp))
    user = f"{USER_ID}:{USER_ID}" if board.rootless else "0:0"
    labels = {
        "org.opencontainers.image.title": "dplane",
        "org.opencontainers.image.description": (
            f"dplane dataplane service, board {board.name}: {board.description}"
        ),
        "org.opencontainers.image.version": version,
        "dplane.base": (
            "none: Debian bookworm arm64 packages, listed in "
            "/usr/share/dplane/debian-packages.txt (licences in "
            "/usr/share/doc/*/copyright)"
        ),
        "dplane.board": board.name,
        "dplane.eal-args": board.eal_line,
        "dplane.drivers": ",".join(board.drivers),
        "dplane.run-as": (
            f"{USER} ({USER_ID}) with the capabilities below as ambient capabilities"
            if board.rootless
            else "root (uid 0), with the capabilities below or privileged"
        ),
        "dplane.capabilities": ",".join(needs.capabilities),
        "dplane.capabilities.optional": ",".join(needs.optional),
        "dplane.devices": ",".join(needs.devices),
        "dplane.hugepages": (
            f"{board.memory_mb}Mi (hugetlbfs on /dev/hugepages)" if board.hugepages else "none"
        ),
        "dplane.network": (
            "the host's (--network=host, hostNetwork): the PFs' netdevs and representors"
            if board.pci
            else "any: dplane makes its TAP devices in the container's network"
        ),
        "dplane.debian-packages": str(packages),
        **{f"dplane.capability.{c.lower()}": why for c, why in sorted(needs.why.items())},
    }
    return {
        "architecture": ARCH,
        "os": "linux",
        "variant": "v8",
        "created": created,
        "author": "tools/mkimage",
        "config": {
            "User": user,
            "Env": [
                "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                f"DP_CONF={CONF_FILE}",
                "LANG=C.UTF-8",
                "PYTHONUNBUFFERED=1",
                "PYTHONDONTWRITEBYTECODE=1",
            ],
            "Entrypoint": [PYTHON, "-m", "dplane", "--board", BOARD_FILE],
            "WorkingDir": HOME,
            "StopSignal": "SIGTERM",
            "ExposedPorts": {"1337/tcp": {}},
            "Labels": labels,
        },
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created": created, "created_by": h} for h in history],
    }


# ---------------------------------------------------------------------------------------
# Deployment files


def ports_note(board: BoardInfo) -> str:
    return "mlx5 PFs and VF representors" if board.pci else "TAP devices"


def podman_unit(board: BoardInfo, ref: str, version: str) -> str:
    needs = capabilities(board)
    caps = " ".join(f"--cap-add={c}" for c in needs.capabilities)
    devices = " ".join(f"--device={d}" for d in needs.devices)
    huge = " --volume=/dev/hugepages:/dev/hugepages" if board.hugepages else ""
    return f"""\
# dplane {version}, board {board.name}: the OCI image run by podman, for a DPU without
# kubelet. Load the image, write the configuration, install this unit:
#   podman load -i dplane-{version}-{board.name}.oci.tar      (-> {ref})
#   install -D -m 644 /dev/null /etc/dplane/dplane.conf     (then: ipv6 <underlay address>)
#   cp THIS_FILE /etc/systemd/system/dplane.service && systemctl enable --now dplane
# The container shares the host's network (the {ports_note(board)} are the host's) and
# gets only the capabilities and devices the board needs (the image's labels say why):
#   {", ".join(needs.capabilities) or "none"}; devices {", ".join(needs.devices) or "none"}
[Unit]
Description=dplane dataplane service (board {board.name}, podman)
Wants=network-online.target
After=network-online.target
RequiresMountsFor=%t/containers{" /dev/hugepages" if board.hugepages else ""}

[Service]
Environment=PODMAN_SYSTEMD_UNIT=%n
Restart=on-failure
RestartSec=5
TimeoutStopSec=30
ExecStartPre=/bin/rm -f %t/%n.ctr-id
ExecStart=/usr/bin/podman run --cidfile=%t/%n.ctr-id --cgroups=no-conmon --rm \\
    --sdnotify=conmon --detach --replace --name=dplane --network=host --pull=never \\
    --cap-drop=all {caps} {devices} \\
    --ulimit=memlock=-1:-1{huge} \\
    --volume=/etc/dplane/dplane.conf:{CONF_FILE}:ro --env=DP_CONF={CONF_FILE} \\
    {ref}
ExecStop=/usr/bin/podman stop --ignore --time=10 --cidfile=%t/%n.ctr-id
ExecStopPost=/usr/bin/podman rm --force --ignore --cidfile=%t/%n.ctr-id
Type=notify
NotifyAccess=all

[Install]
WantedBy=multi-user.target
"""


def kubelet_pod(board: BoardInfo, ref: str, version: str) -> str:
    needs = capabilities(board)
    huge = f"{board.memory_mb}Mi"
    memory = f"{board.memory_mb + 1024 if board.hugepages else board.memory_mb + 512}Mi"
    lines = [
        f"""\
# dplane {version}, board {board.name}: a kubelet static pod. Import the image into the
# node's container runtime, write the configuration, drop this file into the kubelet's
# staticPodPath:
#   ctr -n k8s.io images import dplane-{version}-{board.name}.oci.tar   (or podman load)
#   vi /etc/dplane/dplane.conf                       (at least: ipv6 <underlay address>)
#   cp THIS_FILE /etc/kubernetes/manifests/dplane.yaml
apiVersion: v1
kind: Pod
metadata:
  name: dplane
  namespace: kube-system
  labels:
    app.kubernetes.io/name: dplane
    app.kubernetes.io/version: "{version}"
    dplane/board: {board.name}
spec:
  # the {ports_note(board)} are the host's: dplane works in the host's network namespace
  hostNetwork: true
  dnsPolicy: Default
  priorityClassName: system-node-critical
  terminationGracePeriodSeconds: 30
  containers:
  - name: dplane
    image: {ref}
    imagePullPolicy: Never
    env:
    - name: DP_CONF
      value: {CONF_FILE}
    ports:
    - name: grpc
      containerPort: 1337
      protocol: TCP
    resources:
      requests:
        cpu: "2"
        memory: {memory}"""
    ]
    if board.hugepages:
        lines.append(f"""\
        hugepages-2Mi: {huge}""")
    lines.append(f"""\
      limits:
        cpu: "2"
        memory: {memory}""")
    if board.hugepages:
        lines.append(f"""\
        hugepages-2Mi: {huge}""")
    if board.rootless:
        lines.append(f"""\
    securityContext:
      # TAP devices need CAP_NET_ADMIN. The kubelet gives added capabilities to a non-root
      # user only in its bounding set, not as ambient ones: run as root with just these.
      runAsUser: 0
      runAsGroup: 0
      allowPrivilegeEscalation: false
      capabilities:
        drop: ["ALL"]
        add: [{", ".join(f'"{c}"' for c in needs.capabilities)}]""")
    else:
        lines.append(f"""\
    securityContext:
      # privileged, because a pod cannot be given device nodes without a device plugin:
      # mlx5 opens /dev/infiniband/uverbs* and rdma_cm through ibverbs (and a vfio-bound
      # NIC /dev/vfio/*), which must be visible and allowed by the device cgroup; it also
      # needs {", ".join(needs.capabilities)} (see the image's dplane.capability.*
      # labels). With an RDMA device plugin (e.g. k8s-rdma-shared-dev-plugin) handing out
      # /dev/infiniband, drop privileged and add just those capabilities.
      privileged: true""")
    mounts = [
        f"""\
    volumeMounts:
    - name: conf
      mountPath: {CONF_FILE}
      readOnly: true"""
    ]
    if board.hugepages:
        mounts.append("""\
    - name: hugepages
      mountPath: /dev/hugepages""")
    if board.pci:
        mounts.append("""\
    - name: dev-infiniband
      mountPath: /dev/infiniband
    - name: dev-vfio
      mountPath: /dev/vfio""")
    elif needs.devices:
        mounts.append("""\
    - name: dev-net-tun
      mountPath: /dev/net/tun""")
    lines += mounts
    lines.append("""\
  volumes:
  - name: conf
    hostPath:
      # the pod does not start until it exists: at least `ipv6 <underlay address>`
      path: /etc/dplane/dplane.conf
      type: File""")
    if board.hugepages:
        lines.append("""\
  - name: hugepages
    emptyDir:
      medium: HugePages-2Mi""")
    if board.pci:
        lines.append("""\
  - name: dev-infiniband
    hostPath:
      path: /dev/infiniband
      type: Directory
  - name: dev-vfio
    hostPath:
      path: /dev/vfio
      type: DirectoryOrCreate""")
    elif needs.devices:
        lines.append("""\
  - name: dev-net-tun
    hostPath:
      path: /dev/net/tun
      type: CharDevice""")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------
# Building


@dataclasses.dataclass
class Built:
    path: pathlib.Path
    digest: str  # of the manifest, "sha256:..."
    ref: str
    size: int  # bytes of the archive
    rootfs_bytes: int  # file data in the root file system
    packages: int
    deploy: list[pathlib.Path]


def image_archive(index: bytes, blobs: dict[str, bytes], stamp: int) -> bytes:
    """The OCI layout as a tar, in the one form this module writes and verify() expects."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:

        def add(name: str, data: bytes | None) -> None:
            info = tarfile.TarInfo(name)
            info.mtime, info.uid, info.gid, info.uname, info.gname = stamp, 0, 0, "", ""
            if data is None:
                info.type, info.mode = tarfile.DIRTYPE, 0o755
                tar.addfile(info)
            else:
                info.size, info.mode = len(data), 0o644
                tar.addfile(info, io.BytesIO(data))

        add("blobs", None)
        add("blobs/sha256", None)
        for digest in sorted(blobs):
            add(f"blobs/sha256/{digest}", blobs[digest])
        add("index.json", index)
        add("oci-layout", OCI_LAYOUT)
    return buf.getvalue()


def descriptor(media: str, data: bytes, **extra: object) -> dict:
    return {"mediaType": media, "digest": f"sha256:{sha256(data)}", "size": len(data), **extra}


def build(
    out: pathlib.Path,
    board: BoardInfo,
    version: str,
    conf: str,
    wheels: list[tuple[str, bytes]],
    cache_dir: str | None,
    needed: Iterable[str],
) -> Built:
    """Write the image archive `out` and its deployment files next to it."""
    started = time.monotonic()
    stamp = epoch()
    roots = set(ROOT_PACKAGES)
    for soname in needed:
        if soname in SONAME_PACKAGES:
            roots.add(SONAME_PACKAGES[soname])
    top = cache_top(cache_dir)
    debs = debian_packages(top, roots)
    log(f"{len(debs)} Debian arm64 packages ({time.monotonic() - started:.1f} s)")

    base = unpack_debs(debs)
    skeleton(base)
    passwd_files(base)
    listing = "".join(f"{pkg} {deb_version(path)}\n" for pkg, path in sorted(debs.items()))
    base.file("usr/share/dplane/debian-packages.txt", listing.encode())
    pyc = compile_python(base, (f"usr/lib/python{PYVER}/",))

    app = Tree()
    dists = {install_wheel(app, name, data) for name, data in wheels}
    problems = check_requirements(wheels, dists)
    if problems:
        raise Refused("; ".join(problems))
    pyc += compile_python(app, (SITE + "/",))
    app.mkdir(ETC)
    app.file(BOARD_FILE.lstrip("/"), board.text.encode())
    app.file(CONF_FILE.lstrip("/"), conf.encode())
    # the parents of what the layer adds, as in the first layer
    for path in list(app.nodes):
        parent = posixpath.dirname(path)
        while parent:
            if parent in base.nodes and base.nodes[parent].kind == "dir":
                app.nodes[parent] = dataclasses.replace(base.nodes[parent])
            parent = posixpath.dirname(parent)
    log(
        f"root file system: {len(base.nodes) + len(app.nodes)} entries, {pyc} .pyc "
        f"({time.monotonic() - started:.1f} s)"
    )

    rootfs = base.overlay(app)
    results, problems = check_rootfs(rootfs, board.drivers)
    for line in summarize(results):
        print(line)
    if problems:
        for p in problems:
            print(f"PROBLEM: {p}")
        raise Refused(f"{len(problems)} problem(s) in the root file system: no image written")

    layers = []
    for tree in (base, app):
        raw = layer_tar(tree, stamp)
        layers.append((raw, gzip_bytes(raw)))
    history = [
        f"tools/mkimage: {len(debs)} Debian bookworm arm64 packages (python{PYVER}, "
        "rdma-core, ...), users root and dplane",
        f"tools/mkimage: dplane {version} and {len(wheels) - 1} wheels it needs, board "
        f"{board.name}",
    ]
    config = canonical_json(
        image_config(
            board, version, [f"sha256:{sha256(r)}" for r, _ in layers], len(debs), stamp, history
        )
    )
    manifest = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_MANIFEST,
            "config": descriptor(MEDIA_CONFIG, config),
            "layers": [descriptor(MEDIA_LAYER, gz) for _, gz in layers],
            "annotations": {
                "org.opencontainers.image.title": "dplane",
                "org.opencontainers.image.version": version,
            },
        }
    )
    ref = f"{IMAGE_NAME}:{version}-{board.name}"
    index = canonical_json(
        {
            "schemaVersion": 2,
            "mediaType": MEDIA_INDEX,
            "manifests": [
                descriptor(
                    MEDIA_MANIFEST,
                    manifest,
                    platform={"architecture": ARCH, "os": "linux", "variant": "v8"},
                    annotations={REF_NAME: ref, "io.containerd.image.name": ref},
                )
            ],
            "annotations": {"dplane.format": FORMAT},
        }
    )
    blobs = {sha256(b): b for b in (config, manifest, *(gz for _, gz in layers))}
    archive = image_archive(index, blobs, stamp)

    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out.name}.", dir=out.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(archive)
        os.chmod(tmp, 0o644)
        os.replace(tmp, out)
    except BaseException:
        os.unlink(tmp)
        raise
    deploy = []
    stem = deploy_stem(out)
    for suffix, text in (
        (".podman.service", podman_unit(board, ref, version)),
        (".kubelet.yaml", kubelet_pod(board, ref, version)),
    ):
        path = out.with_name(stem + suffix)
        path.write_text(text, encoding="utf-8")
        deploy.append(path)
    log(f"image written in {time.monotonic() - started:.1f} s")
    return Built(
        out, f"sha256:{sha256(manifest)}", ref, len(archive), rootfs.size(), len(debs), deploy
    )


def deploy_stem(out: pathlib.Path) -> str:
    name = out.name
    for suffix in (".tar", ".oci"):
        name = name.removesuffix(suffix)
    return name


# ---------------------------------------------------------------------------------------
# Checking a root file system


@dataclasses.dataclass
class ElfFile:
    path: str
    report: elfcheck.Report
    kind: str  # "firmware", "extension" (a wheel's Python extension), "debian"


def search_dirs(report: elfcheck.Report, where: str) -> list[str]:
    """Where the dynamic loader looks for the DT_NEEDED of the ELF file `where`: DT_RPATH
    (without DT_RUNPATH), DT_RUNPATH, then its system directories (ld.so.conf counts only
    through ld.so.cache, which the image does not have)."""
    origin = "/" + posixpath.dirname(where)
    dirs = (report.rpath if not report.runpath else []) + report.runpath
    return [d.replace("${ORIGIN}", origin).replace("$ORIGIN", origin) for d in dirs] + list(
        LIB_DIRS
    )


def find_library(tree: Tree, name: str, dirs: Iterable[str]) -> str | None:
    """The path of the file a DT_NEEDED `name` loads, looked for in `dirs`, or None."""
    for d in ["/"] if "/" in name else dirs:
        real = tree.resolve(posixpath.join(d, name))
        if real and tree.nodes[real].kind == "file":
            return real
    return None


def check_rootfs(tree: Tree, drivers: list[str]) -> tuple[list[ElfFile], list[str]]:
    """Every ELF file of the root file system: EM_AARCH64, its interpreter and every
    DT_NEEDED found inside the tree; the firmware and the wheels' extensions as mkimage
    checks them in the wheels, with the symbols looked up in the tree's own libraries and
    interpreter."""
    reports: dict[str, elfcheck.Report] = {}
    problems: list[str] = []
    elfs: list[ElfFile] = []

    def inspect(path: str) -> elfcheck.Report:
        if path not in reports:
            reports[path] = elfcheck.inspect_bytes("/" + path, tree.nodes[path].data)
        return reports[path]

    for path, node in sorted(tree.nodes.items()):
        if node.kind != "file" or node.data[:4] != ELF_MAGIC:
            continue
        try:
            report = inspect(path)
        except elfcheck.ElfCheckError as exc:
            problems.append(str(exc))
            continue
        kind = (
            "firmware"
            if FIRMWARE_RE.match(path)
            else "extension"
            if path.startswith(SITE + "/")
            else "debian"
        )
        elfs.append(ElfFile(path, report, kind))
        if report.machine != "EM_AARCH64":
            problems.append(f"/{path}: machine {report.machine}, not EM_AARCH64")
        if report.interp and tree.get(report.interp) is None:
            problems.append(f"/{path}: its interpreter {report.interp} is not in the image")
        dirs = search_dirs(report, path)
        missing = [n for n in report.needed if find_library(tree, n, dirs) is None]
        if missing:
            problems.append(f"/{path}: needs {', '.join(missing)}, not in the image")

    python = tree.resolve(PYTHON)
    interp = inspect(python) if python else None
    if interp is None:
        problems.append(f"{PYTHON}: not in the image")

    def find(lib: str) -> elfcheck.Report | None:
        real = find_library(tree, lib, LIB_DIRS)
        return inspect(real) if real else None

    for elf in elfs:
        if elf.kind == "debian":
            continue
        firmware = elf.kind == "firmware"
        own = elfcheck.check(elf.report, "aarch64", drivers if firmware else [],
                             dpdk_version=elfcheck.DPDK_SERIES if firmware else None)
        if elf.kind == "extension":  # other extensions export their own symbols
            own = [p for p in own if not p.startswith("exports")]
        own += elfcheck.check_imports(
            elf.report, elfcheck.providers_found(elf.report, find, interp)
        )
        problems += [f"/{elf.path}: {p}" for p in own]
    if not any(e.kind == "firmware" for e in elfs):
        problems.append(f"no dplane/_firmware*.so in {SITE}")
    return elfs, problems


def summarize(elfs: list[ElfFile]) -> list[str]:
    lines = [
        f"rootfs: {len(elfs)} ELF files, all EM_AARCH64 with every DT_NEEDED inside the image"
        if elfs
        else "rootfs: no ELF files"
    ]
    for e in elfs:
        if e.kind == "firmware":
            r = e.report
            lines.append(
                f"  /{e.path}: {r.size / 1e6:.2f} MB, needs {', '.join(r.needed)}; "
                f"PMDs {', '.join(r.pmds)}; {len(r.undefined)} imports resolved in "
                "the image"
            )
    return lines


# ---------------------------------------------------------------------------------------
# Verifying


def is_oci_archive(raw: bytes) -> bool:
    try:
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            return any(m.name == "oci-layout" for m in tar.getmembers())
    except (tarfile.TarError, EOFError, ValueError, zlib.error):
        return False


def read_archive(raw: bytes, problems: list[str]) -> dict[str, bytes]:
    """The archive's files, checking its tar structure: regular files and directories only,
    each header's checksum field in its one form, zero padding, zeros after the last."""
    files: dict[str, bytes] = {}
    try:
        tar = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
        members = tar.getmembers()
    except (tarfile.TarError, EOFError, ValueError) as exc:
        raise Refused(f"not an OCI image archive (not a readable tar: {exc})") from None
    end = 0
    for m in members:
        if raw[m.offset + 154 : m.offset + 156] != b"\0 ":  # after the checksum's digits
            problems.append(f"{m.name}: tar header checksum field altered")
        padding = -m.size % tarfile.BLOCKSIZE
        if m.isfile():
            files[m.name] = raw[m.offset_data : m.offset_data + m.size]
            if raw[m.offset_data + m.size : m.offset_data + m.size + padding].strip(b"\0"):
                problems.append(f"{m.name}: non-zero bytes in the padding after it")
        elif not m.isdir():
            problems.append(f"{m.name}: not a file or directory (links are not allowed)")
        end = m.offset_data + m.size + padding
    tail = raw[end:].strip(b"\0")
    if tail:
        problems.append(
            f"{len(tail)} non-zero bytes after the last member (a damaged header "
            "or data after the end of the archive)"
        )
    names = [m.name for m in members]
    for name in sorted({n for n in names if names.count(n) > 1}):
        problems.append(f"{name}: more than once in the archive")
    return files


def read_json(data: bytes, what: str, problems: list[str]) -> dict:
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        problems.append(f"{what}: not JSON ({exc})")
        return {}
    if not isinstance(obj, dict):
        problems.append(f"{what}: not a JSON object")
        return {}
    if canonical_json(obj) != data:
        problems.append(f"{what}: not in its canonical form (altered?)")
    return obj


def blob(
    files: dict[str, bytes], desc: object, what: str, media: str, problems: list[str]
) -> bytes | None:
    """The blob a descriptor points at, if its media type, size and digest match."""
    if not isinstance(desc, dict):
        problems.append(f"{what}: not a descriptor")
        return None
    digest, size = desc.get("digest"), desc.get("size")
    if desc.get("mediaType") != media:
        problems.append(f"{what}: media type {desc.get('mediaType')!r}, not {media}")
    if not isinstance(digest, str) or not re.fullmatch(r"sha256:[0-9a-f]{64}", digest):
        problems.append(f"{what}: bad digest {digest!r}")
        return None
    data = files.get(f"blobs/sha256/{digest[7:]}")
    if data is None:
        problems.append(f"{what}: blob {digest} missing")
        return None
    if size != len(data):
        problems.append(f"{what}: size {size}, the blob has {len(data)} bytes")
    if sha256(data) != digest[7:]:
        problems.append(
            f"{what}: blob {digest[:19]}... does not match its digest "
            f"(sha256 {sha256(data)[:12]}...: corrupt)"
        )
        return None
    return data


def apply_layer(tree: Tree, raw: bytes, what: str, problems: list[str]) -> None:
    try:
        tar = tarfile.open(fileobj=io.BytesIO(raw), mode="r:")
        members = tar.getmembers()
    except (tarfile.TarError, EOFError, ValueError) as exc:
        problems.append(f"{what}: not a readable tar ({exc})")
        return
    for m in members:
        path = posixpath.normpath(m.name)
        if path.startswith(("/", "../")) or path == "..":
            problems.append(f"{what}: {m.name}: outside the root")
            continue
        if path == ".":
            continue
        head, base = posixpath.split(path)
        if base.startswith(".wh."):  # a whiteout: the lower layers' entry goes
            if base == ".wh..wh..opq":
                for p in [p for p in tree.nodes if p.startswith(head + "/")]:
                    del tree.nodes[p]
            else:
                gone = posixpath.join(head, base[4:])
                for p in [p for p in tree.nodes if p == gone or p.startswith(gone + "/")]:
                    del tree.nodes[p]
            continue
        if m.isdir():
            node = Node("dir", m.mode & 0o7777, uid=m.uid, gid=m.gid)
        elif m.issym():
            node = Node("link", 0o777, target=m.linkname, uid=m.uid, gid=m.gid)
        elif m.isfile() or m.islnk():
            f = tar.extractfile(m)
            node = Node("file", m.mode & 0o7777, f.read() if f else b"", uid=m.uid, gid=m.gid)
        else:
            problems.append(f"{what}: {m.name}: a device or fifo")
            continue
        for p in [p for p in tree.nodes if p.startswith(path + "/")] if node.kind != "dir" else []:
            del tree.nodes[p]
        if head and head not in tree.nodes:
            tree.mkdir(head)
        tree.nodes[path] = node


def check_config(tree: Tree, config: dict, problems: list[str]) -> None:
    cfg = config.get("config") or {}
    entry = cfg.get("Entrypoint") or []
    if not entry:
        problems.append("config: no Entrypoint")
    else:
        node = tree.get(entry[0])
        if node is None or node.kind != "file" or not node.mode & 0o111:
            problems.append(f"config: Entrypoint {entry[0]} is not an executable in the image")
    user = str(cfg.get("User") or "0").split(":", 1)[0]
    passwd = tree.get("etc/passwd")
    users = {}
    for line in (passwd.data.decode() if passwd else "").splitlines():
        fields = line.split(":")
        if len(fields) >= 7:
            users[fields[0]] = fields[2]
            users[fields[2]] = fields[2]
    if user not in users:
        problems.append(f"config: User {user} is not in the image's /etc/passwd")
    workdir = cfg.get("WorkingDir")
    if workdir and (tree.get(workdir) is None or tree.get(workdir).kind != "dir"):
        problems.append(f"config: WorkingDir {workdir} is not a directory in the image")
    env = dict(e.split("=", 1) for e in cfg.get("Env") or [] if "=" in e)
    conf = env.get("DP_CONF")
    if conf and tree.get(conf) is None:
        problems.append(f"config: DP_CONF {conf} is not in the image")


def skopeo_check(path: pathlib.Path, digest: str) -> list[str]:
    """`skopeo inspect` (the manifest, arm64/linux) and `skopeo copy` into a directory,
    which checks every blob against its digest."""
    if shutil.which("skopeo") is None:
        return [
            "skopeo not installed (apt-get install skopeo; tools/setup.sh does): the "
            "archive was not read by an OCI tool"
        ]
    problems = []
    proc = subprocess.run(
        ["skopeo", "inspect", f"oci-archive:{path}"],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if proc.returncode != 0:
        return [f"skopeo inspect failed: {proc.stderr.strip()[-1000:]}"]
    try:
        info = json.loads(proc.stdout)
    except ValueError:
        return [f"skopeo inspect: not JSON: {proc.stdout[:200]!r}"]
    if info.get("Digest") != digest:
        problems.append(f"skopeo inspect: digest {info.get('Digest')}, not {digest}")
    if (info.get("Architecture"), info.get("Os")) != (ARCH, "linux"):
        problems.append(
            f"skopeo inspect: {info.get('Os')}/{info.get('Architecture')}, not linux/{ARCH}"
        )
    with tempfile.TemporaryDirectory(prefix="mkimage-skopeo-") as tmp:
        proc = subprocess.run(
            [
                "skopeo",
                "--insecure-policy",
                "copy",
                "--quiet",
                f"oci-archive:{path}",
                f"dir:{tmp}/image",
            ],
            capture_output=True,
            text=True,
            check=False,
            timeout=300,
        )
        if proc.returncode != 0:
            problems.append(f"skopeo copy failed: {proc.stderr.strip()[-1000:]}")
    if not problems:
        print(
            f"  skopeo: inspect {info.get('Os')}/{info.get('Architecture')} "
            f"{info.get('Digest')}, {len(info.get('Layers') or [])} layers; copy: every "
            "blob matches its digest"
        )
    return problems


@dataclasses.dataclass
class Opened:
    """What read_image() found in an archive."""

    problems: list[str]
    ref: str = "?"
    digest: str = ""  # the manifest's
    config: dict = dataclasses.field(default_factory=dict)
    layers: int = 0
    tree: Tree = dataclasses.field(default_factory=Tree)  # the layers applied in order


def read_image(raw: bytes) -> Opened:
    """Read an OCI image archive made by build(), checking as it goes: the tar structure,
    the layout, every descriptor's media type, size and digest from index.json down, the
    layers' diff_ids, no blob more, and that the archive is exactly the one build() writes
    for its blobs. Refused when it is not a tar at all."""
    out = Opened([])
    problems = out.problems
    files = read_archive(raw, problems)
    for name in sorted(set(files) - {"oci-layout", "index.json"}):
        if not re.fullmatch(r"blobs/sha256/[0-9a-f]{64}", name):
            problems.append(f"{name}: not part of an OCI image layout")
    if files.get("oci-layout") != OCI_LAYOUT:
        problems.append("oci-layout: missing or not imageLayoutVersion 1.0.0")
    index = read_json(files.get("index.json", b""), "index.json", problems)
    if index.get("schemaVersion") != 2 or index.get("mediaType") != MEDIA_INDEX:
        problems.append("index.json: not an OCI image index (schemaVersion 2)")
    if (index.get("annotations") or {}).get("dplane.format") != FORMAT:
        problems.append(f"index.json: not a dplane image ({FORMAT})")
    manifests = index.get("manifests") or []
    if len(manifests) != 1:
        problems.append(f"index.json: {len(manifests)} manifests, expected 1")
    if problems:  # the tar or the index is damaged: the blobs are not worth reading
        return out
    used: set[object] = set()

    def referenced(desc: object) -> None:
        if isinstance(desc, dict):
            used.add(desc.get("digest"))

    for desc in manifests[:1]:
        referenced(desc)
        data = blob(files, desc, "index.json manifests[0]", MEDIA_MANIFEST, problems)
        if data is None:
            continue
        out.digest = desc["digest"]
        out.ref = (desc.get("annotations") or {}).get(REF_NAME, "?")
        plat = desc.get("platform") or {}
        if (plat.get("architecture"), plat.get("os")) != (ARCH, "linux"):
            problems.append(f"index.json: platform {plat}, not linux/{ARCH}")
        manifest = read_json(data, "manifest", problems)
        if manifest.get("schemaVersion") != 2 or manifest.get("mediaType") != MEDIA_MANIFEST:
            problems.append("manifest: not an OCI image manifest (schemaVersion 2)")
        cdesc = manifest.get("config")
        referenced(cdesc)
        cdata = blob(files, cdesc, "manifest config", MEDIA_CONFIG, problems)
        if cdata is not None:
            out.config = read_json(cdata, "config", problems)
            arch = (out.config.get("os"), out.config.get("architecture"))
            if arch != ("linux", ARCH):
                problems.append(f"config: {arch[0]}/{arch[1]}, not linux/{ARCH}")
        diff_ids = (out.config.get("rootfs") or {}).get("diff_ids") or []
        layers = manifest.get("layers") or []
        out.layers = len(layers)
        if out.config and len(diff_ids) != len(layers):
            problems.append(f"config: {len(diff_ids)} diff_ids for {len(layers)} layers")
        for j, ldesc in enumerate(layers):
            referenced(ldesc)
            gz = blob(files, ldesc, f"manifest layers[{j}]", MEDIA_LAYER, problems)
            if gz is None:
                continue
            try:
                layer = gzip.decompress(gz)
            except (OSError, EOFError, zlib.error) as exc:
                problems.append(f"layer {j}: not valid gzip ({exc})")
                continue
            if j < len(diff_ids) and f"sha256:{sha256(layer)}" != diff_ids[j]:
                problems.append(
                    f"layer {j}: uncompressed digest does not match the config's diff_id"
                )
            apply_layer(out.tree, layer, f"layer {j}", problems)
    for name in sorted(files):
        if name.startswith("blobs/sha256/") and f"sha256:{name[13:]}" not in used:
            problems.append(f"{name}: a blob nothing refers to")
    if not problems:  # the archive itself: exactly what build() writes for these blobs
        with tarfile.open(fileobj=io.BytesIO(raw), mode="r:") as tar:
            stamp = int(tar.next().mtime)
        blobs = {n[13:]: d for n, d in files.items() if n.startswith("blobs/")}
        canonical = image_archive(files["index.json"], blobs, stamp)
        if canonical != raw:
            at = next(
                (i for i, (a, b) in enumerate(zip(canonical, raw, strict=False)) if a != b),
                min(len(canonical), len(raw)),
            )
            problems.append(
                f"the archive differs from its canonical form at byte {at} "
                f"(a tar header, padding or the end altered)"
            )
    return out


def verify(path: pathlib.Path, raw: bytes, tool: bool = True) -> int:
    """Check an OCI image archive made by build() (read_image(), then its root file system
    and skopeo); prints what it finds, returns 0 when it is sound, 1 when not."""
    image = read_image(raw)
    problems = image.problems
    config = image.config
    labels = (config.get("config") or {}).get("Labels") or {}
    print(
        f"image {path}: OCI archive, {len(raw) / 1e6:.1f} MB, {image.ref}, board "
        f"{labels.get('dplane.board', '?')}, {config.get('os', '?')}/"
        f"{config.get('architecture', '?')}, {image.layers} layers"
    )
    if problems:  # a damaged archive: no point looking further
        for p in problems:
            print(f"PROBLEM: {p}")
        print(f"{len(problems)} problem(s)")
        return 1
    print(
        f"  layout: index -> manifest {image.digest} -> config + {image.layers} layers: "
        "every size and sha256 matches, diff_ids match, archive in canonical form"
    )
    check_config(image.tree, config, problems)
    drivers = [d for d in labels.get("dplane.drivers", "").split(",") if d]
    elfs, elf_problems = check_rootfs(image.tree, drivers)
    problems += elf_problems
    for line in summarize(elfs):
        print("  " + line)
    if tool:
        problems += skopeo_check(path, image.digest)
    for p in problems:
        print(f"PROBLEM: {p}")
    print(f"{len(problems)} problem(s)" if problems else "OK")
    return 1 if problems else 0


def write_tree(tree: Tree, dest: pathlib.Path) -> None:
    """Lay a root file system out in the empty directory `dest` (as root: owners and modes
    as in the image). Every path is created under a real directory of `dest`, so no link in
    the image can make it write elsewhere."""
    dest.mkdir(parents=True, exist_ok=True)
    for path in sorted(tree.nodes):
        node = tree.nodes[path]
        full = dest / path
        parent = full.parent
        if parent.is_symlink() or not parent.is_dir():
            raise Refused(f"/{path}: its parent is not a directory")
        if node.kind == "dir":
            full.mkdir(exist_ok=True)
        elif node.kind == "link":
            os.symlink(node.target, full)
        else:
            fd = os.open(full, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(node.data)
        if node.kind != "link":
            os.chown(full, node.uid, node.gid)
            os.chmod(full, node.mode)
