# SPDX-License-Identifier: Apache-2.0
"""CreateInterface, DeleteInterface, GetInterface, ListInterfaces, CheckVniInUse, ResetVni
over real gRPC: every validation text and service error of the contract, underlays, the VF
link following its interface, and nothing left behind after deletes."""
from __future__ import annotations

import ipaddress
import os
import pathlib

import grpc
import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

import harness
from dplane import _firmware as firmware
from dplane.proto import dpdk_pb2 as pb

VF0, VF1 = "net_tap2", "net_tap3"


def create_request(iface_id="vm1", device=VF0, vni=100, ipv4="10.0.0.1", ipv6="fd00::1",
                   **extra) -> pb.CreateInterfaceRequest:
    req = pb.CreateInterfaceRequest(
        interface_id=iface_id.encode() if isinstance(iface_id, str) else iface_id,
        vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode()), **extra)
    return req


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def invalid(svc, req) -> str:
    return harness.invalid_argument(svc.api.CreateInterface, req)


@pytest.fixture
def svc(shared):
    yield shared
    shared.delete_interfaces()
    assert tables(shared) == {"vni_table": 0, "vnf_table": 0, "interface_table": 0}


TABLES = ("vni_table", "vnf_table", "interface_table")


def tables(svc) -> dict[str, int]:
    """Usage of the tables an interface fills."""
    return {name: n for name, n in svc.table_entries().items() if name in TABLES}


def links(svc) -> dict[str, bool]:
    out = harness.run("ip", "-br", "link", netns=svc.netns.name).stdout
    return {line.split()[0]: "UP" in line.split()[-1] for line in out.splitlines()}


def test_create_get_list_delete(svc):
    assert not links(svc)["dtapvf_0"]
    reply = svc.api.CreateInterface(create_request(hostname="web-1"), timeout=5)
    assert status(reply) == (0, "Success")
    assert reply.vf.name == "dtapvf_0"
    assert (reply.vf.domain, reply.vf.bus, reply.vf.slot, reply.vf.function) == (0, 0, 0, 0)
    underlay = ipaddress.IPv6Address(reply.underlay_route.decode())
    assert links(svc)["dtapvf_0"]  # the VF port started with its interface

    got = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (0, "Success")
    iface = got.interface
    assert (iface.id, iface.vni, iface.primary_ipv4, iface.primary_ipv6) == (
        b"vm1", 100, b"10.0.0.1", b"fd00::1")
    assert iface.underlay_route == str(underlay).encode()
    assert iface.pci_name == VF0 and iface.hostname == "web-1"
    assert iface.HasField("meteringParams")  # always sent, even when both rates are 0
    assert (iface.meteringParams.total_rate, iface.meteringParams.public_rate) == (0, 0)

    listed = svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=5).interfaces
    assert [i.id for i in listed] == [b"vm1"] and listed[0] == iface
    assert tables(svc) == {"vni_table": 1, "vnf_table": 1, "interface_table": 1}

    reply = svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(reply) == (0, "Success")
    assert not links(svc)["dtapvf_0"]
    got = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (201, "NOT_FOUND")
    assert not got.HasField("interface")
    assert tables(svc) == {"vni_table": 0, "vnf_table": 0, "interface_table": 0}


def test_single_stack_interfaces(svc):
    svc.api.CreateInterface(create_request("v4only", VF0, ipv6="::"), timeout=5)
    svc.api.CreateInterface(create_request("v6only", VF1, ipv4="0.0.0.0"), timeout=5)
    by_id = {i.id: i for i in svc.api.ListInterfaces(pb.ListInterfacesRequest(),
                                                      timeout=5).interfaces}
    assert by_id[b"v4only"].primary_ipv6 == b"::"
    assert by_id[b"v6only"].primary_ipv4 == b"0.0.0.0"


