# SPDX-License-Identifier: Apache-2.0
"""dplane.v1.Diagnostics: drop counters per reason and port counters, over gRPC."""
from __future__ import annotations

from typing import TYPE_CHECKING

from . import firmware
from .proto import dplane_pb2, dplane_pb2_grpc

if TYPE_CHECKING:
    from .service import Service

SERVICE_NAME = "dplane.v1.Diagnostics"


def collect(svc: Service) -> dplane_pb2.GetStatsResponse:
    """Runs on the control thread."""
    response = dplane_pb2.GetStatsResponse(drops=firmware.drop_counters())
    for port in svc.ports:
        st = firmware.port_stats(port.port_id)
        response.ports.add(
            port_id=port.port_id, name=port.name, role=port.role,
            rx_packets=st["ipackets"], tx_packets=st["opackets"],
            rx_bytes=st["ibytes"], tx_bytes=st["obytes"],
            rx_missed=st["imissed"], rx_errors=st["ierrors"],
            tx_errors=st["oerrors"], rx_nombuf=st["rx_nombuf"],
            vm_mac=firmware.iface_vm_mac(port.port_id) if port.role == "vf" else "",
        )
    for name, capacity, entries in svc.table_usage():
        response.tables.add(name=name, capacity=capacity, entries=entries)
    return response


class Diagnostics(dplane_pb2_grpc.DiagnosticsServicer):
    def __init__(self, svc: Service) -> None:
        self._svc = svc

    def GetStats(self, request, context):
        return self._svc.control.call(collect, self._svc)
