# SPDX-License-Identifier: Apache-2.0
"""Client-side ordering of list output, as dpservice-cli's --sort-by (contract 4.5).

Sorting is stable: items with equal keys keep the order the service sent them in. Keys are
compared as strings where the Go CLI compares strings ("10.0.0.0/8" < "9.0.0.0/8"), as
numbers where it compares numbers. An unknown --sort-by falls back to the default key.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .documents import Doc

Key = Callable[[Doc], Any]


def _spec(name: str, default: Any = "") -> Key:
    return lambda item: item["spec"].get(name, default)


def _meta(name: str) -> Key:
    return lambda item: item["metadata"].get(name, "")


def _both(first: Key, second: Key) -> Key:
    return lambda item: (first(item), second(item))


def _next_hop(name: str, default: Any) -> Key:
    return lambda item: item["spec"].get("next_hop", {}).get(name, default)


_PREFIX_KEYS: dict[str, Key] = {"": _spec("prefix"), "underlayroute": _spec("underlay_route")}

SORT_KEYS: dict[str, dict[str, Key]] = {
    "InterfaceList": {
        "": _meta("id"),
        "vni": _both(_spec("vni", 0), _spec("primary_ipv4")),
        "device": _spec("device"),
        "ipv4": _both(_spec("primary_ipv4"), _spec("vni", 0)),
        "ipv6": _spec("primary_ipv6"),
        "underlayroute": _spec("underlay_route"),
    },
    "LoadBalancerList": {
        "": _meta("id"),
        "vni": _both(_spec("vni", 0), _spec("loadbalanced_ip")),
        "ip": _both(_spec("loadbalanced_ip"), _spec("vni", 0)),
        "underlayroute": _spec("underlay_route"),
    },
    "RouteList": {
        "": _spec("prefix"),
        "nexthopvni": _next_hop("vni", 0),
        "nexthopip": _next_hop("address", ""),
    },
    "PrefixList": _PREFIX_KEYS,
    "LoadBalancerPrefixList": _PREFIX_KEYS,
    "LoadBalancerTargetList": {"": _spec("target_ip")},
    "FirewallRuleList": {
        "": _spec("id"),
        "direction": _spec("direction"),
        "src": _spec("source_prefix"),
        "source": _spec("source_prefix"),
        "dst": _spec("destination_prefix"),
        "destination": _spec("destination_prefix"),
        "action": _spec("action"),
        "protocol": lambda item: repr(item["spec"].get("protocol_filter")),
        "priority": _spec("priority", 0),
    },
    "NatList": {
        "": _spec("vni", 0),
        "ip": _spec("nat_ip"),
        "minport": _spec("min_port", 0),
        "maxport": _spec("max_port", 0),
        "underlayroute": _spec("underlay_route"),
    },
}


def sort_items(list_kind: str, items: list[Doc], sort_by: str = "") -> list[Doc]:
    """`items` of a `list_kind` document in display order (a new list; stable)."""
    keys = SORT_KEYS.get(list_kind)
    if keys is None:
        return list(items)
    key = keys.get(sort_by.lower(), keys[""])
    return sorted(items, key=key)
