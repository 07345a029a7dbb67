# SPDX-License-Identifier: Apache-2.0
"""Initialize, CheckInitialized, GetVersion, the not-yet-initialised and not-yet-implemented
behaviour of every other RPC, health checking and reflection — over real gRPC."""
from __future__ import annotations

import re
import threading

import grpc
import pytest
from grpc_reflection.v1alpha.proto_reflection_descriptor_database import (
    ProtoReflectionDescriptorDatabase,
)

from dplane import __version__
from dplane.proto import dpdk_pb2, health_pb2

SERVICE = dpdk_pb2.DESCRIPTOR.services_by_name["DPDKironcore"]
UUID_RE = re.compile(r"^[0-9A-F]{8}-[0-9A-F]{4}-4[0-9A-F]{3}-[89AB][0-9A-F]{3}-[0-9A-F]{12}$")


def call(channel, method, request=None):
    """Call any RPC by descriptor with an empty (or given) request."""
    request_cls = getattr(dpdk_pb2, method.input_type.name)
    response_cls = getattr(dpdk_pb2, method.output_type.name)
    stub = channel.unary_unary(f"/{SERVICE.full_name}/{method.name}",
                               request_serializer=request_cls.SerializeToString,
                               response_deserializer=response_cls.FromString)
    return stub(request or request_cls(), timeout=5)


def version_request(**fields):
    base = dict(client_protocol="1", client_name="dpservice-cli", client_version="0.3.0")
    base.update(fields)
    return dpdk_pb2.GetVersionRequest(**base)


def test_proto_has_every_rpc_of_the_contract():
    assert len(SERVICE.methods) == 42
    assert SERVICE.full_name == "dpdkironcore.v1.DPDKironcore"


def test_everything_but_initialize_is_aborted_before_initialize(service):
    for method in SERVICE.methods:
        if method.name == "Initialize":
            continue
        with pytest.raises(grpc.RpcError) as err:
            call(service.channel, method)
        assert err.value.code() == grpc.StatusCode.ABORTED, method.name
        assert err.value.details() == "not initialized", method.name


def test_initialize_then_check(service):
    uuid = service.initialize()
    assert UUID_RE.match(uuid)
    reply = service.api.CheckInitialized(dpdk_pb2.CheckInitializedRequest(), timeout=5)
    assert reply.uuid == uuid
    assert (reply.status.code, reply.status.message) == (0, "Success")
    # allowed again at any time; the UUID identifies the process, not the call
    assert service.initialize() == uuid


def test_uuid_differs_between_processes(start_service):
    first, second = start_service(nb_vfs=0), start_service(nb_vfs=0)
    assert first.initialize() != second.initialize()


def test_get_version(service):
    service.initialize()
    reply = service.api.GetVersion(version_request(), timeout=5)
    assert (reply.status.code, reply.status.message) == (0, "Success")
    assert reply.service_version == __version__
    assert reply.service_protocol == __version__


@pytest.mark.parametrize("field", ["client_protocol", "client_name", "client_version"])
@pytest.mark.parametrize("value", ["", "x" * 64, "é" * 32])
def test_get_version_validation(service, field, value):
    service.initialize()
    with pytest.raises(grpc.RpcError) as err:
        service.api.GetVersion(version_request(**{field: value}), timeout=5)
    assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert err.value.details() == f"Invalid {field}"


def test_get_version_accepts_63_bytes(service):
    service.initialize()
    reply = service.api.GetVersion(version_request(client_name="n" * 63), timeout=5)
    assert reply.status.code == 0


def test_every_rpc_is_implemented(service):
    """All 42 RPCs of dpservice's API answer (an empty request: a Status or
    INVALID_ARGUMENT, never UNIMPLEMENTED)."""
    service.initialize()
    assert len(SERVICE.methods) == 42
    for method in SERVICE.methods:
        try:
            call(service.channel, method)
        except grpc.RpcError as err:
            assert err.code() != grpc.StatusCode.UNIMPLEMENTED, method.name


def test_concurrent_clients_all_answered(service):
    service.initialize()
    errors, replies = [], []

    def worker():
        try:
            for _ in range(20):
                replies.append(service.api.GetVersion(version_request(), timeout=5))
        except grpc.RpcError as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(replies) == 160 and all(r.service_version == __version__ for r in replies)


def test_health(service):
    Status = health_pb2.HealthCheckResponse
    for name in ("", "dpdkironcore.v1.DPDKironcore"):
        reply = service.health.Check(health_pb2.HealthCheckRequest(service=name), timeout=5)
        assert reply.status == Status.SERVING
    reply = service.health.Check(health_pb2.HealthCheckRequest(service="nope"), timeout=5)
    assert reply.status == Status.SERVICE_UNKNOWN
    with pytest.raises(grpc.RpcError) as err:
        next(service.health.Watch(health_pb2.HealthCheckRequest(service="nope"), timeout=5))
    assert err.value.code() == grpc.StatusCode.NOT_FOUND


def test_health_watch_sees_shutdown(service):
    Status = health_pb2.HealthCheckResponse
    stream = service.health.Watch(health_pb2.HealthCheckRequest(service=""), timeout=20)
    assert next(stream).status == Status.SERVING
    service.proc.terminate()
    assert next(stream).status == Status.NOT_SERVING
    assert service.proc.wait(10) == 0


def test_reflection_lists_the_services(service):
    db = ProtoReflectionDescriptorDatabase(service.channel)
    services = set(db.get_services())
    assert {"dpdkironcore.v1.DPDKironcore", "grpc.health.v1.Health",
            "dplane.v1.Diagnostics"} <= services
    file_desc = db.FindFileContainingSymbol("dpdkironcore.v1.DPDKironcore")
    assert file_desc.package == "dpdkironcore.v1"
    assert "Initialize" in [m.name for m in file_desc.service[0].method]


def test_diagnostics_before_initialize(service):
    stats = service.stats()
    assert {p.role for p in stats.ports} == {"pf0", "pf1", "vf"}
    assert [p.name for p in stats.ports] == ["dtap0", "dtap1", "dtapvf_0", "dtapvf_1"]
    assert "cls_no_interface" in stats.drops and "drop" in stats.drops
