# SPDX-License-Identifier: Apache-2.0
"""The connection to the service: connects on the first call, turns gRPC failures into
GrpcError and non-zero Status codes into ServerError."""
from __future__ import annotations

from typing import Any, Protocol

import grpc

from dplane.proto import dpdk_pb2_grpc
from dplane.tls_client import ClientTls, TlsError, open_channel

from .errors import ClientError, ConnectError, GrpcError, ServerError

CALL_TIMEOUT = 30.0  # seconds per RPC once connected; the Go CLI has none, we do not hang


class Api(Protocol):
    """What the commands need: one unary call by RPC name."""

    def call(self, rpc: str, request: Any) -> Any: ...


def checked(reply: Any, kind: str, name: str | None) -> Any:
    """The reply, or ServerError when its Status reports a service error."""
    if reply.status.code != 0:
        raise ServerError(reply.status.code, reply.status.message, kind, name)
    return reply


class GrpcApi:
    """dpdkironcore.v1.DPDKironcore over an insecure channel (as dpservice-cli), or over TLS
    with the --tls-* flags (tls_client.py)."""

    def __init__(self, address: str, connect_timeout: float,
                 tls: ClientTls | None = None) -> None:
        self.address = address
        self.connect_timeout = connect_timeout
        self.tls = tls or ClientTls()
        self._channel: grpc.Channel | None = None
        self._stub: dpdk_pb2_grpc.DPDKironcoreStub | None = None

    def _connect(self) -> dpdk_pb2_grpc.DPDKironcoreStub:
        if self._stub is None:
            # a proxy from the environment has no business between an operator and the
            # dataplane of the host
            try:
                self._channel = open_channel(self.address, self.tls,
                                             [("grpc.enable_http_proxy", 0)])
            except TlsError as exc:
                raise ClientError(str(exc)) from None
            try:
                grpc.channel_ready_future(self._channel).result(
                    timeout=max(self.connect_timeout, 0.0))
            except grpc.FutureTimeoutError:
                raise ConnectError(self.address) from None
            self._stub = dpdk_pb2_grpc.DPDKironcoreStub(self._channel)
        return self._stub

    def call(self, rpc: str, request: Any) -> Any:
        stub = self._connect()
        try:
            return getattr(stub, rpc)(request, timeout=CALL_TIMEOUT)
        except grpc.RpcError as exc:
            code = exc.code() or grpc.StatusCode.UNKNOWN
            raise GrpcError(code.value[0], code.name, exc.details() or "") from None

    def close(self) -> None:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
            self._stub = None
