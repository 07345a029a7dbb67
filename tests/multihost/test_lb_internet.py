# SPDX-License-Identifier: Apache-2.0
"""A load balancer end to end: TCP connections from an IPv4 "internet" namespace to the LB's
address are served by backend VMs (network namespaces on the VF TAPs) of two dplane hosts,
each connection by the backend dpservice's Maglev table gives its flow; the backends answer
the internet directly (direct server return). Removing a target leaves the other targets'
connections alone and sends no new connection to it.

    a1 (10.0.0.2) a2 (10.0.0.3): LB prefix 203.0.113.80/32    b1 (10.0.0.4): LB prefix
      | host A's VF TAPs                                          | host B's VF TAP
    dplane A (--ipv6 fc00:1::1): LB 203.0.113.80 TCP/80        dplane B (--ipv6 fc00:2::1)
      +-- PF0 == ra [ router: IPv6 forwarding, fc00:99::1 ] rb == PF0 --+
                       | edge0: the tunnels' end (user space, as in test_nat_internet)
                       | inet0 192.0.2.1/24
                  internet (192.0.2.10/24)

The router sends the internet's IPv4 for the LB's address to the LB's underlay address on
host A. Host A gives each new flow a target (an LB prefix's underlay address) by Maglev: a
local VM's is delivered to that VM, unchanged; host B's is tunnelled again, from the LB's
underlay address, back out of PF0, and the router forwards it to host B, which delivers it
to b1. Each backend has the LB's address on its eth0 and answers from it through its default
route (0.0.0.0/0 -> the router): the reply never passes host A's load balancer.

Each backend runs a small threaded TCP server on the LB's port 80 that answers every line
with its own name; the client in the internet namespace binds each connection to a port of
its choosing, so that the test knows each flow's key and the backend Maglev gives it
(`chosen`, as tests/lb/test_lb_packets.py computes it)."""
from __future__ import annotations

import json
import os
import select
import shutil
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from test_lb_packets import chosen  # dpservice's Maglev choice
from test_nat_internet import (
    EDGE,
    INTERNET,
    VNI,
    Cloud,
    Vm,
    add_vm,
    build_edge,
    diagnose,
    start_edge,
    start_node,
)
from test_two_hosts import route, sh, wait_router_mac, wire_underlay

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path

LB_IP = "203.0.113.80"
LB_PORT = 80
LB_ID = "lb-web"
TCP_PROTO = 6
# backend -> (host, VF, its own address)
BACKENDS = {"a1": ("a", 0, "10.0.0.2"), "a2": ("a", 1, "10.0.0.3"), "b1": ("b", 0, "10.0.0.4")}
CONNECTIONS = 1000

# argv: name, log file, address. Prints "listening"; answers each line "word" of a
# connection with "name word", and logs "client-port word" (flushed) to the log file.
SERVER = """
import socket, sys, threading
name, log, address = sys.argv[1], open(sys.argv[2], "a", buffering=1), sys.argv[3]
lock = threading.Lock()
def serve(conn, peer):
    with conn:
        conn.settimeout(120)
        try:
            for line in conn.makefile("rb"):
                word = line.decode().strip()
                with lock:
                    print(peer[1], word, file=log, flush=True)
                conn.sendall(f"{name} {word}\\n".encode())
        except OSError:
            pass
with socket.socket() as s:
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, 80)); s.listen(512)
    print("listening", flush=True)
    while True:
        conn, peer = s.accept()
        threading.Thread(target=serve, args=(conn, peer), daemon=True).start()
"""
# argv: own address, LB address, JSON {"hold": [ports], "new": [ports], "budget": seconds}.
# Opens a connection from each "hold" port, asks "hello" and keeps it; prints a JSON line
# {port: what answered}; if it held any, waits for a line on stdin, then asks "again" on
# each held connection. Then one short connection ("hello", close) from each "new" port, in
# turn. Prints a JSON line {"held": {port: outcome}, "new": {port: outcome}}: the name that
# answered, or "reset", "timeout", "closed", "refused", "error N" ("skipped": past budget).
CLIENT = """
import json, socket, sys, time
src, dst, plan = sys.argv[1], sys.argv[2], json.loads(sys.argv[3])
deadline = time.monotonic() + plan["budget"]
def connect(port):
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.settimeout(5)
    s.bind((src, port))
    s.connect((dst, 80))
    return s
def answer(s, word):
    reply = b""
    while not reply.endswith(b"\\n"):
        chunk = s.recv(4096)
        if not chunk:
            raise EOFError
        reply += chunk
    name, echoed = reply.decode().split()
    return name if echoed == word else "garbled " + reply.decode()
def outcome(fn, *args):
    try:
        return fn(*args)
    except ConnectionResetError:
        return "reset"
    except ConnectionRefusedError:
        return "refused"
    except (TimeoutError, socket.timeout):
        return "timeout"
    except EOFError:
        return "closed"
    except OSError as err:
        return f"error {err.errno}"
def hello(port):
    s = connect(port)
    held[port] = s
    s.sendall(b"hello\\n")
    return answer(s, "hello")
def short(port):
    with connect(port) as s:
        s.sendall(b"hello\\n")
        return answer(s, "hello")
def again(s):
    s.settimeout(max(0.1, until - time.monotonic()))
    return answer(s, "again")
held = {}
first = {port: outcome(hello, port) for port in plan["hold"]}
result = {"held": {}, "new": {}}
if plan["hold"]:
    print(json.dumps(first), flush=True)
    sys.stdin.readline()
    for port, s in held.items():  # all asked at once: one deadline for all the answers
        try:
            s.sendall(b"again\\n")
        except OSError:
            pass
    until = time.monotonic() + 5
    result["held"] = {port: outcome(again, s) for port, s in held.items()}
for port in plan["new"]:
    result["new"][port] = outcome(short, port) if time.monotonic() < deadline else "skipped"
for s in held.values():
    s.close()
print(json.dumps(result), flush=True)
"""


