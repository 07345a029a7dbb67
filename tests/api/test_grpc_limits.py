# SPDX-License-Identifier: Apache-2.0
"""The gRPC server bounds what a client can take (server.py): connections at once, idle and
half-open connections, request size, pings; and the service's memory comes back once the
hostile clients are gone. dpservice keeps 1 000 idle and 200 half-open connections forever.

Raw TCP sockets play the hostile clients: one that never sends the HTTP/2 preface is
half-open; one that sends the preface and its SETTINGS, and then nothing, is idle.
"""
from __future__ import annotations

import contextlib
import resource
import selectors
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

import harness
from dplane.proto import dpdk_pb2

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
SETTINGS = b"\x00\x00\x00\x04\x00\x00\x00\x00\x00"  # an empty SETTINGS frame, stream 0
PING = b"\x00\x00\x08\x06\x00\x00\x00\x00\x00" + b"\x00" * 8  # PING, stream 0, no ACK
IDLE_TIMEOUT, HANDSHAKE_TIMEOUT = 2, 1  # seconds, as the service is started here
LIMITS = ["--grpc-idle-timeout", str(IDLE_TIMEOUT),
          "--grpc-handshake-timeout", str(HANDSHAKE_TIMEOUT)]


@pytest.fixture(scope="module", autouse=True)
def enough_descriptors() -> None:
    """Room for 1 200 sockets here and in the service (which inherits the limit)."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 4096 <= hard or soft < hard == resource.RLIM_INFINITY:
        resource.setrlimit(resource.RLIMIT_NOFILE, (4096, hard))
    if resource.getrlimit(resource.RLIMIT_NOFILE)[0] < 4096:
        pytest.skip("needs 4096 file descriptors")


def connect(svc: harness.Service, hello: bytes = b"") -> socket.socket:
    sock = socket.create_connection((svc.netns.ns_ip, harness.GRPC_PORT), timeout=5)
    if hello:
        sock.sendall(hello)
    return sock


def closed_by_server(socks: list[socket.socket], timeout: float) -> int:
    """How many of the sockets the server closed within `timeout` (what it sent before,
    such as its SETTINGS and a GOAWAY, is read and skipped)."""
    closed = 0
    with selectors.DefaultSelector() as sel:  # epoll: descriptors beyond select()'s 1024
        for sock in socks:
            sel.register(sock, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while sel.get_map() and (left := deadline - time.monotonic()) > 0:
            for key, _ in sel.select(left):
                try:
                    data = key.fileobj.recv(65536)
                except ConnectionResetError:
                    data = b""
                if not data:
                    closed += 1
                    sel.unregister(key.fileobj)
    return closed


@contextlib.contextmanager
def sockets(svc: harness.Service, count: int, hello: bytes = b""
            ) -> Iterator[list[socket.socket]]:
    socks = []
    try:
        for _ in range(count):
            socks.append(connect(svc, hello))
        yield socks
    finally:
        for sock in socks:
            sock.close()


VERSION = dpdk_pb2.GetVersionRequest(client_protocol="1", client_name="limits",
                                     client_version="1")


def get_version(svc: harness.Service) -> None:
    svc.api.GetVersion(VERSION, timeout=5)


def rss_kib(svc: harness.Service) -> int:
    for line in Path(f"/proc/{svc.proc.pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def test_half_open_connections_are_closed():
    with harness.running_service(opts=LIMITS) as svc, sockets(svc, 200) as socks:
        # 200 connections that never say a word, and one that stops mid-preface
        socks.append(connect(svc, PREFACE[:10]))
        assert closed_by_server(socks, HANDSHAKE_TIMEOUT + 3) == len(socks)
        get_version(svc)


def test_idle_connections_are_closed():
    with (harness.running_service(opts=[*LIMITS, "--grpc-max-connections", "2000"]) as svc,
          sockets(svc, 1000, PREFACE + SETTINGS) as socks):
        assert closed_by_server(socks, IDLE_TIMEOUT + 5) == len(socks)
        get_version(svc)


def test_connections_beyond_the_limit_are_closed():
    with harness.running_service(opts=[*LIMITS, "--grpc-max-connections", "4",
                                       "--grpc-idle-timeout", "60"]) as svc:
        svc.channel.close()  # the harness's own channel would take one of the four
        time.sleep(1)  # until the server has seen it go
        with sockets(svc, 5, PREFACE + SETTINGS) as socks:
            # which one the server turns away depends on the order it accepts them in
            assert closed_by_server(socks, 2) == 1
        # once they are gone, a client is served again
        deadline = time.monotonic() + 5
        with grpc.insecure_channel(f"{svc.netns.ns_ip}:{harness.GRPC_PORT}") as channel:
            stub = type(svc.api)(channel)
            while True:
                try:
                    stub.GetVersion(VERSION, timeout=1)
                    break
                except grpc.RpcError:
                    assert time.monotonic() < deadline, "not served after the others left"
                    time.sleep(0.2)


def test_a_request_too_big_is_refused():
    with harness.running_service() as svc:
        with pytest.raises(grpc.RpcError) as err:
            svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
                interface_id=b"x" * (2 << 20), vni=100, device_name="dtapvf_0"), timeout=5)
        assert err.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        get_version(svc)
        assert not svc.api.ListInterfaces(dpdk_pb2.ListInterfacesRequest(),
                                          timeout=5).interfaces


def test_a_client_that_pings_too_often_is_closed():
    """Pings without calls faster than one per 5 s: after two strikes, GOAWAY and close."""
    with harness.running_service() as svc:
        sock = connect(svc, PREFACE + SETTINGS)
        try:
            for _ in range(10):
                try:
                    sock.sendall(PING)
                except (BrokenPipeError, ConnectionResetError):
                    break  # closed already
                time.sleep(0.05)
            assert closed_by_server([sock], 3) == 1
        finally:
            sock.close()
        get_version(svc)


def test_memory_comes_back_after_hostile_clients():
    """1 000 idle and 200 half-open connections, and oversized requests: once the server
    has closed them, the service's resident memory is back within 10 % of where it was."""
    with harness.running_service(opts=[*LIMITS, "--grpc-max-connections", "2000"]) as svc:
        for _ in range(20):  # warm up: what serving any client allocates once
            get_version(svc)
        baseline = rss_kib(svc)
        for _ in range(2):
            with (sockets(svc, 1000, PREFACE + SETTINGS) as idle,
                  sockets(svc, 200) as half_open):
                for _ in range(20):
                    with pytest.raises(grpc.RpcError):
                        svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
                            interface_id=b"x" * (2 << 20)), timeout=5)
                assert closed_by_server(idle + half_open, IDLE_TIMEOUT + 5) == 1200
        deadline = time.monotonic() + 10
        while (after := rss_kib(svc)) > baseline * 1.10 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert after <= baseline * 1.10, f"RSS {baseline} KiB before, {after} KiB after"
        get_version(svc)


@pytest.mark.parametrize("option, value", [("--grpc-max-connections", "0"),
                                           ("--grpc-idle-timeout", "0"),
                                           ("--grpc-handshake-timeout", "301"),
                                           ("--grpc-max-connections", "many")])
def test_bad_limits_are_refused(option, value):
    proc = harness.dplane_options(option, value)
    assert proc.returncode == 1 and f"'{option}'" in proc.stderr


def test_limits_in_effect_are_reported():
    with harness.running_service(opts=["--grpc-max-connections", "50"]) as svc:
        options = dict(svc.stats().options)
    assert (options["grpc-max-connections"], options["grpc-idle-timeout"],
            options["grpc-handshake-timeout"]) == ("50", "300", "10")
