# SPDX-License-Identifier: Apache-2.0
"""Client-side list ordering on fabricated items: default keys, --sort-by, string (not
numeric/address) comparison where the Go CLI compares strings, and stability."""
from __future__ import annotations

from dplane.cli.sorting import sort_items


def iface(iface_id, vni=100, ipv4="10.0.0.1", tag=None):
    return {"kind": "Interface", "metadata": {"id": iface_id},
            "spec": {"vni": vni, "primary_ipv4": ipv4, "tag": tag}}


def prefix(text, tag, underlay="fc00::1"):
    return {"kind": "Prefix", "metadata": {},
            "spec": {"prefix": text, "underlay_route": underlay, "tag": tag}}


def tags(items):
    return [item["spec"]["tag"] for item in items]


def test_interfaces_by_id():
    items = [iface("vm2", tag=0), iface("vm10", tag=1), iface("vm1", tag=2)]
    assert tags(sort_items("InterfaceList", items)) == [2, 1, 0]  # "vm10" < "vm2"


def test_equal_keys_keep_the_service_order():
    items = [iface("b", tag=0), iface("a", tag=1), iface("b", tag=2), iface("a", tag=3),
             iface("b", tag=4)]
    assert tags(sort_items("InterfaceList", items)) == [1, 3, 0, 2, 4]
    reverse = list(reversed(items))
    assert tags(sort_items("InterfaceList", reverse)) == [3, 1, 4, 2, 0]


def test_sort_by_vni_then_ipv4_and_case_insensitive():
    items = [iface("x", 200, "10.0.0.1", 0), iface("y", 100, "10.0.0.9", 1),
             iface("z", 100, "10.0.0.10", 2)]
    assert tags(sort_items("InterfaceList", items, "VNI")) == [2, 1, 0]
    assert tags(sort_items("InterfaceList", items, "ipv4")) == [0, 2, 1]


def test_unknown_sort_by_uses_the_default():
    items = [iface("b", tag=0), iface("a", tag=1)]
    assert tags(sort_items("InterfaceList", items, "nonsense")) == [1, 0]


def test_prefixes_by_prefix_string():
    items = [prefix("9.0.0.0/8", 0), prefix("10.0.0.0/8", 1), prefix("10.0.0.0/16", 2),
             prefix("10.0.0.0/8", 3)]
    assert tags(sort_items("PrefixList", items)) == [2, 1, 3, 0]
    assert tags(sort_items("LoadBalancerPrefixList", items)) == [2, 1, 3, 0]


def test_prefixes_by_underlay():
    items = [prefix("a", 0, "fc00::2"), prefix("b", 1, "fc00::1"), prefix("c", 2, "fc00::2")]
    assert tags(sort_items("PrefixList", items, "underlayroute")) == [1, 0, 2]


def test_routes():
    def route(text, vni, address, tag):
        return {"kind": "Route", "metadata": {"vni": 1},
                "spec": {"prefix": text, "next_hop": {"vni": vni, "address": address},
                         "tag": tag}}
    items = [route("10.0.0.0/8", 5, "fc00::2", 0), route("0.0.0.0/0", 9, "fc00::1", 1),
             route("10.0.0.0/8", 5, "fc00::3", 2)]
    assert tags(sort_items("RouteList", items)) == [1, 0, 2]
    assert tags(sort_items("RouteList", items, "nexthopvni")) == [0, 2, 1]
    assert tags(sort_items("RouteList", items, "NextHopIP")) == [1, 0, 2]


def test_lbtargets_by_address_string():
    items = [{"kind": "LoadBalancerTarget", "metadata": {}, "spec": {"target_ip": ip, "tag": i}}
             for i, ip in enumerate(["fc00::a", "fc00::10", "fc00::a", "fc00::1"])]
    assert tags(sort_items("LoadBalancerTargetList", items)) == [3, 1, 0, 2]


def test_nats_by_vni_numerically():
    items = [{"kind": "Nat", "metadata": {}, "spec": {"vni": vni, "min_port": 0, "tag": i}}
             for i, vni in enumerate([20, 3, 20, 100])]
    assert tags(sort_items("NatList", items)) == [1, 0, 2, 3]


def test_firewall_rules_by_id_and_priority():
    items = [{"kind": "FirewallRule", "metadata": {},
              "spec": {"id": rule_id, "priority": prio, "tag": i}}
             for i, (rule_id, prio) in enumerate([("r2", 10), ("r1", 1000), ("r10", 10)])]
    assert tags(sort_items("FirewallRuleList", items)) == [1, 2, 0]
    assert tags(sort_items("FirewallRuleList", items, "priority")) == [0, 2, 1]


def test_input_list_is_not_modified():
    items = [iface("b"), iface("a")]
    sort_items("InterfaceList", items)
    assert [item["metadata"]["id"] for item in items] == ["b", "a"]
