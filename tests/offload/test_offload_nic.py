# SPDX-License-Identifier: Apache-2.0
"""The NIC's side of offload (firmware/offload/nic.h): with --nic-type mellanox or bluefield2
the PFs are isolated and each port's rules are handed to its NIC, whatever the NIC refuses
staying with the software engine. There is no ConnectX here: the NIC is net_tap's own
rte_flow, which refuses (this kernel has no TC flower), so these tests check the isolation
rule's shape, which rules may go to a NIC, and that a refusing NIC costs no packet: the frames
are the very ones a --nic-type tap service sends, the engine carrying the flows."""
from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterator

import pytest
from hypothesis import given
from hypothesis import strategies as st
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether

import harness
from dplane import _firmware
from dplane.telemetry_client import TelemetryClient, socket_path
from offload_util import (
    delta,
    flow_rules,
    from_vm,
    net_step,
    offload_stats,
    receive,
    service_pair,
    steps_differential,
    vm_step,
)


def isolation(underlay: str) -> tuple[str, str, str]:
    return _firmware.offload_isolation(ipaddress.IPv6Address(underlay).packed)


def test_isolation_rule_is_the_contracts():
    """Ingress, group 0, priority 1: Ethernet IPv6, IPv6 dst in the underlay's /64 with the
    0xd nibble (a /68) -> queue 0."""
    assert isolation("fc00:1::1") == (
        "group 0 priority 1 ingress", "eth type 0x86dd / ipv6 dst fc00:1:0:0:d000::/68",
        "queue 0")
    # only the /64 of the host's own address counts
    assert isolation("2001:db8:aa:bb:1234:5678:9abc:def0")[1] == \
        "eth type 0x86dd / ipv6 dst 2001:db8:aa:bb:d000::/68"


@given(st.binary(min_size=16, max_size=16))
def test_isolation_rule_matches_the_generated_underlays(packed):
    """For any host address: the rule's /68 is the address's /64 with the 0xd nibble, the
    one dplane's generated underlay addresses carry."""
    attr, pattern, actions = _firmware.offload_isolation(packed)
    prefix = socket.inet_ntop(socket.AF_INET6, packed[:8] + b"\xd0" + bytes(7))
    assert pattern == f"eth type 0x86dd / ipv6 dst {prefix}/68"
    assert (attr, actions) == ("group 0 priority 1 ingress", "queue 0")


@pytest.mark.parametrize("src, dst, nic", [
    ("vf", "vf", True), ("vf", "pf0", True), ("pf0", "vf", True),
    # across to PF1's e-switch, or from the wire back to it: hairpin queues in dpservice
    ("vf", "pf1", False), ("pf1", "vf", False), ("pf0", "pf0", False), ("pf0", "pf1", False),
    ("pf1", "pf0", False), ("pf1", "pf1", False),
])
def test_which_rules_a_nic_carries(src, dst, nic):
    assert _firmware.offload_nic_eligible(src, dst) is nic


def start(nic_type: str, *opts: str):
    return harness.running_service(opts=("--nic-type", nic_type, *opts), telemetry=True)


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, harness.Service]]:
    with service_pair({"tap": ["--nic-type", "tap"], "nic": ["--nic-type", "bluefield2"]}) as out:
        yield out


def test_a_tap_service_has_no_nic_side(services):
    assert offload_stats(services["tap"])["nic"] is None


def test_refused_isolation_and_default_rules_are_reported_per_port(services):
    nic = offload_stats(services["nic"])["nic"]
    ports = nic["ports"]
    assert set(ports) == {"dtap0", "dtap1", "dtapvf_0", "dtapvf_1"}
    for name in ("dtap0", "dtap1"):  # net_tap cannot isolate: the PFs run without
        assert ports[name]["isolated"] is False, ports
        assert ports[name]["isolation_error"].startswith("rte_flow_isolate: "), ports
    for name, port in ports.items():  # nor take the default rule: the engine carries
        assert port["carrying"] is False, (name, port)
        assert port["error"] == "default rule: transfer is not supported", (name, port)
        assert port["captured"] is False
    assert nic["rules"] == 0 and nic["installs"] == 0
    # what the rule would have let in: the interfaces' underlay addresses
    rule = ipaddress.IPv6Network(isolation("fc00:1::1")[1].rsplit(" ", 1)[1])
    assert all(ipaddress.IPv6Address(u) in rule for u in services["nic"].underlays.values())


def test_a_refusing_nic_costs_no_packet(services):
    """VM to VM, to the underlay and back: the same frames as on TAPs, the engine carrying
    the flows (rules made and hit), none of them in the NIC."""
    steps = []
    for i in range(4):
        steps += [
            vm_step("vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=5000, dport=6000) /
                    f"a{i}".encode(), ("dtapvf_1",)),
            vm_step("vm2", IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=6000, dport=5000) /
                    f"b{i}".encode(), ("dtapvf_0",)),
            vm_step("vm1", IP(src="10.0.0.2", dst="192.0.2.7") / UDP(sport=7000, dport=53) /
                    f"c{i}".encode(), ("dtap0",)),
            net_step("vm1", IP(src="192.0.2.7", dst="10.0.0.2") / UDP(sport=53, dport=7000) /
                     f"d{i}".encode()),
        ]
    steps.append(vm_step("vm1", IP(src="10.0.0.2", dst="192.0.2.8") /
                         TCP(sport=40000, dport=443, flags="A", seq=1, ack=1), ("dtap0",)))
    seen = steps_differential({"off": services["tap"], "on": services["nic"]}, steps)
    # both directions of both UDP flows: a rule each, then their three later packets
    assert delta(seen, "installs") == 4 and delta(seen, "hits") == 12
    assert delta(seen, "nic", "installs") == 0 and seen["after"]["nic"]["rules"] == 0
    assert all(r["nic"] == "no" for r in flow_rules(services["nic"]))


