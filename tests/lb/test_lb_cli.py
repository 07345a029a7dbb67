# SPDX-License-Identifier: Apache-2.0
"""dplane-cli's load balancer, LB target and LB prefix commands, and dplane-inspect's `lb` and
`lb_id` tables, against a real service: the JSON documents of add / get / list / del
loadbalancer, add / list / del lbtarget and add / list / del lbprefix as dpservice-cli prints
them (contract 4.5 and 5), and the table and name output. Creates, deletes and `get
loadbalancer` carry the server's "Success", as does a list answered by one RPC; list items,
and the list of every interface's LB prefixes (one RPC per interface), an empty status.
Load balancers are listed by id, targets by address string, LB prefixes by prefix string,
all stably. Service errors come through as server error documents with exit status 2,
request validation as gRPC errors (exit 1), bad flag values as client errors (exit 1).

One service for the module, two interfaces on it: vm1 in VNI 100 and vm2 in VNI 200; after
each test its load balancers (with their targets) and LB prefixes are removed over gRPC."""
from __future__ import annotations

import io
import ipaddress
import json
from collections.abc import Callable, Iterator

import pytest

import harness
from clientutil import Outcome, address, run_console, run_inprocess
from dplane import inspect_cli
from dplane.proto import dpdk_pb2 as pb
from overlay_util import VMS, create_vm

SUCCESS = {"code": 0, "message": "Success"}
EMPTY = {"code": 0, "message": ""}
VNI1, VNI2, VNI3 = 100, 200, 300
TCP, UDP = 6, 17
PREFERRED = "fc00:1::8000:0:5"  # --ipv6's /64, "externally generated" flag
UNDERLAY_PREFIX = ipaddress.ip_network("fc00:1::/64")
LB_IP, LB_IP6, LB_IP_LOW = "203.0.113.80", "2001:db8:80::1", "9.1.2.3"
# byte order (the service's): 2::a < 9::1 < 10::1; string order (the CLI's): 10::1 < 2::a < 9::1
TARGETS = ["fc00:9::1", "fc00:10::1", "fc00:2::a"]


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        create_vm(svc, "vm1", vni=VNI1)
        create_vm(svc, "vm2", vni=VNI2)
        yield svc


@pytest.fixture(autouse=True)
def svc(shared: harness.Service) -> Iterator[harness.Service]:
    """The module's service; load balancers and LB prefixes go afterwards (over gRPC)."""
    yield shared
    api = shared.api
    for lb in grpc_lbs(shared):
        reply = api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(loadbalancer_id=lb.id),
                                       timeout=5)
        assert reply.status.code == 0, reply.status
    for vm in VMS:
        for pfx in grpc_lb_prefixes(shared, vm):
            reply = api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
                interface_id=vm.encode(), prefix=pb.Prefix(ip=pfx.ip, length=pfx.length)),
                timeout=5)
            assert reply.status.code == 0, reply.status
    assert grpc_lbs(shared) == []
    assert all(grpc_lb_prefixes(shared, vm) == [] for vm in VMS)


@pytest.fixture
def cli(svc: harness.Service) -> Callable[..., Outcome]:
    """dplane-cli in-process, with JSON output unless the arguments choose another."""
    def run(*argv: str) -> Outcome:
        output = () if any(a == "-o" or a.startswith("--output") for a in argv) else (
            "-o", "json")
        return run_inprocess(address(svc), *argv, *output)
    return run


def grpc_lbs(svc: harness.Service) -> list[pb.Loadbalancer]:
    reply = svc.api.ListLoadBalancers(pb.ListLoadBalancersRequest(), timeout=5)
    assert reply.status.code == 0, reply.status
    return list(reply.loadbalancers)


def grpc_targets(svc: harness.Service, lb_id: str) -> list[str]:
    reply = svc.api.ListLoadBalancerTargets(pb.ListLoadBalancerTargetsRequest(
        loadbalancer_id=lb_id.encode()), timeout=5)
    assert reply.status.code == 0, reply.status
    return [ip.address.decode() for ip in reply.target_ips]


def grpc_lb_prefixes(svc: harness.Service, iface: str) -> list[pb.Prefix]:
    reply = svc.api.ListLoadBalancerPrefixes(pb.ListLoadBalancerPrefixesRequest(
        interface_id=iface.encode()), timeout=5)
    assert reply.status.code == 0, reply.status
    return list(reply.prefixes)


