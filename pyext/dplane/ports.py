# SPDX-License-Identifier: Apache-2.0
"""Which ethdev is which: PFs by kernel name (--pf0/--pf1), VFs by --vf-pattern, exactly as
dpservice finds them. Devices without a kernel interface (net_pcap, net_null, ...) are
matched by their DPDK name instead."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Sequence

from . import _firmware
from .errors import ConfigError

MAX_VFS = 126


@dataclasses.dataclass(frozen=True)
class EthDev:
    """An ethdev as EAL found it."""

    port_id: int
    name: str      # DPDK device name, e.g. "net_tap2"
    ifname: str    # kernel interface name, "" when there is none
    driver: str
    mac: str
    if_index: int


def ethdevs() -> list[EthDev]:
    """Every ethdev EAL found (control thread, after EAL init)."""
    return [EthDev(**d) for d in _firmware.ethdevs()]


@dataclasses.dataclass(frozen=True)
class Port:
    dev: EthDev
    role: str  # "pf0", "pf1" or "vf"
    vf_index: int = -1

    @property
    def port_id(self) -> int:
        return self.dev.port_id

    @property
    def name(self) -> str:
        """The name an operator knows the port by."""
        return self.dev.ifname or self.dev.name


def _sriov_numvfs(pf: str) -> int:
    path = f"/sys/class/net/{pf}/device/sriov_numvfs"
    try:
        with open(path, encoding="ascii") as f:
            return int(f.read().strip())
    except (OSError, ValueError):
        raise ConfigError(f"Cannot read the VF count of '{pf}' ({path})") from None


class Ports:
    """The ports of this host, as assigned at start-up: PF0, PF1 if any, then the VFs."""

    def __init__(self, ports: Sequence[Port]) -> None:
        self._ports = tuple(ports)

    def __iter__(self) -> Iterator[Port]:
        return iter(self._ports)

    def __len__(self) -> int:
        return len(self._ports)

    def pf(self, index: int) -> Port | None:
        role = f"pf{index}"
        return next((p for p in self._ports if p.role == role), None)

    @property
    def vfs(self) -> list[Port]:
        return [p for p in self._ports if p.role == "vf"]

    @property
    def uplinks(self) -> list[Port]:
        return [p for p in self._ports if p.role != "vf"]

    def find(self, name: str) -> Port | None:
        """The port with this DPDK or kernel name."""
        return next((p for p in self._ports if name in (p.dev.name, p.dev.ifname)), None)


def assign(devs: Sequence[EthDev], pf0: str, pf1: str, vf_pattern: str,
           nic_type: str) -> list[Port]:
    def find(name: str, what: str) -> EthDev:
        for dev in devs:
            if name in (dev.ifname, dev.name):
                return dev
        known = ", ".join(d.ifname or d.name for d in devs) or "none"
        raise ConfigError(f"{what} interface '{name}' not found (ports: {known})")

    if not pf0:
        raise ConfigError("No PF0 interface given (--pf0)")
    ports = [Port(find(pf0, "PF0"), "pf0")]
    if pf1:
        if pf1 == pf0:
            raise ConfigError("'--pf0' and '--pf1' name the same interface")
        ports.append(Port(find(pf1, "PF1"), "pf1"))

    if vf_pattern:
        taken = {p.port_id for p in ports}
        vfs = [d for d in devs
               if d.port_id not in taken and vf_pattern in (d.ifname or d.name)]
        if nic_type == "mellanox":
            vfs = vfs[:_sriov_numvfs(pf0)]
        if len(vfs) > MAX_VFS:
            raise ConfigError(f"Too many VFs match '{vf_pattern}' ({len(vfs)}, at most "
                              f"{MAX_VFS})")
        ports += [Port(dev, "vf", i) for i, dev in enumerate(vfs)]
    return ports


PortConf = tuple[int, int, int, "int | None", bool]  # as _firmware.core_start takes it


def port_confs(ports: Sequence[Port], xconnect: dict[str, str] | None = None
               ) -> list[PortConf]:
    """What the firmware is told: (port_id, role, pf_index, xconnect port or None, start).
    PFs start now; a VF starts when an interface is created on it and stops when it is
    deleted (its link is down in between), as in dpservice."""
    by_role = {p.role: p.port_id for p in ports if p.role != "vf"}
    xconnect = xconnect or {}
    out = []
    for p in ports:
        peer = xconnect.get(p.role)
        out.append((p.port_id, _firmware.PORT_VF if p.role == "vf" else _firmware.PORT_PF,
                    1 if p.role == "pf1" else 0, by_role.get(peer) if peer else None,
                    p.role != "vf"))
    return out