def test_metering_stored_and_returned(svc):
    req = create_request(metering_parameters=pb.MeteringParams(total_rate=1000,
                                                              public_rate=100))
    svc.api.CreateInterface(req, timeout=5)
    iface = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"),
                                 timeout=5).interface
    assert (iface.meteringParams.total_rate, iface.meteringParams.public_rate) == (1000, 100)


def test_addresses_are_read_like_dpservice(svc):
    """inet_aton for IPv4 (short forms too), inet_pton for IPv6; replies are canonical."""
    svc.api.CreateInterface(create_request(ipv4="10.1", ipv6="FD00:0:0::0001"), timeout=5)
    iface = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"),
                                 timeout=5).interface
    assert (iface.primary_ipv4, iface.primary_ipv6) == (b"10.0.0.1", b"fd00::1")


def test_generated_underlays_follow_dpservice_format(svc):
    uls = []
    for i, dev in enumerate((VF0, VF1)):
        reply = svc.api.CreateInterface(create_request(f"vm{i}", dev, ipv4=f"10.0.0.{i + 1}",
                                                       ipv6=f"fd00::{i + 1}"), timeout=5)
        uls.append(ipaddress.IPv6Address(reply.underlay_route.decode()).packed)
    prefix = ipaddress.IPv6Address("fc00:1::1").packed[:8]
    for ul in uls:
        assert ul[:8] == prefix and ul[8] == 0xD0 and ul[9] == 0 and ul[10] == 0
    assert uls[0][11] == uls[1][11]  # one random byte per process
    assert int.from_bytes(uls[1][12:], "big") == int.from_bytes(uls[0][12:], "big") + 1


def test_preferred_underlay(svc):
    preferred = "fc00:1::8000:0:1"
    reply = svc.api.CreateInterface(create_request(
        preferred_underlay_route=preferred.encode()), timeout=5)
    assert reply.underlay_route == preferred.encode()
    # the same address again: VNF_INSERT
    reply = svc.api.CreateInterface(create_request(
        "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2",
        preferred_underlay_route=preferred.encode()), timeout=5)
    assert status(reply) == (401, "VNF_INSERT")
    # '::' means "generate one"
    reply = svc.api.CreateInterface(create_request(
        "vm2", VF1, ipv4="10.0.0.2", ipv6="fd00::2", preferred_underlay_route=b"::"),
        timeout=5)
    assert status(reply) == (0, "Success") and reply.underlay_route != preferred.encode()


@pytest.mark.parametrize("route", [b"fc00:2::8000:0:1",   # another /64
                                   b"fc00:1::d000:0:0:1",  # no 0x80 flag in byte 10
                                   b"10.0.0.1", b"garbage"])
def test_bad_preferred_underlay(svc, route):
    assert invalid(svc, create_request(preferred_underlay_route=route)) == \
        "Invalid preferred_underlay_route"


INVALID = [
    (dict(iface_id="vm 1"), "Invalid interface_id"),
    (dict(iface_id="vm/1"), "Invalid interface_id"),
    (dict(iface_id=""), "Invalid interface_id"),
    (dict(iface_id="x" * 64), "Invalid interface_id"),
    (dict(ipv4="10.0.0.256"), "Invalid ipv4_config.primary_address"),
    (dict(ipv4=""), "Invalid ipv4_config.primary_address"),
    (dict(ipv4="fd00::1"), "Invalid ipv4_config.primary_address"),
    (dict(ipv6="10.0.0.1"), "Invalid ipv6_config.primary_address"),
    (dict(ipv6=""), "Invalid ipv6_config.primary_address"),
    (dict(ipv4="0.0.0.0", ipv6="::"),
     "Invalid ipv4_config.primary_address and ipv6_config.primary_address combination"),
    (dict(device=""), "Invalid device_name"),
    (dict(device="d" * 64), "Invalid device_name"),
    (dict(hostname="h" * 64), "Invalid hostname"),
    (dict(vni=1 << 24), "VNI exceeds 24-bit range"),
    (dict(pxe_config=pb.PxeConfig(next_server="1.2.3.4", boot_filename="/boot")),
     "Invalid pxe_config.next_server"),  # the interface has IPv6: the server must be IPv6
    (dict(ipv6="::", pxe_config=pb.PxeConfig(next_server="fd00::9", boot_filename="/b")),
     "Invalid pxe_config.next_server"),
    (dict(pxe_config=pb.PxeConfig(next_server="fd00::9")), "Invalid pxe_config.boot_filename"),
    (dict(pxe_config=pb.PxeConfig(next_server="fd00::9", boot_filename="f" * 32)),
     "Invalid pxe_config.boot_filename"),
    # dpservice's order: the interface id's characters first, its length only later
    (dict(iface_id="bad id", ipv4="x"), "Invalid interface_id"),
    (dict(iface_id="x" * 64, ipv4="x"), "Invalid ipv4_config.primary_address"),
    (dict(iface_id="x" * 64, device=""), "Invalid device_name"),
]


