# SPDX-License-Identifier: Apache-2.0
"""Who may call what on the gRPC port (dplane's own; dpservice serves anyone who reaches it).

* `--grpc-tls-cert FILE` and `--grpc-tls-key FILE` (PEM) serve the port over TLS;
  `--grpc-tls-client-ca FILE` also requires a client certificate signed by that CA: a client
  without one, with one of another CA or an expired one fails the handshake.
* `--grpc-allow FILE` maps client identities to roles, one `IDENTITY = ROLE` per line (`#`
  starts a comment). An identity is the certificate's common name or one of its subject
  alternative names. `admin` may call everything; `read-only` the reads: the Check*, Get*,
  List* calls (GetVersion included), CaptureStatus, health, reflection and dplane's
  diagnostics but tracing (which shows tenants' packets). Anything else is PERMISSION_DENIED,
  and so is every call of a client whose identities are not in the file. Without the file,
  every client the CA vouches for is an admin.

Without them the port is served in the clear to anyone, as dpservice does: for deployments
that keep it on a loopback address (`--grpc-listen`) or a management network.
"""
from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import grpc

from .errors import ConfigError

ADMIN, READ_ONLY = "admin", "read-only"
ROLES = (ADMIN, READ_ONLY)
_READ_PREFIXES = ("Check", "Get", "List")
_READ_METHODS = frozenset({"CaptureStatus", "DumpTable", "Watch", "ServerReflectionInfo"})
_LINE = re.compile(r"^\s*(?P<identity>[^=#]*?)\s*=\s*(?P<role>[^=#\s]*)\s*(#.*)?$")


def is_read(method: str) -> bool:
    """Whether a read-only client may call the method ("/package.Service/Method")."""
    name = method.rsplit("/", 1)[-1]
    return name.startswith(_READ_PREFIXES) or name in _READ_METHODS


@dataclasses.dataclass(frozen=True)
class Tls:
    """The server's TLS material (PEM bytes); client_ca None: no client certificates."""

    cert: bytes
    key: bytes
    client_ca: bytes | None = None

    def credentials(self) -> grpc.ServerCredentials:
        return grpc.ssl_server_credentials([(self.key, self.cert)],
                                           root_certificates=self.client_ca,
                                           require_client_auth=self.client_ca is not None)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read {what} '{path}': {exc.strerror}") from None


def load_tls(cert: str, key: str, client_ca: str, allow: str) -> Tls | None:
    """The TLS options as given (paths, "" when not), checked together."""
    if not (cert or key or client_ca or allow):
        return None
    if allow and not client_ca:
        raise ConfigError("--grpc-allow needs --grpc-tls-client-ca: identities come from "
                          "client certificates")
    if not (cert and key):
        raise ConfigError("--grpc-tls-cert and --grpc-tls-key go together" if cert or key
                          else "--grpc-tls-client-ca needs --grpc-tls-cert and --grpc-tls-key")
    return Tls(_read(cert, "--grpc-tls-cert"), _read(key, "--grpc-tls-key"),
               _read(client_ca, "--grpc-tls-client-ca") if client_ca else None)


def parse_allow_list(text: str, source: str = "--grpc-allow") -> dict[str, str]:
    """{identity: role} from `IDENTITY = ROLE` lines; ConfigError names the bad line."""
    roles: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        match = _LINE.match(line)
        if not match or not match["identity"]:
            raise ConfigError(f"{source}:{number}: expected 'IDENTITY = ROLE'")
        identity, role = match["identity"], match["role"]
        if role not in ROLES:
            raise ConfigError(f"{source}:{number}: unknown role '{role}' (one of: "
                              f"{', '.join(ROLES)})")
        if identity in roles and roles[identity] != role:
            raise ConfigError(f"{source}:{number}: '{identity}' has two roles")
        roles[identity] = role
    return roles


def load_allow_list(path: str) -> dict[str, str] | None:
    return parse_allow_list(_read(path, "--grpc-allow").decode(errors="replace"),
                            path) if path else None


def identities(context: grpc.ServicerContext) -> list[str]:
    """The client certificate's common name and subject alternative names."""
    auth = context.auth_context()
    return [value.decode(errors="replace")
            for key in ("x509_common_name", "x509_subject_alternative_name")
            for value in auth.get(key, ())]


def role_of(roles: dict[str, str], names: list[str]) -> str | None:
    """The strongest role any of the client's identities has."""
    found = {roles[name] for name in names if name in roles}
    return ADMIN if ADMIN in found else READ_ONLY if found else None


class Authorizer(grpc.ServerInterceptor):
    """Checks every call against the allow list before its handler runs."""

    def __init__(self, roles: dict[str, str]) -> None:
        self._roles = roles

    def intercept_service(self, continuation: Callable[[Any], Any],
                          details: grpc.HandlerCallDetails) -> Any:
        handler = continuation(details)
        if handler is None:
            return None
        read = is_read(details.method)
        return _guarded(handler, lambda context: self._check(context, read, details.method))

    def _check(self, context: grpc.ServicerContext, read: bool, method: str) -> None:
        names = identities(context)
        role = role_of(self._roles, names)
        if role == ADMIN or (role == READ_ONLY and read):
            return
        who = ", ".join(names) or "a client without identity"
        if role is None:
            context.abort(grpc.StatusCode.PERMISSION_DENIED,
                          f"{who}: not in the allow list")
        context.abort(grpc.StatusCode.PERMISSION_DENIED,
                      f"{who}: read-only, may not call {method.rsplit('/', 1)[-1]}")


def _guarded(handler: grpc.RpcMethodHandler,
             check: Callable[[grpc.ServicerContext], None]) -> grpc.RpcMethodHandler:
    """The same handler, running `check` (which aborts the call) first."""
    def wrap(behavior: Callable[..., Any]) -> Callable[..., Any]:
        def guarded(request: Any, context: grpc.ServicerContext) -> Any:
            check(context)
            return behavior(request, context)
        return guarded

    for kind, factory in (("unary_unary", grpc.unary_unary_rpc_method_handler),
                          ("unary_stream", grpc.unary_stream_rpc_method_handler),
                          ("stream_unary", grpc.stream_unary_rpc_method_handler),
                          ("stream_stream", grpc.stream_stream_rpc_method_handler)):
        behavior = getattr(handler, kind)
        if behavior is not None:
            return factory(wrap(behavior), request_deserializer=handler.request_deserializer,
                           response_serializer=handler.response_serializer)
    return handler