@dataclass
class LbCloud(Cloud):
    lb_underlay: str = ""
    logdir: str = ""
    servers: list[subprocess.Popen] = field(default_factory=list)

    @property
    def targets(self) -> dict[str, str]:
        """backend name -> its LB prefix's underlay address (its target)."""
        return {name: self.vms[name].underlay for name in BACKENDS}

    def backend_of(self, target: str) -> str:
        return next(name for name, t in self.targets.items() if t == target)

    def log(self, name: str) -> list[tuple[int, str]]:
        with open(os.path.join(self.logdir, name)) as f:
            return [(int(port), word) for port, word in (line.split() for line in f)]


def predicted(cloud: LbCloud, names: list[str], sport: int) -> str:
    """The backend, of those named, that a connection from the internet's port sport gets."""
    targets = [cloud.targets[name] for name in names]
    return cloud.backend_of(chosen(targets, INTERNET, LB_IP, TCP_PROTO, sport, LB_PORT))


# --- the cloud --------------------------------------------------------------------------------

def ip4(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV4, address=text.encode())


def ip6(text: str) -> pb.IpAddress:
    return pb.IpAddress(ipver=pb.IPV6, address=text.encode())


def create_lb(cloud: LbCloud) -> None:
    reply = cloud.a.svc.api.CreateLoadBalancer(pb.CreateLoadBalancerRequest(
        loadbalancer_id=LB_ID.encode(), vni=VNI, loadbalanced_ip=ip4(LB_IP),
        loadbalanced_ports=[pb.LbPort(protocol=pb.TCP, port=LB_PORT)]), timeout=5)
    assert reply.status.code == 0, reply.status
    cloud.lb_underlay = reply.underlay_route.decode()


def give_lb_prefix(vm: Vm) -> None:
    """The VM's LB prefix (its underlay address is its target); the VM takes the LB's
    address on eth0 to accept, and answer from, it."""
    reply = vm.node.svc.api.CreateLoadBalancerPrefix(pb.CreateLoadBalancerPrefixRequest(
        interface_id=vm.iface.encode(), prefix=pb.Prefix(ip=ip4(LB_IP), length=32)),
        timeout=5)
    assert reply.status.code == 0, reply.status
    vm.public, vm.underlay = LB_IP, reply.underlay_route.decode()
    sh("ip", "addr", "add", f"{LB_IP}/32", "dev", "eth0", netns=vm.netns)


def add_target(cloud: LbCloud, target: str) -> None:
    reply = cloud.a.svc.api.CreateLoadBalancerTarget(pb.CreateLoadBalancerTargetRequest(
        loadbalancer_id=LB_ID.encode(), target_ip=ip6(target)), timeout=5)
    assert reply.status.code == 0, reply.status


def delete_target(cloud: LbCloud, target: str) -> None:
    reply = cloud.a.svc.api.DeleteLoadBalancerTarget(pb.DeleteLoadBalancerTargetRequest(
        loadbalancer_id=LB_ID.encode(), target_ip=ip6(target)), timeout=5)
    assert reply.status.code == 0, reply.status


