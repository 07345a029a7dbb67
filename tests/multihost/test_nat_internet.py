# SPDX-License-Identifier: Apache-2.0
"""VIP and NAT end to end: VMs (network namespaces on the VF TAPs) of two dplane hosts reach
an IPv4 "internet" namespace behind the underlay router, which is the cloud's edge and
terminates the IP-in-IPv6 tunnels; the internet reaches a VIP back. An IPv6-only VM reaches
the internet through NAT64, as 64:ff9b::c000:20a.

    vip (10.0.0.2, VIP 203.0.113.10)      nat-b (10.0.0.3, NAT 198.51.100.1 [30000, 60000))
    nat-a (10.0.0.4, NAT 198.51.100.1 [1024, 30000))   nat6 (fd00::6 only, NAT64 through
      |                                                 |     NAT 198.51.100.1 [60000, 65000))
      | host A's VF TAPs                                | host B's VF TAPs
    dplane A (--ipv6 fc00:1::1)                      dplane B (--ipv6 fc00:2::1)
      +-- PF0 == ra [ router: IPv6 forwarding, fc00:99::1 ] rb == PF0 --+
                       | edge0: the tunnels' end (TUN)
                       | inet0 192.0.2.1/24
                  internet (192.0.2.10/24)

Both hosts route 0.0.0.0/0 to fc00:99::1, host B ::/0 too (NAT64 takes the IPv6 route
lookup). The router takes what comes to fc00:99::1 with next header 4 out of its tunnel and
forwards the IPv4 inside; IPv4 to the VIP it sends, in IPv6, to the VIP's underlay address,
and to the NAT IP to host A's NAT underlay address: host A relays what is in host B's ranges
(its neighbour NATs) to host B. This kernel has no ip6tnl (CONFIG_IPV6_TUNNEL is off), so
the tunnel's end is a small program on a TUN device and an IPv6 raw socket of protocol 4:
what a kernel ipip6 tunnel would do, in user space."""
from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from test_two_hosts import route, sh, wait_router_mac, wire_underlay

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.proto import dplane_pb2
from dplane.telemetry_client import TelemetryClient, socket_path

VNI = 100
EDGE = "fc00:99::1"              # the router's underlay address: the VMs' default next hop
VIP = "203.0.113.10"
NAT_IP = "198.51.100.1"
RANGES = {"nat-a": (1024, 30000), "nat-b": (30000, 60000), "nat6": (60000, 65000)}
INTERNET, INTERNET_GW = "192.0.2.10", "192.0.2.1"
INTERNET6 = "64:ff9b::c000:20a"  # the internet's server in the NAT64 prefix
NO_IPV4 = "0.0.0.0"              # an interface without an IPv4 address
MTU = 1460  # VMs and the internet: 1460 + 40 (tunnel) + 14 fits net_tap's 1522-byte frames

