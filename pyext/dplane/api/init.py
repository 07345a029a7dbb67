# SPDX-License-Identifier: Apache-2.0
"""Initialize, CheckInitialized, GetVersion."""
from __future__ import annotations

from .._version import __version__
from ..control import ControlThread
from ..errors import InvalidArgument
from ..lifecycle import Lifecycle
from ..proto import dpdk_pb2
from . import api, rpc

MAX_TEXT = 64


@api
class InitApi:
    def __init__(self, lifecycle: Lifecycle, control: ControlThread) -> None:
        self._lifecycle = lifecycle
        self._control = control

    @rpc("CheckInitialized")
    def check_initialized(self, req: dpdk_pb2.CheckInitializedRequest):
        return dpdk_pb2.CheckInitializedResponse(uuid=self._lifecycle.uuid)

    @rpc("Initialize")
    def initialize(self, req: dpdk_pb2.InitializeRequest):
        self._control.call(self._lifecycle.initialize)
        return dpdk_pb2.InitializeResponse(uuid=self._lifecycle.uuid)

    @rpc("GetVersion")
    def get_version(self, req: dpdk_pb2.GetVersionRequest):
        for field in ("client_protocol", "client_name", "client_version"):
            value = getattr(req, field)
            if not value or len(value.encode()) >= MAX_TEXT:
                raise InvalidArgument(f"Invalid {field}")
        return dpdk_pb2.GetVersionResponse(service_protocol=__version__,
                                           service_version=__version__)