def readline(proc: subprocess.Popen, timeout: float) -> str:
    """A line of proc's stdout within timeout seconds ("" if none came)."""
    if not select.select([proc.stdout], [], [], timeout)[0]:
        return ""
    return proc.stdout.readline()


def start_server(cloud: LbCloud, name: str) -> None:
    server = subprocess.Popen(["ip", "netns", "exec", cloud.vms[name].netns, "python3", "-c",
                               SERVER, name, os.path.join(cloud.logdir, name), LB_IP],
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    cloud.servers.append(server)
    if readline(server, 10).strip() != "listening":
        raise RuntimeError(f"backend {name} did not start")


@pytest.fixture(scope="module")
def cloud() -> Iterator[LbCloud]:
    if os.geteuid() != 0:
        pytest.skip("needs root")
    pid = os.getpid()
    nodes = []
    c = None
    router, internet = f"dpt-lbedge-{pid}", f"dpt-lbinet-{pid}"
    logdir = tempfile.mkdtemp(prefix="dpt-lb-")
    try:
        sh("ip", "netns", "add", router)
        sh("ip", "netns", "add", internet)
        sh("sysctl", "-qw", "net.ipv6.conf.all.forwarding=1",
           "net.ipv6.conf.default.forwarding=1", netns=router)
        nodes.append(start_node("A", 1, 2))
        nodes.append(start_node("B", 2, 1))
        a, b = nodes
        c = LbCloud(a, b, {}, router, internet, logdir=logdir)
        for name, (host, vf, address) in BACKENDS.items():
            c.vms[name] = add_vm(c, getattr(c, host), vf, name, address)
            give_lb_prefix(c.vms[name])
        create_lb(c)
        for target in c.targets.values():
            add_target(c, target)
        wire_underlay(router, a, "a", 1)
        wire_underlay(router, b, "b", 2)
        for node in (a, b):
            route(node, "0.0.0.0", 0, EDGE)  # the backends answer the internet directly
        build_edge(c)
        sh("ip", "route", "add", f"{LB_IP}/32", "dev", "edge0", netns=router)
        # the internet's packets to the LB's address go to its underlay address on host A
        c.edge = start_edge(c, {LB_IP: c.lb_underlay})
        wait_router_mac(a)
        wait_router_mac(b)
        for name in BACKENDS:
            start_server(c, name)
        yield c
    finally:
        for proc in ([c.edge] + c.servers if c is not None else []):
            if proc is not None:
                proc.kill()
                proc.communicate()
        for node in nodes:
            node.svc.terminate()
        for ns in (c.namespaces if c is not None else []):
            harness.run("ip", "netns", "del", ns, check=False)
        for node in nodes:
            node.svc.netns.delete()
        harness.run("ip", "netns", "del", internet, check=False)
        harness.run("ip", "netns", "del", router, check=False)
        shutil.rmtree(logdir, ignore_errors=True)


# --- traffic ----------------------------------------------------------------------------------

class Client:
    """CLIENT in the internet namespace (one process for all of a plan's connections)."""

    def __init__(self, cloud: LbCloud, hold: list[int], new: list[int], budget: float) -> None:
        plan = {"hold": hold, "new": new, "budget": budget}
        self.proc = subprocess.Popen(["ip", "netns", "exec", cloud.internet, "python3", "-c",
                                      CLIENT, INTERNET, LB_IP, json.dumps(plan)],
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
        self.budget = budget

    def result(self, timeout: float) -> dict[int, str]:
        line = readline(self.proc, timeout)
        if not line:
            self.proc.kill()
            raise AssertionError(f"the client gave no result: {self.proc.communicate()[1]}")
        return {int(port): what for port, what in json.loads(line).items()}

    def go_on(self) -> None:
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def final(self) -> dict[str, dict[int, str]]:
        line = readline(self.proc, self.budget + 15)
        self.close()
        assert line, "the client gave no final result"
        return {part: {int(port): what for port, what in outcomes.items()}
                for part, outcomes in json.loads(line).items()}

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.communicate()


def checks(cloud: LbCloud) -> dict[str, dict]:
    """/dplane/checks of both hosts."""
    report = {}
    for node in (cloud.a, cloud.b):
        with TelemetryClient(socket_path(node.svc.prefix)) as client:
            report[node.name] = client.query("/dplane/checks")
    return report


def test_connections_follow_maglev(cloud):
    """1000 connections, one at a time, from ports 20000-20999: each is answered by the
    backend Maglev predicts for its flow, on host A (delivered locally) or host B (through
    the underlay). The backends answer from the LB's address, not their own: their LB
    prefix, which the source check takes as theirs."""
    names = list(BACKENDS)
    ports = list(range(20000, 20000 + CONNECTIONS))
    want = {port: predicted(cloud, names, port) for port in ports}
    started = time.monotonic()
    client = Client(cloud, [], ports, budget=80)
    try:
        got = client.final()["new"]
    finally:
        client.close()
    took = time.monotonic() - started
    wrong = {port: (want[port], got.get(port)) for port in ports if got.get(port) != want[port]}
    counts = Counter(got.values())
    print(f"\n{CONNECTIONS} connections in {took:.1f} s: {dict(sorted(counts.items()))}")
    assert not wrong, (f"{len(wrong)} connections not as Maglev says, e.g. "
                       f"{dict(list(wrong.items())[:10])}\n{diagnose(cloud)}")
    assert counts == Counter(want.values())
    assert set(counts) == set(BACKENDS)  # all three served, on both hosts
    # each backend saw exactly its connections' "hello"
    for name in BACKENDS:
        seen = {port for port, word in cloud.log(name) if port in want}
        assert seen == {port for port in ports if want[port] == name}, name
    # the backends' answers, from the LB's address (their LB prefix), are not spoofs
    for host, report in checks(cloud).items():
        assert set(report["spoofed_source"].values()) == {0}, (host, report)
    for node in (cloud.a, cloud.b):
        assert node.svc.drops().get("conntrack_spoofed_source", 0) == 0


def pick_ports(cloud: LbCloud, first: int, per_backend: int) -> list[int]:
    """Ports from first on, per_backend of them going to each backend."""
    names = list(BACKENDS)
    taken: dict[str, list[int]] = {name: [] for name in names}
    port = first
    while any(len(p) < per_backend for p in taken.values()):
        name = predicted(cloud, names, port)
        if len(taken[name]) < per_backend:
            taken[name].append(port)
        port += 1
    return sorted(p for ports in taken.values() for p in ports)


@pytest.mark.parametrize("removed, base", [("a1", 30000), ("b1", 40000)])
def test_removing_a_target(cloud, removed, base):
    """Idle connections on every backend; the removed backend's target goes (a local one on
    host A, or host B's). Host A forgets the flows it had sent to that target: the next
    packet of such a connection is a new flow to the LB, which Maglev gives to one of the
    remaining targets, whose VM does not know the connection and resets it (the client sees
    ECONNRESET at once, in both cases); nothing reaches the removed backend any more. The
    other connections go on where they were, and new connections reach only the remaining
    backends, as Maglev (on their targets) says.

    For a local target, the new LB flow's reply key is the reverse of its key, as is the
    reply key of the flow that had delivered the connection to the removed VM (which stays):
    only because that one is marked LB_ALIAS_PFX (an IPv4 /32 LB prefix) do they differ.
    Were they the same, host A would drop the connection's packets as conntrack_table_full
    and the client would time out instead of being reset."""
    names = list(BACKENDS)
    left = [name for name in names if name != removed]
    held = pick_ports(cloud, base, 5)
    new = list(range(base + 5000, base + 5060))
    client = Client(cloud, held, new, budget=40)
    try:
        before = client.result(30)
        want = {port: predicted(cloud, names, port) for port in held}
        assert before == want, diagnose(cloud)
        log_mark = len(cloud.log(removed))
        full = cloud.a.svc.drops().get("conntrack_table_full", 0)
        delete_target(cloud, cloud.targets[removed])
        try:
            client.go_on()
            after = client.final()
        finally:
            add_target(cloud, cloud.targets[removed])  # as it was, for the next case
    finally:
        client.close()
    print(f"\nremoved {removed}: held {after['held']}")
    # the other backends' connections went on, the removed one's were reset
    for port in held:
        if want[port] == removed:
            assert after["held"][port] == "reset", (port, after["held"], diagnose(cloud))
        else:
            assert after["held"][port] == want[port], (port, after["held"], diagnose(cloud))
    assert cloud.a.svc.drops().get("conntrack_table_full", 0) == full
    # the removed backend heard nothing more of its connections
    assert cloud.log(removed)[log_mark:] == []
    # new connections: only the remaining backends, as Maglev says; some of them would have
    # gone to the removed backend
    expect_new = {port: predicted(cloud, left, port) for port in new}
    assert after["new"] == expect_new, diagnose(cloud)
    assert any(predicted(cloud, names, port) == removed for port in new)