def ok(outcome: Outcome) -> dict:
    assert (outcome.status, outcome.err) == (0, ""), outcome
    return outcome.json()


def server_error(outcome: Outcome, code: int, name: str) -> None:
    assert outcome.status == 2, outcome
    assert outcome.json() == {"kind": "Error", "spec": {"source": "server"},
                              "status": {"code": code, "message": name}}


def grpc_error(outcome: Outcome, message: str, code: int = 3) -> None:
    assert outcome.status == 1, outcome
    assert outcome.json() == {"kind": "Error", "spec": {"source": "grpc"},
                              "status": {"code": code, "message": message}}


def client_error(outcome: Outcome, message: str) -> None:
    assert outcome.status == 1, outcome
    assert outcome.json() == {"kind": "Error", "spec": {"source": "client"},
                              "status": {"code": 1000, "message": message}}


def generated(underlay: str) -> str:
    """An underlay address the service generated: in --ipv6's /64, byte 8 0xd0."""
    addr = ipaddress.IPv6Address(underlay)
    assert addr in UNDERLAY_PREFIX and addr.packed[8] == 0xD0, underlay
    return underlay


def ports(*pairs: tuple[int, int]) -> list[dict]:
    return [{"protocol": protocol, "port": port} for protocol, port in pairs]


def lb_doc(lb_id: str, spec: dict, status: dict = SUCCESS) -> dict:
    return {"kind": "LoadBalancer", "metadata": {"id": lb_id}, "spec": spec, "status": status}


def lb_spec(vni: int, ip: str, lb_ports: list[dict], underlay: str) -> dict:
    return {"vni": vni, "loadbalanced_ip": ip, "loadbalanced_ports": lb_ports,
            "underlay_route": underlay}


def target_doc(lb_id: str, target: str | None, status: dict = SUCCESS) -> dict:
    return {"kind": "LoadBalancerTarget", "metadata": {"loadbalancer_id": lb_id},
            "spec": {"target_ip": target} if target else {}, "status": status}


def target_list(lb_id: str, targets: list[str]) -> dict:
    return {"kind": "LoadBalancerTargetList", "metadata": {"loadbalancer_id": lb_id},
            "status": SUCCESS, "items": [target_doc(lb_id, t, EMPTY) for t in targets]}


def lbprefix_doc(iface: str, spec: dict, status: dict = SUCCESS) -> dict:
    return {"kind": "LoadBalancerPrefix", "metadata": {"interface_id": iface}, "spec": spec,
            "status": status}


def add_lb(cli, lb_id: str, vni: int, ip: str, lbports: str, *flags: str) -> Outcome:
    return cli("add", "loadbalancer", f"--id={lb_id}", f"--vni={vni}", f"--vip={ip}",
               f"--lbports={lbports}", *flags)


def add_target(cli, lb_id: str, target: str, *flags: str) -> Outcome:
    return cli("add", "lbtarget", f"--lb-id={lb_id}", f"--target-ip={target}", *flags)


def del_target(cli, lb_id: str, target: str, *flags: str) -> Outcome:
    return cli("del", "lbtarget", f"--lb-id={lb_id}", f"--target-ip={target}", *flags)


def add_lbprefix(cli, iface: str, prefix: str, *flags: str) -> Outcome:
    return cli("add", "lbprefix", f"--interface-id={iface}", f"--prefix={prefix}", *flags)


def del_lbprefix(cli, iface: str, prefix: str, *flags: str) -> Outcome:
    return cli("del", "lbprefix", f"--interface-id={iface}", f"--prefix={prefix}", *flags)


def inspect(svc: harness.Service, *args: str) -> str:
    out, err = io.StringIO(), io.StringIO()
    status = inspect_cli.run(["--address", address(svc), *args], out, err)
    assert (status, err.getvalue()) == (0, "")
    return out.getvalue()


# --- load balancers -------------------------------------------------------------------------

