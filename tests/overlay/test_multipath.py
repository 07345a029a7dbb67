# SPDX-License-Identifier: Apache-2.0
"""Which PF carries a VM's IPv4 traffic into the underlay: PF0, a weighted share of flows on
PF1 with --wcmp, and the other PF when a link is down. IPv6 always takes the route's PF0."""
from __future__ import annotations

import time

from dpservice_hash import flow_hash, flow_key
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6

import harness
from overlay_util import VNI, create_route, create_vm, expect, from_vm

FLOWS = 40


def start(start_service, *opts: str) -> harness.Service:
    svc = start_service(opts=[*harness.SERVICE_OPTS, *opts])
    svc.initialize()
    create_vm(svc, "vm1")
    assert create_route(svc, "0.0.0.0", 0).code == 0
    assert create_route(svc, "::", 0).code == 0
    return svc


def egress(svc: harness.Service, flows: int = FLOWS, ipv6: bool = False) -> dict[str, int]:
    """How many of `flows` new flows left by each PF."""
    vm, pfs = svc.tap("dtapvf_0"), {"dtap0": svc.tap("dtap0"), "dtap1": svc.tap("dtap1")}
    for tap in pfs.values():
        tap.drain()
    for sport in range(1000, 1000 + flows):
        l3 = (IPv6(src="fd00::2", dst="2001:db8::1") if ipv6 else
              IP(src="10.0.0.2", dst="192.0.2.1"))
        vm.send(from_vm("vm1", l3 / UDP(sport=sport, dport=53)))
    counts = {}
    for name, tap in pfs.items():
        counts[name] = 0
        while expect(tap, 0.3) is not None:
            counts[name] += 1
    return counts


def test_pf0_without_wcmp(start_service):
    svc = start(start_service)
    assert egress(svc) == {"dtap0": FLOWS, "dtap1": 0}


def test_wcmp_zero_sends_everything_to_pf1(start_service):
    svc = start(start_service, "--wcmp", "0")
    assert egress(svc) == {"dtap0": 0, "dtap1": FLOWS}
    # IPv6 follows the route, always PF0
    assert egress(svc, 5, ipv6=True) == {"dtap0": 5, "dtap1": 0}


def test_wcmp_splits_flows(start_service):
    svc = start(start_service, "--wcmp", "50")
    counts = egress(svc)
    assert counts["dtap0"] + counts["dtap1"] == FLOWS
    assert counts["dtap0"] > 5 and counts["dtap1"] > 5, counts


def test_wcmp_picks_the_pf_dpservice_picks(start_service):
    """Each flow's PF is dpservice's: slot jhash(flow key) % 10 of the WCMP table."""
    svc = start(start_service, "--wcmp", "30")  # slots 0..2 PF0, 3..9 PF1
    vm, pfs = svc.tap("dtapvf_0"), {"dtap0": svc.tap("dtap0"), "dtap1": svc.tap("dtap1")}
    for tap in pfs.values():
        tap.drain()
    sports = range(2000, 2000 + FLOWS)
    want = {}
    for sport in sports:
        slot = flow_hash(flow_key("10.0.0.2", "192.0.2.1", 17, sport, 53, VNI)) % 10
        want[sport] = "dtap0" if slot < 3 else "dtap1"
        vm.send(from_vm("vm1", IP(src="10.0.0.2", dst="192.0.2.1") / UDP(sport=sport, dport=53)))
    got = {}
    for name, tap in pfs.items():
        while (frame := expect(tap, 0.3)) is not None:
            got[frame[UDP].sport] = name
    assert got == want
    assert set(want.values()) == {"dtap0", "dtap1"}  # the test exercises both


def test_link_down_fails_over(start_service):
    svc = start(start_service)
    harness.run("ip", "link", "set", "dtap0", "down", netns=svc.netns.name)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if {p.name: p.link_up for p in svc.stats().ports}.get("dtap0") is False:
            break
        time.sleep(0.2)
    counts = egress(svc, 10)
    assert counts["dtap1"] == 10
    harness.run("ip", "link", "set", "dtap0", "up", netns=svc.netns.name)
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        if {p.name: p.link_up for p in svc.stats().ports}.get("dtap0"):
            break
        time.sleep(0.2)
    assert egress(svc, 10) == {"dtap0": 10, "dtap1": 0}
