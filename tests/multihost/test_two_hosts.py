# SPDX-License-Identifier: Apache-2.0
"""Two dplane hosts joined by an IPv6 underlay router, with VMs that are network namespaces
running the kernel's own IP stack: ping and real TCP connections across hosts, IPv4 and
IPv6, through dpservice-style IP-in-IPv6 tunnels.

    vm-a (10.0.0.2, fd00::2)                        vm-b (10.0.0.3, fd00::3)
      | eth0 = host A's VF TAP                         | eth0 = host B's VF TAP
    dplane A (--ipv6 fc00:1::1)                     dplane B (--ipv6 fc00:2::1)
      | dtap0 (PF0) in bridge br0                      | dtap0 (PF0) in bridge br0
      +-- ul0 ===== ra [ router: IPv6 forwarding ] rb ===== ul0 --+
             fc00:1::/64 via fe80::a            fc00:2::/64 via fe80::b

Each host finds the router's MAC as dpservice does: an IPv6 neighbour with the router flag on
its PF (added here as the router's own NA would)."""
from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

import harness
from dplane.proto import dpdk_pb2

VNI = 100
PF0_MAC = harness.PF_MACS[0]
TCP_SERVER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family) as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 7000)); s.listen(1); s.settimeout(20)
    print("listening", flush=True)
    conn, _ = s.accept()
    with conn:
        data = b""
        while not data.endswith(b"\\n"):
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
        conn.sendall(b"echo:" + data)
"""
TCP_CLIENT = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.create_connection((sys.argv[1], 7000), timeout=10) as s:
    s.sendall(b"x" * 100000 + b"\\n")
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
print(len(reply), reply[:5].decode())
"""
UDP_SERVER = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_DGRAM) as s:
    s.bind((sys.argv[1], 7001)); s.settimeout(20)
    print("listening", flush=True)
    data, peer = s.recvfrom(65536)
    s.sendto(b"echo:" + data, peer)
"""
UDP_CLIENT = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_DGRAM) as s:
    s.settimeout(5)
    for _ in range(3):  # the first may race the VM's neighbour resolution
        s.sendto(b"y" * 8000, (sys.argv[1], 7001))
        try:
            reply, _ = s.recvfrom(65536)
            break
        except TimeoutError:
            continue
    else:
        sys.exit("no reply")
print(len(reply), reply[:5].decode())
"""


@dataclass
class Host:
    svc: harness.Service
    vm: str          # the VM's namespace
    ipv4: str
    ipv6: str
    underlay: str    # the VM's interface underlay address


def sh(*cmd: str, netns: str | None = None) -> str:
    result = harness.run(*cmd, netns=netns, check=False)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} in {netns}: {result.stderr.strip()}")
    return result.stdout


def start_host(index: int, vm_ip4: str, vm_ip6: str) -> Host:
    """A dplane in its own namespace with one VM; nothing is left behind if it fails."""
    ns = harness.Netns()
    svc = None
    try:
        opts = [o if o != "fc00:1::1" else f"fc00:{index}::1" for o in harness.SERVICE_OPTS]
        svc = harness.start_service(ns, harness.tap_eal_args(1, f"dpt{ns.id}"),
                                    [*opts, "--enable-ipv6-overlay"])
        return setup_vm(svc, index, vm_ip4, vm_ip6)
    except BaseException:
        if svc is not None:
            svc.terminate()
        harness.run("ip", "netns", "del", f"{ns.name}-vm", check=False)
        ns.delete()
        raise


