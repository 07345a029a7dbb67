# SPDX-License-Identifier: Apache-2.0
"""The firewall as a tenant sees it, enforcing: two VMs are network namespaces on the VF
TAPs with the kernel's own TCP; a server in vm2 listens on two ports, and vm1 reaches only
the one an ingress rule opens. An open connection is cut when its rule is deleted, and
works again when the rule comes back."""
from __future__ import annotations

import os
import subprocess
import textwrap
from collections.abc import Iterator

import pytest

import harness
from dplane.proto import dpdk_pb2 as pb

VMS = {"vm1": ("net_tap2", "dtapvf_0", "10.0.0.2"), "vm2": ("net_tap3", "dtapvf_1", "10.0.0.3")}
OPEN, CLOSED = 8080, 8081

SERVER = textwrap.dedent(f"""
    import socket, threading
    def serve(port):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("0.0.0.0", port))
        s.listen()
        while True:
            c, _ = s.accept()
            threading.Thread(target=echo, args=(c,), daemon=True).start()
    def echo(c):
        while (data := c.recv(100)):
            c.sendall(data)
    for port in ({OPEN}, {CLOSED}):
        threading.Thread(target=serve, args=(port,), daemon=True).start()
    print("ready", flush=True)
    threading.Event().wait()
""")

# connect, echo once, then one more echo per line read from stdin; prints what happened
CLIENT = textwrap.dedent("""
    import socket, sys
    try:
        c = socket.create_connection(("10.0.0.3", int(sys.argv[1])), timeout=3)
    except OSError as exc:
        print("refused" if isinstance(exc, ConnectionRefusedError) else "timeout", flush=True)
        sys.exit()
    for line in sys.stdin:
        if line.startswith("!"):  # "!text": wait long (retransmissions back off)
            c.settimeout(20)
            line = line[1:]
        c.sendall(line.strip().encode())
        try:
            print(c.recv(100).decode() or "closed", flush=True)
        except socket.timeout:
            print("timeout", flush=True)
""")


def vm_ns(vm: str) -> str:
    return f"fwvm{vm[-1]}-{os.getpid()}"


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(opts=["--firewall-enforce"]) as svc:
        namespaces = []
        try:
            for vm, (device, tap, ipv4) in VMS.items():
                reply = svc.api.CreateInterface(pb.CreateInterfaceRequest(
                    interface_id=vm.encode(), vni=100, device_name=device,
                    ipv4_config=pb.IpConfig(primary_address=ipv4.encode()),
                    ipv6_config=pb.IpConfig(primary_address=b"::")), timeout=5)
                assert reply.status.code == 0, reply.status
                ns = vm_ns(vm)
                harness.run("ip", "netns", "add", ns)
                namespaces.append(ns)
                harness.run("ip", "link", "set", tap, "netns", ns, "name", "eth0",
                            netns=svc.netns.name)
                for cmd in (("ip", "link", "set", "lo", "up"),
                            ("ip", "link", "set", "eth0", "up"),
                            ("ip", "addr", "add", f"{ipv4}/32", "dev", "eth0"),
                            ("ip", "route", "add", "169.254.0.1", "dev", "eth0"),
                            ("ip", "route", "add", "default", "via", "169.254.0.1")):
                    harness.run(*cmd, netns=ns)
            server = subprocess.Popen(["ip", "netns", "exec", vm_ns("vm2"), "python3", "-c",
                                       SERVER], stdout=subprocess.PIPE, text=True)
            try:
                assert server.stdout.readline().strip() == "ready"
                yield svc
            finally:
                server.kill()
                server.wait()
        finally:
            for ns in namespaces:
                harness.run("ip", "netns", "del", ns, check=False)


def client(port: int) -> subprocess.Popen:
    return subprocess.Popen(["ip", "netns", "exec", vm_ns("vm1"), "python3", "-c", CLIENT,
                             str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)


def exchange(proc: subprocess.Popen, text: str) -> str:
    proc.stdin.write(text + "\n")
    proc.stdin.flush()
    return proc.stdout.readline().strip()


def rule(svc, op: str, rule_id: str = "web", port: int = OPEN) -> None:
    if op == "add":
        reply = svc.api.CreateFirewallRule(pb.CreateFirewallRuleRequest(
            interface_id=b"vm2", rule=pb.FirewallRule(
                id=rule_id.encode(), direction=pb.INGRESS, action=pb.ACCEPT, priority=1000,
                source_prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"10.0.0.0"),
                                        length=24),
                destination_prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4,
                                                             address=b"0.0.0.0")),
                protocol_filter=pb.ProtocolFilter(tcp=pb.TcpFilter(
                    src_port_lower=-1, dst_port_lower=port, dst_port_upper=port)))),
            timeout=5)
    else:
        reply = svc.api.DeleteFirewallRule(pb.DeleteFirewallRuleRequest(
            interface_id=b"vm2", rule_id=rule_id.encode()), timeout=5)
    assert reply.status.code == 0, reply.status


def test_only_the_opened_port_is_reachable(svc):
    for port in (OPEN, CLOSED):  # nothing is open yet
        proc = client(port)
        assert proc.communicate("", timeout=10)[0].strip() == "timeout"
    rule(svc, "add")
    try:
        proc = client(OPEN)
        assert exchange(proc, "hello") == "hello"
        proc.stdin.close()
        proc.wait(timeout=5)
        proc = client(CLOSED)
        assert proc.communicate("", timeout=10)[0].strip() == "timeout"
    finally:
        rule(svc, "del")


def test_a_connection_is_cut_when_its_rule_goes(svc):
    rule(svc, "add")
    proc = client(OPEN)
    try:
        assert exchange(proc, "one") == "one"
        rule(svc, "del")
        assert exchange(proc, "two") == "timeout"  # the established flow is denied now
        rule(svc, "add")
        # TCP retransmits "two": its echo comes once the rule is back
        assert exchange(proc, "!three") in ("twothree", "two")
    finally:
        proc.stdin.close()
        proc.kill()
        proc.wait()
        rule(svc, "del")
