# SPDX-License-Identifier: Apache-2.0
"""Board profiles: a TOML file that fully describes a machine's ports, EAL arguments and
service options, so that `dplane --board FILE` needs nothing else.

    [board]                 name, description
    [eal]                   lcores, memory ("no-huge" | "in-memory" | "hugepages"),
                            memory-mb, file-prefix, args (extra EAL arguments)
    [firmware]              mbufs
    [[port]]                role ("pf0" | "pf1" | "vf"), and either
                              driver (a DPDK vdev driver, e.g. "net_tap") with iface, mac,
                              devargs, count (VFs only; "{i}" in iface/mac is the index)
                            or
                              pci (a PCI address) with devargs, iface (the PF's kernel
                              name, for --pf0/--pf1), vf-representors (host VFs whose
                              representors the PF probes, "0-15" or "0,2,4-7"; gives mlx5's
                              representor=pf[N]vf[...]) and representor-pfs (the PFs of a
                              multiport e-switch, e.g. "0-1": representor=pf[0-1]vf[...])
                            optional: xconnect = "<role>" patches every frame to that port
                            (benchmarks only)
    [service]               any service option by its long name (e.g. nic-type = "tap")

Every key is checked; errors name the file, the key and what is wrong.
"""
from __future__ import annotations

import dataclasses
import importlib.resources
import pathlib
import re
import tomllib
from typing import Any

from .errors import ConfigError

DEFAULT_BOARD = "sim"
DEFAULT_MBUFS = 4 * 32 * 128 + 4096  # dpservice: 4 * burst * 128 + 4096

_PCI_RE = re.compile(r"^([0-9a-fA-F]{4}:)?[0-9a-fA-F]{2}:[0-9a-fA-F]{2}\.[0-7]$")
_MAC_RE = re.compile(r"^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$")
_DRIVER_RE = re.compile(r"^net_[a-z0-9_]+$")
_ROLES = ("pf0", "pf1", "vf")
_RANGE_RE = re.compile(r"^\d+(-\d+)?(,\d+(-\d+)?)*$")
MAX_VF_INDEX = 125  # 126 VFs per PF, as in dpservice
# The only PCI NICs dplane drives are Mellanox/NVIDIA ConnectX and BlueField (mlx5); the
# DPDK drivers (meson names) such a port needs, and those every board needs.
PCI_DRIVERS = ("bus_pci", "common_mlx5", "net_mlx5")
BASE_DRIVERS = ("mempool_ring",)
_MEMORY = ("no-huge", "in-memory", "hugepages")


@dataclasses.dataclass
class BoardPort:
    role: str
    driver: str = ""
    pci: str = ""
    iface: str = ""
    mac: str = ""
    devargs: str = ""
    count: int = 1
    xconnect: str = ""
    vf_representors: str = ""
    representor_pfs: str = ""

    def pci_devargs(self) -> str:
        """The devargs of a PCI port, with mlx5's representor=... when it has any."""
        args = [self.devargs] if self.devargs else []
        if self.vf_representors or self.representor_pfs:
            pfs = self.representor_pfs or ("1" if self.role == "pf1" else "0")
            rep = f"representor=pf[{pfs}]"
            if self.vf_representors:
                rep += f"vf[{self.vf_representors}]"
            args.append(rep)
        return ",".join(args)


@dataclasses.dataclass
class Board:
    path: str
    name: str
    description: str = ""
    lcores: str = "0,1"
    memory: str = "no-huge"
    memory_mb: int = 512
    file_prefix: str = ""
    extra_eal: list[str] = dataclasses.field(default_factory=list)
    mbufs: int = DEFAULT_MBUFS
    ports: list[BoardPort] = dataclasses.field(default_factory=list)
    service: dict[str, Any] = dataclasses.field(default_factory=dict)

    def eal_args(self) -> list[str]:
        args = ["-l", self.lcores]
        if self.memory == "no-huge":
            args += ["--no-huge", "-m", str(self.memory_mb), "--no-shconf"]
        elif self.memory == "in-memory":
            args += ["--in-memory", "-m", str(self.memory_mb)]
        else:
            args += ["-m", str(self.memory_mb), "--huge-unlink"]
        if self.file_prefix:
            args += ["--file-prefix", self.file_prefix]
        args += self.extra_eal
        counters: dict[str, int] = {}
        for port in self.ports:
            for i in range(port.count):
                if port.pci:
                    devargs = port.pci_devargs()
                    args += ["-a", port.pci + (f",{devargs}" if devargs else "")]
                    continue
                n = counters.get(port.driver, 0)
                counters[port.driver] = n + 1
                kv = []
                if port.iface:
                    kv.append("iface=" + port.iface.format(i=i))
                if port.mac:
                    kv.append("mac=" + port.mac.format(i=i))
                if port.devargs:
                    kv.append(port.devargs.format(i=i))
                args.append(f"--vdev={port.driver}{n}" + "".join("," + x for x in kv))
        return args

    def service_options(self) -> list[tuple[str, str | None]]:
        """(option, text value or None for flags), the board's ports filling in pf0/pf1/
        vf-pattern unless [service] sets them."""
        opts: dict[str, Any] = {}
        for port in self.ports:
            if port.role in ("pf0", "pf1") and port.iface:
                opts[port.role] = port.iface
            elif port.role == "vf" and port.iface and "{i}" in port.iface:
                opts["vf-pattern"] = port.iface.split("{i}", 1)[0]
        opts.update(self.service)
        out: list[tuple[str, str | None]] = []
        for key, value in opts.items():
            if value is True:
                out.append((key, None))
            elif value is False:
                continue
            elif isinstance(value, list):
                out += [(key, str(v)) for v in value]
            else:
                out.append((key, str(value)))
        return out

    def xconnects(self) -> dict[str, str]:
        return {p.role: p.xconnect for p in self.ports if p.xconnect}

    def drivers(self) -> list[str]:
        """The DPDK drivers (meson names, as in the dpdk_drivers option) this board's ports
        need: what a firmware image for the board must have linked in."""
        out = list(BASE_DRIVERS)
        for port in self.ports:
            for name in ("bus_vdev", port.driver) if port.driver else PCI_DRIVERS:
                if name not in out:
                    out.append(name)
        return out


