# SPDX-License-Identifier: Apache-2.0
"""The client side of DPDK's telemetry protocol (v2): where a service's socket is and how
to ask it. Used by dplane-exporter and the tests; no DPDK in this process."""
from __future__ import annotations

import json
import os
import socket
from typing import Any

SOCKET_NAME = "dpdk_telemetry.v2"
REQUEST_MAX = 1024  # DPDK reads requests into a buffer of this size


# ---------------------------------------------------------------------------------------
# Where the socket is, as DPDK's EAL and dpdk-telemetry.py compute it.

def runtime_dir(file_prefix: str) -> str:
    base = os.environ.get("RUNTIME_DIRECTORY")
    if not base:
        base = "/var/run" if os.getuid() == 0 else os.environ.get("XDG_RUNTIME_DIR", "/tmp")
    return os.path.join(base, "dpdk", file_prefix)


def socket_path(file_prefix: str) -> str:
    return os.path.join(runtime_dir(file_prefix), SOCKET_NAME)


def default_file_prefix() -> str:
    """$DP_FILE_PREFIX; else "dplane" (the boards' prefix) when such a socket exists; else
    "rte" (EAL's default, dpservice's)."""
    prefix = os.environ.get("DP_FILE_PREFIX")
    if prefix:
        return prefix
    return "dplane" if os.path.exists(socket_path("dplane")) else "rte"


def encode(command: str, value: Any) -> bytes:
    """A reply as DPDK writes one."""
    return json.dumps({command: value}, separators=(",", ":")).encode()


class TelemetryClient:
    """A connection to a telemetry socket (DPDK's or ours: the same protocol)."""

    def __init__(self, path: str, timeout: float = 5.0) -> None:
        self.path = path
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self._sock.settimeout(timeout)
        try:
            self._sock.connect(path)
            greeting = self._sock.recv(REQUEST_MAX)
            if not greeting:
                raise ConnectionError(f"{path}: closed by the service")
            self.info: dict[str, Any] = json.loads(greeting)
        except BaseException:
            self._sock.close()
            raise
        self.max_output_len = int(self.info.get("max_output_len", 16384))

    def query_raw(self, request: str) -> dict[str, Any]:
        """The whole reply object, e.g. {"/ethdev/list": [0, 1]}."""
        self._sock.send(request.encode())
        reply = self._sock.recv(self.max_output_len * 2)
        if not reply:
            raise ConnectionError(f"{self.path}: closed by the service")
        return json.loads(reply)

    def query(self, command: str, params: str | None = None) -> Any:
        """The value of a command's reply (None when the service could not answer)."""
        request = command if params is None else f"{command},{params}"
        return self.query_raw(request).get(command)

    def close(self) -> None:
        self._sock.close()

    def __enter__(self) -> TelemetryClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