def test_loadbalancer_add_get_del(svc, cli):
    created = ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80,UDP/53"))
    underlay = generated(created["spec"]["underlay_route"])
    spec = lb_spec(VNI1, LB_IP, ports((TCP, 80), (UDP, 53)), underlay)
    assert created == lb_doc("lb1", spec)
    reply = svc.api.GetLoadBalancer(pb.GetLoadBalancerRequest(loadbalancer_id=b"lb1"),
                                    timeout=5)
    assert (reply.vni, reply.loadbalanced_ip.address, reply.underlay_route) == (
        VNI1, LB_IP.encode(), underlay.encode())
    assert [(p.protocol, p.port) for p in reply.loadbalanced_ports] == [(TCP, 80), (UDP, 53)]

    # get carries the server's Status (dpservice-go's converter copies it)
    assert ok(cli("get", "loadbalancer", "--id=lb1")) == created
    assert ok(cli("get", "lb", "--id=lb1")) == created

    # a delete's document has no spec of its own (dpservice-go's zero values)
    assert ok(cli("del", "loadbalancer", "--id=lb1")) == lb_doc("lb1", {"vni": 0})
    assert grpc_lbs(svc) == []
    server_error(cli("get", "loadbalancer", "--id=lb1"), 201, "NOT_FOUND")
    server_error(cli("del", "loadbalancer", "--id=lb1"), 201, "NOT_FOUND")
    # the load balancer can come back, with a new underlay
    again = ok(cli("create", "lb", "--id=lb1", f"--vni={VNI1}", f"--vip={LB_IP}",
                   "--lbports=TCP/80", "--lbports=udp/53"))
    assert again["spec"]["loadbalanced_ports"] == ports((TCP, 80), (UDP, 53))
    assert generated(again["spec"]["underlay_route"]) != underlay


def test_loadbalancer_ipv6_preferred_underlay(svc, cli):
    # an IPv6 address, in a VNI without interfaces, one port, the underlay of our choice
    created = ok(add_lb(cli, "lb6", VNI3, LB_IP6, "tcp/443", f"--underlay={PREFERRED}"))
    assert created == lb_doc("lb6", lb_spec(VNI3, LB_IP6, ports((TCP, 443)), PREFERRED))
    assert ok(cli("get", "loadbalancer", "--id=lb6")) == created
    [lb] = grpc_lbs(svc)
    assert (lb.id, lb.vni, lb.ip.ipver, lb.ip.address, lb.underlay_route) == (
        b"lb6", VNI3, pb.IPV6, LB_IP6.encode(), PREFERRED.encode())

    # the underlay is taken now, checked first: for another LB (even a duplicate), an LB
    # prefix; the failed creates give nothing back they did not get
    server_error(add_lb(cli, "lb7", VNI1, LB_IP, "TCP/80", f"--underlay={PREFERRED}"),
                 401, "VNF_INSERT")
    server_error(add_lb(cli, "lb7", VNI3, LB_IP6, "TCP/80", f"--underlay={PREFERRED}"),
                 401, "VNF_INSERT")
    server_error(add_lbprefix(cli, "vm1", "10.7.0.0/24", f"--underlay={PREFERRED}"),
                 401, "VNF_INSERT")
    assert ok(cli("get", "loadbalancer", "--id=lb6")) == created
    server_error(cli("get", "loadbalancer", "--id=lb7"), 201, "NOT_FOUND")
    # ... until the load balancer is gone
    assert ok(cli("del", "lb", "--id=lb6"))["status"] == SUCCESS
    assert ok(add_lbprefix(cli, "vm1", "10.7.0.0/24", f"--underlay={PREFERRED}")) == (
        lbprefix_doc("vm1", {"prefix": "10.7.0.0/24", "underlay_route": PREFERRED}))


