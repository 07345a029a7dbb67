# SPDX-License-Identifier: Apache-2.0
"""Connection tracking as packets drive it: TCP states, both directions in one flow, aging
with --flow-timeout, flows removed with what they depend on, and a full table."""
from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from scapy.layers.inet import ICMP, IP, TCP, UDP
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dplane_pb2
from overlay_util import (
    VM_MACS,
    create_route,
    create_vm,
    delete_route,
    delete_vm,
    expect,
    from_vm,
    vf_mac,
)


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service() as svc:
        create_vm(svc, "vm1")
        create_vm(svc, "vm2")
        yield svc


def flows(svc: harness.Service) -> list[dplane_pb2.Flow]:
    return list(svc.diag.ListFlows(dplane_pb2.ListFlowsRequest(), timeout=5).flows)


def flow_of(svc: harness.Service, sport: int) -> dplane_pb2.Flow:
    found = [f for f in flows(svc) if f.key.src_port == sport or f.reply_key.src_port == sport]
    assert len(found) == 1, found
    return found[0]


def tcp(svc, sender: str, sport: int, dport: int, flags: str) -> None:
    """A TCP segment from vm1 (10.0.0.2) or vm2 (10.0.0.3) to the other, delivered."""
    src, dst, tap_in, tap_out = (("10.0.0.2", "10.0.0.3", "dtapvf_0", "dtapvf_1")
                                 if sender == "vm1" else
                                 ("10.0.0.3", "10.0.0.2", "dtapvf_1", "dtapvf_0"))
    rx = svc.tap(tap_out)  # listening before anything is sent
    svc.tap(tap_in).send(Ether(src=VM_MACS[sender], dst=vf_mac(sender)) /
                         IP(src=src, dst=dst) / TCP(sport=sport, dport=dport, flags=flags))
    out = expect(rx)
    assert out is not None and out[TCP].sport == sport


def test_tcp_handshake_to_established_and_close(svc):
    tcp(svc, "vm1", 41000, 80, "S")
    assert flow_of(svc, 41000).tcp_state == "new_syn"
    tcp(svc, "vm2", 80, 41000, "SA")
    assert flow_of(svc, 41000).tcp_state == "new_synack"
    tcp(svc, "vm1", 41000, 80, "A")
    flow = flow_of(svc, 41000)
    assert flow.tcp_state == "established" and flow.timeout_s == 86400
    assert flow.key.src == "10.0.0.2" and flow.key.dst_port == 80  # the opener's direction
    tcp(svc, "vm2", 80, 41000, "FA")
    assert flow_of(svc, 41000).tcp_state == "finwait"
    assert flow_of(svc, 41000).timeout_s == 30


def test_tcp_rst_and_a_new_syn(svc):
    tcp(svc, "vm1", 41001, 80, "S")
    tcp(svc, "vm2", 80, 41001, "RA")
    assert flow_of(svc, 41001).tcp_state == "rst_fin"
    tcp(svc, "vm1", 41001, 80, "S")  # the same 5-tuple, reused
    assert flow_of(svc, 41001).tcp_state == "new_syn"


def test_tcp_simultaneous_open(svc):
    tcp(svc, "vm1", 41002, 5000, "S")
    tcp(svc, "vm2", 5000, 41002, "S")
    assert flow_of(svc, 41002).tcp_state == "new_syn"
    tcp(svc, "vm1", 41002, 5000, "SA")
    tcp(svc, "vm2", 5000, 41002, "SA")
    assert flow_of(svc, 41002).tcp_state == "new_synack"
    tcp(svc, "vm1", 41002, 5000, "A")
    assert flow_of(svc, 41002).tcp_state == "established"


def test_ack_without_handshake_stays_untracked_state(svc):
    tcp(svc, "vm1", 41003, 80, "A")
    assert flow_of(svc, 41003).tcp_state == "none"


def test_icmp_echo_reply_matches_request(svc):
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=8, id=4242)))
    assert expect(vm2) is not None
    vm2.send(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
             IP(src="10.0.0.3", dst="10.0.0.2") / ICMP(type=0, id=4242))
    assert expect(vm1) is not None
    echo = [f for f in flows(svc) if f.key.protocol == 1 and f.key.dst_port == 4242]
    assert len(echo) == 1 and (echo[0].packets, echo[0].reply_packets) == (1, 1)


