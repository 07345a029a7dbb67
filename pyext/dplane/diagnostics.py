# SPDX-License-Identifier: Apache-2.0
"""dplane.v1.Diagnostics: drop counters per reason, port counters, table usage and the
connection tracking table, over gRPC."""
from __future__ import annotations

import ipaddress
import re
import struct
import threading

import grpc

from . import _firmware, cmdline, graph_stats, tracing
from .cmdline import Config
from .control import ControlThread
from .features.uplinks import Uplinks
from .ports import Ports
from .proto import dplane_pb2, dplane_pb2_grpc
from .tables import Tables

SERVICE_NAME = "dplane.v1.Diagnostics"


# what an operator asks the service, not a setting of it
_NOT_SETTINGS = {"help", "version", "print-eal-args"}


def options_in_effect(cfg: Config) -> dict[str, str]:
    """Every service option's value, as text, by long name: which checks are on."""
    out = {}
    for opt in cmdline.all_options():
        if opt.name in _NOT_SETTINGS:
            continue
        value = cfg.features[opt.dest] if opt.dest in cfg.features else getattr(
            cfg, opt.dest, None)
        if value is None:
            continue
        if isinstance(value, bool):
            out[opt.name] = "true" if value else "false"
        elif isinstance(value, (list, tuple)):
            out[opt.name] = ",".join(str(v) for v in value)
        else:
            out[opt.name] = str(value)
    return out


def collect(ports: Ports, uplinks: Uplinks, tables: Tables,
            options: dict[str, str] | None = None) -> dplane_pb2.GetStatsResponse:
    """Runs on the control thread."""
    response = dplane_pb2.GetStatsResponse(drops=_firmware.drop_counters(),
                                           options=options or {})
    for port in ports:
        st = _firmware.port_stats(port.port_id)
        response.ports.add(
            port_id=port.port_id, name=port.name, role=port.role,
            rx_packets=st["ipackets"], tx_packets=st["opackets"],
            rx_bytes=st["ibytes"], tx_bytes=st["obytes"],
            rx_missed=st["imissed"], rx_errors=st["ierrors"],
            tx_errors=st["oerrors"], rx_nombuf=st["rx_nombuf"],
            vm_mac=_firmware.iface_vm_mac(port.port_id) if port.role == "vf" else "",
        )
        if port.role != "vf":
            mac = uplinks.router_mac(port.port_id)
            response.ports[-1].router_mac = mac.hex(":") if mac else ""
            response.ports[-1].link_up = bool(uplinks.link_up(port.port_id))
    for name, capacity, entries in tables.usage():
        response.tables.add(name=name, capacity=capacity, entries=entries)
    return response


# dpservice's flow key: dst(16) dst_is_v6 proto port_dst(u16) src(16) src_is_v6 vnf_type
# port_src(u16) vni(u32), native byte order; IPv4 addresses are host-order words.
_FLOW_KEY = struct.Struct("=16sBBH16sBBHI")


def _address(raw: bytes, is_v6: int) -> str:
    if is_v6:
        return str(ipaddress.IPv6Address(raw))
    return str(ipaddress.IPv4Address(int.from_bytes(raw[:4], "little")))


def flow_key(raw: bytes) -> dplane_pb2.FlowKey:
    dst, dst6, proto, port_dst, src, src6, vnf_type, port_src, vni = _FLOW_KEY.unpack(raw)
    return dplane_pb2.FlowKey(vni=vni, protocol=proto, src=_address(src, src6),
                              dst=_address(dst, dst6), src_port=port_src, dst_port=port_dst,
                              vnf_type=vnf_type)


def list_flows() -> dplane_pb2.ListFlowsResponse:
    """Runs on the control thread."""
    response = dplane_pb2.ListFlowsResponse()
    for f in _firmware.ct_list():
        response.flows.add(key=flow_key(f["key"]), reply_key=flow_key(f["reply_key"]),
                           in_port=f["in_port"], tcp_state=f["tcp_state"],
                           idle_ms=f["idle_ms"], timeout_s=f["timeout_s"],
                           packets=f["packets"][0], reply_packets=f["packets"][1])
    return response


def graph_stats_response() -> dplane_pb2.GetGraphStatsResponse:
    """Runs on the control thread."""
    return dplane_pb2.GetGraphStatsResponse(nodes=[
        dplane_pb2.NodeStats(name=n.name, objs=n.objs, calls=n.calls, cycles=n.cycles,
                             realloc_count=n.realloc_count) for n in graph_stats.sample()])


def list_vnfs() -> dplane_pb2.ListVnfsResponse:
    """Runs on the control thread: the VNF table as the datapath reads it."""
    response = dplane_pb2.ListVnfsResponse()
    for underlay, vnf_type, port_id, vni, prefix, prefix_len in _firmware.vnf_list():
        response.vnfs.add(underlay=str(ipaddress.IPv6Address(underlay)), type=vnf_type,
                          vni=vni, port_id=port_id, prefix_len=prefix_len,
                          prefix=str(ipaddress.ip_address(prefix)) if prefix else "")
    return response


def list_vnis() -> dplane_pb2.ListVnisResponse:
    """Runs on the control thread: the VNI table and the size of each VNI's routing tables."""
    response = dplane_pb2.ListVnisResponse()
    for vni in _firmware.vni_list():
        response.vnis.add(vni=vni, ipv4_routes=_firmware.route_count(vni, 4),
                          ipv6_routes=_firmware.route_count(vni, 6))
    return response


class Diagnostics(dplane_pb2_grpc.DiagnosticsServicer):
    def __init__(self, cfg: Config, control: ControlThread, ports: Ports, uplinks: Uplinks,
                 tables: Tables, traces: tracing.TraceSessions) -> None:
        self._options = options_in_effect(cfg)
        self._control = control
        self._ports = ports
        self._uplinks = uplinks
        self._tables = tables
        self._traces = traces  # one trace session at a time, shared with --graphtrace

    def GetStats(self, request, context):
        return self._control.call(collect, self._ports, self._uplinks, self._tables,
                                  self._options)

    def ListFlows(self, request, context):
        return self._control.call(list_flows)

    def GetGraphStats(self, request, context):
        return self._control.call(graph_stats_response)

    def ListVnfs(self, request, context):
        return self._control.call(list_vnfs)

    def ListVnis(self, request, context):
        return self._control.call(list_vnis)

    def DumpTable(self, request, context):
        rows = self._control.call(self._tables.dump, request.name)
        if rows is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"no dump of table '{request.name}'")
        return dplane_pb2.DumpTableResponse(
            rows=[dplane_pb2.TableRow(fields=row) for row in rows])

    def Trace(self, request, context):
        gone = threading.Event()
        context.add_callback(gone.set)  # the client went away: end the session
        try:
            yield from self._traces.run(request, gone)
        except tracing.TraceBusy:
            context.abort(grpc.StatusCode.FAILED_PRECONDITION,
                          "a trace session is running (dplane-dump --stop ends it)")
        except re.error as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, f"node_regex: {exc}")

    def StopTrace(self, request, context):
        return dplane_pb2.StopTraceResponse(was_active=self._traces.end())
