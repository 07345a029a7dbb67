# SPDX-License-Identifier: Apache-2.0
"""The three ways a dplane-cli command fails, as dpservice-cli reports them (contract 4.5).

* server: the RPC answered with Status.code != 0 -> exit status 2
* grpc: the RPC itself failed (validation, not initialised, unreachable) -> exit status 1
* client: the command line could not be turned into a request -> code 1000, exit status 1
"""
from __future__ import annotations

CLIENT_ERROR_CODE = 1000
EXIT_CLIENT = 1
EXIT_SERVER = 2


class CliError(Exception):
    """Base: knows its source, numeric code, message and exit status."""

    source = ""
    exit_status = EXIT_CLIENT

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def text(self) -> str:
        """The one-line form for people (table and name output)."""
        return self.message

    def document(self) -> dict:
        return {"kind": "Error", "spec": {"source": self.source},
                "status": {"code": self.code, "message": self.message}}


class ClientError(CliError):
    source = "client"

    def __init__(self, message: str) -> None:
        super().__init__(CLIENT_ERROR_CODE, message)


class GrpcError(CliError):
    """A failed RPC; `name` is the gRPC code name (INVALID_ARGUMENT...)."""

    source = "grpc"

    def __init__(self, code: int, name: str, message: str) -> None:
        super().__init__(code, message)
        self.name = name

    @property
    def text(self) -> str:
        camel = "".join(part.capitalize() for part in self.name.split("_"))
        return f"rpc error: code = {camel} desc = {self.message}"


class ConnectError(GrpcError):
    """The service could not be reached within --connect-timeout."""

    def __init__(self, address: str) -> None:
        super().__init__(4, "DEADLINE_EXCEEDED",
                         f"error connecting to {address}: context deadline exceeded")

    @property
    def text(self) -> str:
        return self.message


class ServerError(CliError):
    """Status.code != 0; `kind` and `name` say which object (for `-o name`)."""

    source = "server"
    exit_status = EXIT_SERVER

    def __init__(self, code: int, message: str, kind: str, name: str | None) -> None:
        super().__init__(code, message)
        self.kind = kind
        self.name = name

    @property
    def text(self) -> str:
        return f"server error: {self.code}, {self.message}"
