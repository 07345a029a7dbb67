# SPDX-License-Identifier: Apache-2.0
"""One dplane with its telemetry socket per test session (xdist worker), two VMs on it."""
from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

import harness
from dplane.telemetry_client import TelemetryClient, socket_path
from telemetry_util import VMS, create_vm


@pytest.fixture(scope="session")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(telemetry=True) as svc:
        for vm in VMS:
            create_vm(svc, vm)
        yield svc


@pytest.fixture
def telemetry(svc: harness.Service) -> Iterator[TelemetryClient]:
    with TelemetryClient(socket_path(svc.prefix)) as client:
        yield client