def test_icmp_error_belongs_to_the_flow_it_quotes(svc):
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    probe = IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=33434, dport=33435)
    vm1.send(from_vm("vm1", probe))
    assert expect(vm2) is not None
    vm2.send(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
             IP(src="10.0.0.3", dst="10.0.0.2") / ICMP(type=3, code=3) / bytes(probe)[:28])
    assert expect(vm1) is not None
    flow = flow_of(svc, 33434)
    assert flow.key.protocol == 17 and (flow.packets, flow.reply_packets) == (1, 1)
    # other ICMP types are not tracked, and dropped as dpservice drops them
    before = svc.drops().get("conntrack_icmp_untracked", 0)
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / ICMP(type=13)))
    assert svc.wait_drops("conntrack_icmp_untracked", before + 1)[
        "conntrack_icmp_untracked"] == before + 1


def test_a_new_flow_in_one_burst_is_one_flow(svc):
    """Frames of a flow that does not exist yet, both ways, sent faster than the worker
    polls, so that they usually arrive in one burst: the first creates the flow, the
    others find it (not the table, which had no such key when the burst was looked up)."""
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    request = bytes(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") /
                            UDP(sport=45000, dport=53)))
    reply = bytes(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
                  IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=53, dport=45000))
    time.sleep(0.01)  # an idle worker naps: the frames wait for it together
    for _ in range(8):
        vm1.sock.send(request)
        vm2.sock.send(reply)
    got = {"vm1": 0, "vm2": 0}
    for name, tap in (("vm2", vm2), ("vm1", vm1)):
        while (frame := expect(tap, 0.5)) is not None:
            assert UDP in frame and 45000 in (frame[UDP].sport, frame[UDP].dport)
            got[name] += 1
    assert got == {"vm1": 8, "vm2": 8}
    flow = flow_of(svc, 45000)
    assert (flow.packets, flow.reply_packets) == (8, 8)


def test_flows_age_out(start_service):
    svc = start_service(opts=[*harness.SERVICE_OPTS, "--flow-timeout", "1"])
    svc.initialize()
    create_vm(svc, "vm1")
    create_vm(svc, "vm2")
    tcp(svc, "vm1", 42000, 80, "S")
    tcp(svc, "vm2", 80, 42000, "SA")
    tcp(svc, "vm1", 42000, 80, "A")      # established: 24 h
    tcp(svc, "vm1", 42001, 80, "S")      # half open: the flow timeout
    assert len(flows(svc)) == 2
    deadline = time.monotonic() + 5
    while len(flows(svc)) != 1 and time.monotonic() < deadline:
        time.sleep(0.2)
    remaining = flows(svc)
    assert [f.key.src_port for f in remaining] == [42000]


def test_deleting_an_interface_removes_its_flows(start_service):
    svc = start_service()
    svc.initialize()
    create_vm(svc, "vm1")
    create_vm(svc, "vm2")
    tcp(svc, "vm1", 43000, 80, "S")     # from vm1
    tcp(svc, "vm2", 43001, 80, "S")     # to vm1
    assert create_route(svc, "0.0.0.0", 0).code == 0
    svc.tap("dtap0")
    svc.tap("dtapvf_1").send(from_vm("vm2", IP(src="10.0.0.3", dst="192.0.2.1") / UDP()))
    assert expect(svc.tap("dtap0")) is not None
    assert len(flows(svc)) == 3
    delete_vm(svc, "vm1")
    assert [f.key.dst for f in flows(svc)] == ["192.0.2.1"]
    # a route's removal takes the flows to it along
    assert delete_route(svc, "0.0.0.0", 0).code == 0
    assert flows(svc) == []
    tables = svc.table_entries()
    assert tables["conntrack_table"] == 0


def test_full_table_drops_new_flows_only(start_service):
    # no per-interface quota: one VM fills the table (tests/security/test_flow_quota.py)
    svc = start_service(opts=[*harness.SERVICE_OPTS[:-2], "--flow-table-size", "16",
                              "--flow-quota-per-interface", "0"])
    svc.initialize()
    create_vm(svc, "vm1")
    create_vm(svc, "vm2")
    vm1, vm2 = svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    for port in range(8):  # 16 keys: 8 flows
        vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=port + 1)))
        assert expect(vm2) is not None
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=100)))
    assert svc.wait_drops("conntrack_table_full", 1)["conntrack_table_full"] == 1
    # the existing flows keep going, both ways
    vm1.send(from_vm("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=3)))
    assert expect(vm2) is not None
    vm2.send(Ether(src=VM_MACS["vm2"], dst=vf_mac("vm2")) /
             IP(src="10.0.0.3", dst="10.0.0.2") / UDP(dport=3, sport=53))
    assert expect(vm1) is not None
    table = {t.name: (t.capacity, t.entries) for t in svc.stats().tables}
    assert table["conntrack_table"] == (16, 16)
