# SPDX-License-Identifier: Apache-2.0
"""The periodic announcements of the maintenance timer, in its first cycle (MAINTENANCE_FAST
after the start): to every VF whose interface has an IPv4 address, the ARP request from
169.254.0.1 — for the VM's own address while its ARP cycle is pending, for 169.254.0.1 once
the VM answered; with --enable-ipv6-overlay, to every VF whose interface has an IPv6 address,
the RA and the unsolicited NA for fe80::1, to ff02::1. Each test starts its own service: the
timer's fast cycles only last the first MAINTENANCE_FAST_CYCLES."""
from __future__ import annotations

import time

from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_RA,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptSrcLLAddr,
    IPv6,
)
from scapy.layers.l2 import ARP, Ether

import harness
from dplane.maintenance import FAST as MAINTENANCE_FAST
from neighutil import (
    ALL_NODES,
    ALL_NODES_MAC,
    BROADCAST,
    GW4,
    GW6,
    Vm,
    is_arp_request,
    is_na,
    is_ra,
    send_and_count,
)

# the first cycle comes MAINTENANCE_FAST after the service started, which was before it
# answered health checks: one cycle from now, plus slack for a loaded machine
FIRST_CYCLE = MAINTENANCE_FAST + 2.0


def periodic_arp(vm: Vm, target: str) -> bytes:
    return bytes(Ether(dst=BROADCAST, src=vm.vf_mac) /
                 ARP(op=1, hwsrc=vm.vf_mac, psrc=GW4, hwdst="00:00:00:00:00:00", pdst=target))


def periodic_na(vm: Vm) -> bytes:
    return bytes(Ether(dst=ALL_NODES_MAC, src=vm.vf_mac) /
                 IPv6(src=GW6, dst=ALL_NODES, hlim=255) /
                 ICMPv6ND_NA(R=1, S=0, O=1, tgt=GW6) / ICMPv6NDOptDstLLAddr(lladdr=vm.vf_mac))


def periodic_ra(vm: Vm) -> bytes:
    return bytes(Ether(dst=ALL_NODES_MAC, src=vm.vf_mac) /
                 IPv6(src=GW6, dst=ALL_NODES, hlim=255) /
                 ICMPv6ND_RA(chlim=255, M=1, O=1, H=0, prf=0, P=0, res=0,
                             routerlifetime=0xFFFF, reachabletime=0, retranstimer=0) /
                 ICMPv6NDOptSrcLLAddr(lladdr=vm.vf_mac))


def collect(vms: list[Vm], until, deadline: float) -> dict[int, list[Ether]]:
    """Every frame out of the VMs' TAPs until until(frames) holds or the deadline passes."""
    frames: dict[int, list[Ether]] = {vm.i: [] for vm in vms}
    while time.monotonic() < deadline and not until(frames):
        for vm in vms:
            pkt = vm.tap.recv(0.05)
            if pkt is not None:
                frames[vm.i].append(pkt)
    return frames


def test_periodic_arp_first_cycle(start_service):
    """VM 0 answers (it may before being asked: any reply of the VM for its address during
    the cycle counts), VM 1 does not: the first cycle asks VM 1 for its address and only
    announces the gateway to VM 0. No NA/RA without --enable-ipv6-overlay."""
    svc = start_service()
    deadline = time.monotonic() + FIRST_CYCLE
    svc.initialize()
    vm0, vm1 = Vm(svc, 0), Vm(svc, 1)
    vm0.create("vm0")
    vm1.create("vm1")
    assert send_and_count(vm0, [vm0.arp_reply()], "arp_learned") == {"arp_learned": 1}

    frames = collect([vm0, vm1], lambda f: all(any(map(is_arp_request, f[i])) for i in f),
                     deadline)
    arp0 = [bytes(p) for p in frames[0] if is_arp_request(p)]
    arp1 = [bytes(p) for p in frames[1] if is_arp_request(p)]
    assert arp0 == [periodic_arp(vm0, GW4)]
    assert arp1 == [periodic_arp(vm1, vm1.ipv4)]
    assert len(arp0[0]) == 42
    assert not [p for f in frames.values() for p in f if IPv6 in p]

    # VM 1 answers the request: its cycle is over, a second answer is just a reply
    assert send_and_count(vm1, [vm1.arp_reply()], "arp_learned") == {"arp_learned": 1}
    assert send_and_count(vm1, [vm1.arp_reply()], "arp_not_request") == {"arp_not_request": 1}


def test_periodic_nd_first_cycle(start_service):
    """With --enable-ipv6-overlay: RA, NA and ARP (dpservice's order) to VM 0, which has both
    address families; only the ARP request to VM 1, which has no IPv6 address."""
    svc = start_service(opts=harness.SERVICE_OPTS + ["--enable-ipv6-overlay"])
    deadline = time.monotonic() + FIRST_CYCLE
    svc.initialize()
    vm0, vm1 = Vm(svc, 0), Vm(svc, 1)
    vm0.create("vm0")
    vm1.create("vm1", ipv6="::")

    def done(f):
        return len([p for p in f[0] if is_ra(p) or is_na(p) or is_arp_request(p)]) >= 3 \
            and any(map(is_arp_request, f[1]))

    frames = collect([vm0, vm1], done, deadline)
    # anything still on its way to VM 1 in this cycle
    frames[1] += collect([vm1], lambda f: False, time.monotonic() + 0.3)[1]
    got0 = [bytes(p) for p in frames[0] if is_ra(p) or is_na(p) or is_arp_request(p)]
    assert got0 == [periodic_ra(vm0), periodic_na(vm0), periodic_arp(vm0, vm0.ipv4)]
    assert [bytes(p) for p in frames[1] if is_arp_request(p)] == [
        periodic_arp(vm1, vm1.ipv4)]
    assert not [p for p in frames[1] if IPv6 in p]
    for pkt in frames[0]:
        if is_na(pkt):
            assert (pkt[ICMPv6ND_NA].R, pkt[ICMPv6ND_NA].S, pkt[ICMPv6ND_NA].O) == (1, 0, 1)
            assert pkt[IPv6].hlim == 255
