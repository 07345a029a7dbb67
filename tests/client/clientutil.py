# SPDX-License-Identifier: Apache-2.0
"""Helpers of the dplane-cli tests: run the client in-process (against a service or a fake
connection that records the requests) or as the installed script, and set up interfaces over
gRPC (not through the client under test)."""
from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import harness
from dplane.cli import run
from dplane.cli.errors import GrpcError
from dplane.proto import dpdk_pb2 as pb

VF0, VF1 = "net_tap2", "net_tap3"
TEST_VNIS = (100, 200)


@dataclass
class Outcome:
    status: int
    out: str
    err: str

    def json(self) -> dict:
        return json.loads(self.out)


def address(svc: harness.Service) -> str:
    return f"{svc.netns.ns_ip}:{harness.GRPC_PORT}"


def run_inprocess(addr: str, *argv: str) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    status = run(["--address", addr, *argv], out, err)
    return Outcome(status, out.getvalue(), err.getvalue())


def ok(reply):
    """A reply with the service's success Status."""
    reply.status.code, reply.status.message = 0, "Success"
    return reply


@dataclass
class FakeApi:
    """Answers from `replies` (rpc -> request -> reply); anything else is unreachable."""

    replies: dict[str, Callable[[Any], Any]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    address: str = ""
    timeout: float = -1.0

    def call(self, rpc, request):
        self.calls.append((rpc, request))
        if rpc in self.replies:
            return self.replies[rpc](request)
        raise GrpcError(14, "UNAVAILABLE", "connection refused")

    def connect(self, address, timeout):
        self.address, self.timeout = address, timeout
        return self

    @property
    def rpcs(self):
        return [rpc for rpc, _ in self.calls]


def run_fake(api: FakeApi, *argv: str) -> Outcome:
    """The client in-process against a fake connection."""
    out, err = io.StringIO(), io.StringIO()
    status = run(list(argv), out, err, api.connect)
    return Outcome(status, out.getvalue(), err.getvalue())


def run_console(addr: str | None, *argv: str, env: dict | None = None) -> Outcome:
    """The installed console script; `env` adds to the environment."""
    script = shutil.which("dplane-cli")
    assert script, "dplane-cli is not installed (pip install -e .)"
    prefix = ["--address", addr] if addr else []
    proc = subprocess.run([script, *prefix, *argv], capture_output=True, text=True,
                          timeout=30, env={**os.environ, **(env or {})})
    return Outcome(proc.returncode, proc.stdout, proc.stderr)


def create_interface(svc: harness.Service, iface_id: str, vni: int = 100,
                     device: str = VF0, ipv4: str = "10.0.0.1", ipv6: str = "fd00::1",
                     underlay: str = "") -> pb.CreateInterfaceResponse:
    """Set-up over gRPC."""
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode()),
        preferred_underlay_route=underlay.encode()), timeout=5)
    assert reply.status.code == 0, reply.status
    return reply