# The tunnels' end in the router: IPv6 with next header 4 to the router's address comes out
# of the raw socket as the IPv4 packet it carries (the kernel took the IPv6 header off) and
# goes into the TUN device, which the kernel forwards from; IPv4 routed to the TUN device
# leaves the raw socket in IPv6 (the kernel puts the header on) to its address's underlay
# (as given, and changed by the lines of JSON on stdin).
EDGE_CODE = """
import fcntl, json, os, select, socket, struct, sys
TUNSETIFF, IFF_TUN, IFF_NO_PI = 0x400454CA, 0x0001, 0x1000
tun = os.open("/dev/net/tun", os.O_RDWR)
fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH22x", sys.argv[1].encode(), IFF_TUN | IFF_NO_PI))
underlays = json.loads(sys.argv[3])
sock = socket.socket(socket.AF_INET6, socket.SOCK_RAW, 4)
sock.bind((sys.argv[2], 0))
print("ready", flush=True)
while True:
    ready = select.select([tun, sock, sys.stdin], [], [])[0]
    if sys.stdin in ready:  # a line of JSON: routes to change
        underlays.update(json.loads(sys.stdin.readline() or "{}"))
        print("ok", flush=True)
    if sock in ready:
        inner = sock.recv(65535)
        if inner and inner[0] >> 4 == 4:
            os.write(tun, inner)
    if tun in ready:
        pkt = os.read(tun, 65535)
        if len(pkt) >= 20 and pkt[0] >> 4 == 4:
            underlay = underlays.get(socket.inet_ntoa(pkt[16:20]))
            try:
                if underlay:
                    sock.sendto(pkt, (underlay, 0))
            except OSError as err:  # the router would drop it too: keep going
                print(err, file=sys.stderr, flush=True)
"""
# Servers print "listening", then each peer as "address port" (UDP: every datagram's, each
# echoed); clients print the reply's length and start, and their own port.
TCP_SERVER = """
import socket, sys
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((sys.argv[1], 7000)); s.listen(1); s.settimeout(20)
    print("listening", flush=True)
    conn, peer = s.accept()
    print(*peer, flush=True)
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
with socket.create_connection((sys.argv[1], 7000), timeout=10) as s:
    port = s.getsockname()[1]
    s.sendall(b"x" * 100000 + b"\\n")
    reply = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        reply += chunk
print(len(reply), reply[:5].decode(), port)
"""
UDP_SERVER = """
import socket, sys
with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
    s.bind((sys.argv[1], 7001)); s.settimeout(20)
    print("listening", flush=True)
    while True:
        data, peer = s.recvfrom(65536)
        print(*peer, flush=True)
        s.sendto(b"echo:" + data, peer)
"""
UDP_CLIENT = """
import socket, sys
family = socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET
with socket.socket(family, socket.SOCK_DGRAM) as s:
    s.settimeout(2)
    for _ in range(2):
        s.sendto(b"y" * int(sys.argv[2]), (sys.argv[1], 7001))
        try:
            reply, _ = s.recvfrom(65536)
            break
        except TimeoutError:
            continue
    else:
        sys.exit("no reply")
    port = s.getsockname()[1]
print(len(reply), reply[:5].decode(), port)
"""


@dataclass
class Node:
    """A dplane host (the shape test_two_hosts' helpers take: .svc)."""

    svc: harness.Service
    name: str


@dataclass
class Vm:
    node: Node
    netns: str
    iface: str
    ipv4: str                  # NO_IPV4: an IPv6-only VM
    ipv6: str
    public: str                # what the internet sees it as: its VIP or NAT IP
    underlay: str = ""         # its VIP's or NAT's underlay address
    ports: tuple[int, int] | None = None  # its NAT range


@dataclass
class Cloud:
    a: Node
    b: Node
    vms: dict[str, Vm]
    router: str
    internet: str
    namespaces: list[str] = field(default_factory=list)
    edge: subprocess.Popen | None = None

    def route_back(self, address: str, underlay: str) -> None:
        """The router sends the internet's packets to address to underlay from now on."""
        self.edge.stdin.write(json.dumps({address: underlay}) + "\n")
        self.edge.stdin.flush()
        assert self.edge.stdout.readline().strip() == "ok"


class FragmentsDropped(Exception):
    """The datagram's fragments never left: dropped as snat_fragment."""


def start_node(name: str, index: int, nb_vfs: int, *extra: str) -> Node:
    ns = harness.Netns()
    svc = None
    try:
        opts = [o if o != "fc00:1::1" else f"fc00:{index}::1" for o in harness.SERVICE_OPTS]
        # no flow (nor its NAT port) ages out while the module runs: port counts stay exact
        opts += ["--flow-timeout", "300", *extra]
        svc = harness.start_service(
            ns, harness.tap_eal_args(nb_vfs, f"dpt{ns.id}", telemetry=True), opts)
        svc.initialize()
    except BaseException:
        if svc is not None:
            svc.terminate()
        ns.delete()
        raise
    return Node(svc, name)


