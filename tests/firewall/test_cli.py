# SPDX-License-Identifier: Apache-2.0
"""dplane-cli firewall rules against a real service: the JSON documents of add / get /
list / del fwrule as dpservice-cli prints them (contract 4.5 and 5: get and list items carry
an empty status, create, delete and a one-interface list the server's "Success"), lists
sorted by id, service errors passed through with exit status 2, validation errors from the
service with exit status 1."""
from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

import harness
from clientutil import VF1, Outcome, address, create_interface, run_inprocess
from dplane.proto import dpdk_pb2 as pb

SUCCESS = {"code": 0, "message": "Success"}
EMPTY = {"code": 0, "message": ""}
BASE = ("--direction=ingress", "--action=accept", "--src=0.0.0.0/0", "--dst=0.0.0.0/0")


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        yield svc


@pytest.fixture
def svc(shared: harness.Service) -> Iterator[harness.Service]:
    """The module's service; its interfaces, and with them their rules, go afterwards."""
    yield shared
    shared.delete_interfaces()


@pytest.fixture
def cli(svc: harness.Service) -> Callable[..., Outcome]:
    return lambda *argv: run_inprocess(address(svc), *argv)


@pytest.fixture
def vm1(svc: harness.Service) -> str:
    create_interface(svc, "vm1")
    return "vm1"


def add(cli, rule_id: str, *flags: str, iface: str = "vm1") -> Outcome:
    """add fwrule; flags override BASE's (the last of a flag wins)."""
    return cli("add", "fwrule", f"--interface-id={iface}", f"--rule-id={rule_id}", *BASE,
               *flags, "-o", "json")


def grpc_rules(svc, iface: bytes = b"vm1") -> list[pb.FirewallRule]:
    reply = svc.api.ListFirewallRules(pb.ListFirewallRulesRequest(interface_id=iface),
                                      timeout=5)
    assert reply.status.code == 0
    return list(reply.rules)


def server_error(code: int, name: str) -> dict:
    return {"kind": "Error", "spec": {"source": "server"},
            "status": {"code": code, "message": name}}


def fwrule(spec: dict, status: dict, iface: str = "vm1") -> dict:
    return {"kind": "FirewallRule", "metadata": {"interface_id": iface}, "spec": spec,
            "status": status}


TCP_FLAGS = ("--direction=Egress", "--action=allow", "--priority=7", "--src=10.1.2.3/8",
             "--dst=192.168.1.0/24", "--protocol=tcp", "--src-port-min=1000",
             "--src-port-max=2000", "--dst-port-min=80", "--dst-port-max=80")
TCP_SPEC = {"id": "r-tcp", "direction": "Egress", "action": "Accept", "priority": 7,
            "source_prefix": "10.1.2.3/8", "destination_prefix": "192.168.1.0/24",
            "protocol_filter": {"Filter": {"Tcp": {
                "src_port_lower": 1000, "src_port_upper": 2000,
                "dst_port_lower": 80, "dst_port_upper": 80}}}}
UDP_FLAGS = ("--direction=1", "--action=1", "--src=fd00:1::5/64", "--dst=fd00:2::/48",
             "--protocol=17", "--src-port-min=-1", "--dst-port-min=53", "--dst-port-max=53")
UDP_SPEC = {"id": "r-udp", "direction": "Egress", "action": "Accept", "priority": 1000,
            "source_prefix": "fd00:1::5/64", "destination_prefix": "fd00:2::/48",
            "protocol_filter": {"Filter": {"Udp": {
                "src_port_lower": -1, "src_port_upper": -1,
                "dst_port_lower": 53, "dst_port_upper": 53}}}}
# ICMP echo request: code 0 is left out, as Go's encoding/json leaves out zero fields
ICMP_FLAGS = ("--protocol=icmp", "--icmp-type=8", "--icmp-code=0", "--priority=0")
ICMP_SPEC = {"id": "r-icmp", "direction": "Ingress", "action": "Accept", "priority": 0,
             "source_prefix": "0.0.0.0/0", "destination_prefix": "0.0.0.0/0",
             "protocol_filter": {"Filter": {"Icmp": {"icmp_type": 8}}}}
ICMP_ANY_FLAGS = ("--protocol=1", "--icmp-type=-1", "--icmp-code=-1")
ICMP_ANY_SPEC = {"id": "r-icmp-any", "direction": "Ingress", "action": "Accept",
                 "priority": 1000, "source_prefix": "0.0.0.0/0",
                 "destination_prefix": "0.0.0.0/0",
                 "protocol_filter": {"Filter": {"Icmp": {"icmp_type": -1, "icmp_code": -1}}}}
