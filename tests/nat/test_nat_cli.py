# SPDX-License-Identifier: Apache-2.0
"""dplane-cli's virtual IP, NAT and neighbour NAT commands against a real service: the JSON
documents of add / get / del virtualip, add / get / del nat, add / del neighnat and list nats
as dpservice-cli prints them (contract 4.5 and 5). Every get, create and delete carries the
server's "Success"; `list nats` of one type carries it too, of both types (two RPCs, the
CLI's own list) an empty status, as do all list items. Local items have no underlay route,
neighbour items no nat_ip; lists are sorted by VNI, stably. Service errors come through as
server error documents with exit status 2, request validation as gRPC errors (exit 1), bad
flag values as client errors (exit 1).

One service for the module, two interfaces on it: vm1 in VNI 200 and vm2 in VNI 100 (so that
the service's order and the CLI's VNI order differ); after each test its VIPs, NATs and
neighbour NATs are removed over gRPC."""
from __future__ import annotations

import ipaddress
from collections.abc import Callable, Iterator

import pytest

import harness
from clientutil import Outcome, address, run_console, run_inprocess
from dplane.proto import dpdk_pb2 as pb
from overlay_util import VMS, create_vm

SUCCESS = {"code": 0, "message": "Success"}
EMPTY = {"code": 0, "message": ""}
VNI1, VNI2 = 200, 100
VM1_IP, VM2_IP = VMS["vm1"][2], VMS["vm2"][2]
VIP = "203.0.113.10"
NAT_IP, OTHER_NAT_IP = "198.51.100.1", "198.51.100.2"
PREFERRED = "fc00:1::8000:0:1"  # --ipv6's /64, "externally generated" flag
UNDERLAY_PREFIX = ipaddress.ip_network("fc00:1::/64")
NEIGHBOR = "fc00:2::1"


@pytest.fixture(scope="module")
def shared() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        create_vm(svc, "vm1", vni=VNI1)
        create_vm(svc, "vm2", vni=VNI2)
        yield svc


@pytest.fixture
def svc(shared: harness.Service) -> Iterator[harness.Service]:
    """The module's service; VIPs, NATs and neighbour NATs go afterwards (over gRPC)."""
    yield shared
    api = shared.api
    for vm in ("vm1", "vm2"):
        api.DeleteVip(pb.DeleteVipRequest(interface_id=vm.encode()), timeout=5)
        api.DeleteNat(pb.DeleteNatRequest(interface_id=vm.encode()), timeout=5)
    for entry in grpc_neighbors(shared):
        reply = api.DeleteNeighborNat(pb.DeleteNeighborNatRequest(
            nat_ip=entry.actual_nat_ip, vni=entry.vni, min_port=entry.min_port,
            max_port=entry.max_port), timeout=5)
        assert reply.status.code == 0, reply.status
    assert grpc_local_nats(shared) == [] and grpc_neighbors(shared) == []


@pytest.fixture
def cli(svc: harness.Service) -> Callable[..., Outcome]:
    """dplane-cli in-process, with JSON output unless the arguments choose another."""
    def run(*argv: str) -> Outcome:
        output = () if any(a == "-o" or a.startswith("--output") for a in argv) else (
            "-o", "json")
        return run_inprocess(address(svc), *argv, *output)
    return run


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def grpc_local_nats(svc, nat_ip: str = "0.0.0.0") -> list[pb.NatEntry]:
    reply = svc.api.ListLocalNats(pb.ListLocalNatsRequest(nat_ip=ip4(nat_ip)), timeout=5)
    assert reply.status.code == 0, reply.status
    return list(reply.nat_entries)


def grpc_neighbors(svc, nat_ip: str = "0.0.0.0") -> list[pb.NatEntry]:
    reply = svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip4(nat_ip)),
                                     timeout=5)
    assert reply.status.code == 0, reply.status
    return list(reply.nat_entries)


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


def vip_doc(iface: str, spec: dict) -> dict:
    return {"kind": "VirtualIP", "metadata": {"interface_id": iface}, "spec": spec,
            "status": SUCCESS}


def nat_doc(iface: str, spec: dict) -> dict:
    return {"kind": "Nat", "metadata": {"interface_id": iface}, "spec": spec,
            "status": SUCCESS}


