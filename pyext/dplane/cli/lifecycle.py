# SPDX-License-Identifier: Apache-2.0
"""init, get init, get version, get vni, reset vni."""
from __future__ import annotations

from dplane._version import __version__
from dplane.proto import dpdk_pb2 as pb

from .client import Api, checked
from .documents import obj, status_of
from .errors import ClientError, ConnectError, GrpcError
from .spec import Flag, Options, Result, command

CLIENT_NAME = "dplane-cli"
ABORTED = 10


@command("init", None, "Initial set up of the service (refused when already initialised)")
def init(api: Api, opts: Options) -> Result:
    """CheckInitialized first: Initialize only a service that is not initialised yet (the
    service itself would accept a re-initialisation, which resets its routes)."""
    try:
        check = api.call("CheckInitialized", pb.CheckInitializedRequest())
    except ConnectError:
        raise
    except GrpcError as exc:
        if exc.code != ABORTED or "not initialized" not in exc.message:
            raise ClientError("error checking initialization") from None
    else:
        if check.status.code != 0:
            raise ClientError("error checking initialization")
        raise ClientError(f"error dp-service already initialized, uuid: {check.uuid}")
    reply = checked(api.call("Initialize", pb.InitializeRequest()), "Initialized",
                    "initialized")
    return Result(obj("Initialized", {}, {"uuid": reply.uuid}, status_of(reply)))


@command("get", "init", "Show whether (and with which UUID) the service is initialised")
def get_init(api: Api, opts: Options) -> Result:
    reply = checked(api.call("CheckInitialized", pb.CheckInitializedRequest()), "Initialized",
                    "initialized")
    return Result(obj("Initialized", {}, {"uuid": reply.uuid}, status_of(reply)))


@command("get", "version", "Get the version of the service and its protocol")
def get_version(api: Api, opts: Options) -> Result:
    meta = {"client_protocol": __version__, "client_name": CLIENT_NAME,
            "client_version": __version__}
    reply = checked(api.call("GetVersion", pb.GetVersionRequest(**meta)), "Version",
                    f"{CLIENT_NAME}-{__version__}")
    spec = {"service_protocol": reply.service_protocol,
            "service_version": reply.service_version}
    return Result(obj("Version", meta, spec, status_of(reply)))


@command("get", "vni", "Get whether a VNI is in use",
         Flag("vni", "u32", "VNI to check.", required=True),
         Flag("vni-type", "u8", "VNI type: VniIpv4 = 0/VniIpv6 = 1.", required=True))
def get_vni(api: Api, opts: Options) -> Result:
    reply = checked(api.call("CheckVniInUse", pb.CheckVniInUseRequest(vni=opts.vni,
                                                                      type=opts.vni_type)),
                    "Vni", str(opts.vni))
    return Result(obj("Vni", {"vni": opts.vni, "vni_type": opts.vni_type},
                      {"in_use": reply.in_use}, status_of(reply)))


VNI_TYPES = {"ipv4": 0, "0": 0, "ipv6": 1, "1": 1, "both": 2, "2": 2}


@command("reset", "vni", "Reset a VNI (remove its routes)",
         Flag("vni", "u32", "VNI to reset.", required=True),
         Flag("vni-type", "str", "VNI type: ipv4 = 0/ipv6 = 1/both = 2.", default="both"))
def reset_vni(api: Api, opts: Options) -> Result:
    vni_type = VNI_TYPES.get(opts.vni_type.lower())
    if vni_type is None:
        raise ClientError("VNI type can be only: ipv4 = 0/ipv6 = 1/both = 2")
    reply = checked(api.call("ResetVni", pb.ResetVniRequest(vni=opts.vni, type=vni_type)),
                    "Vni", str(opts.vni))
    return Result(obj("Vni", {"vni": opts.vni, "vni_type": vni_type}, {"in_use": False},
                      status_of(reply)), "reset")