@pytest.mark.parametrize("fields, message", INVALID)
def test_create_validation(svc, fields, message):
    assert invalid(svc, create_request(**fields)) == message
    assert tables(svc)["interface_table"] == 0


def test_pxe_accepted(svc):
    for i, (dev, ipv6, server) in enumerate(((VF0, "fd00::1", "fd00::9"),
                                             (VF1, "::", "192.168.1.9"))):
        reply = svc.api.CreateInterface(create_request(
            f"pxe{i}", dev, ipv4=f"10.0.0.{i + 1}", ipv6=ipv6,
            pxe_config=pb.PxeConfig(next_server=server, boot_filename="/boot.ipxe")), timeout=5)
        assert status(reply) == (0, "Success")


def test_service_errors(svc):
    assert status(svc.api.CreateInterface(create_request(), timeout=5)) == (0, "Success")
    # the same id on another device
    reply = svc.api.CreateInterface(create_request(device=VF1, ipv4="10.0.0.2",
                                                   ipv6="fd00::2"), timeout=5)
    assert status(reply) == (402, "VM_HANDLE")
    # a device that does not exist
    for device in ("net_tap9", "nosuch"):
        reply = svc.api.CreateInterface(create_request("vm2", device), timeout=5)
        assert status(reply) == (201, "NOT_FOUND"), device
    # a PF is a device that is always in use
    for device in ("net_tap0", "dtap0", "net_tap1", "dtap1"):
        reply = svc.api.CreateInterface(create_request("vm2", device), timeout=5)
        assert status(reply) == (202, "ALREADY_EXISTS"), device
    # the device is taken
    reply = svc.api.CreateInterface(create_request("vm2", VF0, ipv4="10.0.0.2",
                                                   ipv6="fd00::2"), timeout=5)
    assert status(reply) == (202, "ALREADY_EXISTS")
    # the same IPv4 (or IPv6) in the same VNI: the route exists
    for ipv4, ipv6 in (("10.0.0.1", "fd00::2"), ("10.0.0.2", "fd00::1")):
        reply = svc.api.CreateInterface(create_request("vm2", VF1, ipv4=ipv4, ipv6=ipv6),
                                        timeout=5)
        assert status(reply) == (301, "ROUTE_EXISTS")
    # a failed create leaves nothing: the VF is still free, the tables hold only vm1
    assert tables(svc) == {"vni_table": 1, "vnf_table": 1, "interface_table": 1}
    assert not links(svc)["dtapvf_1"]
    # in another VNI the same addresses are fine; the device name may be the kernel name
    reply = svc.api.CreateInterface(create_request("vm2", "dtapvf_1", vni=200), timeout=5)
    assert status(reply) == (0, "Success") and reply.vf.name == "dtapvf_1"


def test_recreate_on_its_own_device_is_already_exists(svc):
    """Clients re-send CreateInterface after a timeout and take 202 as "it is there": the
    device check comes before the id check."""
    request = create_request(hostname="web-1")
    assert status(svc.api.CreateInterface(request, timeout=5)) == (0, "Success")
    for device in (VF0, "dtapvf_0"):
        request.device_name = device
        assert status(svc.api.CreateInterface(request, timeout=5)) == (202, "ALREADY_EXISTS")
    assert tables(svc) == {"vni_table": 1, "vnf_table": 1, "interface_table": 1}
    got = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(got) == (0, "Success") and got.interface.hostname == "web-1"