def add_vm(cloud: Cloud, node: Node, vf: int, iface: str, ipv4: str, ipv6: str = "") -> Vm:
    """CreateInterface on VF vf; the VF's TAP becomes eth0 of the VM's namespace, which uses
    IPv4, or only IPv6 (ipv4 NO_IPV4: ipv6 its address)."""
    svc = node.svc
    reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
        interface_id=iface.encode(), vni=VNI, device_name=f"net_tap{vf + 2}",
        ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=pb.IpConfig(primary_address=(ipv6 or f"fd00::{vf + 2}").encode())),
        timeout=5)
    assert reply.status.code == 0, reply.status
    vm = f"{svc.netns.name}-{iface}"
    sh("ip", "netns", "add", vm)
    cloud.namespaces.append(vm)
    sh("ip", "link", "set", f"dtapvf_{vf}", "netns", vm, "name", "eth0", netns=svc.netns.name)
    for cmd in (("ip", "link", "set", "lo", "up"),
                # the MAC dplane assumes until it learns one
                ("ip", "link", "set", "eth0", "address", harness.VF_MAC.format(vf)),
                ("ip", "link", "set", "eth0", "mtu", str(MTU))):
        sh(*cmd, netns=vm)
    if ipv4 != NO_IPV4:
        cmds = [("ip", "link", "set", "eth0", "up"),
                ("ip", "addr", "add", f"{ipv4}/32", "dev", "eth0"),
                ("ip", "route", "add", "169.254.0.1", "dev", "eth0"),
                ("ip", "route", "add", "default", "via", "169.254.0.1", "dev", "eth0")]
    else:  # the TAP comes from a namespace with IPv6 off; the gateway is fe80::1 (dplane's
        # Router Advertisement may have made it the default route already)
        cmds = [("sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=0",
                 "net.ipv6.conf.eth0.accept_dad=0"),
                ("ip", "link", "set", "eth0", "up"),
                ("ip", "-6", "addr", "add", f"{ipv6}/128", "dev", "eth0", "nodad"),
                ("ip", "-6", "route", "replace", "default", "via", "fe80::1", "dev", "eth0")]
    for cmd in cmds:
        sh(*cmd, netns=vm)
    return Vm(node, vm, iface, ipv4, ipv6 or f"fd00::{vf + 2}", public="")


def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def give_vip(vm: Vm) -> None:
    reply = vm.node.svc.api.CreateVip(pb.CreateVipRequest(
        interface_id=vm.iface.encode(), vip_ip=ip4(VIP)), timeout=5)
    assert reply.status.code == 0, reply.status
    vm.public, vm.underlay = VIP, reply.underlay_route.decode()


def give_nat(vm: Vm) -> None:
    lo, hi = RANGES[vm.iface]
    reply = vm.node.svc.api.CreateNat(pb.CreateNatRequest(
        interface_id=vm.iface.encode(), nat_ip=ip4(NAT_IP), min_port=lo, max_port=hi),
        timeout=5)
    assert reply.status.code == 0, reply.status
    vm.public, vm.underlay, vm.ports = NAT_IP, reply.underlay_route.decode(), (lo, hi)


def neighbor_nat(node: Node, of: Vm) -> None:
    """Tells node about of's range of the NAT IP."""
    lo, hi = RANGES[of.iface]
    reply = node.svc.api.CreateNeighborNat(pb.CreateNeighborNatRequest(
        nat_ip=ip4(NAT_IP), vni=VNI, min_port=lo, max_port=hi,
        underlay_route=of.underlay.encode()), timeout=5)
    assert reply.status.code == 0, reply.status