def setup_vm(svc: harness.Service, index: int, vm_ip4: str, vm_ip6: str) -> Host:
    ns = svc.netns
    svc.initialize()
    reply = svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=f"vm{index}".encode(), vni=VNI, device_name="net_tap2",
        ipv4_config=dpdk_pb2.IpConfig(primary_address=vm_ip4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=vm_ip6.encode())), timeout=5)
    assert reply.status.code == 0, reply.status
    vm = f"{ns.name}-vm"
    sh("ip", "netns", "add", vm)
    # the VF's TAP becomes the VM's eth0, with the MAC dplane assumes until it learns one
    sh("ip", "link", "set", "dtapvf_0", "netns", vm, "name", "eth0", netns=ns.name)
    for cmd in (("ip", "link", "set", "lo", "up"),
                ("ip", "link", "set", "eth0", "address", harness.VF_MAC.format(0)),
                # net_tap uplinks carry frames of at most 1522 bytes (DPDK's limit for
                # it): room for a 1460-byte packet in the tunnel (a NIC takes 1500)
                ("ip", "link", "set", "eth0", "mtu", "1460"),
                # the TAP comes from a namespace with IPv6 off: on again for the VM
                ("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0"),
                ("sysctl", "-qw", "net.ipv6.conf.eth0.accept_dad=0"),
                ("ip", "link", "set", "eth0", "up"),
                ("ip", "addr", "add", f"{vm_ip4}/32", "dev", "eth0"),
                ("ip", "route", "add", "169.254.0.1", "dev", "eth0"),
                ("ip", "route", "add", "default", "via", "169.254.0.1", "dev", "eth0"),
                ("ip", "-6", "addr", "add", f"{vm_ip6}/128", "dev", "eth0", "nodad"),
                ("ip", "-6", "route", "replace", "default", "via", "fe80::1", "dev", "eth0")):
        sh(*cmd, netns=vm)
    return Host(svc, vm, vm_ip4, vm_ip6, reply.underlay_route.decode())


def route(host: Host, prefix: str, length: int, nexthop: str) -> None:
    ipver = dpdk_pb2.IPV6 if ":" in prefix else dpdk_pb2.IPV4
    reply = host.svc.api.CreateRoute(dpdk_pb2.CreateRouteRequest(vni=VNI, route=dpdk_pb2.Route(
        prefix=dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=ipver, address=prefix.encode()),
                               length=length),
        nexthop_vni=VNI,
        nexthop_address=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV6, address=nexthop.encode()))),
        timeout=5)
    assert reply.status.code == 0, reply.status


def wire_underlay(router: str, host: Host, side: str, index: int) -> None:
    """host's PF0 TAP bridged to the router's interface r<side>."""
    ns = host.svc.netns.name
    sh("ip", "link", "add", "br0", "type", "bridge", netns=ns)
    sh("ip", "link", "add", "ul0", "type", "veth", "peer", "name", f"r{side}", "netns", router,
       netns=ns)
    # the kernel end of the TAP has the PF's MAC too: a bridge would keep frames to that MAC
    # for itself instead of passing them to dplane
    sh("ip", "link", "set", "dtap0", "address", f"02:00:00:00:00:0{index}", netns=ns)
    # the underlay carries 1500-byte overlay packets plus the 40-byte tunnel header
    for dev in ("dtap0", "ul0"):
        sh("ip", "link", "set", dev, "mtu", "9000", "master", "br0", netns=ns)
        sh("ip", "link", "set", dev, "up", netns=ns)
    sh("ip", "link", "set", "br0", "mtu", "9000", "up", netns=ns)
    sh("ip", "link", "set", f"r{side}", "mtu", "9000", "up", netns=router)
    gateway = f"fe80::{side}"
    sh("ip", "-6", "neigh", "add", gateway, "lladdr", PF0_MAC, "dev", f"r{side}", "nud",
       "permanent", netns=router)
    sh("ip", "-6", "route", "add", f"fc00:{index}::/64", "via", gateway, "dev", f"r{side}",
       netns=router)
    # what the router's advertisements would teach the host: its MAC, as a router neighbour
    mac = sh("cat", f"/sys/class/net/r{side}/address", netns=router).strip()
    sh("sysctl", "-qw", "net.ipv6.conf.dtap0.disable_ipv6=0", netns=ns)
    sh("ip", "-6", "neigh", "replace", "fe80::1", "lladdr", mac, "dev", "dtap0", "router",
       "nud", "permanent", netns=ns)


