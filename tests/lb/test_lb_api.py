# SPDX-License-Identifier: Apache-2.0
"""The ten RPCs of the load balancer family over real gRPC (contract 3.4): load balancers,
their targets and LB prefixes; what they answer, every service code in dpservice's order
(3.6), every INVALID_ARGUMENT text (3.5), the limits of 1.1 (15 ports, 64 targets, 256 LBs),
the VNI reference an LB holds, and that nothing is left behind (checked through the tables'
usage). ABORTED before Initialize is tests/api/test_init.py's, for every RPC."""
from __future__ import annotations

import ipaddress
import struct
from collections.abc import Iterator

import pytest
from dpservice_hash import rte_jhash

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

VNI = 100
LB_VNI = 300  # no interface lives here: only the load balancers hold it
UNDERLAY_NET = ipaddress.IPv6Network("fc00:1::/64")  # --ipv6 fc00:1::1
VMS = {"vm1": ("net_tap2", "10.0.0.2", "fd00::2"), "vm2": ("net_tap3", "10.0.0.3", "fd00::3")}
LB_TABLES = ("loadbalancer_table", "loadbalancer_id_table", "vnf_table", "vni_table")
TCP80 = (pb.TCP, 80)


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def ip6(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6, address=text.encode())


def ip(text: str) -> pb.IpAddress:
    return ip6(text) if ":" in text else ip4(text)


def status(reply) -> tuple[int, str]:
    return reply.status.code, reply.status.message


def lb_ports(*ports: tuple[int, int]) -> list[pb.LbPort]:
    return [pb.LbPort(protocol=proto, port=port) for proto, port in ports]


def port_tuples(ports) -> list[tuple[int, int]]:
    return [(p.protocol, p.port) for p in ports]


def is_generated_underlay(text: bytes) -> bool:
    """An underlay address of dpservice's format (contract 0) from --ipv6's /64."""
    address = ipaddress.IPv6Address(text.decode())
    return address in UNDERLAY_NET and address.packed[8] == 0xD0 and str(address) == \
        text.decode()


def create_lb(svc, lb_id: str = "lb1", address: str = "192.0.2.1", vni: int = VNI,
              ports: tuple[tuple[int, int], ...] = (TCP80,), preferred: bytes = b"",
              ipver: int | None = None):
    addr = ip(address) if ipver is None else pb.IpAddress(ipver=ipver, address=address.encode())
    return svc.api.CreateLoadBalancer(pb.CreateLoadBalancerRequest(
        loadbalancer_id=lb_id.encode(), loadbalanced_ip=addr, vni=vni,
        loadbalanced_ports=lb_ports(*ports), preferred_underlay_route=preferred), timeout=5)


def get_lb(svc, lb_id: str):
    return svc.api.GetLoadBalancer(pb.GetLoadBalancerRequest(loadbalancer_id=lb_id.encode()),
                                   timeout=5)


def delete_lb(svc, lb_id: str) -> tuple[int, str]:
    return status(svc.api.DeleteLoadBalancer(pb.DeleteLoadBalancerRequest(
        loadbalancer_id=lb_id.encode()), timeout=5))


def list_lbs(svc) -> list[pb.Loadbalancer]:
    reply = svc.api.ListLoadBalancers(pb.ListLoadBalancersRequest(), timeout=5)
    assert status(reply) == (0, "Success")
    return list(reply.loadbalancers)


def add_target(svc, lb_id: str, target: str, ipver: int | None = None) -> tuple[int, str]:
    addr = ip(target) if ipver is None else pb.IpAddress(ipver=ipver, address=target.encode())
    return status(svc.api.CreateLoadBalancerTarget(pb.CreateLoadBalancerTargetRequest(
        loadbalancer_id=lb_id.encode(), target_ip=addr), timeout=5))


def del_target(svc, lb_id: str, target: str) -> tuple[int, str]:
    return status(svc.api.DeleteLoadBalancerTarget(pb.DeleteLoadBalancerTargetRequest(
        loadbalancer_id=lb_id.encode(), target_ip=ip(target)), timeout=5))


def targets(svc, lb_id: str):
    return svc.api.ListLoadBalancerTargets(pb.ListLoadBalancerTargetsRequest(
        loadbalancer_id=lb_id.encode()), timeout=5)


def target_texts(reply) -> list[str]:
    assert status(reply) == (0, "Success")
    assert all(t.ipver == pb.IPV6 for t in reply.target_ips)
    return [t.address.decode() for t in reply.target_ips]


def prefix(address: str, length: int) -> pb.Prefix:
    return pb.Prefix(ip=ip(address), length=length)


def create_pfx(svc, address: str, length: int, iface: str = "vm1", preferred: bytes = b""):
    return svc.api.CreateLoadBalancerPrefix(pb.CreateLoadBalancerPrefixRequest(
        interface_id=iface.encode(), prefix=prefix(address, length),
        preferred_underlay_route=preferred), timeout=5)


def delete_pfx(svc, address: str, length: int, iface: str = "vm1") -> tuple[int, str]:
    return status(svc.api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
        interface_id=iface.encode(), prefix=prefix(address, length)), timeout=5))


def list_pfx(svc, iface: str = "vm1"):
    return svc.api.ListLoadBalancerPrefixes(pb.ListLoadBalancerPrefixesRequest(
        interface_id=iface.encode()), timeout=5)


def pfx_tuples(reply) -> list[tuple[int, str, int, str]]:
    assert status(reply) == (0, "Success")
    return [(p.ip.ipver, p.ip.address.decode(), p.length, p.underlay_route.decode())
            for p in reply.prefixes]