def build_edge(cloud: Cloud) -> None:
    """The router's IPv4 side: the tunnels' end (edge0), the internet on inet0."""
    router, internet = cloud.router, cloud.internet
    sh("sysctl", "-qw", "net.ipv4.ip_forward=1", netns=router)
    sh("ip", "link", "set", "lo", "up", netns=router)
    sh("ip", "-6", "addr", "add", f"{EDGE}/128", "dev", "lo", netns=router)
    sh("ip", "tuntap", "add", "dev", "edge0", "mode", "tun", netns=router)
    sh("ip", "link", "set", "edge0", "mtu", str(MTU), "up", netns=router)
    for address in (VIP, NAT_IP):
        sh("ip", "route", "add", f"{address}/32", "dev", "edge0", netns=router)
    sh("ip", "link", "add", "inet0", "type", "veth", "peer", "name", "eth0", "netns", internet,
       netns=router)
    sh("ip", "addr", "add", f"{INTERNET_GW}/24", "dev", "inet0", netns=router)
    sh("ip", "link", "set", "inet0", "mtu", str(MTU), "up", netns=router)
    for cmd in (("ip", "link", "set", "lo", "up"),
                ("ip", "link", "set", "eth0", "mtu", str(MTU), "up"),
                ("ip", "addr", "add", f"{INTERNET}/24", "dev", "eth0"),
                ("ip", "route", "add", "default", "via", INTERNET_GW)):
        sh(*cmd, netns=internet)


def start_edge(cloud: Cloud, underlays: dict[str, str]) -> subprocess.Popen:
    edge = subprocess.Popen(["ip", "netns", "exec", cloud.router, "python3", "-c", EDGE_CODE,
                             "edge0", EDGE, json.dumps(underlays)],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    if edge.stdout.readline().strip() != "ready":
        edge.kill()
        raise RuntimeError(f"the router's tunnel end did not start: {edge.communicate()[1]}")
    return edge


@pytest.fixture(scope="module")
def cloud() -> Iterator[Cloud]:
    if harness.os.geteuid() != 0:
        pytest.skip("needs root")
    pid = harness.os.getpid()
    nodes: list[Node] = []
    edge = None
    c = None
    router, internet = f"dpt-edge-{pid}", f"dpt-inet-{pid}"
    try:
        sh("ip", "netns", "add", router)
        sh("ip", "netns", "add", internet)
        sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
           "net.ipv6.conf.default.forwarding=1", netns=router)
        nodes.append(start_node("A", 1, 2))
        # host B's IPv6-only VM finds its gateway by ND: dplane answers it with this
        nodes.append(start_node("B", 2, 2, "--enable-ipv6-overlay"))
        a, b = nodes
        c = Cloud(a, b, {}, router, internet)
        c.vms["vip"] = add_vm(c, a, 0, "vip", "10.0.0.2")
        c.vms["nat-a"] = add_vm(c, a, 1, "nat-a", "10.0.0.4")
        c.vms["nat-b"] = add_vm(c, b, 0, "nat-b", "10.0.0.3")
        c.vms["nat6"] = add_vm(c, b, 1, "nat6", NO_IPV4, "fd00::6")
        give_vip(c.vms["vip"])
        for name in ("nat-a", "nat-b", "nat6"):
            give_nat(c.vms[name])
        neighbor_nat(a, c.vms["nat-b"])
        neighbor_nat(a, c.vms["nat6"])
        neighbor_nat(b, c.vms["nat-a"])
        wire_underlay(router, a, "a", 1)
        wire_underlay(router, b, "b", 2)
        for node in (a, b):
            route(node, "0.0.0.0", 0, EDGE)
        route(b, "::", 0, EDGE)  # NAT64 takes the IPv6 route lookup
        build_edge(c)
        # the internet's way back: the VIP to its own underlay, the NAT IP to host A
        edge = c.edge = start_edge(c, {VIP: c.vms["vip"].underlay,
                                       NAT_IP: c.vms["nat-a"].underlay})
        wait_router_mac(a)
        wait_router_mac(b)
        yield c
    finally:
        if edge is not None:
            edge.kill()
            edge.communicate()
        for node in nodes:
            node.svc.terminate()
        for ns in (c.namespaces if c is not None else []):
            harness.run("ip", "netns", "del", ns, check=False)
        for node in nodes:
            node.svc.netns.delete()
        harness.run("ip", "netns", "del", internet, check=False)
        harness.run("ip", "netns", "del", router, check=False)