def test_loadbalancer_errors(svc, cli):
    assert ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80"))
    # the same {VNI, address} under another id, or the same id (dplane keeps ids unique)
    server_error(add_lb(cli, "lb2", VNI1, LB_IP, "UDP/53"), 202, "ALREADY_EXISTS")
    server_error(add_lb(cli, "lb1", VNI2, LB_IP, "TCP/80"), 202, "ALREADY_EXISTS")
    # the address in another VNI is another load balancer
    assert ok(add_lb(cli, "lb2", VNI2, LB_IP, "TCP/80"))["spec"]["vni"] == VNI2
    assert sorted(lb.id for lb in grpc_lbs(svc)) == [b"lb1", b"lb2"]

    # request validation, in dpservice's order
    many = ",".join(f"TCP/{port}" for port in range(1, 17))
    for lbports, message in (
            (many, "Too many loadbalanced_ports"),
            ("ICMP/0", "Invalid loadbalanced_ports.protocol"),
            ("TCP/80,UDP/80,tcp/80", "Duplicate loadbalanced_ports entry")):
        grpc_error(add_lb(cli, "lb3", VNI1, "203.0.113.81", lbports), message)
    grpc_error(add_lb(cli, "lb3", 1 << 24, "203.0.113.81", "TCP/80"),
               "VNI exceeds 24-bit range")
    grpc_error(add_lb(cli, "x" * 64, VNI1, "203.0.113.81", "TCP/80"), "Invalid loadbalancer_id")
    grpc_error(cli("get", "loadbalancer", "--id=" + "x" * 64), "Invalid loadbalancer_id")
    grpc_error(cli("del", "loadbalancer", "--id=" + "x" * 64), "Invalid loadbalancer_id")
    # fifteen ports are fine
    fifteen = ",".join(f"UDP/{port}" for port in range(1, 16))
    created = ok(add_lb(cli, "lb3", VNI1, "203.0.113.81", fifteen))
    assert created["spec"]["loadbalanced_ports"] == ports(*((UDP, p) for p in range(1, 16)))
    assert ok(cli("get", "lb", "--id=lb3")) == created

    client_error(add_lb(cli, "lb4", VNI1, "203.0.113.82", "TCP80"),
                 'invalid argument "TCP80" for "--lbports" flag: "TCP80": expected '
                 'PROTOCOL/PORT, e.g. TCP/443')
    client_error(add_lb(cli, "lb4", VNI1, "203.0.113", "TCP/80"),
                 'invalid argument "203.0.113" for "--vip" flag: ParseAddr("203.0.113"): '
                 'unable to parse IP')
    client_error(cli("add", "loadbalancer", "--id=lb4", f"--vni={VNI1}", f"--vip={LB_IP}"),
                 'required flag(s) "lbports" not set')
    assert len(grpc_lbs(svc)) == 3


# --- list loadbalancers ---------------------------------------------------------------------

def lb_item(doc: dict) -> dict:
    """A load balancer as a list shows it: its create document with an empty status."""
    return {**doc, "status": EMPTY}


def test_list_loadbalancers(svc, cli):
    assert ok(cli("list", "loadbalancers")) == {"kind": "LoadBalancerList", "metadata": {},
                                                "status": SUCCESS, "items": []}
    # created neither in id, VNI nor address order
    lb_c = lb_item(ok(add_lb(cli, "lb-c", VNI1, LB_IP, "TCP/80,UDP/53")))
    lb_a = lb_item(ok(add_lb(cli, "lb-a", VNI3, LB_IP6, "TCP/443")))
    lb_b = lb_item(ok(add_lb(cli, "lb-b", VNI1, LB_IP_LOW, "UDP/4789")))
    assert {lb.id for lb in grpc_lbs(svc)} == {b"lb-a", b"lb-b", b"lb-c"}

    # one RPC: the list carries its Status, the items (payload only) an empty one
    expected = {"kind": "LoadBalancerList", "metadata": {}, "status": SUCCESS,
                "items": [lb_a, lb_b, lb_c]}
    assert ok(cli("list", "loadbalancers")) == expected
    assert ok(cli("list", "lbs")) == expected
    # get without --id lists them all
    assert ok(cli("get", "loadbalancer")) == expected

    # --sort-by: VNI then address, address (as strings: "9.1.2.3" last) then VNI
    assert ok(cli("list", "lbs", "--sort-by=vni"))["items"] == [lb_c, lb_b, lb_a]
    assert ok(cli("list", "lbs", "--sort-by=IP"))["items"] == [lb_a, lb_c, lb_b]
    # an unknown column: by id
    assert ok(cli("list", "lbs", "--sort-by=colour"))["items"] == [lb_a, lb_b, lb_c]

    assert ok(cli("del", "lb", "--id=lb-a"))
    assert ok(cli("list", "loadbalancers"))["items"] == [lb_b, lb_c]


# --- LB targets -----------------------------------------------------------------------------

