# SPDX-License-Identifier: Apache-2.0
"""The gRPC server: the API, dplane's diagnostics, health checking and server reflection on
one port. It serves what it is given; app.py decides what that is."""
from __future__ import annotations

import concurrent.futures

import grpc
from grpc_reflection.v1alpha import reflection

from . import api, diagnostics
from .errors import ConfigError
from .health import HEALTH_SERVICE_NAME, Health, Status
from .proto import dplane_pb2_grpc, health_pb2_grpc

KEEPALIVE_MS = 15_000


class Server:
    def __init__(self, port: int, api_handler: grpc.GenericRpcHandler,
                 diagnostics_servicer: dplane_pb2_grpc.DiagnosticsServicer) -> None:
        self.health = Health((api.SERVICE_NAME,))
        self._grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=8,
                                                  thread_name_prefix="grpc"),
            options=[
                ("grpc.keepalive_time_ms", KEEPALIVE_MS),
                ("grpc.so_reuseport", 0),
            ],
        )
        self._grpc.add_generic_rpc_handlers((api_handler,))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._grpc)
        dplane_pb2_grpc.add_DiagnosticsServicer_to_server(diagnostics_servicer, self._grpc)
        reflection.enable_server_reflection(
            (api.SERVICE_NAME, diagnostics.SERVICE_NAME, HEALTH_SERVICE_NAME,
             reflection.SERVICE_NAME), self._grpc)
        try:
            bound = self._grpc.add_insecure_port(f"[::]:{port}")
        except RuntimeError:
            bound = 0
        if bound != port:
            raise ConfigError(f"Cannot listen for gRPC on port {port}")
        self.port = port

    def start(self) -> None:
        self._grpc.start()
        self.health.set(Status.SERVING)

    def stop(self, grace: float = 1.0) -> None:
        self.health.set(Status.NOT_SERVING)
        self._grpc.stop(grace).wait(grace + 1.0)
