# SPDX-License-Identifier: Apache-2.0
"""Fixtures for dplane-cli against a real service: one initialised service per module,
cleaned after each test; `cli(...)` runs the client in-process, `console(...)` runs the
installed dplane-cli script."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import harness
from clientutil import TEST_VNIS, Outcome, address, create_interface, run_console, run_inprocess
from dplane.proto import dpdk_pb2 as pb


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        yield svc


@pytest.fixture
def svc(shared: harness.Service) -> Iterator[harness.Service]:
    """The module's service; interfaces and test VNIs' routes are removed afterwards."""
    yield shared
    api = shared.api
    for iface in api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces:
        api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=iface.id), timeout=5)
    for vni in TEST_VNIS:
        api.ResetVni(pb.ResetVniRequest(vni=vni, type=pb.VNI_BOTH), timeout=5)


@pytest.fixture
def cli(svc: harness.Service) -> Callable[..., Outcome]:
    return lambda *argv: run_inprocess(address(svc), *argv)


@pytest.fixture
def console(svc: harness.Service) -> Callable[..., Outcome]:
    return lambda *argv, env=None: run_console(address(svc), *argv, env=env)


@pytest.fixture
def make_interface(svc: harness.Service) -> Callable[..., pb.CreateInterfaceResponse]:
    return lambda *args, **kwargs: create_interface(svc, *args, **kwargs)