def test_lbtargets_add_list_del(svc, cli):
    assert ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80"))
    assert ok(add_lb(cli, "lb2", VNI2, LB_IP, "TCP/80"))
    assert ok(cli("list", "lbtargets", "--lb-id=lb1")) == target_list("lb1", [])
    for target in TARGETS:
        assert ok(add_target(cli, "lb1", target)) == target_doc("lb1", target)
    # the target's address as canonical text
    assert ok(add_target(cli, "lb2", "FC00:0005:0:0::0001")) == target_doc("lb2", "fc00:5::1")

    # the service keeps them in byte order, the CLI lists them by address string
    assert grpc_targets(svc, "lb1") == ["fc00:2::a", "fc00:9::1", "fc00:10::1"]
    by_string = ["fc00:10::1", "fc00:2::a", "fc00:9::1"]
    assert ok(cli("list", "lbtargets", "--lb-id=lb1")) == target_list("lb1", by_string)
    assert ok(cli("get", "lbtarget", "--lb-id=lb1")) == target_list("lb1", by_string)
    assert ok(cli("list", "lbtrgts", "--lb-id=lb1", "--sort-by=foo")) == target_list(
        "lb1", by_string)
    assert ok(cli("list", "loadbalancer-targets", "--lb-id=lb2")) == target_list(
        "lb2", ["fc00:5::1"])

    assert ok(del_target(cli, "lb1", "fc00:9::1"))["status"] == SUCCESS
    assert ok(cli("list", "lbtargets", "--lb-id=lb1")) == target_list(
        "lb1", ["fc00:10::1", "fc00:2::a"])
    server_error(del_target(cli, "lb1", "fc00:9::1"), 201, "NOT_FOUND")
    # a target can come back
    assert ok(add_target(cli, "lb1", "fc00:9::1")) == target_doc("lb1", "fc00:9::1")
    assert grpc_targets(svc, "lb1") == ["fc00:2::a", "fc00:9::1", "fc00:10::1"]
    assert grpc_targets(svc, "lb2") == ["fc00:5::1"]


def test_lbtarget_delete_document(svc, cli):
    assert ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80"))
    assert ok(add_target(cli, "lb1", "fc00:9::1"))
    assert ok(del_target(cli, "lb1", "fc00:9::1")) == target_doc("lb1", None)


def test_lbtarget_errors(svc, cli):
    assert ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80"))
    assert ok(add_target(cli, "lb1", "fc00:9::1"))
    server_error(add_target(cli, "lb1", "fc00:9::1"), 202, "ALREADY_EXISTS")
    # targets are underlay (IPv6) addresses; that is checked before the load balancer
    for lb_id in ("lb1", "nope"):
        server_error(add_target(cli, lb_id, "192.0.2.1"), 204, "BAD_IPVER")
        server_error(del_target(cli, lb_id, "192.0.2.1"), 204, "BAD_IPVER")
    # an unknown load balancer: NO_LB, for a target as for the list
    server_error(add_target(cli, "nope", "fc00:9::2"), 422, "NO_LB")
    server_error(del_target(cli, "nope", "fc00:9::1"), 422, "NO_LB")
    server_error(cli("list", "lbtargets", "--lb-id=nope"), 422, "NO_LB")
    server_error(del_target(cli, "lb1", "fc00:9::2"), 201, "NOT_FOUND")
    # a deleted load balancer's targets went with it
    assert ok(cli("del", "lb", "--id=lb1"))
    server_error(cli("list", "lbtargets", "--lb-id=lb1"), 422, "NO_LB")
    assert ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80"))
    assert ok(cli("list", "lbtargets", "--lb-id=lb1")) == target_list("lb1", [])

    grpc_error(add_target(cli, "x" * 64, "fc00:9::1"), "Invalid loadbalancer_id")
    grpc_error(cli("list", "lbtargets", "--lb-id=" + "x" * 64), "Invalid loadbalancer_id")
    client_error(add_target(cli, "lb1", "fc00::zz"),
                 'invalid argument "fc00::zz" for "--target-ip" flag: ParseAddr("fc00::zz"): '
                 'unable to parse IP')
    client_error(cli("list", "lbtargets"), 'required flag(s) "lb-id" not set')


# --- LB prefixes ----------------------------------------------------------------------------

def prefix_item(iface: str, prefix: str, underlay: str) -> dict:
    return lbprefix_doc(iface, {"prefix": prefix, "underlay_route": underlay}, EMPTY)