ANY_SPEC = {"id": "r-any", "direction": "Ingress", "action": "Accept", "priority": 1000,
            "source_prefix": "0.0.0.0/0", "destination_prefix": "0.0.0.0/0",
            "protocol_filter": {"Filter": None}}
RULES = [("r-tcp", TCP_FLAGS, TCP_SPEC), ("r-udp", UDP_FLAGS, UDP_SPEC),
         ("r-icmp", ICMP_FLAGS, ICMP_SPEC), ("r-icmp-any", ICMP_ANY_FLAGS, ICMP_ANY_SPEC),
         ("r-any", (), ANY_SPEC)]


@pytest.mark.parametrize("rule_id, flags, spec", RULES, ids=[r[0] for r in RULES])
def test_add_and_get(svc, cli, vm1, rule_id, flags, spec):
    created = add(cli, rule_id, *flags)
    assert (created.status, created.err) == (0, "")
    assert created.json() == fwrule(spec, SUCCESS)
    got = cli("get", "fwrule", "--interface-id=vm1", f"--rule-id={rule_id}", "-o", "json")
    assert (got.status, got.err) == (0, "")
    assert got.json() == fwrule(spec, EMPTY)
    assert [r.id for r in grpc_rules(svc)] == [rule_id.encode()]


def test_add_sends_what_the_flags_say(svc, cli, vm1):
    assert add(cli, "r-tcp", *TCP_FLAGS).status == 0
    assert add(cli, "r-any").status == 0
    tcp_rule, any_rule = grpc_rules(svc)
    assert (tcp_rule.direction, tcp_rule.action, tcp_rule.priority) == (pb.EGRESS, pb.ACCEPT,
                                                                        7)
    assert (tcp_rule.source_prefix.ip.address, tcp_rule.source_prefix.length) == (
        b"10.1.2.3", 8)
    assert tcp_rule.protocol_filter.tcp == pb.TcpFilter(
        src_port_lower=1000, src_port_upper=2000, dst_port_lower=80, dst_port_upper=80)
    assert (any_rule.direction, any_rule.priority) == (pb.INGRESS, 1000)  # the CLI's default
    assert any_rule.protocol_filter.WhichOneof("filter") is None


def test_list_sorted_by_id(svc, cli, vm1):
    for rule_id, priority in (("r3", 5), ("r1", 30), ("r10", 10), ("r2", 20)):
        assert add(cli, rule_id, f"--priority={priority}").status == 0
    # the service lists in creation order, the CLI sorts by id (as strings)
    assert [r.id for r in grpc_rules(svc)] == [b"r3", b"r1", b"r10", b"r2"]
    doc = cli("list", "fwrules", "--interface-id=vm1", "-o", "json")
    assert (doc.status, doc.err) == (0, "")

    def item(rule_id, priority):
        return fwrule(dict(ANY_SPEC, id=rule_id, priority=priority), EMPTY)
    assert doc.json() == {"kind": "FirewallRuleList", "metadata": {"interface_id": "vm1"},
                          "status": SUCCESS,
                          "items": [item("r1", 30), item("r10", 10), item("r2", 20),
                                    item("r3", 5)]}
    by_priority = cli("list", "fwrules", "--interface-id=vm1", "--sort-by=priority",
                      "-o", "json").json()
    assert [i["spec"]["id"] for i in by_priority["items"]] == ["r3", "r10", "r2", "r1"]
    assert cli("list", "fwrules", "--interface-id=vm1", "-o", "name") == Outcome(
        0, "firewallrule/vm1/r1\nfirewallrule/vm1/r10\nfirewallrule/vm1/r2\n"
           "firewallrule/vm1/r3\n", "")


def test_list_items_match_get(svc, cli, vm1):
    for rule_id, flags, _ in RULES:
        assert add(cli, rule_id, *flags).status == 0
    items = cli("list", "fwrules", "--interface-id=vm1", "-o", "json").json()["items"]
    expected = sorted((fwrule(spec, EMPTY) for _, _, spec in RULES),
                      key=lambda doc: doc["spec"]["id"])
    assert items == expected
    for item in items:
        got = cli("get", "fwrule", "--interface-id=vm1", f"--rule-id={item['spec']['id']}",
                  "-o", "json").json()
        assert got == item


def test_list_of_interface_without_rules(svc, cli, vm1):
    doc = cli("list", "fwrules", "--interface-id=vm1", "-o", "json")
    assert (doc.status, doc.err) == (0, "")
    assert doc.json() == {"kind": "FirewallRuleList", "metadata": {"interface_id": "vm1"},
                          "status": SUCCESS, "items": []}


