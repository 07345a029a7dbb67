# SPDX-License-Identifier: Apache-2.0
"""The dpdkironcore.v1.DPDKironcore gRPC service.

One module here per feature: a class marked `@api` whose methods marked `@rpc("Name")` handle
the RPCs of that feature. The class asks for what it needs by its constructor's parameter
types (assembly.py); a handler runs on a gRPC thread with the request and returns the
response message. It validates the request (raising InvalidArgument with the contract's text)
and hands every change of state to the control thread. The dispatcher below adds what every
RPC shares: ABORTED before Initialize, Status on every response, service errors in Status,
and an honest UNIMPLEMENTED for RPCs whose feature has not landed.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor as Executor
from typing import Any, TypeVar

import grpc

from .. import _firmware
from ..auth import is_read
from ..errors import SUCCESS_MESSAGE, InvalidArgument, ServiceError
from ..lifecycle import Lifecycle
from ..proto import dpdk_pb2

SERVICE_NAME = "dpdkironcore.v1.DPDKironcore"
_DESCRIPTOR = dpdk_pb2.DESCRIPTOR.services_by_name["DPDKironcore"]
_RPC_ATTR = "_dplane_rpc"

Handler = Callable[[Any], Any]
F = TypeVar("F", bound=Callable[..., Any])
C = TypeVar("C", bound=type)
_classes: list[type] = []
log = logging.getLogger("dplane.api")


def rpc(name: str) -> Callable[[F], F]:
    """Mark a method of an @api class as the handler of RPC `name`."""
    if name not in _DESCRIPTOR.methods_by_name:
        raise KeyError(f"{name} is not an RPC of {SERVICE_NAME}")

    def mark(fn: F) -> F:
        setattr(fn, _RPC_ATTR, name)
        return fn
    return mark


def api(cls: C) -> C:
    """Register a class whose @rpc methods serve RPCs."""
    if cls not in _classes:
        _classes.append(cls)
    return cls


def classes() -> list[type]:
    return list(_classes)


def handlers(objects: Iterable[Any]) -> dict[str, Handler]:
    """RPC name -> bound handler, from the @rpc methods of the @api objects among `objects`.
    Two handlers for one RPC is a programming error."""
    out: dict[str, Handler] = {}
    for obj in objects:
        if type(obj) not in _classes:
            continue
        for attr in dir(type(obj)):
            name = getattr(getattr(type(obj), attr), _RPC_ATTR, None)
            if name is None:
                continue
            if name in out:
                raise RuntimeError(f"two handlers for {name}")
            out[name] = getattr(obj, attr)
    return out


def ok(response: Any) -> Any:
    response.status.code = 0
    response.status.message = SUCCESS_MESSAGE
    return response


def _dispatch(lifecycle: Lifecycle, name: str, handler: Handler | None,
              response_cls: type, executor: Executor | None = None) -> Callable:
    changes = not is_read(name)

    def unary(request: Any, context: grpc.ServicerContext) -> Any:
        if name != "Initialize" and not lifecycle.initialized:
            context.abort(grpc.StatusCode.ABORTED, "not initialized")
        if handler is None:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"{name} is not implemented yet")
        try:
            return ok(handler(request))
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
        finally:
            if changes:  # what the flows' offloaded rules learnt may be stale now
                _firmware.offload_invalidate()
    if executor is not None:
        unary.experimental_thread_pool = executor  # type: ignore[attr-defined]
    return unary


def generic_handler(lifecycle: Lifecycle, objects: Iterable[Any],
                    executor: Executor | None = None) -> grpc.GenericRpcHandler:
    """Handlers for every RPC of the service, implemented (by an @api object among
    `objects`) or not; run by `executor` (a ThreadPoolExecutor: the control thread's) when
    given, else by the server's thread pool."""
    implemented = handlers(objects)
    methods = {}
    for method in _DESCRIPTOR.methods:
        request_cls = getattr(dpdk_pb2, method.input_type.name)
        response_cls = getattr(dpdk_pb2, method.output_type.name)
        methods[method.name] = grpc.unary_unary_rpc_method_handler(
            _dispatch(lifecycle, method.name, implemented.get(method.name), response_cls,
                      executor),
            request_deserializer=request_cls.FromString,
            response_serializer=response_cls.SerializeToString,
        )
    return grpc.method_handlers_generic_handler(SERVICE_NAME, methods)
