# SPDX-License-Identifier: Apache-2.0
"""Initialize, CheckInitialized, GetVersion."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .._version import __version__
from ..errors import InvalidArgument
from ..proto import dpdk_pb2
from . import rpc

if TYPE_CHECKING:
    from ..service import Service

MAX_TEXT = 64


@rpc("CheckInitialized")
def check_initialized(svc: Service, req: dpdk_pb2.CheckInitializedRequest):
    return dpdk_pb2.CheckInitializedResponse(uuid=svc.uuid)


@rpc("Initialize")
def initialize(svc: Service, req: dpdk_pb2.InitializeRequest):
    svc.control.call(svc.initialize)
    return dpdk_pb2.InitializeResponse(uuid=svc.uuid)


@rpc("GetVersion")
def get_version(svc: Service, req: dpdk_pb2.GetVersionRequest):
    for field in ("client_protocol", "client_name", "client_version"):
        value = getattr(req, field)
        if not value or len(value.encode()) >= MAX_TEXT:
            raise InvalidArgument(f"Invalid {field}")
    return dpdk_pb2.GetVersionResponse(service_protocol=__version__,
                                       service_version=__version__)
