# SPDX-License-Identifier: Apache-2.0
"""The argparse command line, built from the command registry.

`dplane-cli [global flags] VERB NOUN [flags]`, with global flags accepted anywhere (as cobra
does): they are declared on every level with SUPPRESS defaults, so a value given at any level
survives. Parse errors raise ClientError instead of exiting.
"""
from __future__ import annotations

import argparse
import functools
from collections.abc import Sequence
from typing import NoReturn

from dplane import tls_client

# importing the feature modules registers their commands
from . import capture, firewall, interfaces, lifecycle, loadbalancers, nat, routing  # noqa: F401
from .errors import ClientError
from .output import FORMATS
from .spec import NOUNS, PLURAL, REGISTRY, Command
from .values import FlagValueError, parse_bool, quote

VERBS: dict[str, tuple[tuple[str, ...], str]] = {
    "create": (("add",), "Creates one of"),
    "delete": (("del",), "Deletes one of"),
    "get": ((), "Gets one of"),
    "list": ((), "Lists one of"),
    "reset": ((), "Resets one of"),
    "capture": ((), "Controls packet capture:"),
    "init": ((), "Initial set up of the service"),
}
# what the Go CLI prints when -o is not given
DEFAULT_OUTPUT = {"create": "name", "delete": "name", "reset": "name"}
METAVARS = {"str": "STRING", "id": "STRING", "addr": "IP", "prefix": "PREFIX", "u8": "UINT",
            "u32": "UINT", "u64": "UINT", "i32": "INT", "list": "LIST",
            "lbports": "PROTOCOL/PORT,..."}
BOOL_FLAGS = {"--pretty": "--pretty", "--wide": "--wide", "-w": "--wide",
              "--version": "--version", "-v": "--version"}
NOUN_ORDER = list(NOUNS)


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise ClientError(message)


def _add_globals(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("global flags")
    group.add_argument("--address", default=argparse.SUPPRESS,
                       help="dpservice address (default localhost:$DP_GRPC_PORT, or "
                            "localhost:1337).")
    group.add_argument("--connect-timeout", default=argparse.SUPPRESS, metavar="DURATION",
                       help="Timeout to connect to the service, e.g. 4s, 500ms (default 4s).")
    group.add_argument("-o", "--output", default=argparse.SUPPRESS,
                       help="Output format: json|yaml|table|name.")
    group.add_argument("--pretty", action="store_true", default=argparse.SUPPRESS,
                       help="Whether to render pretty (indented) output.")
    group.add_argument("-w", "--wide", action="store_true", default=argparse.SUPPRESS,
                       help="Whether to render more info in table output.")
    tls_client.add_arguments(group, default=argparse.SUPPRESS)


def _add_command(sub: argparse._SubParsersAction, cmd: Command) -> None:
    names = NOUNS[cmd.noun] if cmd.noun else ()
    shown = PLURAL.get(cmd.noun, cmd.noun) if cmd.verb == "list" else cmd.noun
    leaf = sub.add_parser(shown, aliases=[n for n in names if n != shown], help=cmd.help,
                          description=cmd.help, allow_abbrev=False)
    for flag in cmd.flags:
        multi = flag.kind in ("list", "lbports")
        leaf.add_argument(f"--{flag.name}", dest=flag.dest, default=None, help=flag.help,
                          action="append" if multi else "store", metavar=METAVARS[flag.kind])
    _add_globals(leaf)
    leaf.set_defaults(command=cmd)


@functools.lru_cache(maxsize=1)
def build_parser() -> argparse.ArgumentParser:
    root = _Parser(prog="dplane-cli", allow_abbrev=False,
                   description="Operator client of dplane (a drop-in for dpservice-cli).")
    root.add_argument("-v", "--version", action="store_true", default=False,
                      help="Print the version and exit.")
    _add_globals(root)
    root.set_defaults(command=None)
    verbs = root.add_subparsers(dest="verb", metavar="COMMAND", parser_class=_Parser)
    for verb, (aliases, summary) in VERBS.items():
        cmds = sorted((cmd for cmd in REGISTRY if cmd.verb == verb),
                      key=lambda cmd: NOUN_ORDER.index(cmd.noun) if cmd.noun else 0)
        nouns = " ".join(PLURAL.get(c.noun, c.noun) if verb == "list" else c.noun
                         for c in cmds if c.noun)
        text = f"{summary} [{nouns}]" if nouns else summary
        parser = verbs.add_parser(verb, aliases=list(aliases), help=text, description=text,
                                  allow_abbrev=False)
        _add_globals(parser)
        if nouns:
            sub = parser.add_subparsers(dest="noun", metavar="NOUN", parser_class=_Parser)
            for cmd in cmds:
                _add_command(sub, cmd)
        else:
            parser.set_defaults(command=cmds[0])
    return root


def normalize_bools(argv: Sequence[str]) -> list[str]:
    """pflag accepts --pretty=false: turn `--flag=BOOL` into the flag or nothing."""
    out = []
    for token in argv:
        name, eq, value = token.partition("=")
        if eq and name in BOOL_FLAGS:
            try:
                if parse_bool(value):
                    out.append(BOOL_FLAGS[name])
            except FlagValueError as exc:
                raise ClientError(f"invalid argument {quote(value)} for "
                                  f'"{BOOL_FLAGS[name]}" flag: {exc}') from None
            continue
        out.append(token)
    return out


def scan_output(argv: Sequence[str]) -> tuple[str, bool]:
    """-o and --pretty from raw argv, to report errors of a command line that does not
    parse in the format that was asked for."""
    fmt, pretty = "", False
    for i, token in enumerate(argv):
        if token in ("-o", "--output") and i + 1 < len(argv):
            fmt = argv[i + 1]
        elif token.startswith("--output="):
            fmt = token[len("--output="):]
        elif token.startswith("-o") and not token.startswith("--"):
            fmt = token[2:].removeprefix("=")
        elif token == "--pretty":
            pretty = True
    return (fmt if fmt in FORMATS else "table"), pretty


def parse(argv: Sequence[str]) -> argparse.Namespace:
    return build_parser().parse_args(normalize_bools(argv))


def output_format(ns: argparse.Namespace, cmd: Command) -> str:
    fmt = getattr(ns, "output", None) or DEFAULT_OUTPUT.get(cmd.verb, "table")
    if fmt not in FORMATS:
        raise ClientError(f'invalid argument {quote(fmt)} for "--output" flag: '
                          f"must be one of {'|'.join(FORMATS)}")
    return fmt