def create_iface(svc, vm: str, vni: int = VNI) -> bytes:
    device, ipv4, ipv6 = VMS[vm]
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=vm.encode(), vni=vni, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode())), timeout=5)
    assert status(reply) == (0, "Success")
    return reply.underlay_route


def delete_iface(svc, vm: str) -> tuple[int, str]:
    return status(svc.api.DeleteInterface(pb.DeleteInterfaceRequest(interface_id=vm.encode()),
                                          timeout=5))


def vni_in_use(svc, vni: int) -> bool:
    reply = svc.api.CheckVniInUse(pb.CheckVniInUseRequest(vni=vni, type=pb.VNI_IPV4),
                                  timeout=5)
    assert status(reply) == (0, "Success")
    return reply.in_use


def usage(svc) -> dict[str, int]:
    entries = svc.table_entries()
    return {t: entries[t] for t in LB_TABLES}


def grown(svc, **delta: int) -> dict[str, int]:
    """The baseline usage plus `delta` (table name -> more entries)."""
    return {t: svc.baseline[t] + delta.get(t, 0) for t in LB_TABLES}


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(nb_vfs=2, telemetry=True) as svc:
        svc.vm1_underlay = create_iface(svc, "vm1")
        svc.baseline = usage(svc)
        yield svc


@pytest.fixture(autouse=True)
def clean(svc) -> Iterator[None]:
    yield
    for lb in list_lbs(svc):
        assert delete_lb(svc, lb.id.decode()) == (0, "Success")
    for p in list_pfx(svc, "vm1").prefixes:
        assert status(svc.api.DeleteLoadBalancerPrefix(pb.DeleteLoadBalancerPrefixRequest(
            interface_id=b"vm1", prefix=p), timeout=5)) == (0, "Success")
    delete_iface(svc, "vm2")
    assert usage(svc) == svc.baseline
    assert not vni_in_use(svc, LB_VNI)


# --- load balancers -----------------------------------------------------------------------

def test_create_get_delete_ipv4(svc):
    reply = create_lb(svc, "lb1", "192.0.2.1", VNI, ((pb.TCP, 80), (pb.UDP, 53)))
    assert status(reply) == (0, "Success")
    assert is_generated_underlay(reply.underlay_route)
    assert usage(svc) == grown(svc, loadbalancer_table=1, loadbalancer_id_table=1,
                               vnf_table=1)  # VNI 100 was already there (vm1)
    got = get_lb(svc, "lb1")
    assert status(got) == (0, "Success")
    assert (got.loadbalanced_ip.ipver, got.loadbalanced_ip.address) == (pb.IPV4, b"192.0.2.1")
    assert got.vni == VNI
    assert port_tuples(got.loadbalanced_ports) == [(pb.TCP, 80), (pb.UDP, 53)]
    assert got.underlay_route == reply.underlay_route
    assert delete_lb(svc, "lb1") == (0, "Success")
    assert usage(svc) == svc.baseline
    assert status(get_lb(svc, "lb1")) == (201, "NOT_FOUND")
    assert delete_lb(svc, "lb1") == (201, "NOT_FOUND")
    assert list_lbs(svc) == []


def test_create_ipv6_canonical_text(svc):
    reply = create_lb(svc, "lb6", "2001:DB8:0:0:0::0:10", LB_VNI, ((pb.UDP, 4789),))
    assert status(reply) == (0, "Success")
    got = get_lb(svc, "lb6")
    assert status(got) == (0, "Success")
    assert (got.loadbalanced_ip.ipver, got.loadbalanced_ip.address) == \
        (pb.IPV6, b"2001:db8::10")
    assert got.vni == LB_VNI
    assert port_tuples(got.loadbalanced_ports) == [(pb.UDP, 4789)]
    # the same address as IPv4 and IPv6 LBs of one VNI do not collide
    assert status(create_lb(svc, "lb4", "192.0.2.1", LB_VNI)) == (0, "Success")
    assert status(create_lb(svc, "lb4b", "::ffff:192.0.2.1", LB_VNI)) == (0, "Success")


def test_underlay_route_and_preferred_underlay(svc):
    first = create_lb(svc, "lb1", "192.0.2.1")
    second = create_lb(svc, "lb2", "192.0.2.2")
    assert is_generated_underlay(first.underlay_route)
    assert is_generated_underlay(second.underlay_route)
    assert first.underlay_route != second.underlay_route
    wanted = b"fc00:1::8000:0:42"
    reply = create_lb(svc, "lb3", "192.0.2.3", preferred=wanted)
    assert status(reply) == (0, "Success") and reply.underlay_route == wanted
    assert get_lb(svc, "lb3").underlay_route == wanted
    # "::" means "generate one"
    reply = create_lb(svc, "lb4", "192.0.2.4", preferred=b"::")
    assert status(reply) == (0, "Success") and is_generated_underlay(reply.underlay_route)
    # a non-canonical spelling of a preferred underlay is answered canonically
    reply = create_lb(svc, "lb5", "192.0.2.5", preferred=b"FC00:1:0:0:0:8000:0:43")
    assert status(reply) == (0, "Success") and reply.underlay_route == b"fc00:1::8000:0:43"
    # deleting the LB frees its underlay
    assert delete_lb(svc, "lb3") == (0, "Success")
    reply = create_lb(svc, "lb6", "192.0.2.6", preferred=wanted)
    assert status(reply) == (0, "Success") and reply.underlay_route == wanted