def test_lbprefixes_add_list_del(svc, cli):
    empty = {"kind": "LoadBalancerPrefixList", "metadata": {"interface_id": "vm1"},
             "status": SUCCESS, "items": []}
    assert ok(cli("list", "lbprefixes", "--interface-id=vm1")) == empty

    created = ok(add_lbprefix(cli, "vm1", "10.9.0.0/24"))
    ul_a = generated(created["spec"]["underlay_route"])
    assert created == lbprefix_doc("vm1", {"prefix": "10.9.0.0/24", "underlay_route": ul_a})
    ul_b = generated(ok(add_lbprefix(cli, "vm1", "10.10.0.0/16"))["spec"]["underlay_route"])
    created = ok(cli("create", "lbprfx", "--interface-id=vm1", "--prefix=fd00:5::/64",
                     f"--underlay={PREFERRED}"))
    assert created == lbprefix_doc("vm1", {"prefix": "fd00:5::/64",
                                           "underlay_route": PREFERRED})
    ul_c = generated(ok(add_lbprefix(cli, "vm2", "10.8.1.1/32"))["spec"]["underlay_route"])
    assert len({ul_a, ul_b, ul_c, PREFERRED}) == 4
    assert [(p.ip.address, p.length, p.underlay_route) for p in grpc_lb_prefixes(svc, "vm1")
            ] == [(b"10.9.0.0", 24, ul_a.encode()), (b"10.10.0.0", 16, ul_b.encode()),
                  (b"fd00:5::", 64, PREFERRED.encode())]

    # by prefix string: "10.10.0.0/16" before "10.9.0.0/24"; one RPC: the list's Status
    vm1_items = [prefix_item("vm1", "10.10.0.0/16", ul_b),
                 prefix_item("vm1", "10.9.0.0/24", ul_a),
                 prefix_item("vm1", "fd00:5::/64", PREFERRED)]
    assert ok(cli("list", "lbprefixes", "--interface-id=vm1")) == {**empty, "items": vm1_items}
    assert ok(cli("get", "lbprefix", "--interface-id=vm1")) == {**empty, "items": vm1_items}
    # every interface's (one RPC each), sorted together: no Status of its own
    every = ok(cli("list", "loadbalancer-prefixes"))
    assert every == {"kind": "LoadBalancerPrefixList", "metadata": {"interface_id": ""},
                     "status": EMPTY,
                     "items": [vm1_items[0], prefix_item("vm2", "10.8.1.1/32", ul_c),
                               *vm1_items[1:]]}
    assert ok(cli("list", "lbprefixes", "--sort-by=underlayroute"))["items"] == sorted(
        every["items"], key=lambda item: item["spec"]["underlay_route"])

    deleted = ok(del_lbprefix(cli, "vm1", "10.9.0.0/24"))
    assert deleted == lbprefix_doc("vm1", {"prefix": "10.9.0.0/24"})
    server_error(del_lbprefix(cli, "vm1", "10.9.0.0/24"), 201, "NOT_FOUND")
    assert ok(cli("list", "lbprfxs", "--interface-id=vm1"))["items"] == [vm1_items[0],
                                                                         vm1_items[2]]
    # a prefix belongs to its interface
    server_error(del_lbprefix(cli, "vm2", "10.10.0.0/16"), 201, "NOT_FOUND")
    assert ok(cli("delete", "lbprefix", "--interface-id=vm2", "--prefix=10.8.1.1/32"))
    assert ok(cli("list", "lbprefixes", "--interface-id=vm2"))["items"] == []


def test_lbprefix_errors(svc, cli):
    assert ok(add_lbprefix(cli, "vm1", "10.9.0.0/24"))
    server_error(add_lbprefix(cli, "vm1", "10.9.0.0/24"), 202, "ALREADY_EXISTS")
    # the same prefix on another interface, or with another length, is another one
    assert ok(add_lbprefix(cli, "vm2", "10.9.0.0/24"))
    assert ok(add_lbprefix(cli, "vm1", "10.9.0.0/25"))
    server_error(del_lbprefix(cli, "vm1", "10.9.0.0/23"), 201, "NOT_FOUND")

    server_error(add_lbprefix(cli, "vm9", "10.9.0.0/24"), 205, "NO_VM")
    server_error(del_lbprefix(cli, "vm9", "10.9.0.0/24"), 205, "NO_VM")
    server_error(cli("list", "lbprefixes", "--interface-id=vm9"), 205, "NO_VM")
    grpc_error(add_lbprefix(cli, "x" * 64, "10.9.0.0/24"), "Invalid interface_id")
    grpc_error(cli("list", "lbprefixes", "--interface-id=" + "x" * 64), "Invalid interface_id")
    client_error(add_lbprefix(cli, "vm1", "10.9.0.0"),
                 'invalid argument "10.9.0.0" for "--prefix" flag: '
                 'netip.ParsePrefix("10.9.0.0"): no \'/\'')
    assert len(grpc_lb_prefixes(svc, "vm1")) == 2
    assert len(grpc_lb_prefixes(svc, "vm2")) == 1


# --- table and name output ------------------------------------------------------------------

