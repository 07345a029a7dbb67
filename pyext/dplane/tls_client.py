# SPDX-License-Identifier: Apache-2.0
"""The clients' side of the API's TLS (auth.py): dplane-cli, dplane-dump and dplane-inspect
take `--tls-ca FILE` (the CA that signed the service's certificate) and, for a service that
requires client certificates, `--tls-cert FILE` and `--tls-key FILE`; `--tls-server-name`
overrides the name the service's certificate is checked against (default: the address's
host). Without `--tls-ca` they connect in the clear, as dpservice's clients do."""
from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import grpc


class TlsError(Exception):
    """The TLS options cannot be used (a file that cannot be read, a key without its
    certificate)."""


@dataclasses.dataclass(frozen=True)
class ClientTls:
    ca: str = ""
    cert: str = ""
    key: str = ""
    server_name: str = ""

    @classmethod
    def from_args(cls, args: argparse.Namespace) -> ClientTls:
        return cls(*(getattr(args, name, None) or "" for name in
                     ("tls_ca", "tls_cert", "tls_key", "tls_server_name")))

    def credentials(self) -> grpc.ChannelCredentials | None:
        if not (self.ca or self.cert or self.key):
            return None
        if not self.ca:
            raise TlsError("--tls-cert and --tls-key need --tls-ca")
        if bool(self.cert) != bool(self.key):
            raise TlsError("--tls-cert and --tls-key go together")
        return grpc.ssl_channel_credentials(
            root_certificates=_read(self.ca, "--tls-ca"),
            private_key=_read(self.key, "--tls-key") if self.key else None,
            certificate_chain=_read(self.cert, "--tls-cert") if self.cert else None)


def _read(path: str, what: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise TlsError(f"cannot read {what} '{path}': {exc.strerror}") from None


def add_arguments(parser: Any, default: Any = None) -> None:
    """The --tls-* flags on an argparse parser (or group); `default` for every flag."""
    for flag, help in (("--tls-ca", "CA certificate (PEM) that signed the service's: "
                                    "connect over TLS"),
                       ("--tls-cert", "client certificate (PEM), for a service that "
                                      "requires one"),
                       ("--tls-key", "the client certificate's private key (PEM)"),
                       ("--tls-server-name", "name to check the service's certificate "
                                             "against (default: the address's host)")):
        parser.add_argument(flag, metavar="NAME" if flag.endswith("name") else "FILE",
                            default=default, help=help)


def open_channel(address: str, tls: ClientTls,
                 options: Sequence[tuple[str, Any]] = ()) -> grpc.Channel:
    """An insecure channel without TLS options, a secure one with them."""
    credentials = tls.credentials()
    if credentials is None:
        return grpc.insecure_channel(address, options=list(options))
    options = list(options)
    if tls.server_name:
        options.append(("grpc.ssl_target_name_override", tls.server_name))
    return grpc.secure_channel(address, credentials, options=options)