def test_multiport_eswitch_isolates_through_the_template_api():
    """A multiport e-switch (mlx5's HW steering) takes rules through the template API only:
    the port is configured for it (rte_flow_configure) before it starts. net_tap has no
    template API: the PFs run without isolation, and say so."""
    with start("bluefield2", "--multiport-eswitch", "--no-offload") as svc:
        with TelemetryClient(socket_path(svc.prefix)) as client:
            ports = client.query("/dplane/offload")["nic"]["ports"]
    for name in ("dtap0", "dtap1"):
        assert ports[name]["isolated"] is False
        assert ports[name]["isolation_error"].startswith("rte_flow_configure: "), ports


def test_no_offload_still_isolates():
    """Isolation is the NIC's whatever offload does (as dpservice): with --no-offload the PFs
    are still tried, and the VFs get no default rule."""
    with start("bluefield2", "--no-offload") as svc:
        with TelemetryClient(socket_path(svc.prefix)) as client:
            stats = client.query("/dplane/offload")
    assert stats["enabled"] is False
    ports = stats["nic"]["ports"]
    assert ports["dtap0"]["isolation_error"] and ports["dtap1"]["isolation_error"]
    assert all(not p["carrying"] and not p["error"] for p in ports.values())


def test_exporter_metrics_of_the_nic_side(services):
    """dplane-exporter's NIC metrics, from what /dplane/offload says on this service."""
    from dplane import exporter

    families = {f.name: f for f in exporter._offload_nic_metrics(
        offload_stats(services["nic"])["nic"])}
    assert families["dplane_offload_nic_installs"].samples[0].value == 0
    assert families["dplane_offload_nic_rules"].samples[0].value == 0
    carrying = {s.labels["port"]: s.value
                for s in families["dplane_offload_nic_port_carrying"].samples}
    isolated = {s.labels["port"]: s.value
                for s in families["dplane_offload_nic_port_isolated"].samples}
    assert carrying == isolated == dict.fromkeys(("dtap0", "dtap1", "dtapvf_0", "dtapvf_1"), 0)
    assert exporter._offload_nic_metrics(None) == []


def test_a_captured_port_is_the_engines_while_captured(services):
    """Capture samples in the engine: the port's default rule leaves its NIC while it is
    captured (here the NIC had refused it anyway) and is tried again when capture stops;
    the captured VM's packets are copied to the sink all the same."""
    from dplane.proto import dpdk_pb2 as pb

    svc = services["nic"]
    request = pb.CaptureStartRequest(capture_config=pb.CaptureConfig(
        sink_node_ip=pb.IpAddress(ipver=pb.IPV6, address=b"fd00:99::1"),
        udp_src_port=3000, udp_dst_port=3001,
        interfaces=[pb.CapturedInterface(interface_type=pb.SINGLE_VF, vf_name=b"vm1")]))
    assert svc.api.CaptureStart(request, timeout=5).status.code == 0
    try:
        ports = offload_stats(svc)["nic"]["ports"]
        assert ports["dtapvf_0"]["captured"] is True and ports["dtapvf_1"]["captured"] is False
        svc.tap("dtap0").drain()
        svc.tap("dtapvf_0").send(from_vm(svc, "vm1", IP(src="10.0.0.2", dst="10.0.0.3") /
                                         UDP(sport=5000, dport=6000) / b"captured"))
        assert receive(svc.tap("dtapvf_1")) is not None
        copy = receive(svc.tap("dtap0"))
        assert copy is not None and Ether(copy)[UDP].dport == 3001 and b"captured" in copy
    finally:
        svc.api.CaptureStop(pb.CaptureStopRequest(), timeout=5)
    port = offload_stats(svc)["nic"]["ports"]["dtapvf_0"]
    assert port["captured"] is False and port["error"].startswith("default rule: ")


@pytest.mark.parametrize("name, nic, template_api, offload", [
    ("sim", False, False, True),
    ("connectx-host", True, False, True),
    ("bluefield2", True, False, True),
    ("bluefield3", True, False, True),
    ("bluefield3-multiport", True, True, False),
])
def test_board_profiles_give_the_nic_side(name, nic, template_api, offload):
    """What each shipped board makes of the NIC's side: the sim board's TAPs take no rules;
    ConnectX and BlueField ports are isolated and take the rules, a multiport e-switch
    through the template API with offload off (as dpservice)."""
    from dplane import board, cmdline
    from dplane.features.offload import nic_side

    cfg = cmdline.parse(["--board", name], {"DP_CONF": ""}, board.load_board,
                        board.default_board)
    assert nic_side(cfg) == (nic, template_api) and cfg.no_offload is not offload
