# SPDX-License-Identifier: Apache-2.0
"""The worker sleeps while its ports are idle, without losing or delaying a packet (--idle).

With the default (`interrupt`), the worker sleeps on its ports' rx interrupts (net_tap: the
queue's descriptor) and on a kick from the control thread; it takes net_tap's per-packet
signal itself. Checked as a user would: two kernel "VMs" (network namespaces on VF TAPs)
exchange TCP with iperf3 and nothing is dropped or retransmitted; an idle worker takes next
to no CPU yet answers DHCP at once; packets the control thread sends (the periodic ARP)
leave at once. `pause` and `busy` do what they say, and a port that cannot interrupt (a
net_ring uplink) makes the worker pause instead of sleeping.
"""
from __future__ import annotations

import json
import os
import random
import shutil
import statistics
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scapy.layers.dhcp import DHCP
from scapy.layers.l2 import ARP, Ether

import harness
from dhcp_util import dhcp_frame, send
from dplane.proto import dpdk_pb2
from dplane.telemetry_client import TelemetryClient, socket_path

IDLE_CPU_MAX = 0.02   # of a core, over IDLE_SECONDS (the bound; dpservice: 1.0)
IDLE_SECONDS = 3.0
SLEEP_TIMEOUT = 0.1   # the worker's longest sleep (worker.c SLEEP_MAX_MS)
TCP_RUNS, TCP_SECONDS = 3, 3
VM_ADDRS = ("10.7.0.1", "10.7.0.2")


# ---------------------------------------------------------------------------------------
# Helpers

def idle_stats(svc: harness.Service) -> dict:
    with TelemetryClient(socket_path(svc.prefix)) as client:
        return client.query("/dplane/worker/idle")


def worker_cpu_seconds(svc: harness.Service) -> float:
    """utime + stime of the service's worker lcore thread (EAL names it rte-worker-<id>).
    `ip netns exec` execs the service, so its pid is the service's."""
    for task in Path(f"/proc/{svc.proc.pid}/task").iterdir():
        if (task / "comm").read_text().startswith("rte-worker"):
            fields = (task / "stat").read_text().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    raise AssertionError("no worker thread")


def worker_cpu_share(svc: harness.Service, seconds: float) -> float:
    before = worker_cpu_seconds(svc)
    time.sleep(seconds)
    return (worker_cpu_seconds(svc) - before) / seconds


def create_interface(svc: harness.Service, iface_id: str, vf: int, ipv4: str) -> None:
    svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=iface_id.encode(), vni=100, device_name=f"dtapvf_{vf}",
        ipv4_config=dpdk_pb2.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=f"2001:db8::7:{vf}".encode())),
        timeout=5)


def dhcp_latency(tap: harness.Tap) -> float:
    """Seconds from a DHCPDISCOVER to the service's OFFER (other frames, such as the
    periodic ARP request, are skipped)."""
    started = time.monotonic()
    send(tap, dhcp_frame([("message-type", "discover"), "end"]))
    deadline = started + 2
    while (left := deadline - time.monotonic()) > 0:
        reply = tap.recv_raw(left)
        if reply is not None and DHCP in Ether(reply):
            return time.monotonic() - started
    raise AssertionError("no DHCP offer")


def answers_dhcp(svc: harness.Service, vf: int = 0) -> None:
    create_interface(svc, f"idle{vf}", vf, f"10.7.1.{vf + 1}")
    try:
        tap = svc.tap(f"dtapvf_{vf}")
        tap.drain()
        dhcp_latency(tap)
    finally:
        svc.api.DeleteInterface(dpdk_pb2.DeleteInterfaceRequest(
            interface_id=f"idle{vf}".encode()), timeout=5)


# ---------------------------------------------------------------------------------------
# One service for the default mode: VF 0 for scapy, VFs 2 and 3 for kernel VMs

@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(nb_vfs=4, telemetry=True) as service:
        yield service


@pytest.fixture(scope="module")
def scapy_vf(svc: harness.Service) -> Iterator[harness.Tap]:
    create_interface(svc, "scapy", 0, "10.7.1.1")
    tap = svc.tap("dtapvf_0")
    # warm up: the VF's link is up once DPDK answers
    assert dhcp_latency(tap) < 2
    yield tap


def test_default_mode_sleeps_on_interrupts(svc):
    stats = idle_stats(svc)
    assert stats["mode"] == "interrupt"
    assert stats["nointr_ports"] == 0 and stats["intr_ports"] >= 2  # the uplinks at least
    assert dict(svc.stats().options)["idle"] == "interrupt"


