# SPDX-License-Identifier: Apache-2.0
"""Rendering a document (or an error) as json, yaml, table or name output.

json is one document per run, compact (one line) or indented with --pretty, with <, > and &
escaped as Go's encoding/json does; yaml has its keys sorted, as the Go CLI's yaml (which
converts through JSON); name prints `<kind>/<name> <what happened>` per object.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from typing import TextIO

import yaml

from . import tables
from .documents import Doc
from .errors import CliError, ServerError

FORMATS = ("json", "yaml", "table", "name")


def to_json(doc: dict, pretty: bool = False) -> str:
    if pretty:
        body = json.dumps(doc, ensure_ascii=False, indent=2)
    else:
        body = json.dumps(doc, ensure_ascii=False, separators=(",", ":"))
    for char, escape in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                         ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        body = body.replace(char, escape)  # these only occur inside JSON strings
    return body + "\n"


def to_yaml(doc: dict) -> str:
    return yaml.safe_dump(doc, sort_keys=True, default_flow_style=False, allow_unicode=True)


def _spec(doc: Doc, key: str) -> str:
    return str(doc["spec"].get(key) or "")


def _meta(doc: Doc, key: str) -> str:
    return str(doc["metadata"].get(key) or "")


NAMES: dict[str, Callable[[Doc], str]] = {
    "Interface": lambda d: _meta(d, "id"),
    "Prefix": lambda d: _spec(d, "prefix"),
    "LoadBalancerPrefix": lambda d: _spec(d, "prefix"),
    "Route": lambda d: f"{_spec(d, 'prefix')}-{d['spec'].get('next_hop', {}).get('vni', 0)}",
    "VirtualIP": lambda d: "on interface: " + _meta(d, "interface_id"),
    "LoadBalancer": lambda d: _meta(d, "id"),
    "LoadBalancerTarget": lambda d: "on loadbalancer: " + _meta(d, "loadbalancer_id"),
    "Nat": lambda d: _meta(d, "interface_id"),
    "NeighborNat": lambda d: _meta(d, "nat_ip"),
    "FirewallRule": lambda d: f"{_meta(d, 'interface_id')}/{_spec(d, 'id')}",
    "Initialized": lambda d: "initialized",
    "Vni": lambda d: _meta(d, "vni"),
    "Version": lambda d: f"{_meta(d, 'client_name')}-{_meta(d, 'client_protocol')}",
    "CaptureStart": lambda d: d["metadata"]["capture_config"].get("sink_node_ipv6", ""),
    "CaptureStop": lambda d: "capture stopped",
    "CaptureStatus": lambda d: "get capture status",
}


def name_line(kind: str, name: str | None, operation: str) -> str:
    """'interface/vm1 created, ...'; a list that failed has no name: 'prefixlist ...'."""
    head = kind.lower() if name is None else f"{kind.lower()}/{name}"
    return f"{head} {operation}\n" if operation else f"{head}\n"


def to_names(doc: Doc, operation: str) -> str:
    items = doc["items"] if "items" in doc else [doc]
    return "".join(name_line(item["kind"], NAMES[item["kind"]](item), operation)
                   for item in items)


def render(doc: Doc, fmt: str, out: TextIO, operation: str = "", pretty: bool = False,
           wide: bool = False) -> None:
    if fmt == "json":
        out.write(to_json(doc, pretty))
    elif fmt == "yaml":
        out.write(to_yaml(doc))
    elif fmt == "name":
        out.write(to_names(doc, operation))
    else:
        out.write(tables.render(doc, wide))


def render_error(err: CliError, fmt: str, out: TextIO, errout: TextIO,
                 pretty: bool = False) -> int:
    """Report `err` in the chosen format; returns the exit status.

    json/yaml: the Error document on stdout (stdout stays one parsable document). table and
    name: a service error is a name line on stdout (as the Go CLI prints it), anything else
    one line on stderr."""
    if fmt == "json":
        out.write(to_json(err.document(), pretty))
    elif fmt == "yaml":
        out.write(to_yaml(err.document()))
    elif isinstance(err, ServerError):
        out.write(name_line(err.kind, err.name, err.text))
    else:
        errout.write(f"Error running command: {err.text}\n")
    return err.exit_status