def test_list_of_all_interfaces(svc, cli, vm1):
    create_interface(svc, "vm2", device=VF1, ipv4="10.0.0.2", ipv6="fd00::2")
    assert add(cli, "b", iface="vm2").status == 0
    assert add(cli, "c", iface="vm1").status == 0
    assert add(cli, "a", iface="vm2").status == 0
    doc = cli("list", "fwrules", "-o", "json")
    assert (doc.status, doc.err) == (0, "")
    assert doc.json() == {
        "kind": "FirewallRuleList", "metadata": {"interface_id": ""}, "status": EMPTY,
        "items": [fwrule(dict(ANY_SPEC, id="a"), EMPTY, "vm2"),
                  fwrule(dict(ANY_SPEC, id="b"), EMPTY, "vm2"),
                  fwrule(dict(ANY_SPEC, id="c"), EMPTY, "vm1")]}


def test_delete(svc, cli, vm1):
    assert add(cli, "r1", *TCP_FLAGS).status == 0
    assert add(cli, "r2").status == 0
    deleted = cli("del", "fwrule", "--interface-id=vm1", "--rule-id=r1", "-o", "json")
    assert (deleted.status, deleted.err) == (0, "")
    assert deleted.json() == fwrule({"id": "r1", "priority": 0}, SUCCESS)
    assert [r.id for r in grpc_rules(svc)] == [b"r2"]
    again = cli("delete", "firewallrule", "--interface-id=vm1", "--rule-id=r1", "-o", "json")
    assert again.status == 2
    assert again.json() == server_error(201, "NOT_FOUND")
    assert cli("del", "fwrule", "--interface-id=vm1", "--rule-id=r2") == Outcome(
        0, "firewallrule/vm1/r2 deleted\n", "")
    assert grpc_rules(svc) == []


def test_drop_is_a_server_error(svc, cli, vm1):
    for action in ("drop", "deny", "0"):
        outcome = add(cli, "d1", f"--action={action}")
        assert outcome.status == 2
        assert outcome.json() == server_error(441, "NO_DROP_SUPPORT")
    assert grpc_rules(svc) == []
    assert cli("add", "fwrule", "--interface-id=vm1", "--rule-id=d1", *BASE,
               "--action=drop") == Outcome(
        2, "firewallrule/vm1/d1 server error: 441, NO_DROP_SUPPORT\n", "")


def test_duplicate_is_a_server_error(svc, cli, vm1):
    assert add(cli, "r1", "--priority=5").status == 0
    again = add(cli, "r1", "--priority=6")
    assert again.status == 2
    assert again.json() == server_error(202, "ALREADY_EXISTS")
    # the duplicate id comes before the DROP check
    assert add(cli, "r1", "--action=drop").json() == server_error(202, "ALREADY_EXISTS")
    assert [r.priority for r in grpc_rules(svc)] == [5]


def test_unknown_rule_and_interface(svc, cli, vm1):
    unknown = cli("get", "fwrule", "--interface-id=vm1", "--rule-id=nope", "-o", "json")
    assert unknown.status == 2 and unknown.json() == server_error(201, "NOT_FOUND")
    for argv in (("get", "fwrule", "--interface-id=vm9", "--rule-id=r1"),
                 ("del", "fwrule", "--interface-id=vm9", "--rule-id=r1"),
                 ("list", "fwrules", "--interface-id=vm9"),
                 ("add", "fwrule", "--interface-id=vm9", "--rule-id=r1", *BASE)):
        outcome = cli(*argv, "-o", "json")
        assert outcome.status == 2, argv
        assert outcome.json() == server_error(205, "NO_VM"), argv


def test_service_validation_is_a_grpc_error(svc, cli, vm1):
    too_long = add(cli, "x" * 64)
    assert too_long.status == 1
    assert too_long.json() == {"kind": "Error", "spec": {"source": "grpc"},
                               "status": {"code": 3, "message": "Invalid rule id"}}
    get_long = cli("get", "fwrule", "--interface-id=vm1", "--rule-id=" + "x" * 64)
    assert get_long == Outcome(
        1, "", "Error running command: rpc error: code = InvalidArgument desc = Invalid "
               "rule_id\n")
    # the longest id there is
    assert add(cli, "x" * 63).json()["spec"]["id"] == "x" * 63
    assert [r.id for r in grpc_rules(svc)] == [b"x" * 63]


def test_table_output(svc, cli, vm1):
    assert add(cli, "r1", *TCP_FLAGS).status == 0
    table = (" InterfaceID  RuleID  Direction  Src         Dst             Action  Protocol"
             "                  Priority\n"
             " vm1          r1      Egress     10.1.2.3/8  192.168.1.0/24  Accept  tcp "
             "src=1000-2000 dst=80         7\n")
    assert cli("get", "fwrule", "--interface-id=vm1", "--rule-id=r1") == Outcome(0, table, "")
    assert cli("list", "fwrules", "--interface-id=vm1") == Outcome(0, table, "")