def test_create_checks_in_dpservice_order(svc):
    """Device missing (201), device in use (202), underlay taken (401), id taken (402):
    each refusal names the first of these that applies, and leaves nothing behind."""
    preferred = b"fc00:1::8000:0:1"
    reply = svc.api.CreateInterface(create_request(preferred_underlay_route=preferred),
                                    timeout=5)
    assert status(reply) == (0, "Success")
    before = tables(svc)
    cases = [  # (device, preferred underlay, expected); always the id "vm1" again
        ("nosuch", preferred, (201, "NOT_FOUND")),
        ("dtap0", preferred, (202, "ALREADY_EXISTS")),
        (VF0, preferred, (202, "ALREADY_EXISTS")),
        (VF1, preferred, (401, "VNF_INSERT")),
        (VF1, b"", (402, "VM_HANDLE")),
    ]
    for device, underlay, expected in cases:
        reply = svc.api.CreateInterface(create_request(
            "vm1", device, vni=200, ipv4="10.0.0.2", ipv6="fd00::2",
            preferred_underlay_route=underlay), timeout=5)
        assert status(reply) == expected, (device, underlay)
        assert tables(svc) == before, (device, underlay)
        assert not links(svc)["dtapvf_1"]
    # vm1 is untouched: its underlay, routes and VNI are all still there
    got = svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert got.interface.underlay_route == preferred and got.interface.vni == 100
    assert vni_in_use(svc, 100) and not vni_in_use(svc, 200)
    reply = svc.api.CreateInterface(create_request("vm2", VF1), timeout=5)
    assert status(reply) == (301, "ROUTE_EXISTS")


def test_failed_route_leaves_nothing(svc):
    """The IPv6 route fails after the VNF, the VNI's tables and the IPv4 route were put in
    place: all of it is taken back, and the VNI freed again."""
    svc.api.CreateInterface(create_request(), timeout=5)
    svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"vm1"), timeout=5)
    assert status(svc.api.CreateInterface(create_request("a", VF0, vni=300, ipv4="10.0.0.9",
                                                         ipv6="fd00::1"), timeout=5)) == \
        (0, "Success")
    before = tables(svc)
    reply = svc.api.CreateInterface(create_request("b", VF1, vni=300, ipv4="10.0.0.1",
                                                   ipv6="fd00::1"), timeout=5)
    assert status(reply) == (301, "ROUTE_EXISTS")
    assert tables(svc) == before
    # the IPv4 route of the failed create is gone: the address can be used now
    reply = svc.api.CreateInterface(create_request("b", VF1, vni=300, ipv4="10.0.0.1",
                                                   ipv6="fd00::2"), timeout=5)
    assert status(reply) == (0, "Success")


def test_delete_and_get_errors(svc):
    for call, request in ((svc.api.DeleteInterface, pb.DeleteInterfaceRequest),
                          (svc.api.GetInterface, pb.GetInterfaceRequest)):
        assert status(call(request(interface_id=b"nope"), timeout=5)) == (201, "NOT_FOUND")
        for bad in (b"", b"x" * 64):
            with pytest.raises(grpc.RpcError) as err:
                call(request(interface_id=bad), timeout=5)
            assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert err.value.details() == "Invalid interface_id"


@pytest.mark.parametrize("iface_id", [b"vm\xff", b"\xc3\x28", b"\x80" * 63, b"vm1\xed\xa0\x80"])
def test_non_utf8_id_is_a_lookup_miss(svc, iface_id):
    """The id is bytes on the wire: what is not UTF-8 (but fits) is simply not found."""
    svc.api.CreateInterface(create_request(), timeout=5)
    for call, request in ((svc.api.GetInterface, pb.GetInterfaceRequest),
                          (svc.api.DeleteInterface, pb.DeleteInterfaceRequest)):
        reply = call(request(interface_id=iface_id), timeout=5)
        assert status(reply) == (201, "NOT_FOUND")
    assert tables(svc)["interface_table"] == 1


