# SPDX-License-Identifier: Apache-2.0
"""Pythonic face of the C firmware (dplane._firmware). Control functions must run on the
control thread, the one that called eal_init(); the firmware refuses others (EPERM)."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable

from . import _firmware as _fw

PORT_PF = _fw.PORT_PF
PORT_VF = _fw.PORT_VF
MAX_PORTS = _fw.MAX_PORTS
PARSE_STATUS: tuple[str, ...] = _fw.PARSE_STATUS


@dataclasses.dataclass(frozen=True)
class EthDev:
    """An ethdev as EAL found it."""

    port_id: int
    name: str      # DPDK device name, e.g. "net_tap2"
    ifname: str    # kernel interface name, "" when there is none
    driver: str
    mac: str
    if_index: int


@dataclasses.dataclass(frozen=True)
class PortConf:
    port_id: int
    role: int             # PORT_PF or PORT_VF
    pf_index: int = 0
    xconnect: int | None = None
    start: bool = True


def eal_init(args: list[str]) -> int:
    return _fw.eal_init(args)


def eal_cleanup() -> None:
    _fw.eal_cleanup()


def lcore_count() -> int:
    return _fw.lcore_count()


def ethdevs() -> list[EthDev]:
    return [EthDev(**d) for d in _fw.ethdevs()]


def start(nb_mbufs: int, ports: Iterable[PortConf]) -> None:
    _fw.core_start(nb_mbufs, [(p.port_id, p.role, p.pf_index, p.xconnect, p.start)
                              for p in ports])


def stop() -> None:
    _fw.core_stop()


def running() -> bool:
    return _fw.core_running()


def port_start(port_id: int) -> None:
    _fw.port_start(port_id)


def port_stop(port_id: int) -> None:
    _fw.port_stop(port_id)


def port_stats(port_id: int) -> dict[str, int]:
    return _fw.port_stats(port_id)


def rcu_synchronize() -> None:
    _fw.rcu_synchronize()


def drop_counters() -> dict[str, int]:
    """Packets dropped per reason ("<node>_<reason>") since the graph started."""
    return _fw.drop_counters()


@dataclasses.dataclass(frozen=True)
class ParseResult:
    status: str  # "ok" or the error ("bad_ipv4", ...)
    ethertype: int
    l3_off: int
    l3_len: int
    l4_off: int
    l3_type: int
    l4_proto: int
    vlans: int
    flags: int


L3_NONE, L3_ARP, L3_IPV4, L3_IPV6, L3_OTHER = range(5)
PARSE_F_FRAGMENT, PARSE_F_NO_L4, PARSE_F_IPV6_EXT = 0x01, 0x02, 0x04


def parse_frame(data: bytes) -> ParseResult:
    """The cls parser, as the dataplane runs it (needs no EAL)."""
    status, fields = _fw.parse_frame(data)
    return ParseResult(status, **fields)