# --- what the hosts and the router counted --------------------------------------------------

def diagnose(cloud: Cloud) -> str:
    lines = []
    for node in (cloud.a, cloud.b):
        stats = node.svc.stats()
        lines.append(f"host {node.name}: drops {({k: v for k, v in stats.drops.items() if v})}")
        lines += [f"  {p.name}: rx {p.rx_packets} tx {p.tx_packets} tx errors {p.tx_errors}"
                  for p in stats.ports]
    edge = harness.run("ip", "-s", "link", "show", "edge0", netns=cloud.router, check=False)
    return "\n".join(lines) + "\nrouter edge0:\n" + edge.stdout


def relayed(node: Node) -> int:
    """Packets node's packet_relay handled (relayed to a neighbour, or echo requests)."""
    nodes = node.svc.diag.GetGraphStats(dplane_pb2.GetGraphStatsRequest(), timeout=5).nodes
    return sum(n.objs for n in nodes if n.name == "packet_relay")


def used_ports(node: Node) -> dict[str, int]:
    with TelemetryClient(socket_path(node.svc.prefix)) as client:
        return client.query("/dp_service/nat/used_port_count")


def flows(node: Node) -> list:
    return list(node.svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


# --- traffic --------------------------------------------------------------------------------

def run_pair(cloud: Cloud, server_ns: str, server_code: str, bind: str, client_ns: str,
             client_code: str, *client_args: str) -> tuple[subprocess.CompletedProcess,
                                                           list[list[str]]]:
    """server_code on bind in server_ns, then client_code in client_ns; returns the client's
    result and the peers the server saw."""
    server = subprocess.Popen(["ip", "netns", "exec", server_ns, "python3", "-c", server_code,
                               bind], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout.readline().strip() == "listening"
        client = harness.run("python3", "-c", client_code, *client_args, netns=client_ns,
                             check=False)
    finally:
        server.kill()
        out = server.communicate()[0]
    return client, [line.split() for line in out.splitlines()]


def ping(netns: str, dst: str) -> subprocess.CompletedProcess:
    cmd = ("ping", "-6" if ":" in dst else "-4", "-c", "3", "-i", "0.2", "-W", "2", dst)
    result = harness.run(*cmd, netns=netns, check=False)
    if result.returncode != 0:  # the first echo may race a neighbour resolution
        result = harness.run(*cmd, netns=netns, check=False)
    return result


def check_public_port(vm: Vm, peer: list[str], own_port: str) -> None:
    """The internet saw vm as its public address, from a port of its range (a NAT) or its
    own port (a VIP translates only the address)."""
    assert peer[0] == vm.public
    if vm.ports is None:
        assert peer[1] == own_port
    else:
        assert vm.ports[0] <= int(peer[1]) < vm.ports[1], (peer, vm.ports)


VMS = ["vip", "nat-a", "nat-b"]


@pytest.mark.parametrize("name", VMS)
def test_ping_the_internet(cloud, name):
    vm = cloud.vms[name]
    before = relayed(cloud.a), relayed(cloud.b)
    result = ping(vm.netns, INTERNET)
    assert result.returncode == 0, result.stdout + result.stderr + diagnose(cloud)
    # the echo replies of host B's NAT VM came to host A, which relayed them to B
    after = relayed(cloud.a), relayed(cloud.b)
    if name == "nat-b":
        assert after[0] - before[0] >= 3 and after[1] == before[1], (before, after)
    else:
        assert after == before
    # the host tracked the echo under the identifier it chose (a NAT: one of the range)
    echo = [f for f in flows(vm.node) if f.key.protocol == 1 and f.key.src == vm.ipv4
            and f.key.dst == INTERNET]
    assert echo, f"no echo flow on host {vm.node.name}"
    assert echo[-1].reply_key.dst == vm.public
    if vm.ports is not None:
        assert vm.ports[0] <= echo[-1].reply_key.dst_port < vm.ports[1]


@pytest.mark.parametrize("name", VMS)
def test_tcp_to_the_internet(cloud, name):
    vm = cloud.vms[name]
    used = used_ports(cloud.a), used_ports(cloud.b)
    client, peers = run_pair(cloud, cloud.internet, TCP_SERVER, INTERNET, vm.netns, TCP_CLIENT,
                             INTERNET)
    assert client.returncode == 0, client.stderr + diagnose(cloud)
    length, start, own_port = client.stdout.split()
    assert (length, start) == ("100006", "echo:")
    check_public_port(vm, peers[0], own_port)
    # a NAT VM's connection took a port of its host's count, on its host only
    now = used_ports(cloud.a), used_ports(cloud.b)
    if vm.ports is not None:
        home = 0 if vm.node is cloud.a else 1
        assert now[home][vm.iface] == used[home][vm.iface] + 1, (used, now)
        assert now[1 - home] == used[1 - home]
    else:
        assert now == used
    if name == "nat-b":
        # host A relayed the internet's side of the connection: a flow of its own, from the
        # internet to the NAT IP and B's port, never answered
        relay = [f for f in flows(cloud.a) if f.key.protocol == 6 and f.key.dst == NAT_IP
                 and f.key.dst_port == int(peers[0][1])]
        assert relay, f"no relayed flow on host A\n{diagnose(cloud)}"
        assert (relay[0].key.src, relay[0].key.src_port) == (INTERNET, 7000)
        assert relay[0].packets >= 3 and relay[0].reply_packets == 0


@pytest.mark.parametrize("name, size", [
    ("vip", 100), ("nat-a", 100), ("nat-b", 100), ("vip", 8000), ("nat-a", 8000),
    ("nat-b", 8000)])
def test_udp_to_the_internet(cloud, name, size):
    """A small datagram, and one of 8000 bytes that leaves the VM in six fragments (a
    1460-byte MTU) and comes back from the internet in six: through a NAT, the first
    fragment gets the port, the others the NAT IP (and, coming back, the VM of the first);
    nat-b's come back through host A's relay."""
    vm = cloud.vms[name]
    drops = vm.node.svc.drops().get("snat_fragment", 0)
    client, peers = run_pair(cloud, cloud.internet, UDP_SERVER, INTERNET, vm.netns, UDP_CLIENT,
                             INTERNET, str(size))
    if client.returncode != 0 and size > MTU and vm.ports is not None:
        now = vm.node.svc.drops().get("snat_fragment", 0)
        if now > drops and not peers:
            raise FragmentsDropped(f"{now - drops} fragments dropped as snat_fragment")
    assert client.returncode == 0, client.stderr + diagnose(cloud)
    length, start, own_port = client.stdout.split()
    assert (length, start) == (str(size + 5), "echo:")
    check_public_port(vm, peers[0], own_port)


def test_the_internet_connects_to_the_vip(cloud):
    vm = cloud.vms["vip"]
    client, peers = run_pair(cloud, vm.netns, TCP_SERVER, vm.ipv4, cloud.internet, TCP_CLIENT,
                             VIP)
    assert client.returncode == 0, client.stderr + diagnose(cloud)
    assert client.stdout.split()[:2] == ["100006", "echo:"]
    # the VM saw the internet as it is, on its own address
    assert peers[0][0] == INTERNET
    conn = [f for f in flows(cloud.a) if f.key.protocol == 6 and f.key.src == INTERNET
            and f.key.dst_port == 7000]
    assert conn, f"no flow of the connection on host A\n{diagnose(cloud)}"
    assert conn[0].key.dst == VIP and conn[0].reply_key.src == vm.ipv4
    assert conn[0].tcp_state in ("established", "finwait", "rst_fin")


def test_the_internet_pings_the_vip_and_the_nat_ip(cloud):
    """The VIP's VM answers its pings; host A (the NAT IP's underlay's) answers the NAT IP's
    itself, from its own underlay address."""
    vip = ping(cloud.internet, VIP)
    assert vip.returncode == 0, vip.stdout + vip.stderr + diagnose(cloud)
    before = relayed(cloud.a), relayed(cloud.b)
    nat = ping(cloud.internet, NAT_IP)
    assert nat.returncode == 0, nat.stdout + nat.stderr + diagnose(cloud)
    after = relayed(cloud.a), relayed(cloud.b)
    assert after[0] - before[0] >= 3 and after[1] == before[1], (before, after)


def test_the_nat_ip_through_host_b(cloud):
    """The router sends the NAT IP to host B's NAT underlay address instead: host B relays
    host A's range (its neighbour NAT) to host A, and host A relays nothing."""
    vm = cloud.vms["nat-a"]
    cloud.route_back(NAT_IP, cloud.vms["nat-b"].underlay)
    try:
        before = relayed(cloud.a), relayed(cloud.b)
        result = ping(vm.netns, INTERNET)
        assert result.returncode == 0, result.stdout + result.stderr + diagnose(cloud)
        client, peers = run_pair(cloud, cloud.internet, TCP_SERVER, INTERNET, vm.netns,
                                 TCP_CLIENT, INTERNET)
        assert client.returncode == 0, client.stderr + diagnose(cloud)
        assert client.stdout.split()[:2] == ["100006", "echo:"]
        check_public_port(vm, peers[0], client.stdout.split()[2])
        after = relayed(cloud.a), relayed(cloud.b)
        assert after[0] == before[0] and after[1] - before[1] >= 3 + 3, (before, after)
        relay = [f for f in flows(cloud.b) if f.key.protocol == 6 and f.key.dst == NAT_IP
                 and f.key.dst_port == int(peers[0][1])]
        assert relay, f"no relayed flow on host B\n{diagnose(cloud)}"
        assert relay[0].reply_packets == 0
    finally:
        cloud.route_back(NAT_IP, vm.underlay)


# --- NAT64: the IPv6-only VM on host B ------------------------------------------------------

# Prints "listening", then each ICMP echo request that comes in as "address identifier" (a
# raw socket gets a copy; the kernel still answers).
ECHO_WATCHER = """
import socket, struct
with socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP) as s:
    s.settimeout(20)
    print("listening", flush=True)
    while True:
        pkt = s.recv(65535)
        ihl = (pkt[0] & 15) * 4
        if pkt[ihl] == 8:
            print(socket.inet_ntoa(pkt[12:16]), struct.unpack("!H", pkt[ihl + 4:ihl + 6])[0],
                  flush=True)
"""


def diagnose64(cloud: Cloud) -> str:
    """diagnose, and the flows both hosts hold."""
    lines = [diagnose(cloud)]
    for node in (cloud.a, cloud.b):
        lines.append(f"host {node.name} flows:")
        lines += [f"  {f.key} -> {f.reply_key} packets {f.packets}/{f.reply_packets}"
                  .replace("\n", " ") for f in flows(node)]
    return "\n".join(lines)


def nat64_flows(cloud: Cloud, protocol: int) -> list:
    vm = cloud.vms["nat6"]
    return [f for f in flows(cloud.b) if f.key.protocol == protocol and f.key.src == vm.ipv6
            and f.key.dst == INTERNET6]


def check_nat64_flow(vm: Vm, flow, public_port: int) -> None:
    """Host B tracked the VM's IPv6 flow with the IPv4 reply it expects: from the internet
    to the NAT IP and the port it chose."""
    assert (flow.reply_key.src, flow.reply_key.dst) == (INTERNET, NAT_IP), flow
    assert flow.reply_key.dst_port == public_port, flow
    assert flow.packets >= 1 and flow.reply_packets >= 1, flow


def test_nat64_ping(cloud):
    vm = cloud.vms["nat6"]
    before = relayed(cloud.a), relayed(cloud.b)
    watcher = subprocess.Popen(["ip", "netns", "exec", cloud.internet, "python3", "-c",
                                ECHO_WATCHER], stdout=subprocess.PIPE, text=True)
    try:
        assert watcher.stdout.readline().strip() == "listening"
        result = ping(vm.netns, INTERNET6)
    finally:
        watcher.kill()
        seen = [line.split() for line in watcher.communicate()[0].splitlines()]
    assert result.returncode == 0, result.stdout + result.stderr + diagnose64(cloud)
    # the internet saw echo requests from the NAT IP, with an identifier of nat6's range
    assert len(seen) >= 3, seen
    for address, ident in seen:
        assert address == NAT_IP and vm.ports[0] <= int(ident) < vm.ports[1], seen
    # the replies came to host A, which relayed them to host B
    after = relayed(cloud.a), relayed(cloud.b)
    assert after[0] - before[0] >= 3 and after[1] == before[1], (before, after)
    # host B tracked the echo under the identifier the internet saw last (ping's retry, if
    # any, is a flow of its own)
    ident = int(seen[-1][1])
    echo = [f for f in nat64_flows(cloud, 58) if f.reply_key.dst_port == ident]
    assert echo, f"no ICMPv6 echo flow on host B\n{diagnose64(cloud)}"
    check_nat64_flow(vm, echo[0], ident)


def test_nat64_tcp(cloud):
    vm = cloud.vms["nat6"]
    used = used_ports(cloud.a), used_ports(cloud.b)
    client, peers = run_pair(cloud, cloud.internet, TCP_SERVER, INTERNET, vm.netns, TCP_CLIENT,
                             INTERNET6)
    assert client.returncode == 0, client.stderr + diagnose64(cloud)
    length, start, own_port = client.stdout.split()
    assert (length, start) == ("100006", "echo:")
    check_public_port(vm, peers[0], own_port)
    # the connection took a port of nat6's count on host B, nothing on host A
    now = used_ports(cloud.a), used_ports(cloud.b)
    assert now[1]["nat6"] == used[1].get("nat6", 0) + 1, (used, now)
    assert now[0] == used[0] and now[1]["nat-b"] == used[1]["nat-b"], (used, now)
    conn = [f for f in nat64_flows(cloud, 6) if f.key.src_port == int(own_port)]
    assert conn, f"no flow of the connection on host B\n{diagnose64(cloud)}"
    check_nat64_flow(vm, conn[0], int(peers[0][1]))
    # host A relayed the internet's side: a flow of its own to the NAT IP and nat6's port
    relay = [f for f in flows(cloud.a) if f.key.protocol == 6 and f.key.dst == NAT_IP
             and f.key.dst_port == int(peers[0][1])]
    assert relay, f"no relayed flow on host A\n{diagnose64(cloud)}"
    assert relay[0].packets >= 3 and relay[0].reply_packets == 0


def test_nat64_udp(cloud):
    vm = cloud.vms["nat6"]
    client, peers = run_pair(cloud, cloud.internet, UDP_SERVER, INTERNET, vm.netns, UDP_CLIENT,
                             INTERNET6, "100")
    assert client.returncode == 0, client.stderr + diagnose64(cloud)
    length, start, own_port = client.stdout.split()
    assert (length, start) == ("105", "echo:")
    check_public_port(vm, peers[0], own_port)
    datagram = [f for f in nat64_flows(cloud, 17) if f.key.src_port == int(own_port)]
    assert datagram, f"no UDP flow on host B\n{diagnose64(cloud)}"
    check_nat64_flow(vm, datagram[0], int(peers[0][1]))
