# SPDX-License-Identifier: Apache-2.0
"""CheckVniInUse, ResetVni."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ..errors import ErrorCode, InvalidArgument, ServiceError
from ..proto import dpdk_pb2
from . import rpc

if TYPE_CHECKING:
    from ..service import Service

VNI_TYPES = (dpdk_pb2.VNI_IPV4, dpdk_pb2.VNI_IPV6, dpdk_pb2.VNI_BOTH)


def _vni_type(value: int) -> int:
    if value not in VNI_TYPES:
        raise InvalidArgument("Invalid type")
    return value


@rpc("CheckVniInUse")
def check_vni_in_use(svc: Service, req: dpdk_pb2.CheckVniInUseRequest):
    if _vni_type(req.type) == dpdk_pb2.VNI_BOTH:
        raise ServiceError(ErrorCode.WRONG_TYPE)
    in_use = svc.control.call(svc.vnis.in_use, req.vni)
    return dpdk_pb2.CheckVniInUseResponse(in_use=in_use)


@rpc("ResetVni")
def reset_vni(svc: Service, req: dpdk_pb2.ResetVniRequest):
    if _vni_type(req.type) != dpdk_pb2.VNI_BOTH:
        raise ServiceError(ErrorCode.WRONG_TYPE)
    svc.control.call(svc.vnis.reset, req.vni)
    return dpdk_pb2.ResetVniResponse()
