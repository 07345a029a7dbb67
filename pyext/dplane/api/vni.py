# SPDX-License-Identifier: Apache-2.0
"""CheckVniInUse, ResetVni."""
from __future__ import annotations

from ..control import ControlThread
from ..errors import ErrorCode, InvalidArgument, ServiceError
from ..proto import dpdk_pb2
from ..vnis import Vnis
from . import api, rpc

VNI_TYPES = (dpdk_pb2.VNI_IPV4, dpdk_pb2.VNI_IPV6, dpdk_pb2.VNI_BOTH)


def _vni_type(value: int) -> int:
    if value not in VNI_TYPES:
        raise InvalidArgument("Invalid type")
    return value


@api
class VniApi:
    def __init__(self, control: ControlThread, vnis: Vnis) -> None:
        self._control = control
        self._vnis = vnis

    @rpc("CheckVniInUse")
    def check_vni_in_use(self, req: dpdk_pb2.CheckVniInUseRequest):
        if _vni_type(req.type) == dpdk_pb2.VNI_BOTH:
            raise ServiceError(ErrorCode.WRONG_TYPE)
        in_use = self._control.call(self._vnis.in_use, req.vni)
        return dpdk_pb2.CheckVniInUseResponse(in_use=in_use)

    @rpc("ResetVni")
    def reset_vni(self, req: dpdk_pb2.ResetVniRequest):
        if _vni_type(req.type) != dpdk_pb2.VNI_BOTH:
            raise ServiceError(ErrorCode.WRONG_TYPE)
        self._control.call(self._vnis.reset, req.vni)
        return dpdk_pb2.ResetVniResponse()