def vni_in_use(svc, vni, vni_type=pb.VNI_IPV4):
    reply = svc.api.CheckVniInUse(pb.CheckVniInUseRequest(vni=vni, type=vni_type), timeout=5)
    assert status(reply) == (0, "Success")
    return reply.in_use


def test_vni_lifecycle(svc):
    assert not vni_in_use(svc, 100)
    svc.api.CreateInterface(create_request("a", VF0), timeout=5)
    svc.api.CreateInterface(create_request("b", VF1, ipv4="10.0.0.2", ipv6="fd00::2"),
                            timeout=5)
    assert vni_in_use(svc, 100) and vni_in_use(svc, 100, pb.VNI_IPV6)
    assert tables(svc)["vni_table"] == 1  # shared by reference
    svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"a"), timeout=5)
    assert vni_in_use(svc, 100)
    svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=b"b"), timeout=5)
    assert not vni_in_use(svc, 100)
    assert tables(svc)["vni_table"] == 0


def test_check_vni_and_reset_vni_errors(svc):
    reply = svc.api.CheckVniInUse(pb.CheckVniInUseRequest(vni=1, type=pb.VNI_BOTH), timeout=5)
    assert status(reply) == (203, "WRONG_TYPE")
    for vni_type in (pb.VNI_IPV4, pb.VNI_IPV6):
        reply = svc.api.ResetVni(pb.ResetVniRequest(vni=1, type=vni_type), timeout=5)
        assert status(reply) == (203, "WRONG_TYPE")
    for call, request in ((svc.api.CheckVniInUse, pb.CheckVniInUseRequest),
                          (svc.api.ResetVni, pb.ResetVniRequest)):
        with pytest.raises(grpc.RpcError) as err:
            call(request(vni=1, type=7), timeout=5)
        assert err.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert err.value.details() == "Invalid type"
    # an unknown VNI is fine to reset
    reply = svc.api.ResetVni(pb.ResetVniRequest(vni=4242, type=pb.VNI_BOTH), timeout=5)
    assert status(reply) == (0, "Success")


def test_reset_vni_keeps_interface_routes(svc):
    svc.api.CreateInterface(create_request(), timeout=5)
    reply = svc.api.ResetVni(pb.ResetVniRequest(vni=100, type=pb.VNI_BOTH), timeout=5)
    assert status(reply) == (0, "Success")
    # the interface's /32 and /128 are back: the same addresses still collide
    reply = svc.api.CreateInterface(create_request("vm2", VF1), timeout=5)
    assert status(reply) == (301, "ROUTE_EXISTS")
    svc.initialize()  # rebuilds every VNI the same way
    reply = svc.api.CreateInterface(create_request("vm2", VF1), timeout=5)
    assert status(reply) == (301, "ROUTE_EXISTS")
    assert vni_in_use(svc, 100)


# dpservice's limit (DP_MAX_VF_PORTS): 126 VFs beside the two PFs, which dplane's DPDK
# (tools/mkdpdk, RTE_MAX_ETHPORTS = 132) holds
NB_VFS = 126


