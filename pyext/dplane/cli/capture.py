# SPDX-License-Identifier: Apache-2.0
"""capture start|stop|status: mirroring packets of PFs/VFs to a sink node."""
from __future__ import annotations

from typing import Any

from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import capture_config_doc, captured_interface_doc, ip_pb, obj, status_of, text
from .errors import ClientError
from .spec import Flag, Options, Result, command
from .values import FlagValueError, quote, to_bytes


def _pf_indexes(raw: str) -> list[int]:
    if not raw:
        return []
    parts = raw.split(",")
    if len(parts) > 2:
        raise ClientError("error converting PF indexes: too many pf indexes specified")
    indexes = []
    for part in parts:
        if not part.isascii() or not part.isdigit():
            raise ClientError(f"error converting PF indexes: error parsing pf index: "
                              f"strconv.Atoi: parsing {quote(part)}: invalid syntax")
        if int(part) > 1:
            raise ClientError("error converting PF indexes: pf index must be 0 or 1")
        indexes.append(int(part))
    return indexes


def _vf_name(name: str) -> bytes:
    try:
        return to_bytes(name)
    except FlagValueError as exc:
        raise ClientError(f'invalid argument {quote(name)} for "--vf" flag: {exc}') from None


def _interfaces(opts: Options) -> list[pb.CapturedInterface]:
    pfs = [pb.CapturedInterface(interface_type=pb.SINGLE_PF, pf_index=index)
           for index in _pf_indexes(opts.pf)]
    vfs = [pb.CapturedInterface(interface_type=pb.SINGLE_VF, vf_name=_vf_name(name))
           for name in opts.vf or []]
    return pfs + vfs


@command("capture", "start", "Start capturing packets",
         Flag("sink-node-ip", "addr", "IPv6 address of the sink node.", required=True),
         Flag("udp-src-port", "u32", "UDP source port.", required=True),
         Flag("udp-dst-port", "u32", "UDP destination port.", required=True),
         Flag("pf", "str", "PF indexes, e.g. 0 or 0,1.", default=""),
         Flag("vf", "list", "Interface IDs of the VFs, e.g. vm1,vm2."))
def capture_start(api: Api, opts: Options) -> Result:
    interfaces = _interfaces(opts)
    config = pb.CaptureConfig(sink_node_ip=ip_pb(opts.sink_node_ip),
                              udp_src_port=opts.udp_src_port, udp_dst_port=opts.udp_dst_port,
                              interfaces=interfaces)
    sink = str(opts.sink_node_ip)
    reply = checked(api.call("CaptureStart", pb.CaptureStartRequest(capture_config=config)),
                    "CaptureStart", sink)
    spec: dict[str, Any] = {}
    if interfaces:
        spec["interfaces"] = [captured_interface_doc(iface) for iface in interfaces]
    meta = {"capture_config": capture_config_doc(sink, opts.udp_src_port, opts.udp_dst_port)}
    return Result(obj("CaptureStart", meta, spec, status_of(reply)),
                  f"Packet capturing initialized: {sink}")


@command("capture", "stop", "Stop capturing packets on all interfaces")
def capture_stop(api: Api, opts: Options) -> Result:
    reply = checked(api.call("CaptureStop", pb.CaptureStopRequest()), "CaptureStop",
                    "capture stopped")
    return Result(obj("CaptureStop", {}, {"iface_cnt": reply.stopped_interface_cnt},
                      status_of(reply)), "Packet capturing stopped")


@command("capture", "status", "Show whether packets are being captured, and how")
def capture_status(api: Api, opts: Options) -> Result:
    reply = checked(api.call("CaptureStatus", pb.CaptureStatusRequest()), "CaptureStatus",
                    "get capture status")
    config = reply.capture_config
    spec: dict[str, Any] = {
        "operation_status": reply.is_active,
        "capture_config": capture_config_doc(text(config.sink_node_ip.address),
                                             config.udp_src_port, config.udp_dst_port)}
    if config.interfaces:
        spec["interfaces"] = [captured_interface_doc(iface) for iface in config.interfaces]
    return Result(obj("CaptureStatus", {}, spec, status_of(reply)))