def test_ids_and_limits_accepted(svc):
    """63-byte ids, any characters in them, the top VNI, 15 ports, TCP and UDP of one port."""
    long_id = "L" * 63
    ports = tuple((pb.TCP if i % 2 else pb.UDP, 1000 + i) for i in range(14)) + \
        ((pb.TCP, 65535),)
    assert status(create_lb(svc, long_id, "192.0.2.1", ports=ports)) == (0, "Success")
    got = get_lb(svc, long_id)
    assert status(got) == (0, "Success")
    assert port_tuples(got.loadbalanced_ports) == list(ports)
    assert status(create_lb(svc, "lb:1/x.y z", "192.0.2.2", vni=(1 << 24) - 1,
                            ports=((pb.TCP, 443), (pb.UDP, 443)))) == (0, "Success")
    got = get_lb(svc, "lb:1/x.y z")
    assert got.vni == (1 << 24) - 1
    assert port_tuples(got.loadbalanced_ports) == [(pb.TCP, 443), (pb.UDP, 443)]
    assert status(create_lb(svc, "noports", "192.0.2.3", ports=())) == (0, "Success")
    assert port_tuples(get_lb(svc, "noports").loadbalanced_ports) == []
    assert {lb.id.decode() for lb in list_lbs(svc)} == {long_id, "lb:1/x.y z", "noports"}


def test_port_zero_is_accepted_but_not_listed(svc):
    assert status(create_lb(svc, "lb0", "192.0.2.1",
                            ports=((pb.TCP, 0), (pb.UDP, 443), (pb.UDP, 0)))) == (0, "Success")
    assert port_tuples(get_lb(svc, "lb0").loadbalanced_ports) == [(pb.UDP, 443)]
    assert [port_tuples(lb.ports) for lb in list_lbs(svc)] == [[(pb.UDP, 443)]]


def test_list_load_balancers(svc):
    wanted = {
        "lb-a": (VNI, pb.IPV4, "192.0.2.1", [(pb.TCP, 80)], b""),
        "lb-b": (LB_VNI, pb.IPV4, "192.0.2.1", [(pb.UDP, 53), (pb.TCP, 53)], b""),
        "lb-c": (LB_VNI, pb.IPV6, "2001:db8::1", [(pb.TCP, 443)], b"fc00:1::8000:0:7"),
    }
    underlays = {}
    for lb_id, (vni, _, address, ports, preferred) in wanted.items():
        reply = create_lb(svc, lb_id, address, vni, tuple(ports), preferred)
        assert status(reply) == (0, "Success")
        underlays[lb_id] = reply.underlay_route
    listed = {lb.id.decode(): (lb.vni, lb.ip.ipver, lb.ip.address.decode(),
                               port_tuples(lb.ports), lb.underlay_route)
              for lb in list_lbs(svc)}
    assert listed == {lb_id: (*w[:4], underlays[lb_id]) for lb_id, w in wanted.items()}
    assert underlays["lb-c"] == b"fc00:1::8000:0:7"
    assert usage(svc) == grown(svc, loadbalancer_table=3, loadbalancer_id_table=3,
                               vnf_table=3, vni_table=1)


def test_create_service_errors(svc):
    created = create_lb(svc, "lb1", "192.0.2.1", preferred=b"fc00:1::8000:0:1")
    assert status(created) == (0, "Success")
    after = usage(svc)
    # the same {VNI, address} under another id
    assert status(create_lb(svc, "lb2", "192.0.2.1")) == (202, "ALREADY_EXISTS")
    # the same id for another address (dplane: an id is unique, dpservice re-points it)
    assert status(create_lb(svc, "lb1", "192.0.2.2")) == (202, "ALREADY_EXISTS")
    # the same address in another VNI is another LB
    assert status(create_lb(svc, "lb3", "192.0.2.1", vni=LB_VNI)) == (0, "Success")
    assert delete_lb(svc, "lb3") == (0, "Success")
    # preferred underlay in use (another LB's): VNF_INSERT, and before ALREADY_EXISTS
    assert status(create_lb(svc, "lb2", "192.0.2.2", preferred=b"fc00:1::8000:0:1")) == \
        (401, "VNF_INSERT")
    assert status(create_lb(svc, "lb1", "192.0.2.1", preferred=b"fc00:1::8000:0:1")) == \
        (401, "VNF_INSERT")
    # nothing of the failed creates stays
    assert usage(svc) == after
    assert status(get_lb(svc, "lb2")) == (201, "NOT_FOUND")
    got = get_lb(svc, "lb1")
    assert (got.loadbalanced_ip.address, got.underlay_route) == \
        (b"192.0.2.1", b"fc00:1::8000:0:1")


def test_interface_underlay_is_refused_as_preferred(svc):
    """An interface created with a preferred underlay: an LB or LB prefix may not take it."""
    wanted = b"fc00:1::8000:0:99"
    device, ipv4, ipv6 = VMS["vm2"]
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=b"vm2", vni=VNI, device_name=device,
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=ipv6.encode()),
        preferred_underlay_route=wanted), timeout=5)
    assert status(reply) == (0, "Success") and reply.underlay_route == wanted
    assert status(create_lb(svc, "lb1", "192.0.2.1", preferred=wanted)) == (401, "VNF_INSERT")
    assert status(create_pfx(svc, "10.0.0.2", 32, preferred=wanted)) == (401, "VNF_INSERT")
    assert status(create_pfx(svc, "10.0.0.3", 32, "vm2", preferred=wanted)) == \
        (401, "VNF_INSERT")
    # a generated underlay (no 0x80 flag) is no acceptable preferred one at all
    assert harness.invalid_argument(svc.api.CreateLoadBalancer, _create(
        preferred_underlay_route=svc.vm1_underlay)) == "Invalid preferred_underlay_route"
    assert list_lbs(svc) == []
    assert pfx_tuples(list_pfx(svc, "vm2")) == []


