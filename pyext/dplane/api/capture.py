# SPDX-License-Identifier: Apache-2.0
"""CaptureStart, CaptureStop, CaptureStatus: every packet the chosen ports receive copied,
in UDP-in-IPv6, to a sink node (features/offload.py). Only with offload on, as dpservice."""
from __future__ import annotations

from ..control import ControlThread
from ..errors import InvalidArgument
from ..features.offload import MAX_CAPTURED, Capture, CaptureConfig
from ..proto import dpdk_pb2
from . import api, rpc, validate

MAX_PF_INDEX = 255


def _config(req: dpdk_pb2.CaptureStartRequest) -> CaptureConfig:
    """Validated in dpservice's order (contract 3.5)."""
    cfg = req.capture_config
    if cfg.udp_src_port > 0xffff:
        raise InvalidArgument("Invalid udp_src_port")
    if cfg.udp_dst_port > 0xffff:
        raise InvalidArgument("Invalid udp_dst_port")
    sink = validate.ipv6(cfg.sink_node_ip.address)
    if sink is None:
        raise InvalidArgument("Invalid sink_node_ip")
    if len(cfg.interfaces) > MAX_CAPTURED:
        raise InvalidArgument("Too many interfaces to be captured")
    interfaces: list[tuple[str, str | int]] = []
    for iface in cfg.interfaces:
        if iface.interface_type == dpdk_pb2.SINGLE_VF:
            interfaces.append(("vf", validate.interface_id(iface.vf_name)))
        elif iface.interface_type == dpdk_pb2.SINGLE_PF:
            if iface.pf_index > MAX_PF_INDEX:
                raise InvalidArgument("Invalid pf_index")
            interfaces.append(("pf", iface.pf_index))
        else:
            raise InvalidArgument("Invalid interfaces.interface_type")
    return CaptureConfig(sink, cfg.udp_src_port, cfg.udp_dst_port, tuple(interfaces))


def _message(cfg: CaptureConfig) -> dpdk_pb2.CaptureConfig:
    interfaces = [dpdk_pb2.CapturedInterface(interface_type=dpdk_pb2.SINGLE_VF,
                                             vf_name=str(spec).encode())
                  if kind == "vf" else
                  dpdk_pb2.CapturedInterface(interface_type=dpdk_pb2.SINGLE_PF,
                                             pf_index=int(spec))
                  for kind, spec in cfg.interfaces]
    return dpdk_pb2.CaptureConfig(
        sink_node_ip=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV6, address=cfg.sink_text.encode()),
        udp_src_port=cfg.udp_src_port, udp_dst_port=cfg.udp_dst_port, interfaces=interfaces)


@api
class CaptureApi:
    def __init__(self, control: ControlThread, capture: Capture) -> None:
        self._control = control
        self._capture = capture

    @rpc("CaptureStart")
    def capture_start(self, req: dpdk_pb2.CaptureStartRequest):
        self._control.call(self._capture.begin, _config(req))
        return dpdk_pb2.CaptureStartResponse()

    @rpc("CaptureStop")
    def capture_stop(self, req: dpdk_pb2.CaptureStopRequest):
        stopped = self._control.call(self._capture.end)
        return dpdk_pb2.CaptureStopResponse(stopped_interface_cnt=stopped)

    @rpc("CaptureStatus")
    def capture_status(self, req: dpdk_pb2.CaptureStatusRequest):
        cfg = self._control.call(self._capture.status)
        if cfg is None:
            return dpdk_pb2.CaptureStatusResponse(is_active=False)
        return dpdk_pb2.CaptureStatusResponse(is_active=True, capture_config=_message(cfg))
