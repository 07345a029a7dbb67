# SPDX-License-Identifier: Apache-2.0
"""Flow offload from the control side (firmware/offload): on unless --no-offload (as
dpservice). Once a flow's packet has crossed the graph, a rule carries the flow's next packets
past it: rte_flow rules run by the software flow engine in front of the graph (net_tap ports,
the sim board). --offload-rules sizes the engine (default: one rule per flow table key, at
most 65 536; a flow beyond gets none and stays with the graph).

Rules go with their flows (aging counts their hits; every delete removes the flows and so
their rules; Initialize removes every rule); after any RPC that changes state every rule is
stale until its flow's next packet has crossed the graph again. Destroyed rules are freed
here, every second, after a grace period. `/dplane/offload` on the telemetry socket and
`dplane-inspect -t offload` report the engine and its rules.

On a NIC that takes rte_flow rules (--nic-type mellanox or bluefield2, not tap) the PFs are
isolated (only the underlay's tunnels reach dplane, offload on or off; through the template
API with --multiport-eswitch), and each rule is handed to the port's NIC as well
(firmware/offload/nic.h); whatever a NIC refuses the engine runs, counted, and
`/dplane/offload` says per port why.

Packet capture (CaptureStart/Stop/Status, offload on only): every packet a captured port (a
VF by its interface, a PF by its index) receives is copied by a SAMPLE rule, in UDP-in-IPv6
from the host's underlay address to the sink, out of PF0. Control thread only.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import logging
from typing import Any

from .. import _firmware
from ..assembly import component
from ..cmdline import Config, Option, _int_range, feature_option
from ..control import ControlThread
from ..errors import ErrorCode, ServiceError
from ..interfaces import Interface, Interfaces
from ..lifecycle import Lifecycle
from ..ports import Ports
from ..tables import Row, Tables
from ..telemetry import Commands

log = logging.getLogger("dplane.offload")

MAINTAIN_INTERVAL = 1.0  # seconds

OFFLOAD_RULES = feature_option(Option(
    "offload-rules", "RULES", "rules the software flow engine holds (64 - 16777216; default: "
    "one per flow table key, at most 65536)", _int_range(64, 1 << 24)))


def nic_side(cfg: Config) -> tuple[bool, bool]:
    """Whether the ports' NIC takes rte_flow rules (TAPs take none), and whether only
    through the template API (a multiport e-switch)."""
    return cfg.nic_type != "tap", cfg.multiport_eswitch


@component
class Offload:
    def __init__(self, cfg: Config, control: ControlThread, commands: Commands,
                 tables: Tables, lifecycle: Lifecycle, ports: Ports) -> None:
        self.enabled = not cfg.no_offload
        self.max_rules = cfg.features.get(OFFLOAD_RULES.dest) or 0
        self.nic, self._async_api = nic_side(cfg)
        self._underlay = ipaddress.IPv6Address(cfg.ipv6).packed
        self._ports = ports
        self._control = control
        commands.add("/dplane/offload", "Returns the flow offload engine's counters.",
                     lambda params: self.stats())
        tables.register_dump("offload_rules", self._rows)
        lifecycle.on_initialize.append(self._flush)

    def configure(self) -> None:
        """Before the dataplane starts."""
        _firmware.offload_conf_set(self.enabled, self.max_rules)
        _firmware.offload_nic_conf_set(self.nic, self._underlay, self._async_api)

    def start(self) -> None:
        if self.enabled:
            self._control.every(MAINTAIN_INTERVAL, _firmware.offload_maintain)

    def _flush(self) -> None:
        """Initialize: no flow keeps a rule (each makes its own again as its packets come)."""
        if self.enabled:
            log.debug("initialize: removed %d rules", _firmware.offload_flush())

    def stats(self) -> dict[str, Any]:
        stats = _firmware.offload_stats()
        if stats["nic"] is not None:
            stats["nic"]["ports"] = {p.name: _firmware.offload_nic_port(p.port_id)
                                     for p in self._ports}
        return stats

    def rules(self) -> list[dict[str, Any]]:
        return _firmware.offload_rules()

    def _rows(self) -> list[Row]:
        return [{"port_id": str(r["port_id"]), "group": str(r["group"]),
                 "pattern": r["pattern"], "actions": r["actions"], "hits": str(r["hits"]),
                 "bytes": str(r["bytes"]), "idle": f"{r['idle_ms'] / 1000:.1f}s",
                 "age": str(r["age"]) if r["age"] else "-",
                 "stale": "yes" if r["stale"] else "no",
                 "nic": "yes" if r["nic"] else "no"} for r in self.rules()]


MAX_CAPTURED = 16  # interfaces, as dpservice


@dataclasses.dataclass(frozen=True)
class CaptureConfig:
    sink: bytes  # packed IPv6
    udp_src_port: int
    udp_dst_port: int
    interfaces: tuple[tuple[str, str | int], ...]  # ("vf", interface id) | ("pf", index)

    @property
    def sink_text(self) -> str:
        return str(ipaddress.IPv6Address(self.sink))


@component
class Capture:
    def __init__(self, cfg: Config, offload: Offload, interfaces: Interfaces, ports: Ports,
                 lifecycle: Lifecycle) -> None:
        self._offload = offload
        self._interfaces = interfaces
        self._ports = ports
        self._src = ipaddress.IPv6Address(cfg.ipv6).packed
        self._config: CaptureConfig | None = None
        self._captured: dict[int, tuple[str, str | int]] = {}  # port id -> interface
        interfaces.on_delete.append(self._interface_deleted)
        lifecycle.on_initialize.append(self._reset)

    def _port_of(self, kind: str, spec: str | int) -> int:
        if kind == "vf":
            return self._interfaces.get(str(spec)).port.port_id  # NOT_FOUND if none
        port = self._ports.pf(int(spec))
        if port is None:
            raise ServiceError(ErrorCode.NOT_FOUND, f"no PF {spec}")
        return port.port_id

    def _set(self, port_id: int, on: bool, cfg: CaptureConfig | None) -> None:
        args = (self._src, cfg.sink, cfg.udp_src_port, cfg.udp_dst_port) if cfg else ()
        try:
            _firmware.offload_capture(port_id, on, *args)
        except OSError as exc:
            raise ServiceError(ErrorCode.RTE_RULE_ADD if on else ErrorCode.RTE_RULE_DEL,
                               f"port {port_id}: {exc}") from exc

    def begin(self, cfg: CaptureConfig) -> None:
        if not self._offload.enabled:
            raise ServiceError(ErrorCode.NOT_ACTIVE, "offload is off")
        if self._config is not None:
            raise ServiceError(ErrorCode.ALREADY_ACTIVE)
        try:
            for kind, spec in cfg.interfaces:
                port_id = self._port_of(kind, spec)
                if port_id in self._captured:
                    raise ServiceError(ErrorCode.ALREADY_ACTIVE, f"{kind} {spec} twice")
                self._set(port_id, True, cfg)
                self._captured[port_id] = (kind, spec)
        except ServiceError:
            if self._stop_all() is None:
                raise ServiceError(ErrorCode.ROLLBACK) from None
            raise
        self._config = cfg

    def _stop_all(self) -> int | None:
        """Every captured port back to normal: how many, or None if one could not be."""
        stopped = 0
        for port_id in list(self._captured):
            try:
                self._set(port_id, False, None)
            except ServiceError:
                log.error("capture: cannot stop on port %d", port_id)
                return None
            del self._captured[port_id]
            stopped += 1
        return stopped

    def end(self) -> int:
        if self._config is None:
            raise ServiceError(ErrorCode.NOT_ACTIVE)
        stopped = self._stop_all()
        if stopped is None:
            raise ServiceError(ErrorCode.RTE_RULE_DEL)
        self._config = None
        return stopped

    def status(self) -> CaptureConfig | None:
        if self._config is None:
            return None
        return dataclasses.replace(self._config, interfaces=tuple(self._captured.values()))

    def _interface_deleted(self, iface: Interface) -> None:
        port_id = iface.port.port_id
        if port_id in self._captured:
            self._set(port_id, False, None)
            del self._captured[port_id]

    def _reset(self) -> None:
        if self._config is not None:
            self._stop_all()
            self._config = None
