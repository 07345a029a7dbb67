# SPDX-License-Identifier: Apache-2.0
"""The ten RPCs of the NAT family over real gRPC: what they answer, every service code of
the contract in dpservice's order (3.4, 3.6), every INVALID_ARGUMENT text (3.5), rollback of
a failed create, and what Initialize, DeleteInterface and the deletes leave behind (nothing:
checked through the tables' usage)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path
from overlay_util import VNI

VMS = {"vm1": ("net_tap2", "10.0.0.2"), "vm2": ("net_tap3", "10.0.0.3"),
       "vm3": ("net_tap4", "10.0.0.4")}
NAT_TABLES = ("snat_table", "dnat_table", "vnf_table", "nat_portmap_table",
              "nat_portoverload_table")


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def ip6(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6, address=text.encode())


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def create_iface(svc, vm: str, vni: int = VNI) -> None:
    device, ipv4 = VMS[vm]
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=vm.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=b"::")), timeout=5)
    assert status(reply) == (0, "Success")


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(nb_vfs=3, telemetry=True) as svc:
        create_iface(svc, "vm1")
        create_iface(svc, "vm2")
        svc.baseline = svc.table_entries()
        yield svc


@pytest.fixture(autouse=True)
def clean(svc) -> Iterator[None]:
    yield
    for vm in ("vm1", "vm2"):
        svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=vm.encode()), timeout=5)
        svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=vm.encode()), timeout=5)
    for n in svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip4("0.0.0.0")),
                                      timeout=5).nat_entries:
        svc.api.DeleteNeighborNat(pb.DeleteNeighborNatRequest(
            nat_ip=n.actual_nat_ip, vni=n.vni, min_port=n.min_port, max_port=n.max_port),
            timeout=5)
    entries = svc.table_entries()
    assert {t: entries[t] for t in NAT_TABLES} == {t: svc.baseline[t] for t in NAT_TABLES}


def create_vip(svc, vm: str, vip: pb.IpAddress, preferred: bytes = b""):
    return svc.api.CreateVip(pb.CreateVipRequest(interface_id=vm.encode(), vip_ip=vip,
                                                 preferred_underlay_route=preferred), timeout=5)


def create_nat(svc, vm: str, nat: pb.IpAddress, lo: int, hi: int, preferred: bytes = b""):
    return svc.api.CreateNat(pb.CreateNatRequest(interface_id=vm.encode(), nat_ip=nat,
                                                 min_port=lo, max_port=hi,
                                                 preferred_underlay_route=preferred), timeout=5)


def neigh(svc, nat: str, vni: int, lo: int, hi: int, underlay: bytes = b"fc00:2::17"):
    return svc.api.CreateNeighborNat(pb.CreateNeighborNatRequest(
        nat_ip=ip4(nat), vni=vni, min_port=lo, max_port=hi, underlay_route=underlay), timeout=5)


def del_neigh(svc, nat: str, vni: int, lo: int, hi: int):
    return svc.api.DeleteNeighborNat(pb.DeleteNeighborNatRequest(
        nat_ip=ip4(nat), vni=vni, min_port=lo, max_port=hi), timeout=5)


def vnfs(svc) -> int:
    return svc.table_entries()["vnf_table"]


# --- VIP ----------------------------------------------------------------------------------

def test_vip_create_get_delete(svc):
    reply = create_vip(svc, "vm1", ip4("203.0.113.1"))
    assert status(reply) == (0, "Success")
    underlay = reply.underlay_route.decode()
    assert underlay.startswith("fc00:1::d0")  # a generated underlay address (contract §0)
    got = svc.api.GetVip(pb.GetVipRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (0, "Success")
    assert (got.vip_ip.ipver, got.vip_ip.address) == (pb.IPV4, b"203.0.113.1")
    assert got.underlay_route.decode() == underlay
    entries = svc.table_entries()
    assert entries["snat_table"] == svc.baseline["snat_table"] + 1
    assert entries["dnat_table"] == svc.baseline["dnat_table"] + 1
    assert entries["vnf_table"] == svc.baseline["vnf_table"] + 1
    assert status(svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=b"vm1"), timeout=5)) == \
        (0, "Success")
    assert status(svc.api.GetVip(pb.GetVipRequest(interface_id=b"vm1"), timeout=5)) == \
        (341, "SNAT_NO_DATA")
    assert status(svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=b"vm1"), timeout=5)) == \
        (341, "SNAT_NO_DATA")


def test_vip_service_errors_in_order(svc):
    assert status(create_vip(svc, "nobody", ip4("203.0.113.1"))) == (205, "NO_VM")
    assert status(create_vip(svc, "nobody", ip6("2001:db8::1"))) == (205, "NO_VM")
    assert status(create_vip(svc, "vm1", ip6("2001:db8::1"))) == (204, "BAD_IPVER")
    assert status(create_vip(svc, "vm1", ip4("203.0.113.1"))) == (0, "Success")
    before = vnfs(svc)
    assert status(create_vip(svc, "vm1", ip4("203.0.113.2"))) == (343, "SNAT_EXISTS")
    # the same VIP for another VM of the VNI: its DNAT entry exists; all of it rolled back
    assert status(create_vip(svc, "vm2", ip4("203.0.113.1"))) == (323, "DNAT_EXISTS")
    assert vnfs(svc) == before
    assert status(svc.api.GetVip(pb.GetVipRequest(interface_id=b"vm2"), timeout=5)) == \
        (341, "SNAT_NO_DATA")
    assert status(svc.api.GetVip(pb.GetVipRequest(interface_id=b"nobody"), timeout=5)) == \
        (205, "NO_VM")
    assert status(svc.api.DeleteVip(pb.DeleteVipRequest(interface_id=b"nobody"),
                                    timeout=5)) == (205, "NO_VM")


def test_vip_preferred_underlay(svc):
    wanted = b"fc00:1::8000:0:77"
    reply = create_vip(svc, "vm1", ip4("203.0.113.5"), wanted)
    assert status(reply) == (0, "Success") and reply.underlay_route == wanted
    # taken: VNF_INSERT before anything else is looked at
    assert status(create_vip(svc, "vm2", ip4("203.0.113.6"), wanted)) == (401, "VNF_INSERT")
    assert status(create_nat(svc, "vm2", ip4("198.51.100.1"), 1, 2, wanted)) == \
        (401, "VNF_INSERT")


@pytest.mark.parametrize("request_, message", [
    (pb.CreateVipRequest(interface_id=b"", vip_ip=ip4("1.2.3.4")), "Invalid interface_id"),
    (pb.CreateVipRequest(interface_id=b"x" * 64, vip_ip=ip4("1.2.3.4")), "Invalid interface_id"),
    (pb.CreateVipRequest(interface_id=b"vm1", vip_ip=ip4("1.2.3.4.5")), "Invalid vip_ip"),
    (pb.CreateVipRequest(interface_id=b"vm1", vip_ip=ip4("0.0.0.0")), "Invalid vip_ip"),
    (pb.CreateVipRequest(interface_id=b"vm1", vip_ip=ip4("::1")), "Invalid vip_ip"),
    (pb.CreateVipRequest(interface_id=b"vm1"), "Invalid vip_ip"),
    (pb.CreateVipRequest(interface_id=b"vm1", vip_ip=ip4("1.2.3.4"),
                         preferred_underlay_route=b"fc00:9::8000:0:1"),
     "Invalid preferred_underlay_route"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_create_vip_invalid_arguments(svc, request_, message):
    assert harness.invalid_argument(svc.api.CreateVip, request_) == message


def test_get_delete_vip_invalid_interface_id(svc):
    assert harness.invalid_argument(svc.api.GetVip, pb.GetVipRequest()) == \
        "Invalid interface_id"
    assert harness.invalid_argument(svc.api.DeleteVip, pb.DeleteVipRequest()) == \
        "Invalid interface_id"


# --- NAT ----------------------------------------------------------------------------------

def test_nat_create_get_delete(svc):
    reply = create_nat(svc, "vm1", ip4("198.51.100.1"), 1000, 2000)
    assert status(reply) == (0, "Success")
    got = svc.api.GetNat(pb.GetNatRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (0, "Success")
    assert (got.nat_ip.address, got.min_port, got.max_port) == (b"198.51.100.1", 1000, 2000)
    assert got.underlay_route == reply.underlay_route
    assert status(create_nat(svc, "vm1", ip4("198.51.100.2"), 1, 2)) == (343, "SNAT_EXISTS")
    assert status(svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm1"), timeout=5)) == \
        (0, "Success")
    assert status(svc.api.GetNat(pb.GetNatRequest(interface_id=b"vm1"), timeout=5)) == \
        (341, "SNAT_NO_DATA")
    assert status(svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm1"), timeout=5)) == \
        (341, "SNAT_NO_DATA")


def test_nat_service_errors(svc):
    assert status(create_nat(svc, "nobody", ip4("198.51.100.1"), 1, 2)) == (205, "NO_VM")
    assert status(create_nat(svc, "vm1", ip6("2001:db8::1"), 1, 2)) == (204, "BAD_IPVER")
    assert status(svc.api.GetNat(pb.GetNatRequest(interface_id=b"nobody"), timeout=5)) == \
        (205, "NO_VM")
    assert status(svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"nobody"),
                                    timeout=5)) == (205, "NO_VM")


def test_vms_share_a_nat_ip(svc):
    """Two VMs, one NAT IP, one DNAT marker: it goes with the last of them."""
    dnat = svc.table_entries()["dnat_table"]
    assert status(create_nat(svc, "vm1", ip4("198.51.100.1"), 1000, 2000)) == (0, "Success")
    assert status(create_nat(svc, "vm2", ip4("198.51.100.1"), 2000, 3000)) == (0, "Success")
    assert svc.table_entries()["dnat_table"] == dnat + 1
    listed = svc.api.ListLocalNats(pb.ListLocalNatsRequest(nat_ip=ip4("198.51.100.1")),
                                   timeout=5)
    assert status(listed) == (0, "Success")
    assert [(e.nat_ip.address, e.min_port, e.max_port, e.vni, e.actual_nat_ip.address)
            for e in listed.nat_entries] == [
        (b"10.0.0.2", 1000, 2000, VNI, b"198.51.100.1"),
        (b"10.0.0.3", 2000, 3000, VNI, b"198.51.100.1")]
    assert all(e.underlay_route == b"" for e in listed.nat_entries)
    assert len(svc.api.ListLocalNats(pb.ListLocalNatsRequest(nat_ip=ip4("0.0.0.0")),
                                     timeout=5).nat_entries) == 2
    assert len(svc.api.ListLocalNats(pb.ListLocalNatsRequest(nat_ip=ip4("198.51.100.9")),
                                     timeout=5).nat_entries) == 0
    assert status(svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm1"), timeout=5)) == \
        (0, "Success")
    assert svc.table_entries()["dnat_table"] == dnat + 1
    assert status(svc.api.DeleteNat(pb.DeleteNatRequest(interface_id=b"vm2"), timeout=5)) == \
        (0, "Success")
    assert svc.table_entries()["dnat_table"] == dnat


def test_list_local_nats_errors(svc):
    assert status(svc.api.ListLocalNats(pb.ListLocalNatsRequest(nat_ip=ip6("::")),
                                        timeout=5)) == (204, "BAD_IPVER")
    assert harness.invalid_argument(svc.api.ListLocalNats, pb.ListLocalNatsRequest(
        nat_ip=ip4("nonsense"))) == "Invalid nat_ip"


@pytest.mark.parametrize("fields, message", [
    (dict(interface_id=b""), "Invalid interface_id"),
    (dict(nat_ip=ip4("300.1.1.1")), "Invalid nat_ip"),
    (dict(nat_ip=ip4("0.0.0.0")), "Invalid nat_ip"),
    (dict(min_port=65536), "Invalid min_port"),
    (dict(min_port=65536, max_port=65536), "Invalid min_port"),
    (dict(max_port=65536), "Invalid max_port"),
    (dict(min_port=10, max_port=10), "Invalid port range"),
    (dict(min_port=11, max_port=10), "Invalid port range"),
    (dict(preferred_underlay_route=b"nonsense"), "Invalid preferred_underlay_route"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_create_nat_invalid_arguments(svc, fields, message):
    request = dict(interface_id=b"vm1", nat_ip=ip4("198.51.100.1"), min_port=1, max_port=2)
    request.update(fields)
    assert harness.invalid_argument(svc.api.CreateNat, pb.CreateNatRequest(**request)) == \
        message


# --- neighbour NAT ------------------------------------------------------------------------

def test_neighbor_nats(svc):
    assert status(neigh(svc, "198.51.100.1", VNI, 1000, 2000)) == (0, "Success")
    assert status(neigh(svc, "198.51.100.1", VNI, 3000, 4000, b"fc00:3::1")) == (0, "Success")
    # overlapping a range of the same NAT IP, whatever the VNI
    assert status(neigh(svc, "198.51.100.1", VNI + 1, 1999, 2001)) == (202, "ALREADY_EXISTS")
    assert status(neigh(svc, "198.51.100.1", VNI, 2000, 3000)) == (0, "Success")
    assert status(neigh(svc, "198.51.100.2", VNI, 1000, 2000)) == (0, "Success")
    listed = svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip4("198.51.100.1")),
                                      timeout=5)
    assert [(e.underlay_route, e.min_port, e.max_port, e.vni, e.actual_nat_ip.address)
            for e in listed.nat_entries] == [
        (b"fc00:2::17", 1000, 2000, VNI, b"198.51.100.1"),
        (b"fc00:3::1", 3000, 4000, VNI, b"198.51.100.1"),
        (b"fc00:2::17", 2000, 3000, VNI, b"198.51.100.1")]
    assert not any(e.HasField("nat_ip") for e in listed.nat_entries)
    assert len(svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip4("0.0.0.0")),
                                        timeout=5).nat_entries) == 4
    # delete: only an exact match
    assert status(del_neigh(svc, "198.51.100.1", VNI, 1000, 1999)) == (201, "NOT_FOUND")
    assert status(del_neigh(svc, "198.51.100.1", VNI + 1, 1000, 2000)) == (201, "NOT_FOUND")
    assert status(del_neigh(svc, "198.51.100.1", VNI, 1000, 2000)) == (0, "Success")
    assert status(neigh(svc, "198.51.100.1", VNI, 1500, 1600)) == (0, "Success")


def test_neighbor_nat_errors(svc):
    assert status(svc.api.CreateNeighborNat(pb.CreateNeighborNatRequest(
        nat_ip=ip6("2001:db8::1"), vni=VNI, min_port=1, max_port=2, underlay_route=b"fc00::1"),
        timeout=5)) == (204, "BAD_IPVER")
    assert status(svc.api.DeleteNeighborNat(pb.DeleteNeighborNatRequest(
        nat_ip=ip6("2001:db8::1"), vni=VNI, min_port=1, max_port=2), timeout=5)) == \
        (204, "BAD_IPVER")
    assert status(svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip6("::")),
                                           timeout=5)) == (204, "BAD_IPVER")
    good = dict(nat_ip=ip4("198.51.100.1"), vni=VNI, min_port=1, max_port=2,
                underlay_route=b"fc00::1")
    for fields, message in ((dict(nat_ip=ip4("x")), "Invalid nat_ip"),
                            (dict(min_port=70000), "Invalid min_port"),
                            (dict(max_port=70000), "Invalid max_port"),
                            (dict(min_port=2, max_port=2), "Invalid port range"),
                            (dict(underlay_route=b""), "Invalid underlay_route"),
                            (dict(underlay_route=b"10.0.0.1"), "Invalid underlay_route")):
        assert harness.invalid_argument(svc.api.CreateNeighborNat,
                                        pb.CreateNeighborNatRequest(**{**good, **fields})) == \
            message
        if "underlay" not in message:
            request = {k: v for k, v in {**good, **fields}.items() if k != "underlay_route"}
            assert harness.invalid_argument(svc.api.DeleteNeighborNat,
                                            pb.DeleteNeighborNatRequest(**request)) == message


def test_initialize_drops_neighbor_nats(svc):
    dnat = svc.table_entries()["dnat_table"]
    assert status(neigh(svc, "198.51.100.7", VNI, 1, 100)) == (0, "Success")
    assert status(create_nat(svc, "vm1", ip4("198.51.100.8"), 1, 100)) == (0, "Success")
    assert svc.table_entries()["dnat_table"] == dnat + 2
    svc.initialize()
    assert svc.api.ListNeighborNats(pb.ListNeighborNatsRequest(nat_ip=ip4("0.0.0.0")),
                                    timeout=5).nat_entries == []
    assert svc.table_entries()["dnat_table"] == dnat + 1  # the local NAT's stays
    assert svc.api.GetNat(pb.GetNatRequest(interface_id=b"vm1"), timeout=5).status.code == 0


# --- with the interface -------------------------------------------------------------------

def test_deleting_the_interface_takes_its_vip_and_nat(svc):
    create_iface(svc, "vm3")
    assert status(create_vip(svc, "vm3", ip4("203.0.113.3"))) == (0, "Success")
    assert status(create_nat(svc, "vm3", ip4("198.51.100.3"), 100, 200)) == (0, "Success")
    assert status(svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm3"),
                                          timeout=5)) == (0, "Success")
    entries = svc.table_entries()
    assert {t: entries[t] for t in NAT_TABLES} == {t: svc.baseline[t] for t in NAT_TABLES}
    # and a new interface with the same id starts without them
    create_iface(svc, "vm3")
    assert status(svc.api.GetVip(pb.GetVipRequest(interface_id=b"vm3"), timeout=5)) == \
        (341, "SNAT_NO_DATA")
    assert status(svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm3"),
                                          timeout=5)) == (0, "Success")


def test_tables_in_telemetry(svc):
    with TelemetryClient(socket_path(svc.prefix)) as client:
        saturation = client.query("/dp_service/table/saturation")
        used = client.query("/dp_service/nat/used_port_count")
    for table in ("snat_table", "dnat_table", "nat_portmap_table", "nat_portoverload_table"):
        assert table in saturation
    assert saturation["snat_table"]["capacity"] == 126 * 32
    assert used == {"vm1": 0, "vm2": 0}
