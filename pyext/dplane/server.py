# SPDX-License-Identifier: Apache-2.0
"""The gRPC server: the API, dplane's diagnostics, health checking and server reflection on
one port. It serves what it is given; app.py decides what that is.

It bounds what a client can take, so that nobody who reaches the port can exhaust the
service (dpservice bounds nothing): connections at once (`--grpc-max-connections`; more are
closed as they are accepted), a connection without a call (`--grpc-idle-timeout`) or that
does not finish its handshake (`--grpc-handshake-timeout`, against half-open connections),
requests of at most MAX_REQUEST_BYTES (dpservice's largest are a few hundred bytes; replies
such as a VNI's routes are not bounded), MAX_RPCS calls at once in the whole server
(RESOURCE_EXHAUSTED beyond), and client pings: at most one per
MIN_PING_INTERVAL_MS without data, else the connection is closed (too_many_pings).
"""
from __future__ import annotations

import concurrent.futures
import ctypes
import dataclasses

import grpc
from grpc_reflection.v1alpha import reflection

from . import api, diagnostics
from .auth import Authorizer, Tls
from .errors import ConfigError
from .health import HEALTH_SERVICE_NAME, Health, Status
from .proto import dplane_pb2_grpc, health_pb2_grpc

KEEPALIVE_MS = 15_000
MAX_REQUEST_BYTES = 1 << 20
# calls at once in the server. Not per connection (grpc.max_concurrent_streams): with one,
# grpc refuses some streams of a client that pipelines (REFUSED_STREAM, measured with 64 in
# flight, as the route tests and the benchmark keep), which dpservice's clients never see
MAX_RPCS = 1024
MIN_PING_INTERVAL_MS = 5_000  # grpc-go's clients ping every 10 s at the most
MAX_PING_STRIKES = 2


@dataclasses.dataclass(frozen=True)
class Limits:
    max_connections: int = 128
    idle_timeout: float = 300.0       # seconds
    handshake_timeout: float = 10.0   # seconds

    def options(self) -> list[tuple[str, int]]:
        """grpc's server channel arguments for these limits and the fixed ones."""
        return [
            ("grpc.max_allowed_incoming_connections", self.max_connections),
            ("grpc.max_connection_idle_ms", int(self.idle_timeout * 1000)),
            ("grpc.server_handshake_timeout_ms", int(self.handshake_timeout * 1000)),
            ("grpc.max_receive_message_length", MAX_REQUEST_BYTES),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.http2.min_recv_ping_interval_without_data_ms", MIN_PING_INTERVAL_MS),
            ("grpc.http2.max_ping_strikes", MAX_PING_STRIKES),
        ]


_libc = ctypes.CDLL(None)


def trim_memory() -> None:
    """Give the heap's free pages back to the system: what thousands of connections took
    (grpc allocates per connection, in the arenas of its threads) stays resident after they
    are closed unless trimmed. A few milliseconds; nothing to do costs microseconds."""
    _libc.malloc_trim(0)


class Server:
    def __init__(self, port: int, api_handler: grpc.GenericRpcHandler,
                 diagnostics_servicer: dplane_pb2_grpc.DiagnosticsServicer,
                 limits: Limits = Limits(), listen: str = "", tls: Tls | None = None,
                 roles: dict[str, str] | None = None) -> None:
        """listen: the address to serve on ("": all of the host's); tls: serve over TLS;
        roles: the allow list (auth.py), with client certificates."""
        self.health = Health((api.SERVICE_NAME,))
        self._grpc = grpc.server(
            concurrent.futures.ThreadPoolExecutor(max_workers=8,
                                                  thread_name_prefix="grpc"),
            options=[
                ("grpc.keepalive_time_ms", KEEPALIVE_MS),
                ("grpc.so_reuseport", 0),
                *limits.options(),
            ],
            maximum_concurrent_rpcs=MAX_RPCS,
            interceptors=[Authorizer(roles)] if roles is not None else [],
        )
        self._grpc.add_generic_rpc_handlers((api_handler,))
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self._grpc)
        dplane_pb2_grpc.add_DiagnosticsServicer_to_server(diagnostics_servicer, self._grpc)
        reflection.enable_server_reflection(
            (api.SERVICE_NAME, diagnostics.SERVICE_NAME, HEALTH_SERVICE_NAME,
             reflection.SERVICE_NAME), self._grpc)
        address = f"[{listen or '::'}]:{port}" if ":" in (listen or "::") else \
            f"{listen}:{port}"
        try:
            bound = (self._grpc.add_secure_port(address, tls.credentials()) if tls else
                     self._grpc.add_insecure_port(address))
        except RuntimeError:
            bound = 0
        if bound != port:
            raise ConfigError(f"Cannot listen for gRPC on port {port}" +
                              (f" of {listen}" if listen else ""))
        self.port = port

    def start(self) -> None:
        self._grpc.start()
        self.health.set(Status.SERVING)

    def stop(self, grace: float = 1.0) -> None:
        self.health.set(Status.NOT_SERVING)
        self._grpc.stop(grace).wait(grace + 1.0)