@pytest.mark.quiet
def test_idle_worker_takes_no_core_and_answers_at_once(svc, scapy_vf):
    """Idle: the worker sleeps (well under 2 % of a core, dpservice spins a whole one), and
    DHCP is answered as fast as ever: woken by the packet, not by the sleep's timeout."""
    scapy_vf.drain()
    before = idle_stats(svc)
    share = worker_cpu_share(svc, IDLE_SECONDS)
    after = idle_stats(svc)
    assert share <= IDLE_CPU_MAX, f"idle worker used {share:.1%} of a core"
    assert after["sleeps"] > before["sleeps"] and after["pauses"] == before["pauses"]
    assert after["asleep_ns"] - before["asleep_ns"] > 0.9 * IDLE_SECONDS * 1e9

    latencies = []
    for _ in range(10):
        time.sleep(random.uniform(0.02, 0.15))  # anywhere in the worker's sleep
        latencies.append(dhcp_latency(scapy_vf))
    woken = idle_stats(svc)
    # had the packets waited for the timeout, they would take 50 ms on average
    assert statistics.median(latencies) < SLEEP_TIMEOUT / 5, latencies
    assert max(latencies) < SLEEP_TIMEOUT * 0.9, latencies
    assert woken["wakeups"] - after["wakeups"] >= 10


def test_packets_the_control_thread_sends_wake_the_worker(svc, scapy_vf):
    """The periodic ARP request is made by the control thread (dp_inject): it kicks the
    sleeping worker, which sends the request at once."""
    scapy_vf.drain()
    before = idle_stats(svc)
    deadline = time.monotonic() + 12  # the maintenance cycle: every 5 s at first
    while time.monotonic() < deadline:
        frame = scapy_vf.recv(timeout=1)
        if frame is not None and ARP in frame and frame[ARP].op == 1:
            break
    else:
        pytest.fail("no ARP request from the service")
    assert idle_stats(svc)["kicks"] > before["kicks"]


@pytest.fixture
def vm_pair(svc: harness.Service) -> Iterator[tuple[str, str]]:
    """Two VMs: network namespaces holding VF 2's and VF 3's TAP as eth0, reaching each
    other through the service (gateway 169.254.0.1)."""
    names = [f"dpidle{os.getpid()}-{i}" for i in range(2)]
    created = []
    try:
        for i, (name, addr) in enumerate(zip(names, VM_ADDRS, strict=True)):
            vf = 2 + i
            create_interface(svc, f"vm{vf}", vf, addr)
            harness.run("ip", "netns", "add", name)
            created.append(name)
            harness.run("ip", "link", "set", f"dtapvf_{vf}", "netns", name, "name", "eth0",
                        netns=svc.netns.name)
            for cmd in (("link", "set", "lo", "up"), ("link", "set", "eth0", "up"),
                        ("addr", "add", f"{addr}/32", "dev", "eth0"),
                        ("route", "add", "169.254.0.1", "dev", "eth0"),
                        ("route", "add", "default", "via", "169.254.0.1")):
                harness.run("ip", *cmd, netns=name)
        harness.run("ping", "-c", "3", "-i", "0.2", "-W", "2", VM_ADDRS[1], netns=names[0])
        yield names[0], names[1]
    finally:
        for name in created:
            harness.run("ip", "netns", "del", name, check=False)


def tcp_retransmits(vm: str) -> int:
    lines = [line.split() for line in harness.run("cat", "/proc/net/snmp", netns=vm)
             .stdout.splitlines() if line.startswith("Tcp:")]
    return int(dict(zip(lines[0], lines[1], strict=True))["RetransSegs"])


def tap_drops(vm: str) -> tuple[int, int]:
    stats = json.loads(harness.run("ip", "-j", "-s", "link", "show", "eth0", netns=vm)
                       .stdout)[0]["stats64"]
    return stats["tx"]["dropped"], stats["rx"]["dropped"]