# ---------------------------------------------------------------------------------------
# Validation

class _Table:
    """Typed access to one TOML table that remembers which keys were used."""

    def __init__(self, path: str, where: str, data: Any) -> None:
        if not isinstance(data, dict):
            raise ConfigError(f"{path}: {where} must be a table")
        self.path, self.where, self.data = path, where, data
        self.used: set[str] = set()

    def _fail(self, key: str, what: str) -> ConfigError:
        return ConfigError(f"{self.path}: {self.where}.{key}: {what}")

    def get(self, key: str, kind: type, default: Any = None) -> Any:
        self.used.add(key)
        if key not in self.data:
            return default
        value = self.data[key]
        if kind is int and isinstance(value, bool) or not isinstance(value, kind):
            raise self._fail(key, f"must be {kind.__name__}, got {type(value).__name__} "
                             f"{value!r}")
        return value

    def choice(self, key: str, choices: tuple[str, ...], default: str | None) -> str:
        value = self.get(key, str, default)
        if value is None:
            raise self._fail(key, "missing")
        if value not in choices:
            raise self._fail(key, f"must be one of {', '.join(choices)}, got {value!r}")
        return value

    def done(self) -> None:
        unknown = sorted(set(self.data) - self.used)
        if unknown:
            raise ConfigError(f"{self.path}: {self.where}: unknown key '{unknown[0]}'")


def _port(path: str, idx: int, data: Any) -> BoardPort:
    t = _Table(path, f"port[{idx}]", data)
    port = BoardPort(role=t.choice("role", _ROLES, None))
    port.driver = t.get("driver", str, "")
    port.pci = t.get("pci", str, "")
    port.iface = t.get("iface", str, "")
    port.mac = t.get("mac", str, "")
    port.devargs = t.get("devargs", str, "")
    port.count = t.get("count", int, 1)
    port.xconnect = t.get("xconnect", str, "")
    port.vf_representors = t.get("vf-representors", str, "")
    port.representor_pfs = t.get("representor-pfs", str, "")
    t.done()

    if bool(port.driver) == bool(port.pci):
        raise t._fail("driver", "give exactly one of 'driver' (a vdev) or 'pci'")
    if port.driver and not _DRIVER_RE.match(port.driver):
        raise t._fail("driver", f"not a DPDK net driver name: {port.driver!r}")
    if port.pci and not _PCI_RE.match(port.pci):
        raise t._fail("pci", f"not a PCI address (DDDD:BB:DD.F): {port.pci!r}")
    if port.pci and port.mac:
        raise t._fail("mac", "only applies to vdev ports (a PCI port has the NIC's MAC)")
    if port.pci and port.role == "vf":
        raise t._fail("pci", "VFs of a PCI NIC are given as 'vf-representors' of their PF")
    for key, attr, hi in (("vf-representors", "vf_representors", MAX_VF_INDEX),
                          ("representor-pfs", "representor_pfs", 1)):
        value = getattr(port, attr)
        if not value:
            continue
        if not port.pci:
            raise t._fail(key, "only applies to PCI ports (pci = ...)")
        problem = _range_problem(value, hi)
        if problem:
            raise t._fail(key, f"bad {'VF' if hi > 1 else 'PF'} range {value!r}: {problem}")
    if port.pci:
        for item in filter(None, port.devargs.split(",")):
            if "=" not in item:
                raise t._fail("devargs", f"{item!r} is not key=value")
            if item.split("=", 1)[0] == "representor":
                raise t._fail("devargs", "give representors with 'vf-representors' "
                              "(and 'representor-pfs'), not in devargs")
    if not 1 <= port.count <= 126:
        raise t._fail("count", f"must be 1..126, got {port.count}")
    if port.count > 1 and port.role != "vf":
        raise t._fail("count", "only VF ports may have a count")
    if port.count > 1 and port.iface and "{i}" not in port.iface:
        raise t._fail("iface", "must contain '{i}' when count > 1")
    for key in ("iface", "mac", "devargs"):
        value = getattr(port, key)
        try:
            value.format(i=0)
        except (KeyError, IndexError, ValueError):
            raise t._fail(key, f"bad template {value!r} (only '{{i}}' may be used)") from None
    if port.iface and len(port.iface.format(i=port.count - 1)) > 15:
        raise t._fail("iface", "interface names are at most 15 characters")
    if port.mac and not _MAC_RE.match(port.mac.format(i=0)):
        raise t._fail("mac", f"not a MAC address: {port.mac!r}")
    if port.xconnect and port.xconnect not in _ROLES:
        raise t._fail("xconnect", f"must name a role ({', '.join(_ROLES)})")
    return port