def test_many_vfs_created_and_deleted_twice(start_service):
    """A board with dpservice's 126 VF TAPs: every interface created and deleted twice,
    nothing left."""
    assert firmware.MAX_ETHPORTS >= NB_VFS + 2
    # net_tap makes a 1.3 MB mempool per port (for its GSO): 128 of them want more memory
    svc = start_service(nb_vfs=NB_VFS, memory_mb=512)
    svc.initialize()
    for _round in range(2):
        for i in range(NB_VFS):
            reply = svc.api.CreateInterface(create_request(
                f"vm-{i}", f"net_tap{i + 2}", vni=1000 + i % 8, ipv4=f"10.0.{i}.1",
                ipv6=f"fd00::{i + 1:x}"), timeout=10)
            assert status(reply) == (0, "Success"), i
        assert tables(svc) == {"vni_table": 8, "vnf_table": NB_VFS, "interface_table": NB_VFS}
        assert sum(links(svc)[f"dtapvf_{i}"] for i in range(NB_VFS)) == NB_VFS
        # the last VF (DPDK port 127, far past Debian's 32) answers its VM's ARP
        last = NB_VFS - 1
        tap = svc.tap(f"dtapvf_{last}")
        vm_mac = "02:00:00:00:00:7d"
        for _try in range(20):  # the port's link comes up with its interface
            tap.send(Ether(dst="ff:ff:ff:ff:ff:ff", src=vm_mac) / ARP(
                op=1, hwsrc=vm_mac, psrc=f"10.0.{last}.1", pdst="169.254.0.1"))
            reply = tap.recv(0.5)
            while reply is not None and not (ARP in reply and reply[ARP].op == 2):
                reply = tap.recv(0.5)
            if reply is not None:
                break
        assert reply is not None and reply[ARP].psrc == "169.254.0.1"
        assert reply[Ether].dst == vm_mac
        listed = svc.api.ListInterfaces(pb.ListInterfacesRequest(), timeout=10).interfaces
        assert sorted(i.id for i in listed) == sorted(f"vm-{i}".encode()
                                                      for i in range(NB_VFS))
        for i in range(NB_VFS):
            reply = svc.api.DeleteInterface(pb.DeleteInterfaceRequest(
                interface_id=f"vm-{i}".encode()), timeout=10)
            assert status(reply) == (0, "Success"), i
        assert tables(svc) == {"vni_table": 0, "vnf_table": 0, "interface_table": 0}
        assert not any(links(svc)[f"dtapvf_{i}"] for i in range(NB_VFS))


def test_sim_board_with_126_vfs(start_service, tmp_path):
    """The shipped sim board with its VF count raised to dpservice's 126, as an operator would
    try it (`dplane --board FILE`): the last VF's VM gets its address by DHCP."""
    sim = (pathlib.Path(__file__).parents[2] / "board" / "sim.toml").read_text()
    assert sim.count("count = 4\n") == 1 and sim.count('file-prefix = "dplane"') == 1
    board = tmp_path / "sim126.toml"
    board.write_text(sim.replace("count = 4\n", "count = 126\n").replace(
        'file-prefix = "dplane"', f'file-prefix = "dpsim{os.getpid()}"'))
    svc = start_service(eal=[], opts=["--board", str(board), "--no-stats"])
    svc.initialize()
    last = 125
    reply = svc.api.CreateInterface(create_request(
        "vm-last", f"net_tap{last + 2}", ipv4="10.1.0.7", ipv6="fd00::7"), timeout=10)
    assert status(reply) == (0, "Success")
    assert svc.api.GetInterface(pb.GetInterfaceRequest(interface_id=b"vm-last"),
                                timeout=5).interface.pci_name == f"net_tap{last + 2}"
    tap = svc.tap(f"dtapvf_{last}")
    vm_mac = "02:00:00:00:01:7d"
    discover = (Ether(dst="ff:ff:ff:ff:ff:ff", src=vm_mac) /
                IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) /
                BOOTP(chaddr=bytes.fromhex(vm_mac.replace(":", "")), xid=0x126) /
                DHCP(options=[("message-type", "discover"), "end"]))
    offer = None
    for _try in range(20):  # the port's link comes up with its interface
        tap.send(discover)
        offer = tap.recv(0.5)
        while offer is not None and BOOTP not in offer:
            offer = tap.recv(0.5)
        if offer is not None:
            break
    assert offer is not None, "no DHCP offer on the 126th VF"
    assert offer[BOOTP].xid == 0x126 and offer[BOOTP].yiaddr == "10.1.0.7"
    assert ("message-type", 2) in offer[DHCP].options  # OFFER
