# SPDX-License-Identifier: Apache-2.0
"""The dpdkironcore.v1.DPDKironcore gRPC service.

Each feature module here registers its RPC handlers with @rpc("Name"). A handler runs on a
gRPC thread with (service, request) and returns the response message; it validates the
request (raising InvalidArgument with the contract's text) and hands every change of state to
the control thread. The dispatcher below adds what every RPC shares: ABORTED before
Initialize, Status on every response, service errors in Status, and an honest UNIMPLEMENTED
for RPCs whose feature has not landed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as Executor
from typing import TYPE_CHECKING, Any

import grpc

from ..errors import SUCCESS_MESSAGE, InvalidArgument, ServiceError
from ..proto import dpdk_pb2

if TYPE_CHECKING:
    from ..service import Service

SERVICE_NAME = "dpdkironcore.v1.DPDKironcore"
_DESCRIPTOR = dpdk_pb2.DESCRIPTOR.services_by_name["DPDKironcore"]

Handler = Callable[["Service", Any], Any]
_handlers: dict[str, Handler] = {}
log = logging.getLogger("dplane.api")


def rpc(name: str) -> Callable[[Handler], Handler]:
    if name not in _DESCRIPTOR.methods_by_name:
        raise KeyError(f"{name} is not an RPC of {SERVICE_NAME}")

    def register(fn: Handler) -> Handler:
        _handlers[name] = fn
        return fn
    return register


def ok(response: Any) -> Any:
    response.status.code = 0
    response.status.message = SUCCESS_MESSAGE
    return response


def _dispatch(service: Service, name: str, response_cls: type,
              executor: Executor | None = None) -> Callable:
    handler = _handlers.get(name)

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        if name != "Initialize" and not service.initialized:
            context.abort(grpc.StatusCode.ABORTED, "not initialized")
        if handler is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not implemented yet")
        try:
            return ok(handler(service, request))
        except InvalidArgument as exc:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))
        except ServiceError as exc:
            log.info("%s: %s", name, exc)
            response = response_cls()
            response.status.code = int(exc.code)
            response.status.message = exc.code.name
            return response
        except RuntimeError as exc:  # the control thread is gone: shutting down
            context.abort(grpc.StatusCode.UNAVAILABLE, str(exc))
    if executor is not None:
        unary.experimental_thread_pool = executor  # type: ignore[attr-defined]
    return unary


def generic_handler(service: Service, executor: Executor | None = None
                    ) -> grpc.GenericRpcHandler:
    """Handlers for every RPC of the service, implemented or not; run by `executor` (a
    ThreadPoolExecutor) when given, else by the server's thread pool."""
    from . import init, interface, prefix, route, vni  # noqa: F401  (they register their RPCs)

    methods = {}
    for method in _DESCRIPTOR.methods:
        request_cls = getattr(dpdk_pb2, method.input_type.name)
        response_cls = getattr(dpdk_pb2, method.output_type.name)
        methods[method.name] = grpc.unary_unary_rpc_method_handler(
            _dispatch(service, method.name, response_cls, executor),
            request_deserializer=request_cls.FromString,
            response_serializer=response_cls.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(SERVICE_NAME, methods)