def wait_router_mac(host: Host, timeout: float = 20.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for port in host.svc.stats().ports:
            if port.role == "pf0" and port.router_mac:
                return port.router_mac
        time.sleep(0.2)
    raise AssertionError("the PF never learned its router's MAC")


@pytest.fixture(scope="module")
def hosts() -> Iterator[tuple[Host, Host]]:
    if harness.os.geteuid() != 0:
        pytest.skip("needs root")
    router = f"dpt-router-{harness.os.getpid()}"
    started: list[Host] = []
    try:
        sh("ip", "netns", "add", router)
        sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
           "net.ipv6.conf.default.forwarding=1", netns=router)
        a = start_host(1, "10.0.0.2", "fd00::2")
        started.append(a)
        b = start_host(2, "10.0.0.3", "fd00::3")
        started.append(b)
        wire_underlay(router, a, "a", 1)
        wire_underlay(router, b, "b", 2)
        route(a, b.ipv4, 32, b.underlay)
        route(a, b.ipv6, 128, b.underlay)
        route(b, a.ipv4, 32, a.underlay)
        route(b, a.ipv6, 128, a.underlay)
        wait_router_mac(a)
        wait_router_mac(b)
        yield a, b
    finally:
        for host in started:
            host.svc.terminate()
            harness.run("ip", "netns", "del", host.vm, check=False)
            host.svc.netns.delete()
        harness.run("ip", "netns", "del", router, check=False)


def diagnose(*hosts: Host) -> str:
    """What each host counted, for a failure message."""
    lines = []
    for host in hosts:
        stats = host.svc.stats()
        lines.append(f"{host.svc.netns.name}: drops "
                     f"{ {k: v for k, v in stats.drops.items() if v} }")
        lines += [f"  {p.name}: rx {p.rx_packets} tx {p.tx_packets} tx errors {p.tx_errors} "
                  f"router {p.router_mac}" for p in stats.ports]
    return "\n".join(lines)


def ping(src: Host, dst: str) -> subprocess.CompletedProcess:
    return harness.run("ping", "-c", "3", "-i", "0.2", "-W", "2", dst, netns=src.vm,
                       check=False)


def echo(a: Host, b: Host, address: str, server_code: str, client_code: str) -> list[str]:
    """Runs server_code in b's VM on address, then client_code in a's VM against it;
    returns what the client printed, split."""
    server = subprocess.Popen(["ip", "netns", "exec", b.vm, "python3", "-c", server_code,
                               address], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        client = harness.run("python3", "-c", client_code, address, netns=a.vm, check=False)
        assert client.returncode == 0, client.stderr + diagnose(a, b)
        return client.stdout.split()
    finally:
        server.kill()
        server.wait()


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_ping_across_hosts(hosts, family):
    a, b = hosts
    result = ping(a, getattr(b, family))
    if result.returncode != 0:  # the first echo may race the VM's neighbour resolution
        result = ping(a, getattr(b, family))
    assert result.returncode == 0, result.stdout + result.stderr + diagnose(a, b)
    assert " 0% packet loss" in result.stdout or "3 received" in result.stdout


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_tcp_connection_across_hosts(hosts, family):
    a, b = hosts
    assert echo(a, b, getattr(b, family), TCP_SERVER, TCP_CLIENT) == ["100006", "echo:"]
    # both hosts tracked the connection, and saw it through its handshake
    for host in (a, b):
        flows = host.svc.diag.ListFlows(harness.dplane_pb2.ListFlowsRequest(), timeout=5).flows
        tcp = [f for f in flows if f.key.protocol == 6 and f.key.dst_port == 7000
               and f.key.dst == getattr(b, family)]
        assert tcp, f"no TCP flow on {host.svc.netns.name}"
        assert tcp[0].key.src == getattr(a, family)  # the connection's opener
        assert tcp[0].tcp_state in ("established", "finwait", "rst_fin")


@pytest.mark.parametrize("family", ["ipv4", "ipv6"])
def test_fragmented_udp_across_hosts(hosts, family):
    """An 8000-byte datagram over VMs with a 1460-byte MTU: the kernel sends six fragments,
    which only the first has ports in; each host forwards them all, both ways."""
    a, b = hosts
    assert echo(a, b, getattr(b, family), UDP_SERVER, UDP_CLIENT) == ["8005", "echo:"]