def cells(text: str) -> list[list[str]]:
    """-o table: a leading space on every line, cells separated by blanks."""
    lines = text.splitlines()
    assert lines and all(line.startswith(" ") for line in lines), text
    return [line.split() for line in lines]


def test_table_and_name_output(svc, cli):
    def plain(*argv: str) -> Outcome:
        """The CLI's own default output: names for create and delete, else a table."""
        return run_inprocess(address(svc), *argv)

    created = plain("add", "lb", "--id=lb1", f"--vni={VNI1}", f"--vip={LB_IP}",
                    "--lbports=TCP/80,UDP/53", f"--underlay={PREFERRED}")
    # create and delete print names by default
    assert created == Outcome(0, f"loadbalancer/lb1 created, underlay route: {PREFERRED}\n",
                              "")
    underlay = generated(ok(add_lb(cli, "lb0", VNI3, LB_IP6, "TCP/443"))["spec"][
        "underlay_route"])

    header = ["ID", "VNI", "LbVipIP", "Lbports", "UnderlayRoute"]
    row1 = ["lb1", str(VNI1), LB_IP, "TCP/80,UDP/53", PREFERRED]
    row0 = ["lb0", str(VNI3), LB_IP6, "TCP/443", underlay]
    # get and list print tables by default; load balancers by id
    outcome = plain("get", "loadbalancer", "--id=lb1")
    assert outcome.status == 0 and cells(outcome.out) == [header, row1]
    outcome = plain("list", "loadbalancers")
    assert outcome.status == 0 and cells(outcome.out) == [header, row0, row1]

    assert plain("add", "lbtarget", "--lb-id=lb1", "--target-ip=fc00:9::1") == Outcome(
        0, "loadbalancertarget/on loadbalancer: lb1 created\n", "")
    assert ok(add_target(cli, "lb1", "fc00:10::1"))
    outcome = plain("list", "lbtargets", "--lb-id=lb1")
    assert outcome.status == 0 and cells(outcome.out) == [
        ["IpVersion", "Address"], ["IPV6", "fc00:10::1"], ["IPV6", "fc00:9::1"]]
    assert plain("list", "lbtargets", "--lb-id=lb1", "-o", "name") == Outcome(
        0, "loadbalancertarget/on loadbalancer: lb1\n" * 2, "")
    assert plain("del", "lbtarget", "--lb-id=lb1", "--target-ip=fc00:9::1") == Outcome(
        0, "loadbalancertarget/on loadbalancer: lb1 deleted\n", "")

    created = plain("add", "lbprefix", "--interface-id=vm1", "--prefix=10.9.0.0/24")
    assert created.status == 0 and created.out.startswith(
        "loadbalancerprefix/10.9.0.0/24 created, underlay route: fc00:1::"), created
    pfx_underlay = created.out.rsplit(" ", 1)[1].strip()
    outcome = plain("list", "lbprefixes", "--interface-id=vm1")
    assert outcome.status == 0 and cells(outcome.out) == [
        ["Prefix", "UnderlayRoute"], ["10.9.0.0/24", generated(pfx_underlay)]]
    assert plain("del", "lbprefix", "--interface-id=vm1", "--prefix=10.9.0.0/24") == Outcome(
        0, "loadbalancerprefix/10.9.0.0/24 deleted\n", "")

    # table and name output turn into a name line for a service error (on stdout)
    assert plain("get", "lb", "--id=nope", "-o", "table") == Outcome(
        2, "loadbalancer/nope server error: 201, NOT_FOUND\n", "")
    assert plain("add", "lbtarget", "--lb-id=nope", "--target-ip=fc00:9::1") == Outcome(
        2, "loadbalancertarget/on loadbalancer: nope server error: 422, NO_LB\n", "")
    assert plain("list", "lbtargets", "--lb-id=nope", "-o", "table") == Outcome(
        2, "loadbalancertargetlist server error: 422, NO_LB\n", "")
    assert plain("del", "lb", "--id=lb1") == Outcome(0, "loadbalancer/lb1 deleted\n", "")
    assert plain("del", "lb", "--id=lb1") == Outcome(
        2, "loadbalancer/lb1 server error: 201, NOT_FOUND\n", "")
    # anything else goes to stderr
    outcome = plain("get", "lb", "--id=" + "x" * 64, "-o", "table")
    assert outcome == Outcome(1, "", "Error running command: rpc error: code = InvalidArgument "
                                     "desc = Invalid loadbalancer_id\n")


