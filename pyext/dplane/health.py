# SPDX-License-Identifier: Apache-2.0
"""grpc.health.v1.Health as dpservice answers it: SERVING once the API listens, NOT_SERVING
while shutting down; Check of an unknown service gives SERVICE_UNKNOWN (gRPC OK), Watch of
one gives gRPC NOT_FOUND."""
from __future__ import annotations

import threading
from collections.abc import Iterator

import grpc

from .proto import health_pb2, health_pb2_grpc

HEALTH_SERVICE_NAME = "grpc.health.v1.Health"
Status = health_pb2.HealthCheckResponse


class Health(health_pb2_grpc.HealthServicer):
    def __init__(self, services: tuple[str, ...]) -> None:
        self._services = ("",) + services
        self._status = Status.NOT_SERVING
        self._changed = threading.Condition()

    def set(self, status: Status.ServingStatus) -> None:
        with self._changed:
            self._status = status
            self._changed.notify_all()

    def Check(self, request, context):
        if request.service not in self._services:
            return Status(status=Status.SERVICE_UNKNOWN)
        return Status(status=self._status)

    def Watch(self, request, context) -> Iterator:
        if request.service not in self._services:
            context.abort(grpc.StatusCode.NOT_FOUND, "unknown service")
        last = None
        while context.is_active():
            with self._changed:
                if self._status == last:
                    self._changed.wait(timeout=1.0)
                current = self._status
            if current != last:
                last = current
                yield Status(status=current)
