# SPDX-License-Identifier: Apache-2.0
"""How a command is declared: its verb, noun, flags and the function that runs it.

Feature modules register commands with @command(...); the argument parser is built from the
registry, and flag values are converted here (after parsing, so that a bad value is a client
error naming the flag and the value, as pflag reports it).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

from . import values
from .client import Api
from .documents import Doc
from .errors import ClientError


@dataclass(frozen=True)
class Flag:
    """One --flag of a command. `kind` selects the parser: str (protobuf string), id (bytes
    ID), addr, prefix, u8/u32/u64, i32, list (comma-separated, repeatable), lbports (a list of
    PROTOCOL/PORT)."""

    name: str
    kind: str = "str"
    help: str = ""
    default: str | None = None
    required: bool = False

    @property
    def dest(self) -> str:
        return "f_" + self.name.replace("-", "_")

    @property
    def attr(self) -> str:
        return self.name.replace("-", "_")


@dataclass(frozen=True)
class Result:
    """What a command produced: the document and, for `-o name`, what happened to it."""

    doc: Doc
    operation: str = ""


class Options(SimpleNamespace):
    """The converted flags of one command (attribute = flag name with '_' for '-')."""

    given: frozenset[str]
    wide: bool


Runner = Callable[[Api, Options], Result]


@dataclass(frozen=True)
class Command:
    verb: str
    noun: str | None
    help: str
    flags: tuple[Flag, ...]
    run: Runner = field(compare=False)


# noun -> every name it is known by (first = the name shown); aliases as in dpservice-cli
NOUNS: dict[str, tuple[str, ...]] = {
    "interface": ("interface", "interfaces", "iface", "ifaces"),
    "prefix": ("prefix", "prefixes", "prfx", "prfxs"),
    "route": ("route", "routes", "rt", "rts"),
    "virtualip": ("virtualip", "virtualips", "vip", "vips"),
    "loadbalancer": ("loadbalancer", "loadbalancers", "lb", "lbs"),
    "lbprefix": ("lbprefix", "lbprefixes", "loadbalancer-prefix", "loadbalancer-prefixes",
                 "lbprfx", "lbprfxs"),
    "lbtarget": ("lbtarget", "lbtargets", "loadbalancer-target", "loadbalancer-targets",
                 "lbtrgt", "lbtrgts"),
    "nat": ("nat", "nats", "translation"),
    "neighbornat": ("neighbornat", "nnat", "ngbnat", "neighnat"),
    "firewallrule": ("firewallrule", "firewallrules", "fwrule", "fw-rule", "fwrules",
                     "fw-rules"),
    "vni": ("vni",),
    "version": ("version",),
    "init": ("init",),
    "start": ("start",),
    "stop": ("stop",),
    "status": ("status",),
}

# list shows plural names, as the Go CLI
PLURAL = {"interface": "interfaces", "prefix": "prefixes", "route": "routes",
          "loadbalancer": "loadbalancers", "lbprefix": "lbprefixes", "lbtarget": "lbtargets",
          "nat": "nats", "firewallrule": "firewallrules"}

REGISTRY: list[Command] = []


def command(verb: str, noun: str | None, help: str, *flags: Flag) -> Callable[[Runner], Runner]:
    def register(fn: Runner) -> Runner:
        REGISTRY.append(Command(verb, noun, help, flags, fn))
        return fn
    return register


def sort_flag() -> Flag:
    return Flag("sort-by", help="Column to sort by.", default="")


_PARSERS: dict[str, Callable[[str], Any]] = {
    "str": values.to_text, "id": values.to_bytes, "addr": values.parse_addr,
    "prefix": values.parse_prefix,
    "u8": lambda text: values.parse_uint(text, 8),
    "u32": lambda text: values.parse_uint(text, 32),
    "u64": lambda text: values.parse_uint(text, 64),
    "i32": lambda text: values.parse_int(text, 32),
}


def _convert_one(flag: Flag, raw: Any) -> Any:
    if flag.kind in ("list", "lbports"):  # repeatable, comma-separated
        parts = [part.strip() for chunk in raw for part in chunk.split(",") if part.strip()]
        return [values.parse_lbport(part) for part in parts] if flag.kind == "lbports" else parts
    return _PARSERS[flag.kind](raw)


def convert(flag: Flag, raw: Any) -> Any:
    """The flag's value, or ClientError naming the flag and the value."""
    try:
        return _convert_one(flag, raw)
    except values.FlagValueError as exc:
        shown = ",".join(raw) if isinstance(raw, list) else raw
        raise ClientError(f"invalid argument {values.quote(shown)} for \"--{flag.name}\" "
                          f"flag: {exc}") from None


def require(names: list[str]) -> None:
    if names:
        listed = ", ".join(f'"{name}"' for name in names)
        raise ClientError(f"required flag(s) {listed} not set")


def build_options(cmd: Command, raw: dict[str, Any], wide: bool) -> Options:
    """Convert the parsed flag texts of `cmd`; missing required flags are a client error."""
    require([flag.name for flag in cmd.flags if flag.required and raw.get(flag.dest) is None])
    given = frozenset(flag.name for flag in cmd.flags if raw.get(flag.dest) is not None)
    opts = Options(given=given, wide=wide)
    for flag in cmd.flags:
        value = raw.get(flag.dest)
        if value is None:
            value = flag.default
        setattr(opts, flag.attr, None if value is None else convert(flag, value))
    return opts