def test_installed_script(svc):
    """The console script's exit statuses and documents are the in-process ones."""
    addr = address(svc)
    created = run_console(addr, "add", "loadbalancer", "--id=lb1", f"--vni={VNI1}",
                          f"--vip={LB_IP}", "--lbports=TCP/80", f"--underlay={PREFERRED}",
                          "-o", "json")
    assert (created.status, created.err) == (0, "")
    assert created.json() == lb_doc("lb1", lb_spec(VNI1, LB_IP, ports((TCP, 80)), PREFERRED))
    server_error(run_console(addr, "add", "lbtarget", "--lb-id=lb2", "--target-ip=fc00:9::1",
                             "-o", "json"), 422, "NO_LB")


# --- dplane-inspect -------------------------------------------------------------------------

def test_inspect_lb_tables(svc, cli):
    assert inspect(svc, "-t", "lb") == "Table 'loadbalancer_table' has 0 entries\n"
    assert inspect(svc, "-t", "lb_id") == "Table 'loadbalancer_id_table' has 0 entries\n"
    assert json.loads(inspect(svc, "-t", "lb", "--dump", "-o", "json")) == []

    ul1 = ok(add_lb(cli, "lb1", VNI1, LB_IP, "TCP/80,UDP/53"))["spec"]["underlay_route"]
    ul6 = ok(add_lb(cli, "lb6", VNI3, LB_IP6, "UDP/4789",
                    f"--underlay={PREFERRED}"))["spec"]["underlay_route"]
    for target in TARGETS:
        assert ok(add_target(cli, "lb1", target))
    assert ok(add_target(cli, "lb6", "fc00:7::1"))
    # an LB prefix is no load balancer
    assert ok(add_lbprefix(cli, "vm1", "10.9.0.0/24"))

    # the service's order (loadbalancer_table's), targets in byte order
    order = [lb.id.decode() for lb in grpc_lbs(svc)]
    assert sorted(order) == ["lb1", "lb6"]
    rows = {"lb1": {"vni": VNI1, "ip": LB_IP, "id": "lb1", "ports": "tcp/80,udp/53",
                    "underlay": ul1, "targets": "fc00:2::a,fc00:9::1,fc00:10::1"},
            "lb6": {"vni": VNI3, "ip": LB_IP6, "id": "lb6", "ports": "udp/4789",
                    "underlay": ul6, "targets": "fc00:7::1"}}

    def same_vni(row: dict) -> dict:
        """The VNI as a number (dumped tables carry it as text)."""
        return {**row, "vni": int(row["vni"])}

    dumped = json.loads(inspect(svc, "-t", "lb", "--dump", "-o", "json"))
    assert [same_vni(row) for row in dumped] == [rows[lb_id] for lb_id in order]
    dumped = json.loads(inspect(svc, "-t", "lb_id", "--dump", "-o", "json"))
    assert [same_vni(row) for row in dumped] == [
        {"id": lb_id, "vni": rows[lb_id]["vni"], "ip": rows[lb_id]["ip"]} for lb_id in order]
    assert inspect(svc, "-t", "lb_id", "--dump") == "".join(
        f"id: {lb_id}, vni: {rows[lb_id]['vni']}, ip: {rows[lb_id]['ip']}\n" for lb_id in order)
    assert inspect(svc, "-t", "lb") == "Table 'loadbalancer_table' has 2 entries\n"
    assert inspect(svc, "-t", "lb_id") == "Table 'loadbalancer_id_table' has 2 entries\n"
    assert json.loads(inspect(svc, "-t", "lb_id", "-o", "json")) == {
        "table": "loadbalancer_id_table", "entries": 2}
    assert inspect(svc, "-t", "lb", "-o", "csv") == "TABLE,ENTRIES\nloadbalancer_table,2\n"

    # a target less, a load balancer less
    assert ok(del_target(cli, "lb1", "fc00:9::1"))
    assert ok(cli("del", "lb", "--id=lb6"))
    dumped = json.loads(inspect(svc, "-t", "lb", "--dump", "-o", "json"))
    assert [same_vni(row) for row in dumped] == [
        {**rows["lb1"], "targets": "fc00:2::a,fc00:10::1"}]
    assert inspect(svc, "-t", "lb") == "Table 'loadbalancer_table' has 1 entries\n"
    assert inspect(svc, "-t", "lb_id") == "Table 'loadbalancer_id_table' has 1 entries\n"
