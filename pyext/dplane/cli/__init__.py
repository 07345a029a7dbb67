# SPDX-License-Identifier: Apache-2.0
"""dplane-cli: the operator's command-line client, compatible with dpservice-cli.

    dplane-cli [--address HOST:PORT] [-o json|yaml|table|name] VERB NOUN [flags]

Exit status: 0 success, 1 client or gRPC error, 2 service error (Status.code != 0).
`run` is the whole program with its streams and connection passed in (the tests use it);
`main` is the console script.
"""
from __future__ import annotations

import os
import sys
from collections.abc import Callable, Sequence
from contextlib import redirect_stderr, redirect_stdout
from dataclasses import dataclass
from typing import TextIO

from dplane._version import __version__
from dplane.tls_client import ClientTls

from . import output
from .client import Api, GrpcApi
from .errors import ClientError, CliError
from .parser import output_format, parse, scan_output
from .spec import build_options
from .values import FlagValueError, parse_duration, parse_grpc_address, quote

Connect = Callable[[str, float], Api]
DEFAULT_PORT = "1337"
DEFAULT_TIMEOUT = "4s"


def _address(value: str | None) -> str:
    if value is None:
        value = f"localhost:{os.environ.get('DP_GRPC_PORT') or DEFAULT_PORT}"
    try:
        return parse_grpc_address(value)
    except FlagValueError as exc:
        raise ClientError(f'invalid argument {quote(value)} for "--address" flag: {exc}') from None


def _timeout(value: str | None) -> float:
    value = DEFAULT_TIMEOUT if value is None else value
    try:
        return parse_duration(value)
    except FlagValueError as exc:
        raise ClientError(f'invalid argument {quote(value)} for "--connect-timeout" flag: '
                          f"{exc}") from None


@dataclass
class _Shown:
    """The output format in force: from a scan of argv until the command line parsed."""

    fmt: str
    pretty: bool


def _execute(argv: Sequence[str], out: TextIO, err: TextIO, connect: Connect | None,
             shown: _Shown) -> None:
    with redirect_stdout(out), redirect_stderr(err):
        ns = parse(argv)
    if ns.version:
        out.write(f"dplane-cli version {__version__}\n")
        return
    cmd = ns.command
    if cmd is None:
        raise ClientError("subcommand is required (see dplane-cli --help)")
    shown.fmt, shown.pretty = output_format(ns, cmd), getattr(ns, "pretty", False)
    wide = getattr(ns, "wide", False)
    address = _address(getattr(ns, "address", None))
    timeout = _timeout(getattr(ns, "connect_timeout", None))
    opts = build_options(cmd, vars(ns), wide)
    api = (GrpcApi(address, timeout, ClientTls.from_args(ns)) if connect is None else
           connect(address, timeout))
    try:
        result = cmd.run(api, opts)
    finally:
        close = getattr(api, "close", None)
        if close is not None:
            close()
    output.render(result.doc, shown.fmt, out, result.operation, shown.pretty, wide)


def run(argv: Sequence[str], out: TextIO, err: TextIO, connect: Connect | None = None) -> int:
    """The program: returns the exit status. connect: how to reach the service (default:
    GrpcApi, with the --tls-* flags)."""
    shown = _Shown(*scan_output(argv))
    try:
        _execute(argv, out, err, connect, shown)
    except CliError as exc:
        return output.render_error(exc, shown.fmt, out, err, shown.pretty)
    except SystemExit as exc:  # --help
        return exc.code if isinstance(exc.code, int) else 0
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Console script: no Python traceback reaches an operator."""
    args = sys.argv[1:] if argv is None else list(argv)
    try:
        status = run(args, sys.stdout, sys.stderr)
        sys.stdout.flush()
        return status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:  # e.g. `dplane-cli list interfaces | head -1`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    except Exception as exc:  # the last line of defence: a one-line report, not a traceback
        fmt, pretty = scan_output(args)
        error = ClientError(f"internal error: {type(exc).__name__}: {exc}")
        return output.render_error(error, fmt, sys.stdout, sys.stderr, pretty)


__all__ = ["main", "run"]