@pytest.mark.quiet
@pytest.mark.skipif(shutil.which("iperf3") is None, reason="needs iperf3 (tools/setup.sh)")
def test_tcp_between_two_vms_loses_nothing(svc, vm_pair):
    """iperf3 from one VM to the other: no frame dropped at either TAP, no TCP segment
    retransmitted, over three runs (with a 500 us nap, the sender's TAP dropped hundreds).
    Alone on the machine (`quiet`): with the CPUs taken by other work, a TCP sender fills
    its TAP faster than any worker gets to empty it, busy polling or not."""
    sender, receiver = vm_pair
    server = subprocess.Popen(["ip", "netns", "exec", receiver, "iperf3", "-s"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        time.sleep(0.5)
        before = (tcp_retransmits(sender), tap_drops(sender), tap_drops(receiver))
        rates = []
        for _ in range(TCP_RUNS):
            out = harness.run("iperf3", "-c", VM_ADDRS[1], "-t", str(TCP_SECONDS), "-J",
                              netns=sender).stdout
            rates.append(json.loads(out)["end"]["sum_received"]["bits_per_second"])
            time.sleep(0.3)  # idle in between: the worker goes to sleep and must wake
        after = (tcp_retransmits(sender), tap_drops(sender), tap_drops(receiver))
    finally:
        server.kill()
        server.wait()
    assert min(rates) > 10e6, rates
    assert after == before, f"retransmits, drops (tx, rx) at sender, receiver: {before} -> {after}"


# ---------------------------------------------------------------------------------------
# The other modes

Start = Callable[..., harness.Service]


@pytest.fixture
def start() -> Iterator[Start]:
    """start(opts, eal_edit) -> an initialised service on 2 PF and 2 VF TAPs with its
    telemetry socket; eal_edit may change its EAL arguments."""
    running: list[tuple[harness.Netns, harness.Service | None]] = []

    def start(opts: list[str], eal_edit: Callable[[list[str]], list[str]] = list
              ) -> harness.Service:
        ns = harness.Netns()
        running.append((ns, None))
        eal = eal_edit(harness.tap_eal_args(2, f"dpt{ns.id}", telemetry=True))
        svc = harness.start_service(ns, eal, opts)
        running[-1] = (ns, svc)
        svc.initialize()
        return svc

    try:
        yield start
    finally:
        for ns, svc in running:
            if svc is not None:
                svc.terminate()
            ns.delete()


def test_busy_worker_never_sleeps(start):
    svc = start([*harness.SERVICE_OPTS, "--idle", "busy"])
    # it spins: all the CPU it gets (the machine's other tests take their share)
    assert worker_cpu_share(svc, 1.0) > 0.25
    stats = idle_stats(svc)
    assert stats["mode"] == "busy"
    assert stats["sleeps"] == stats["pauses"] == stats["asleep_ns"] == 0
    answers_dhcp(svc)


def test_pause_mode_pauses(start):
    svc = start([*harness.SERVICE_OPTS, "--idle", "pause"])
    before = idle_stats(svc)
    time.sleep(0.5)
    after = idle_stats(svc)
    assert after["mode"] == "pause" and after["sleeps"] == 0
    assert after["pauses"] > before["pauses"]
    answers_dhcp(svc)


def test_a_port_without_interrupts_makes_the_worker_pause(start):
    """PF1 on net_ring (an empty ring), which has no rx interrupts: the worker cannot sleep
    on every port, so it pauses (counted), and still answers at once."""
    opts = list(harness.SERVICE_OPTS)
    opts[opts.index("--pf1") + 1] = "net_ring0"
    svc = start(opts, lambda eal: [a for a in eal if "iface=dtap1," not in a]
                + ["--vdev=net_ring0"])
    before = idle_stats(svc)
    time.sleep(0.5)
    after = idle_stats(svc)
    assert after["mode"] == "interrupt"
    assert (after["intr_ports"], after["nointr_ports"]) == (1, 1)
    assert after["pauses"] > before["pauses"] and after["sleeps"] == before["sleeps"]
    answers_dhcp(svc)


def test_a_vf_whose_tap_went_away_does_not_keep_the_worker_up(start):
    """A VM's TAP deleted with its network namespace (the VM is gone, its interface not yet):
    its descriptor reports a hang-up at every sleep. The worker stops sleeping on it and
    pauses instead (a few percent of a core, not all of it), and still answers the others."""
    svc = start(list(harness.SERVICE_OPTS))
    create_interface(svc, "gone", 1, "10.7.3.1")
    name = f"dpidlegone{os.getpid()}"
    harness.run("ip", "netns", "add", name)
    try:
        harness.run("ip", "link", "set", "dtapvf_1", "netns", name, netns=svc.netns.name)
    finally:
        harness.run("ip", "netns", "del", name, check=False)
    time.sleep(0.5)
    assert worker_cpu_share(svc, 2.0) < 0.25
    after = idle_stats(svc)
    assert after["nointr_ports"] >= 1 and after["pauses"] > 0
    answers_dhcp(svc)


def test_bad_idle_mode_is_refused():
    proc = harness.dplane_options("--idle", "sometimes")
    assert proc.returncode != 0 and "'--idle'" in proc.stderr