def neighnat_doc(nat_ip: str, spec: dict) -> dict:
    return {"kind": "NeighborNat", "metadata": {"nat_ip": nat_ip}, "spec": spec,
            "status": SUCCESS}


def add_nat(cli, iface: str, nat_ip: str, min_port: int, max_port: int, *flags: str
            ) -> Outcome:
    return cli("add", "nat", f"--interface-id={iface}", f"--nat-ip={nat_ip}",
               f"--minport={min_port}", f"--maxport={max_port}", *flags)


def add_neighnat(cli, nat_ip: str, vni: int, min_port: int, max_port: int,
                 underlay: str = NEIGHBOR) -> Outcome:
    return cli("add", "neighnat", f"--nat-ip={nat_ip}", f"--vni={vni}",
               f"--minport={min_port}", f"--maxport={max_port}", f"--underlayroute={underlay}")


def del_neighnat(cli, nat_ip: str, vni: int, min_port: int, max_port: int) -> Outcome:
    return cli("del", "neighnat", f"--nat-ip={nat_ip}", f"--vni={vni}",
               f"--minport={min_port}", f"--maxport={max_port}")


# --- virtual IPs ----------------------------------------------------------------------------

def test_virtualip_add_get_del(svc, cli):
    created = ok(cli("add", "virtualip", "--interface-id=vm1", f"--vip={VIP}"))
    underlay = generated(created["spec"]["underlay_route"])
    assert created == vip_doc("vm1", {"vip_ip": VIP, "underlay_route": underlay})
    reply = svc.api.GetVip(pb.GetVipRequest(interface_id=b"vm1"), timeout=5)
    assert (reply.vip_ip.address, reply.underlay_route) == (VIP.encode(), underlay.encode())

    # get carries the server's Status too (dpservice-go's converter copies it)
    assert ok(cli("get", "virtualip", "--interface-id=vm1")) == created
    assert ok(cli("get", "vip", "--interface-id=vm1")) == created

    deleted = ok(cli("del", "virtualip", "--interface-id=vm1"))
    assert deleted == vip_doc("vm1", {"vip_ip": None})
    server_error(cli("del", "virtualip", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    server_error(cli("get", "virtualip", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    # the VIP can come back, with a new underlay
    again = ok(cli("create", "vip", "--interface-id=vm1", f"--vip={VIP}"))
    assert generated(again["spec"]["underlay_route"]) != underlay


def test_virtualip_preferred_underlay(svc, cli):
    created = ok(cli("add", "virtualip", "--interface-id=vm2", f"--vip={VIP}",
                     f"--underlay={PREFERRED}"))
    assert created == vip_doc("vm2", {"vip_ip": VIP, "underlay_route": PREFERRED})
    assert ok(cli("get", "virtualip", "--interface-id=vm2")) == created
    # the address is taken now: by a VIP of another interface, or a NAT; the underlay is
    # registered before the interface's VIP is looked at
    server_error(cli("add", "virtualip", "--interface-id=vm1", "--vip=203.0.113.11",
                     f"--underlay={PREFERRED}"), 401, "VNF_INSERT")
    server_error(cli("add", "virtualip", "--interface-id=vm2", "--vip=203.0.113.11",
                     f"--underlay={PREFERRED}"), 401, "VNF_INSERT")
    server_error(add_nat(cli, "vm1", NAT_IP, 1000, 2000, f"--underlay={PREFERRED}"),
                 401, "VNF_INSERT")
    # and nothing changed
    assert ok(cli("get", "virtualip", "--interface-id=vm2")) == created
    server_error(cli("get", "virtualip", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    server_error(cli("get", "nat", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    assert ok(cli("del", "virtualip", "--interface-id=vm2"))["status"] == SUCCESS
    # not in --ipv6's /64, or without the "externally generated" flag
    for underlay in ("fc00:9::8000:0:1", "fc00:1::1"):
        grpc_error(cli("add", "virtualip", "--interface-id=vm2", f"--vip={VIP}",
                       f"--underlay={underlay}"), "Invalid preferred_underlay_route")


def test_virtualip_errors(svc, cli):
    for argv in (("add", "virtualip", f"--vip={VIP}"), ("get", "virtualip"),
                 ("del", "virtualip")):
        server_error(cli(*argv, "--interface-id=vm9"), 205, "NO_VM")
    server_error(cli("add", "virtualip", "--interface-id=vm1", "--vip=fd00:5::1"),
                 204, "BAD_IPVER")

    assert ok(cli("add", "virtualip", "--interface-id=vm1", f"--vip={VIP}"))
    server_error(cli("add", "virtualip", "--interface-id=vm1", "--vip=203.0.113.11",
                     f"--underlay={PREFERRED}"), 343, "SNAT_EXISTS")
    assert ok(cli("get", "virtualip", "--interface-id=vm1"))["spec"]["vip_ip"] == VIP

    # a VIP's address must be free in the interface's VNI: a neighbour NAT there holds it
    assert ok(add_neighnat(cli, NAT_IP, VNI2, 1000, 2000))
    server_error(cli("add", "virtualip", "--interface-id=vm2", f"--vip={NAT_IP}",
                     f"--underlay={PREFERRED}"), 323, "DNAT_EXISTS")
    server_error(cli("get", "virtualip", "--interface-id=vm2"), 341, "SNAT_NO_DATA")
    # both failed creates gave their underlay back
    assert ok(cli("add", "virtualip", "--interface-id=vm2", "--vip=203.0.113.12",
                  f"--underlay={PREFERRED}"))["spec"]["underlay_route"] == PREFERRED
    assert ok(cli("del", "virtualip", "--interface-id=vm2"))
    # ... but not in another VNI
    assert ok(cli("del", "virtualip", "--interface-id=vm1"))
    assert ok(cli("add", "virtualip", "--interface-id=vm1", f"--vip={NAT_IP}"))
    # and not once the neighbour NAT is gone
    assert ok(del_neighnat(cli, NAT_IP, VNI2, 1000, 2000))
    assert ok(cli("add", "virtualip", "--interface-id=vm2", f"--vip={NAT_IP}"))

    grpc_error(cli("add", "virtualip", "--interface-id=" + "x" * 64, f"--vip={VIP}"),
               "Invalid interface_id")
    grpc_error(cli("get", "virtualip", "--interface-id=" + "x" * 64), "Invalid interface_id")
    client_error(cli("add", "virtualip", "--interface-id=vm1", "--vip=xxx"),
                 'invalid argument "xxx" for "--vip" flag: ParseAddr("xxx"): unable to parse '
                 'IP')


# --- NAT of an interface --------------------------------------------------------------------

def test_nat_add_get_del(svc, cli):
    created = ok(add_nat(cli, "vm1", NAT_IP, 1000, 2000))
    underlay = generated(created["spec"]["underlay_route"])
    # the request's values, the service's underlay; VNI 0: dpservice-go never sets it
    spec = {"nat_ip": NAT_IP, "min_port": 1000, "max_port": 2000, "underlay_route": underlay,
            "vni": 0}
    assert created == nat_doc("vm1", spec)
    reply = svc.api.GetNat(pb.GetNatRequest(interface_id=b"vm1"), timeout=5)
    assert (reply.nat_ip.address, reply.min_port, reply.max_port, reply.underlay_route) == (
        NAT_IP.encode(), 1000, 2000, underlay.encode())

    assert ok(cli("get", "nat", "--interface-id=vm1")) == nat_doc("vm1", spec)
    assert ok(cli("get", "translation", "--interface-id=vm1")) == nat_doc("vm1", spec)

    # a NAT and a VIP live side by side
    assert ok(cli("add", "virtualip", "--interface-id=vm1", f"--vip={VIP}"))
    assert ok(cli("get", "nat", "--interface-id=vm1")) == nat_doc("vm1", spec)

    deleted = ok(cli("del", "nat", "--interface-id=vm1"))
    assert deleted == nat_doc("vm1", {"min_port": 0, "max_port": 0, "vni": 0})
    server_error(cli("del", "nat", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    server_error(cli("get", "nat", "--interface-id=vm1"), 341, "SNAT_NO_DATA")
    assert ok(cli("get", "virtualip", "--interface-id=vm1"))["spec"]["vip_ip"] == VIP

    # with a preferred underlay, and the largest range there is
    created = ok(add_nat(cli, "vm1", NAT_IP, 0, 65535, f"--underlay={PREFERRED}"))
    assert created == nat_doc("vm1", {"nat_ip": NAT_IP, "min_port": 0, "max_port": 65535,
                                      "underlay_route": PREFERRED, "vni": 0})
    assert ok(cli("get", "nat", "--interface-id=vm1")) == created


def test_nat_errors(svc, cli):
    for argv in (("get", "nat"), ("del", "nat")):
        server_error(cli(*argv, "--interface-id=vm9"), 205, "NO_VM")
    server_error(add_nat(cli, "vm9", NAT_IP, 1000, 2000), 205, "NO_VM")
    server_error(add_nat(cli, "vm1", "fd00:5::1", 1000, 2000), 204, "BAD_IPVER")

    assert ok(add_nat(cli, "vm1", NAT_IP, 1000, 2000))
    server_error(add_nat(cli, "vm1", OTHER_NAT_IP, 3000, 4000, f"--underlay={PREFERRED}"),
                 343, "SNAT_EXISTS")
    assert ok(cli("get", "nat", "--interface-id=vm1"))["spec"]["nat_ip"] == NAT_IP
    # the failed create gave its underlay back
    assert ok(cli("add", "virtualip", "--interface-id=vm2", f"--vip={VIP}",
                  f"--underlay={PREFERRED}"))["spec"]["underlay_route"] == PREFERRED
    assert ok(cli("del", "virtualip", "--interface-id=vm2"))
    # no overlap check between local NATs: another VM may share the IP, even the range
    assert ok(add_nat(cli, "vm2", NAT_IP, 1500, 2500))

    # request validation, in dpservice's order
    for (min_port, max_port), message in (
            ((70000, 80000), "Invalid min_port"), ((1000, 65536), "Invalid max_port"),
            ((2000, 2000), "Invalid port range"), ((3000, 2000), "Invalid port range")):
        grpc_error(add_nat(cli, "vm9", NAT_IP, min_port, max_port), message)
    grpc_error(add_nat(cli, "x" * 64, NAT_IP, 1000, 2000), "Invalid interface_id")
    grpc_error(cli("del", "nat", "--interface-id=" + "x" * 64), "Invalid interface_id")
    client_error(add_nat(cli, "vm1", "1.2.3", 1000, 2000),
                 'invalid argument "1.2.3" for "--nat-ip" flag: ParseAddr("1.2.3"): unable to '
                 'parse IP')
    assert sorted(e.nat_ip.address for e in grpc_local_nats(svc)) == [VM1_IP.encode(),
                                                                      VM2_IP.encode()]

    # a local NAT's address is taken in its VNI for a VIP, until the NAT goes
    server_error(cli("add", "virtualip", "--interface-id=vm1", f"--vip={NAT_IP}"),
                 323, "DNAT_EXISTS")
    assert ok(cli("del", "nat", "--interface-id=vm1"))
    assert ok(cli("add", "virtualip", "--interface-id=vm1", f"--vip={NAT_IP}"))
    # vm2's NAT still holds it in VNI 100
    server_error(cli("add", "virtualip", "--interface-id=vm2", f"--vip={NAT_IP}"),
                 323, "DNAT_EXISTS")


# --- neighbour NATs -------------------------------------------------------------------------

def test_neighnat_add_del(svc, cli):
    created = ok(add_neighnat(cli, NAT_IP, 300, 1000, 2000))
    assert created == neighnat_doc(NAT_IP, {"vni": 300, "min_port": 1000, "max_port": 2000,
                                            "underlay_route": NEIGHBOR})
    [entry] = grpc_neighbors(svc)
    assert (entry.actual_nat_ip.address, entry.vni, entry.min_port, entry.max_port,
            entry.underlay_route) == (NAT_IP.encode(), 300, 1000, 2000, NEIGHBOR.encode())

    # the neighbour's underlay as text of the address: canonical form
    created = ok(cli("create", "ngbnat", f"--nat-ip={NAT_IP}", "--vni=300", "--minport=2000",
                     "--maxport=3000", "--underlayroute=FC00:0002:0:0::0002"))
    assert created["spec"]["underlay_route"] == "fc00:2::2"

    # a delete's document has no spec of its own (dpservice-go's zero values)
    deleted = ok(del_neighnat(cli, NAT_IP, 300, 1000, 2000))
    assert deleted == neighnat_doc(NAT_IP, {"vni": 0, "min_port": 0, "max_port": 0})
    assert [(e.min_port, e.underlay_route) for e in grpc_neighbors(svc)] == [
        (2000, b"fc00:2::2")]
    server_error(del_neighnat(cli, NAT_IP, 300, 1000, 2000), 201, "NOT_FOUND")
    assert ok(cli("delete", "nnat", f"--nat-ip={NAT_IP}", "--vni=300", "--minport=2000",
                  "--maxport=3000"))["status"] == SUCCESS
    assert grpc_neighbors(svc) == []


def test_neighnat_errors(svc, cli):
    assert ok(add_neighnat(cli, NAT_IP, 300, 1000, 2000))
    # overlapping ranges of one NAT IP, in any VNI
    for vni, min_port, max_port in ((300, 1000, 2000), (300, 1999, 2500), (400, 500, 1001),
                                    (VNI1, 0, 65535)):
        server_error(add_neighnat(cli, NAT_IP, vni, min_port, max_port, "fc00:2::9"),
                     202, "ALREADY_EXISTS")
    # touching ranges do not overlap, nor do ranges of another NAT IP
    assert ok(add_neighnat(cli, NAT_IP, 400, 2000, 3000))
    assert ok(add_neighnat(cli, OTHER_NAT_IP, 300, 1000, 2000))
    server_error(add_neighnat(cli, "fd00:5::1", 300, 1000, 2000), 204, "BAD_IPVER")

    # a delete needs the exact entry
    for vni, min_port, max_port in ((400, 1000, 2000), (300, 1000, 1999), (300, 1001, 2000)):
        server_error(del_neighnat(cli, NAT_IP, vni, min_port, max_port), 201, "NOT_FOUND")
    server_error(del_neighnat(cli, "fd00:5::1", 300, 1000, 2000), 204, "BAD_IPVER")
    assert len(grpc_neighbors(svc)) == 3

    # request validation, in dpservice's order: the underlay route comes last
    grpc_error(add_neighnat(cli, NAT_IP, 300, 70000, 80000, "1.2.3.4"), "Invalid min_port")
    grpc_error(add_neighnat(cli, NAT_IP, 300, 1000, 65536), "Invalid max_port")
    grpc_error(add_neighnat(cli, NAT_IP, 300, 2000, 1000), "Invalid port range")
    grpc_error(add_neighnat(cli, NAT_IP, 300, 5000, 6000, "1.2.3.4"), "Invalid underlay_route")
    grpc_error(del_neighnat(cli, NAT_IP, 300, 2000, 2000), "Invalid port range")
    client_error(add_neighnat(cli, NAT_IP, 300, 5000, 6000, "fc00::zz"),
                 'invalid argument "fc00::zz" for "--underlayroute" flag: '
                 'ParseAddr("fc00::zz"): unable to parse IP')
    assert len(grpc_neighbors(svc)) == 3


# --- list nats ------------------------------------------------------------------------------

def local_item(vm_ip: str, min_port: int, max_port: int, vni: int, nat_ip: str = NAT_IP
               ) -> dict:
    """A local NAT as `list nats` shows it: the VM's address, no underlay route."""
    return {"kind": "Nat", "metadata": {},
            "spec": {"nat_ip": vm_ip, "min_port": min_port, "max_port": max_port, "vni": vni,
                     "actual_nat_ip": nat_ip},
            "status": EMPTY}


def neigh_item(underlay: str, min_port: int, max_port: int, vni: int, nat_ip: str = NAT_IP
               ) -> dict:
    """A neighbour NAT as `list nats` shows it: its underlay route, no nat_ip."""
    return {"kind": "NeighborNat", "metadata": {},
            "spec": {"min_port": min_port, "max_port": max_port, "underlay_route": underlay,
                     "vni": vni, "actual_nat_ip": nat_ip},
            "status": EMPTY}


def nat_list(items: list[dict], status: dict, nat_ip: str = NAT_IP, nat_type: str = "0"
             ) -> dict:
    metadata = {"nat_ip": nat_ip}
    if nat_type:
        metadata["nat_type"] = nat_type
    return {"kind": "NatList", "metadata": metadata, "status": status, "items": items}


# vm1 (VNI 200) and vm2 (VNI 100) share NAT_IP; neighbours in creation order: VNI 300, then
# two of VNI 100 whose ports run backwards; one neighbour of another NAT IP
LOCAL_VM1 = local_item(VM1_IP, 1000, 2000, VNI1)
LOCAL_VM2 = local_item(VM2_IP, 2000, 3000, VNI2)
NEIGH_A = neigh_item("fc00:2::a", 3000, 4000, 300)
NEIGH_B = neigh_item("fc00:2::b", 5000, 6000, VNI2)
NEIGH_C = neigh_item("fc00:2::c", 4000, 5000, VNI2)
NEIGH_OTHER = neigh_item("fc00:2::d", 100, 200, 50, OTHER_NAT_IP)


@pytest.fixture
def nats(svc, cli) -> None:
    assert ok(add_nat(cli, "vm1", NAT_IP, 1000, 2000))
    assert ok(add_nat(cli, "vm2", NAT_IP, 2000, 3000))
    # a VIP is no NAT: not listed
    assert ok(cli("add", "virtualip", "--interface-id=vm2", f"--vip={VIP}"))
    for item, nat_ip in ((NEIGH_A, NAT_IP), (NEIGH_B, NAT_IP), (NEIGH_C, NAT_IP),
                         (NEIGH_OTHER, OTHER_NAT_IP)):
        spec = item["spec"]
        assert ok(add_neighnat(cli, nat_ip, spec["vni"], spec["min_port"], spec["max_port"],
                               spec["underlay_route"]))


def test_list_nats_both_types(svc, cli, nats):
    # the service lists neighbours in creation order; the CLI asks for local NATs first,
    # then neighbours, and sorts by VNI keeping that order among equal VNIs
    assert [e.underlay_route for e in grpc_neighbors(svc, NAT_IP)] == [
        b"fc00:2::a", b"fc00:2::b", b"fc00:2::c"]
    expected = nat_list([LOCAL_VM2, NEIGH_B, NEIGH_C, LOCAL_VM1, NEIGH_A], EMPTY)
    assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}")) == expected
    for nat_type in ("0", "any", "ANY"):
        assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}", f"--nat-type={nat_type}")) == (
            nat_list(expected["items"], EMPTY, nat_type=nat_type))
    # an empty type is "any" too, and left out of the metadata
    assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}", "--nat-type=")) == nat_list(
        expected["items"], EMPTY, nat_type="")


def test_list_nats_one_type(svc, cli, nats):
    # one RPC: the list carries its Status
    for nat_type in ("local", "1", "Local"):
        assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}", f"--nat-type={nat_type}")) == (
            nat_list([LOCAL_VM2, LOCAL_VM1], SUCCESS, nat_type=nat_type))
    for nat_type in ("neigh", "neighbor", "2"):
        assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}", f"--nat-type={nat_type}")) == (
            nat_list([NEIGH_B, NEIGH_C, NEIGH_A], SUCCESS, nat_type=nat_type))
    assert ok(cli("list", "nats", f"--nat-ip={OTHER_NAT_IP}", "--nat-type=neigh")) == (
        nat_list([NEIGH_OTHER], SUCCESS, OTHER_NAT_IP, "neigh"))
    assert ok(cli("list", "nats", f"--nat-ip={OTHER_NAT_IP}", "--nat-type=local")) == (
        nat_list([], SUCCESS, OTHER_NAT_IP, "local"))


def test_list_nats_of_every_ip(svc, cli, nats):
    everything = [NEIGH_OTHER, LOCAL_VM2, NEIGH_B, NEIGH_C, LOCAL_VM1, NEIGH_A]
    assert ok(cli("list", "nats", "--nat-ip=0.0.0.0")) == nat_list(everything, EMPTY,
                                                                  "0.0.0.0")
    # --nat-ip defaults to 0.0.0.0
    assert ok(cli("list", "nats")) == nat_list(everything, EMPTY, "0.0.0.0")
    assert ok(cli("list", "nats", "--nat-type=neigh")) == nat_list(
        [NEIGH_OTHER, NEIGH_B, NEIGH_C, NEIGH_A], SUCCESS, "0.0.0.0", "neigh")
    # nothing for an address without NATs, nor for a VIP
    assert ok(cli("list", "nats", "--nat-ip=192.0.2.1")) == nat_list([], EMPTY, "192.0.2.1")
    assert ok(cli("list", "nats", f"--nat-ip={VIP}")) == nat_list([], EMPTY, VIP)


def test_list_nats_sort_by(svc, cli, nats):
    doc = ok(cli("list", "nats", f"--nat-ip={NAT_IP}", "--sort-by=minport"))
    assert doc["items"] == [LOCAL_VM1, LOCAL_VM2, NEIGH_A, NEIGH_C, NEIGH_B]
    doc = ok(cli("list", "nats", f"--nat-ip={NAT_IP}", "--sort-by=MaxPort"))
    assert doc["items"] == [LOCAL_VM1, LOCAL_VM2, NEIGH_A, NEIGH_C, NEIGH_B]


def test_list_nats_follows_deletes(svc, cli, nats):
    assert ok(cli("del", "nat", "--interface-id=vm2"))
    assert ok(del_neighnat(cli, NAT_IP, VNI2, 5000, 6000))
    assert ok(cli("list", "nats", f"--nat-ip={NAT_IP}")) == nat_list(
        [NEIGH_C, LOCAL_VM1, NEIGH_A], EMPTY)


def test_list_nats_errors(svc, cli, nats):
    # an IPv6 NAT IP: BAD_IPVER from either RPC ...
    for nat_type in ("local", "neigh"):
        server_error(cli("list", "nats", "--nat-ip=fd00:5::1", f"--nat-type={nat_type}"),
                     204, "BAD_IPVER")
    # ... which the CLI does not look at when it asks both: an empty list
    assert ok(cli("list", "nats", "--nat-ip=fd00:5::1")) == nat_list([], EMPTY, "fd00:5::1")
    client_error(cli("list", "nats", f"--nat-ip={NAT_IP}", "--nat-type=both"),
                 "nat type can be only: Any = 0/Local = 1/Neigh(bor) = 2")
    client_error(cli("list", "nats", "--nat-ip=nat"),
                 'invalid argument "nat" for "--nat-ip" flag: ParseAddr("nat"): unable to '
                 'parse IP')


# --- other output formats and the installed script ------------------------------------------

def test_name_output(svc, cli):
    created = cli("add", "nat", "--interface-id=vm1", f"--nat-ip={NAT_IP}", "--minport=1000",
                  "--maxport=2000", f"--underlay={PREFERRED}", "-o", "name")
    assert created == Outcome(0, f"nat/vm1 created, underlay route: {PREFERRED}\n", "")
    assert cli("del", "nat", "--interface-id=vm1", "-o", "name") == Outcome(
        0, "nat/vm1 deleted\n", "")
    # table output turns into name output for a service error
    assert cli("get", "nat", "--interface-id=vm1", "-o", "table") == Outcome(
        2, "nat/vm1 server error: 341, SNAT_NO_DATA\n", "")
    assert cli("get", "virtualip", "--interface-id=vm1", "-o", "table") == Outcome(
        2, "virtualip/on interface: vm1 server error: 341, SNAT_NO_DATA\n", "")
    assert cli("add", "neighnat", f"--nat-ip={NAT_IP}", "--vni=300", "--minport=1",
               "--maxport=2", f"--underlayroute={NEIGHBOR}", "-o", "name") == Outcome(
        0, f"neighbornat/{NAT_IP} created, underlay route: {NEIGHBOR}\n", "")
    assert cli("del", "neighnat", f"--nat-ip={NAT_IP}", "--vni=300", "--minport=1",
               "--maxport=2", "-o", "name") == Outcome(0, f"neighbornat/{NAT_IP} deleted\n", "")
    assert cli("del", "neighnat", f"--nat-ip={NAT_IP}", "--vni=300", "--minport=1",
               "--maxport=2", "-o", "table") == Outcome(
        2, f"neighbornat/{NAT_IP} server error: 201, NOT_FOUND\n", "")


def test_installed_script(svc):
    """The console script's exit statuses and documents are the in-process ones."""
    addr = address(svc)
    created = run_console(addr, "add", "virtualip", "--interface-id=vm1", f"--vip={VIP}",
                          f"--underlay={PREFERRED}", "-o", "json")
    assert (created.status, created.err) == (0, "")
    assert created.json() == vip_doc("vm1", {"vip_ip": VIP, "underlay_route": PREFERRED})
    again = run_console(addr, "add", "virtualip", "--interface-id=vm1", f"--vip={VIP}",
                        "-o", "json")
    server_error(again, 343, "SNAT_EXISTS")
    invalid = run_console(addr, "add", "neighnat", f"--nat-ip={NAT_IP}", "--vni=1",
                          "--minport=2", "--maxport=1", f"--underlayroute={NEIGHBOR}",
                          "-o", "json")
    grpc_error(invalid, "Invalid port range")