def _range_problem(text: str, hi: int) -> str:
    """Why text is not a range list like "0-3" or "0,2,5-7" within 0..hi ('' when it is)."""
    if not _RANGE_RE.match(text):
        return "expected N, N-M or a comma-separated list of them"
    seen: set[int] = set()
    for part in text.split(","):
        lo_s, _, hi_s = part.partition("-")
        lo, top = int(lo_s), int(hi_s or lo_s)
        if lo > top:
            return f"{part} runs backwards"
        if top > hi:
            return f"{top} is out of range 0..{hi}"
        if seen & set(range(lo, top + 1)):
            return f"{part} overlaps an earlier entry"
        seen.update(range(lo, top + 1))
    return ""


def parse_board(text: str, path: str) -> Board:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None

    top = _Table(path, "board file", data)
    meta = _Table(path, "[board]", top.get("board", dict, {}))
    board = Board(path=path, name=meta.get("name", str, pathlib.Path(path).stem))
    board.description = meta.get("description", str, "")
    meta.done()

    eal = _Table(path, "[eal]", top.get("eal", dict, {}))
    board.lcores = eal.get("lcores", str, board.lcores)
    board.memory = eal.choice("memory", _MEMORY, board.memory)
    board.memory_mb = eal.get("memory-mb", int, board.memory_mb)
    board.file_prefix = eal.get("file-prefix", str, "")
    board.extra_eal = eal.get("args", list, [])
    eal.done()
    if not all(isinstance(a, str) for a in board.extra_eal):
        raise ConfigError(f"{path}: [eal].args: must be a list of strings")
    if board.memory_mb < 64:
        raise ConfigError(f"{path}: [eal].memory-mb: at least 64, got {board.memory_mb}")

    fw = _Table(path, "[firmware]", top.get("firmware", dict, {}))
    board.mbufs = fw.get("mbufs", int, board.mbufs)
    fw.done()
    if not 1024 <= board.mbufs <= 4 * 1024 * 1024:
        raise ConfigError(f"{path}: [firmware].mbufs: must be 1024..4194304")

    ports = top.get("port", list, [])
    board.ports = [_port(path, i, p) for i, p in enumerate(ports)]
    roles = [p.role for p in board.ports]
    for role in ("pf0", "pf1"):
        if roles.count(role) > 1:
            raise ConfigError(f"{path}: port: more than one port with role '{role}'")
    for p in board.ports:
        if p.xconnect and p.xconnect not in roles:
            raise ConfigError(f"{path}: port: xconnect to '{p.xconnect}', which no port has")

    service = top.get("service", dict, {})
    for key, value in service.items():
        if not isinstance(value, (str, int, bool, list)):
            raise ConfigError(f"{path}: [service].{key}: unsupported value {value!r}")
    board.service = dict(service)
    top.done()
    return board


def load_board(name_or_path: str) -> Board:
    """A board by file path, or by name from the boards shipped with dplane."""
    path = pathlib.Path(name_or_path)
    if not path.exists() and "/" not in name_or_path and not name_or_path.endswith(".toml"):
        # a board shipped with dplane, by name
        path = pathlib.Path(str(importlib.resources.files("dplane") / "boards" /
                                f"{name_or_path}.toml"))
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"Board file '{name_or_path}' not found") from None
    except OSError as exc:
        raise ConfigError(f"Cannot read board file '{name_or_path}': {exc.strerror}") from None
    return parse_board(text, str(path))


def default_board() -> Board:
    return load_board(DEFAULT_BOARD)