def test_table_full(svc):
    """256 load balancers; the 257th is OUT_OF_MEMORY and leaves nothing behind."""
    for i in range(256):
        reply = create_lb(svc, f"lb{i}", f"198.51.{i // 200}.{i % 200 + 1}")
        assert status(reply) == (0, "Success"), i
    full = usage(svc)
    assert full == grown(svc, loadbalancer_table=256, loadbalancer_id_table=256,
                         vnf_table=256)
    assert status(create_lb(svc, "lb256", "203.0.113.1")) == (208, "OUT_OF_MEMORY")
    assert status(create_lb(svc, "lb256", "2001:db8::1", vni=LB_VNI)) == (208, "OUT_OF_MEMORY")
    assert status(create_lb(svc, "lb256", "203.0.113.1", preferred=b"fc00:1::8000:0:5")) == \
        (208, "OUT_OF_MEMORY")
    assert usage(svc) == full
    assert not vni_in_use(svc, LB_VNI)
    assert status(get_lb(svc, "lb256")) == (201, "NOT_FOUND")
    assert len(list_lbs(svc)) == 256
    # the duplicates are still told apart from "full"
    assert status(create_lb(svc, "lb0", "203.0.113.1")) == (202, "ALREADY_EXISTS")
    assert status(create_lb(svc, "lb1", "198.51.0.1", vni=LB_VNI)) == (202, "ALREADY_EXISTS")


def test_table_full_churn(svc):
    """At 256 LBs, delete one and create another, again and again: there is always room."""
    for i in range(256):
        assert status(create_lb(svc, f"lb{i}", f"198.51.{i // 200}.{i % 200 + 1}")) == \
            (0, "Success"), i
    assert delete_lb(svc, "lb0") == (0, "Success")
    for n in range(200):
        address = f"203.0.{n // 250}.{n % 250 + 1}"
        assert status(create_lb(svc, f"x{n}", address)) == (0, "Success"), address
        assert delete_lb(svc, f"x{n}") == (0, "Success")
    # and the preferred underlay of a create that failed as full is free
    assert status(create_lb(svc, "lb0", "198.51.0.1", preferred=b"fc00:1::8000:0:5")) == \
        (0, "Success")


def test_the_lb_holds_its_vni(svc):
    assert not vni_in_use(svc, LB_VNI)
    assert status(create_lb(svc, "lb1", "192.0.2.1", vni=LB_VNI)) == (0, "Success")
    assert vni_in_use(svc, LB_VNI)
    assert usage(svc)["vni_table"] == svc.baseline["vni_table"] + 1
    assert status(create_lb(svc, "lb2", "2001:db8::1", vni=LB_VNI)) == (0, "Success")
    assert usage(svc)["vni_table"] == svc.baseline["vni_table"] + 1
    assert delete_lb(svc, "lb1") == (0, "Success")
    assert vni_in_use(svc, LB_VNI)
    assert delete_lb(svc, "lb2") == (0, "Success")
    assert not vni_in_use(svc, LB_VNI)
    assert usage(svc) == svc.baseline
    # an LB in the interface's VNI shares that VNI; deleting it leaves the VNI to vm1
    assert status(create_lb(svc, "lb3", "192.0.2.1", vni=VNI)) == (0, "Success")
    assert usage(svc)["vni_table"] == svc.baseline["vni_table"]
    assert delete_lb(svc, "lb3") == (0, "Success")
    assert vni_in_use(svc, VNI)
    # an interface and an LB in one VNI: it lives until both are gone
    create_iface(svc, "vm2", vni=LB_VNI)
    assert status(create_lb(svc, "lb4", "192.0.2.1", vni=LB_VNI)) == (0, "Success")
    assert usage(svc)["vni_table"] == svc.baseline["vni_table"] + 1
    assert delete_iface(svc, "vm2") == (0, "Success")
    assert vni_in_use(svc, LB_VNI)
    assert delete_lb(svc, "lb4") == (0, "Success")
    assert not vni_in_use(svc, LB_VNI)


def _create(**fields) -> pb.CreateLoadBalancerRequest:
    request = dict(loadbalancer_id=b"lb1", loadbalanced_ip=ip4("192.0.2.1"), vni=VNI,
                   loadbalanced_ports=lb_ports(TCP80))
    request.update(fields)
    return pb.CreateLoadBalancerRequest(**request)


SIXTEEN_PORTS = lb_ports(*((pb.TCP, 1000 + i) for i in range(16)))


