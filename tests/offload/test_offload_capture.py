# SPDX-License-Identifier: Apache-2.0
"""Packet capture (CaptureStart/Stop/Status): every packet a captured VF or PF receives is
copied, in UDP-in-IPv6 from the host's underlay address to the sink, out of PF0, whether a
rule or the graph then carries it; status reports it; stop ends it and leaves nothing; bad
requests get dpservice's texts and codes; with offload off, 211."""
from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2 as pb
from dplane.telemetry_client import TelemetryClient, socket_path
from offload_util import from_underlay, from_vm, offload_stats, receive, rules, set_up

SINK = "fd00:99::1"
HOST_UNDERLAY = "fc00:1::1"  # the harness's --ipv6


@pytest.fixture(scope="module")
def svc() -> Iterator[harness.Service]:
    with harness.running_service(telemetry=True) as svc, \
            TelemetryClient(socket_path(svc.prefix)) as client:
        svc.telemetry = client
        set_up(svc)
        yield svc


def config(*interfaces: pb.CapturedInterface, sink: str = SINK, src_port: int = 3000,
           dst_port: int = 3001) -> pb.CaptureStartRequest:
    return pb.CaptureStartRequest(capture_config=pb.CaptureConfig(
        sink_node_ip=pb.IpAddress(ipver=pb.IPV6, address=sink.encode()),
        udp_src_port=src_port, udp_dst_port=dst_port, interfaces=interfaces))


def vf(name: str) -> pb.CapturedInterface:
    return pb.CapturedInterface(interface_type=pb.SINGLE_VF, vf_name=name.encode())


def pf(index: int) -> pb.CapturedInterface:
    return pb.CapturedInterface(interface_type=pb.SINGLE_PF, pf_index=index)


def start(svc, *interfaces, **kwargs) -> int:
    return svc.api.CaptureStart(config(*interfaces, **kwargs), timeout=5).status.code


def stop(svc) -> pb.CaptureStopResponse:
    return svc.api.CaptureStop(pb.CaptureStopRequest(), timeout=5)


def status(svc) -> pb.CaptureStatusResponse:
    return svc.api.CaptureStatus(pb.CaptureStatusRequest(), timeout=5)


@pytest.fixture
def stopped(svc) -> Iterator[harness.Service]:
    yield svc
    if status(svc).is_active:
        stop(svc)


def copy_of(raw: bytes | None) -> bytes:
    """The captured frame in a sink copy, checking its headers."""
    assert raw is not None
    frame = Ether(raw)
    assert frame[Ether].src == harness.PF_MACS[0]
    assert frame[IPv6].src == HOST_UNDERLAY and frame[IPv6].dst == SINK
    assert frame[IPv6].nh == 17 and frame[IPv6].hlim == 64
    assert (frame[UDP].sport, frame[UDP].dport) == (3000, 3001)
    assert frame[UDP].len == len(raw) - 54 and frame[IPv6].plen == frame[UDP].len
    return bytes(frame[UDP].payload)


def test_status_when_not_capturing(svc):
    reply = status(svc)
    assert reply.status.code == 0 and not reply.is_active
    assert not reply.HasField("capture_config")


def test_capture_two_vms(stopped):
    svc = stopped
    static = [r for r in rules(svc) if r["age"] == "-"]

    def strip(rows):
        return [(r["port_id"], r["group"], r["pattern"], r["actions"]) for r in rows]
    assert start(svc, vf("vm1"), vf("vm2")) == 0
    reply = status(svc)
    assert reply.is_active
    cfg = reply.capture_config
    assert cfg.sink_node_ip.address.decode() == SINK and cfg.sink_node_ip.ipver == pb.IPV6
    assert (cfg.udp_src_port, cfg.udp_dst_port) == (3000, 3001)
    assert sorted(i.vf_name for i in cfg.interfaces) == [b"vm1", b"vm2"]
    assert all(i.interface_type == pb.SINGLE_VF for i in cfg.interfaces)
    sampled = offload_stats(svc)["sampled"]
    pf0, vm1, vm2 = svc.tap("dtap0"), svc.tap("dtapvf_0"), svc.tap("dtapvf_1")
    for i in range(3):  # the first by the graph, the others by the flow's rule
        sent = from_vm(svc, "vm1", IP(src="10.0.0.2", dst="10.0.0.3") /
                       UDP(sport=7000, dport=7) / (b"hello %d" % i))
        vm1.send(sent)
        assert receive(vm2) is not None
        assert copy_of(receive(pf0)) == sent
        back = from_vm(svc, "vm2", IP(src="10.0.0.3", dst="10.0.0.2") /
                       UDP(sport=7, dport=7000) / (b"hi %d" % i))
        vm2.send(back)
        assert receive(vm1) is not None
        assert copy_of(receive(pf0)) == back
    assert offload_stats(svc)["sampled"] == sampled + 6
    # starting again: already active
    assert start(svc, vf("vm1")) == 210
    reply = stop(svc)
    assert reply.status.code == 0 and reply.stopped_interface_cnt == 2
    assert not status(svc).is_active
    vm1.send(from_vm(svc, "vm1", IP(src="10.0.0.2", dst="10.0.0.3") / UDP(sport=7000, dport=7)))
    assert receive(vm2) is not None
    assert receive(pf0, timeout=0.3) is None  # no copy any more
    assert strip([r for r in rules(svc) if r["age"] == "-"]) == strip(static)
    assert stop(svc).status.code == 211


def test_capture_a_pf(stopped):
    svc = stopped
    assert start(svc, pf(0)) == 0
    pf0, vm1 = svc.tap("dtap0"), svc.tap("dtapvf_0")
    sent = from_underlay(svc, "vm1", IP(src="192.0.2.7", dst="10.0.0.2") /
                         UDP(sport=53, dport=9999) / b"answer")
    pf0.send(sent)
    assert receive(vm1) is not None
    assert copy_of(receive(pf0)) == sent
    assert status(svc).capture_config.interfaces[0].pf_index == 0
    assert stop(svc).stopped_interface_cnt == 1


@pytest.mark.parametrize("interfaces, code", [
    ([vf("nosuchvm")], 201),
    ([pf(1), pf(7)], 201),
    ([vf("vm1"), vf("vm1")], 210),
])
def test_refused_start_leaves_nothing(stopped, interfaces, code):
    svc = stopped
    before = rules(svc)
    assert start(svc, *interfaces) == code
    assert not status(svc).is_active
    assert rules(svc) == before or len(rules(svc)) == len(before)


@pytest.mark.parametrize("request_, message", [
    (config(vf("vm1"), src_port=70000), "Invalid udp_src_port"),
    (config(vf("vm1"), dst_port=65536), "Invalid udp_dst_port"),
    (config(vf("vm1"), sink="10.0.0.1"), "Invalid sink_node_ip"),
    (config(*[vf(f"vm{i}") for i in range(17)]), "Too many interfaces to be captured"),
    (config(pb.CapturedInterface(interface_type=7, vf_name=b"vm1")),
     "Invalid interfaces.interface_type"),
    (config(vf("")), "Invalid interface_id"),
    (config(pf(256)), "Invalid pf_index"),
])
def test_bad_requests(svc, request_, message):
    assert harness.invalid_argument(svc.api.CaptureStart, request_) == message


def test_offload_off_means_not_active():
    with harness.running_service(opts=["--no-offload"]) as svc:
        assert start(svc, pf(0)) == 211
        assert stop(svc).status.code == 211
        assert not status(svc).is_active
        with pytest.raises(grpc.RpcError):
            svc.api.CaptureStart(config(vf("")), timeout=5)
