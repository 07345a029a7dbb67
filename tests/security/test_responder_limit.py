# SPDX-License-Identifier: Apache-2.0
"""The host's answers are rationed per VF (--responder-rate, --responder-burst): a VM that
floods ARP, DHCPv4, DHCPv6 or ND requests gets its burst and then its rate, the rest is
dropped as `<responder>_rate_limited`, and the other VMs are answered as before. With the
defaults, far above a guest's needs, nothing a guest does is limited.

The service here allows 10 answers a second and 20 at once; each responder is flooded from
a VF of its own (a VF's bucket is shared by its responders)."""
from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from scapy.layers.dhcp import DHCP
from scapy.layers.dhcp6 import DHCP6_Advertise, DHCP6_Reply, DHCP6_Solicit
from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import Ether

import harness

sys.path.insert(0, str(Path(__file__).parent.parent / "neigh"))
sys.path.insert(0, str(Path(__file__).parent.parent / "dhcp"))
from dhcp_util import client_options, dhcp6_frame, dhcp_frame
from neighutil import GW6, Vm, is_arp_reply, is_na

RATE, BURST = 10, 20
FLOOD = 100


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(["--enable-ipv6-overlay", "--responder-rate", str(RATE),
                                  "--responder-burst", str(BURST)], nb_vfs=5) as service:
        yield service


@pytest.fixture(scope="module")
def vms(svc: harness.Service) -> Iterator[list[Vm]]:
    vms = [Vm(svc, i) for i in range(5)]
    for vm in vms:
        vm.create(f"rl{vm.i}")
    time.sleep(0.2)
    yield vms
    for vm in vms:
        vm.delete(f"rl{vm.i}")


def answers(vm: Vm, match: Callable[[Ether], bool], quiet: float = 0.5) -> int:
    """Frames out of the VM's TAP that match, until none came for `quiet` seconds."""
    count = 0
    while (pkt := vm.tap.recv(quiet)) is not None:
        count += match(pkt)
    return count


def flood(vm: Vm, frame, match: Callable[[Ether], bool], reason: str) -> None:
    vm.tap.drain()
    before = vm.svc.drops().get(reason, 0)
    started = time.monotonic()
    for _ in range(FLOOD):
        vm.send(frame)
    elapsed = time.monotonic() - started
    answered = answers(vm, match)
    # the burst, and what the rate refilled while the flood was being sent
    assert BURST <= answered <= BURST + RATE * elapsed + 1, (answered, elapsed)
    dropped = vm.svc.wait_drops(reason, before + FLOOD - answered).get(reason, 0) - before
    assert dropped == FLOOD - answered


def is_dhcp_offer(pkt: Ether) -> bool:
    return DHCP in pkt


def is_dhcp6_answer(pkt: Ether) -> bool:
    return DHCP6_Advertise in pkt or DHCP6_Reply in pkt


def ns(vm: Vm) -> Ether:
    """The VM's neighbour solicitation for the gateway fe80::1."""
    return (Ether(dst="33:33:ff:00:00:01", src=vm.mac) /
            IPv6(src=vm.lla, dst="ff02::1:ff00:1", hlim=255) / ICMPv6ND_NS(tgt=GW6) /
            ICMPv6NDOptSrcLLAddr(lladdr=vm.mac))


def test_arp_flood_is_limited_and_others_still_answered(vms):
    flooder, other = vms[0], vms[4]
    flood(flooder, flooder.arp_request(), is_arp_reply, "arp_rate_limited")
    other.send(other.arp_request())
    assert other.expect(is_arp_reply) is not None
    time.sleep(2 * BURST / RATE)  # the bucket refills
    flooder.send(flooder.arp_request())
    assert flooder.expect(is_arp_reply) is not None


def test_dhcp_flood_is_limited(vms):
    vm = vms[1]
    flood(vm, dhcp_frame([("message-type", "discover"), "end"], mac=vm.mac), is_dhcp_offer,
          "dhcp_rate_limited")


def test_dhcpv6_flood_is_limited(vms):
    vm = vms[2]
    frame = dhcp6_frame(DHCP6_Solicit() / client_options(mac=vm.mac), mac=vm.mac,
                        src=vm.lla)
    flood(vm, frame, is_dhcp6_answer, "dhcpv6_rate_limited")


def test_nd_flood_is_limited(vms):
    vm = vms[3]
    flood(vm, ns(vm), lambda p: is_na(p) and p.dst == vm.mac, "ipv6_nd_rate_limited")


def test_defaults_do_not_limit_a_guest():
    """The defaults: 200 requests at once are all answered."""
    with harness.running_service() as svc:
        vm = Vm(svc, 0)
        vm.create("rl-default")
        try:
            time.sleep(0.2)
            vm.tap.drain()
            for _ in range(200):
                vm.send(vm.arp_request())
            assert answers(vm, is_arp_reply) == 200
            assert svc.drops().get("arp_rate_limited", 0) == 0
            options = dict(svc.stats().options)
            assert (options["responder-rate"], options["responder-burst"]) == ("1000", "1000")
        finally:
            vm.delete("rl-default")


@pytest.mark.parametrize("option, value", [("--responder-rate", "-1"),
                                           ("--responder-rate", "1000001"),
                                           ("--responder-burst", "0")])
def test_bad_limits_are_refused(option, value):
    proc = harness.dplane_options(option, value)
    assert proc.returncode == 1 and f"'{option}'" in proc.stderr