@pytest.mark.parametrize("request_, message", [
    (_create(loadbalancer_id=b""), "Invalid loadbalancer_id"),
    (_create(loadbalancer_id=b"x" * 64), "Invalid loadbalancer_id"),
    (_create(loadbalancer_id=b"", vni=1 << 24), "Invalid loadbalancer_id"),
    (_create(vni=1 << 24), "VNI exceeds 24-bit range"),
    (_create(vni=0xFFFFFFFF), "VNI exceeds 24-bit range"),
    (_create(vni=1 << 24, loadbalanced_ip=ip4("x")), "VNI exceeds 24-bit range"),
    (_create(loadbalanced_ip=ip4("192.0.2.300")), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=ip4("2001:db8::1")), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=ip6("192.0.2.1")), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=ip6("2001:db8::g")), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=ip4("")), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=None), "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ip=ip4("x"), loadbalanced_ports=SIXTEEN_PORTS),
     "Invalid loadbalanced_ip"),
    (_create(loadbalanced_ports=SIXTEEN_PORTS), "Too many loadbalanced_ports"),
    (_create(loadbalanced_ports=SIXTEEN_PORTS + lb_ports((pb.ICMP, 70000))),
     "Too many loadbalanced_ports"),
    (_create(loadbalanced_ports=lb_ports((pb.TCP, 65536))), "Invalid loadbalanced_ports.port"),
    (_create(loadbalanced_ports=lb_ports((pb.ICMP, 65536))),
     "Invalid loadbalanced_ports.port"),
    (_create(loadbalanced_ports=lb_ports((pb.ICMP, 80))), "Invalid loadbalanced_ports.protocol"),
    (_create(loadbalanced_ports=lb_ports((pb.UNDEFINED, 80))),
     "Invalid loadbalanced_ports.protocol"),
    (_create(loadbalanced_ports=lb_ports((pb.SCTP, 80))), "Invalid loadbalanced_ports.protocol"),
    (_create(loadbalanced_ports=lb_ports((pb.ICMPV6, 80))),
     "Invalid loadbalanced_ports.protocol"),
    (_create(loadbalanced_ports=lb_ports(TCP80, (pb.ICMP, 80), (pb.UDP, 70000))),
     "Invalid loadbalanced_ports.protocol"),  # entry by entry
    (_create(loadbalanced_ports=lb_ports(TCP80, TCP80)), "Duplicate loadbalanced_ports entry"),
    (_create(loadbalanced_ports=lb_ports(TCP80, (pb.UDP, 80), TCP80, (pb.TCP, 70000))),
     "Duplicate loadbalanced_ports entry"),
    (_create(preferred_underlay_route=b"nonsense"), "Invalid preferred_underlay_route"),
    (_create(preferred_underlay_route=b"fc00:9::8000:0:1"), "Invalid preferred_underlay_route"),
    (_create(preferred_underlay_route=b"fc00:1:0:0:d000:0:0:1"),  # generated, not external
     "Invalid preferred_underlay_route"),
    (_create(preferred_underlay_route=b"192.0.2.1"), "Invalid preferred_underlay_route"),
    (_create(preferred_underlay_route=b"x", loadbalanced_ports=lb_ports(TCP80, TCP80)),
     "Duplicate loadbalanced_ports entry"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_create_invalid_arguments(svc, request_, message):
    assert harness.invalid_argument(svc.api.CreateLoadBalancer, request_) == message


@pytest.mark.parametrize("lb_id", [b"", b"x" * 64], ids=["empty", "64 bytes"])
def test_invalid_loadbalancer_id(svc, lb_id):
    for call, request in (
            (svc.api.GetLoadBalancer, pb.GetLoadBalancerRequest(loadbalancer_id=lb_id)),
            (svc.api.DeleteLoadBalancer, pb.DeleteLoadBalancerRequest(loadbalancer_id=lb_id)),
            (svc.api.CreateLoadBalancerTarget, pb.CreateLoadBalancerTargetRequest(
                loadbalancer_id=lb_id, target_ip=ip6("fc00:2::1"))),
            (svc.api.DeleteLoadBalancerTarget, pb.DeleteLoadBalancerTargetRequest(
                loadbalancer_id=lb_id, target_ip=ip6("fc00:2::1")))):
        assert harness.invalid_argument(call, request) == "Invalid loadbalancer_id", \
            type(request).__name__
    if lb_id:  # an empty id lists every LB's targets
        assert harness.invalid_argument(
            svc.api.ListLoadBalancerTargets,
            pb.ListLoadBalancerTargetsRequest(loadbalancer_id=lb_id)) == "Invalid loadbalancer_id"


# --- targets ------------------------------------------------------------------------------

def test_targets_add_list_delete(svc):
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    assert target_texts(targets(svc, "lb1")) == []
    before = usage(svc)
    for target in ("fc00::a", "FC00::10", "fc00::9", "10::1", "2001:db8::1", "9::1",
                   "fc00:2::d000:0:1"):
        assert add_target(svc, "lb1", target) == (0, "Success"), target
    # in address byte order (not text order) and canonical text
    assert target_texts(targets(svc, "lb1")) == [
        "9::1", "10::1", "2001:db8::1", "fc00::9", "fc00::a", "fc00::10", "fc00:2::d000:0:1"]
    assert usage(svc) == before  # targets take no table entries of their own
    assert del_target(svc, "lb1", "fc00::9") == (0, "Success")
    assert del_target(svc, "lb1", "fc00:0::A") == (0, "Success")
    assert target_texts(targets(svc, "lb1")) == [
        "9::1", "10::1", "2001:db8::1", "fc00::10", "fc00:2::d000:0:1"]
    assert del_target(svc, "lb1", "fc00::9") == (201, "NOT_FOUND")
    # deleting the LB takes its targets: a new one of the same id starts without them
    assert delete_lb(svc, "lb1") == (0, "Success")
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    assert target_texts(targets(svc, "lb1")) == []


def test_target_service_errors_in_order(svc):
    # BAD_IPVER before the LB is looked at
    assert add_target(svc, "nolb", "192.0.2.9") == (204, "BAD_IPVER")
    assert add_target(svc, "nolb", "fc00:2::1") == (422, "NO_LB")
    assert status(svc.api.DeleteLoadBalancerTarget(pb.DeleteLoadBalancerTargetRequest(
        loadbalancer_id=b"nolb", target_ip=ip4("192.0.2.9")), timeout=5)) == (204, "BAD_IPVER")
    assert del_target(svc, "nolb", "fc00:2::1") == (422, "NO_LB")
    assert status(targets(svc, "nolb")) == (422, "NO_LB")
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    assert add_target(svc, "lb1", "192.0.2.9") == (204, "BAD_IPVER")
    assert add_target(svc, "lb1", "fc00:2::1") == (0, "Success")
    assert add_target(svc, "lb1", "fc00:2:0::1") == (202, "ALREADY_EXISTS")
    assert del_target(svc, "lb1", "fc00:2::2") == (201, "NOT_FOUND")
    assert target_texts(targets(svc, "lb1")) == ["fc00:2::1"]


def test_sixty_four_targets(svc):
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    wanted = [f"fc00:2::{i:x}" for i in range(64, 0, -1)]
    for target in wanted:
        assert add_target(svc, "lb1", target) == (0, "Success"), target
    assert add_target(svc, "lb1", "fc00:3::1") == (423, "BACKIP_ADD")
    assert add_target(svc, "lb1", "fc00:2::1") == (202, "ALREADY_EXISTS")  # before the limit
    listed = target_texts(targets(svc, "lb1"))
    assert listed == sorted(wanted, key=lambda t: ipaddress.IPv6Address(t).packed)
    assert del_target(svc, "lb1", "fc00:2::40") == (0, "Success")
    assert add_target(svc, "lb1", "fc00:3::1") == (0, "Success")
    assert len(target_texts(targets(svc, "lb1"))) == 64


def test_list_targets_of_every_lb(svc):
    assert target_texts(targets(svc, "")) == []
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    assert status(create_lb(svc, "lb2", "2001:db8::1", vni=LB_VNI)) == (0, "Success")
    assert status(create_lb(svc, "lb3", "192.0.2.3")) == (0, "Success")
    own = {"lb1": ["fc00:2::b", "fc00:2::a"], "lb2": ["fc00:2::a", "fc00:3::1"], "lb3": []}
    for lb_id, texts in own.items():
        for target in texts:
            assert add_target(svc, lb_id, target) == (0, "Success")
    every = target_texts(targets(svc, ""))
    # each LB's targets (sorted) one LB after the other, in ListLoadBalancers' order
    order = [lb.id.decode() for lb in list_lbs(svc)]
    assert every == [t for lb_id in order
                     for t in sorted(own[lb_id], key=lambda t: ipaddress.IPv6Address(t).packed)]


@pytest.mark.parametrize("target", [ip6("nonsense"), ip6("192.0.2.1"), ip4("fc00::1"),
                                    ip6(""), None],
                         ids=["nonsense", "v4-as-v6", "v6-as-v4", "empty", "missing"])
def test_invalid_target_ip(svc, target):
    for call, request in (
            (svc.api.CreateLoadBalancerTarget, pb.CreateLoadBalancerTargetRequest(
                loadbalancer_id=b"lb1", target_ip=target)),
            (svc.api.DeleteLoadBalancerTarget, pb.DeleteLoadBalancerTargetRequest(
                loadbalancer_id=b"lb1", target_ip=target))):
        assert harness.invalid_argument(call, request) == "Invalid target_ip"


# --- LB prefixes --------------------------------------------------------------------------

def test_lb_prefix_create_list_delete(svc):
    assert pfx_tuples(list_pfx(svc)) == []
    first = create_pfx(svc, "10.0.0.2", 32)
    assert status(first) == (0, "Success") and is_generated_underlay(first.underlay_route)
    second = create_pfx(svc, "fd00:0::2", 128)
    assert status(second) == (0, "Success") and is_generated_underlay(second.underlay_route)
    wanted = b"fc00:1::8000:0:11"
    third = create_pfx(svc, "10.0.1.0", 24, preferred=wanted)
    assert status(third) == (0, "Success") and third.underlay_route == wanted
    assert usage(svc) == grown(svc, vnf_table=3)
    assert sorted(pfx_tuples(list_pfx(svc))) == sorted([
        (pb.IPV4, "10.0.0.2", 32, first.underlay_route.decode()),
        (pb.IPV6, "fd00::2", 128, second.underlay_route.decode()),
        (pb.IPV4, "10.0.1.0", 24, wanted.decode())])
    # the same prefix again; another length of it is another prefix
    assert status(create_pfx(svc, "10.0.0.2", 32)) == (202, "ALREADY_EXISTS")
    assert status(create_pfx(svc, "10.0.1.0", 24, preferred=b"fc00:1::8000:0:12")) == \
        (202, "ALREADY_EXISTS")
    fourth = create_pfx(svc, "10.0.0.2", 31)
    assert status(fourth) == (0, "Success")
    assert usage(svc) == grown(svc, vnf_table=4)
    assert delete_pfx(svc, "10.0.0.2", 32) == (0, "Success")
    assert delete_pfx(svc, "10.0.0.2", 32) == (201, "NOT_FOUND")
    assert delete_pfx(svc, "10.0.0.3", 31) == (201, "NOT_FOUND")
    assert delete_pfx(svc, "fd00::2", 128) == (0, "Success")
    # deleting the LB prefix frees its underlay
    assert delete_pfx(svc, "10.0.1.0", 24) == (0, "Success")
    assert status(create_pfx(svc, "10.0.1.0", 24, preferred=wanted)) == (0, "Success")
    assert sorted(pfx_tuples(list_pfx(svc))) == sorted([
        (pb.IPV4, "10.0.1.0", 24, wanted.decode()),
        (pb.IPV4, "10.0.0.2", 31, fourth.underlay_route.decode())])
    assert usage(svc) == grown(svc, vnf_table=2)


def test_lb_prefix_service_errors(svc):
    assert status(create_pfx(svc, "10.0.0.2", 32, iface="nobody")) == (205, "NO_VM")
    assert status(list_pfx(svc, "nobody")) == (205, "NO_VM")
    assert delete_pfx(svc, "10.0.0.2", 32, iface="nobody") == (205, "NO_VM")
    # preferred underlay in use: by an LB, by another LB prefix, and the other way round
    assert status(create_lb(svc, "lb1", "192.0.2.1", preferred=b"fc00:1::8000:0:1")) == \
        (0, "Success")
    assert status(create_pfx(svc, "10.0.0.2", 32, preferred=b"fc00:1::8000:0:1")) == \
        (401, "VNF_INSERT")
    assert status(create_pfx(svc, "10.0.0.2", 32, preferred=b"fc00:1::8000:0:2")) == \
        (0, "Success")
    assert status(create_pfx(svc, "10.0.0.3", 32, preferred=b"fc00:1::8000:0:2")) == \
        (401, "VNF_INSERT")
    assert status(create_lb(svc, "lb2", "192.0.2.2", preferred=b"fc00:1::8000:0:2")) == \
        (401, "VNF_INSERT")
    assert usage(svc) == grown(svc, loadbalancer_table=1, loadbalancer_id_table=1,
                               vnf_table=2)
    assert [p[1] for p in pfx_tuples(list_pfx(svc))] == ["10.0.0.2"]


def test_lb_prefix_adds_no_route(svc):
    def routes():
        reply = svc.api.ListRoutes(pb.ListRoutesRequest(vni=VNI), timeout=5)
        assert status(reply) == (0, "Success")
        return list(reply.routes)

    before = routes()
    assert status(create_pfx(svc, "10.9.0.0", 24)) == (0, "Success")
    assert status(create_pfx(svc, "10.9.1.1", 32)) == (0, "Success")
    assert routes() == before
    # the prefix is free in the VNI's routing table: a route to it can be created
    route = pb.Route(prefix=prefix("10.9.0.0", 24), nexthop_vni=VNI,
                     nexthop_address=ip6("fc00:2::1"))
    assert status(svc.api.CreateRoute(pb.CreateRouteRequest(vni=VNI, route=route),
                                      timeout=5)) == (0, "Success")
    assert status(svc.api.DeleteRoute(pb.DeleteRouteRequest(
        vni=VNI, route=pb.Route(prefix=prefix("10.9.0.0", 24))), timeout=5)) == (0, "Success")
    # and an alias prefix (which routes) of the same address too
    reply = svc.api.CreatePrefix(pb.CreatePrefixRequest(
        interface_id=b"vm1", prefix=prefix("10.9.1.1", 32)), timeout=5)
    assert status(reply) == (0, "Success")
    assert status(svc.api.DeletePrefix(pb.DeletePrefixRequest(
        interface_id=b"vm1", prefix=prefix("10.9.1.1", 32)), timeout=5)) == (0, "Success")
    assert routes() == before


def test_deleting_the_interface_removes_its_lb_prefixes(svc):
    create_iface(svc, "vm2")
    assert status(create_pfx(svc, "10.0.0.3", 32, iface="vm2")) == (0, "Success")
    assert status(create_pfx(svc, "fd00::3", 128, iface="vm2",
                             preferred=b"fc00:1::8000:0:33")) == (0, "Success")
    assert status(create_pfx(svc, "10.0.0.3", 32, iface="vm1")) == (0, "Success")
    assert usage(svc)["vnf_table"] == svc.baseline["vnf_table"] + 4  # vm2's own + 3
    assert delete_iface(svc, "vm2") == (0, "Success")
    assert usage(svc)["vnf_table"] == svc.baseline["vnf_table"] + 1  # vm1's prefix stays
    assert status(list_pfx(svc, "vm2")) == (205, "NO_VM")
    assert len(pfx_tuples(list_pfx(svc, "vm1"))) == 1
    # a new interface of that id starts without them; the preferred underlay is free again
    create_iface(svc, "vm2")
    assert pfx_tuples(list_pfx(svc, "vm2")) == []
    assert status(create_pfx(svc, "fd00::3", 128, iface="vm2",
                             preferred=b"fc00:1::8000:0:33")) == (0, "Success")


LB_PREFIX_INVALID = [
    (dict(interface_id=b""), "Invalid interface_id"),
    (dict(interface_id=b"x" * 64), "Invalid interface_id"),
    (dict(interface_id=b"", prefix=prefix("x", 32)), "Invalid interface_id"),
    (dict(prefix=prefix("10.0.0.300", 32)), "Invalid prefix.ip"),
    (dict(prefix=pb.Prefix(ip=ip4("fd00::1"), length=32)), "Invalid prefix.ip"),
    (dict(prefix=pb.Prefix(ip=ip6("10.0.0.1"), length=32)), "Invalid prefix.ip"),
    (dict(prefix=pb.Prefix(length=32)), "Invalid prefix.ip"),
    (dict(prefix=prefix("x", 256)), "Invalid prefix.ip"),
    (dict(prefix=prefix("10.0.0.2", 256)), "Invalid prefix.length"),
    (dict(prefix=prefix("fd00::2", 256)), "Invalid prefix.length"),
]


@pytest.mark.parametrize("fields, message", LB_PREFIX_INVALID + [
    (dict(preferred_underlay_route=b"nonsense"), "Invalid preferred_underlay_route"),
    (dict(preferred_underlay_route=b"fc00:9::8000:0:1"), "Invalid preferred_underlay_route"),
    (dict(preferred_underlay_route=b"fc00:1::1"), "Invalid preferred_underlay_route"),
    (dict(preferred_underlay_route=b"x", prefix=prefix("10.0.0.2", 256)),
     "Invalid prefix.length"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_create_lb_prefix_invalid_arguments(svc, fields, message):
    request = dict(interface_id=b"vm1", prefix=prefix("10.0.0.2", 32))
    request.update(fields)
    assert harness.invalid_argument(svc.api.CreateLoadBalancerPrefix,
                                    pb.CreateLoadBalancerPrefixRequest(**request)) == message


@pytest.mark.parametrize("fields, message", LB_PREFIX_INVALID,
                         ids=lambda v: v if isinstance(v, str) else "")
def test_delete_lb_prefix_invalid_arguments(svc, fields, message):
    request = dict(interface_id=b"vm1", prefix=prefix("10.0.0.2", 32))
    request.update(fields)
    assert harness.invalid_argument(svc.api.DeleteLoadBalancerPrefix,
                                    pb.DeleteLoadBalancerPrefixRequest(**request)) == message


def test_list_lb_prefixes_invalid_interface_id(svc):
    for iface in (b"", b"x" * 64):
        assert harness.invalid_argument(
            svc.api.ListLoadBalancerPrefixes,
            pb.ListLoadBalancerPrefixesRequest(interface_id=iface)) == "Invalid interface_id"


def test_lb_prefix_length_up_to_255(svc):
    """Only a length above 255 is refused (contract 3.5), whatever the address family."""
    assert status(create_pfx(svc, "10.0.0.2", 255)) == (0, "Success")
    assert status(create_pfx(svc, "fd00::2", 0)) == (0, "Success")
    assert sorted((p[1], p[2]) for p in pfx_tuples(list_pfx(svc))) == \
        [("10.0.0.2", 255), ("fd00::2", 0)]
    assert delete_pfx(svc, "10.0.0.2", 255) == (0, "Success")


def test_initialize_keeps_lbs_targets_and_lb_prefixes(svc):
    reply = create_lb(svc, "lb1", "192.0.2.1", vni=LB_VNI)
    assert status(reply) == (0, "Success")
    assert add_target(svc, "lb1", "fc00:2::1") == (0, "Success")
    pfx = create_pfx(svc, "10.0.0.2", 32)
    assert status(pfx) == (0, "Success")
    before = usage(svc)
    svc.initialize()
    assert usage(svc) == before
    assert [(lb.id, lb.underlay_route) for lb in list_lbs(svc)] == \
        [(b"lb1", reply.underlay_route)]
    assert target_texts(targets(svc, "lb1")) == ["fc00:2::1"]
    assert pfx_tuples(list_pfx(svc)) == [(pb.IPV4, "10.0.0.2", 32, pfx.underlay_route.decode())]
    assert vni_in_use(svc, LB_VNI)


# --- tables -------------------------------------------------------------------------------

def test_tables_and_their_capacity(svc):
    tables = {t.name: t for t in svc.stats().tables}
    assert tables["loadbalancer_table"].capacity == 256
    assert tables["loadbalancer_id_table"].capacity == 256
    with TelemetryClient(socket_path(svc.prefix)) as client:
        saturation = client.query("/dp_service/table/saturation")
    assert saturation["loadbalancer_table"]["capacity"] == 256
    assert status(create_lb(svc, "lb1", "192.0.2.1")) == (0, "Success")
    with TelemetryClient(socket_path(svc.prefix)) as client:
        saturation = client.query("/dp_service/table/saturation")
    assert saturation["loadbalancer_table"]["entries"] == 1


def lb_table_key(vni: int, address: str) -> bytes:
    """loadbalancer_table's 21-byte key: the VNI, the address as a flow key holds it (IPv4 a
    host-order uint32 in the first 4 bytes), the v6 flag."""
    addr = ipaddress.ip_address(address)
    if addr.version == 4:
        return struct.pack("<II", vni, int(addr)) + bytes(12) + b"\0"
    return struct.pack("<I", vni) + addr.packed + b"\1"


def test_list_order_is_dpservices(svc):
    """ListLoadBalancers comes in loadbalancer_table's order, as dpservice's: rte_hash of
    256 * 1.2 entries (64 buckets of 8), jhash of the key with 0xfee1900d; in bucket order,
    then by slot (the order of insertion, without deletes in between)."""
    lbs = [(f"order{i}", VNI if i % 3 else LB_VNI,
            f"198.51.100.{i + 1}" if i % 4 else f"2001:db8:{i:x}::1") for i in range(48)]
    buckets: dict[int, list[str]] = {}
    for lb_id, vni, address in lbs:
        assert status(create_lb(svc, lb_id, address, vni=vni)) == (0, "Success")
        bucket = rte_jhash(lb_table_key(vni, address), 0xFEE1900D) & 63
        buckets.setdefault(bucket, []).append(lb_id)
    assert max(len(ids) for ids in buckets.values()) <= 8  # nothing in a secondary bucket
    want = [lb_id for bucket in sorted(buckets) for lb_id in buckets[bucket]]
    assert [lb.id.decode() for lb in list_lbs(svc)] == want
