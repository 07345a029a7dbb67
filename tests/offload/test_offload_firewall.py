# SPDX-License-Identifier: Apache-2.0
"""The enforced firewall (--firewall-enforce) with offload off and on: a rule carries only
what the firewall accepts, a denied flow gets none and stays dropped, and a rule change takes
hold at the flow's very next packet although a rule carried it (every rule is stale after the
RPC). The frames must be the same byte for byte, and the same ones must be dropped."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from scapy.layers.inet import IP, UDP

import harness
from dplane.proto import dpdk_pb2 as pb
from offload_util import delta, service_pair, set_up, steps_differential, vm_step


def ip_prefix(ip: str, length: int) -> pb.Prefix:
    ver = pb.IPV6 if ":" in ip else pb.IPV4
    return pb.Prefix(ip=pb.IpAddress(ipver=ver, address=ip.encode()), length=length)


def accept(svc: harness.Service, vm: str, rule_id: str,
           udp_dst: int | None = None) -> None:
    rule = pb.FirewallRule(id=rule_id.encode(), direction=pb.INGRESS, action=pb.ACCEPT,
                           priority=1000, source_prefix=ip_prefix("0.0.0.0", 0),
                           destination_prefix=ip_prefix("0.0.0.0", 0))
    if udp_dst is not None:
        rule.protocol_filter.CopyFrom(pb.ProtocolFilter(udp=pb.UdpFilter(
            src_port_lower=-1, src_port_upper=-1, dst_port_lower=udp_dst,
            dst_port_upper=udp_dst)))
    reply = svc.api.CreateFirewallRule(pb.CreateFirewallRuleRequest(
        interface_id=vm.encode(), rule=rule), timeout=5)
    assert reply.status.code == 0, reply.status


def remove(svc: harness.Service, vm: str, rule_id: str) -> None:
    reply = svc.api.DeleteFirewallRule(pb.DeleteFirewallRuleRequest(
        interface_id=vm.encode(), rule_id=rule_id.encode()), timeout=5)
    assert reply.status.code == 0, reply.status


def prepare(svc: harness.Service) -> None:
    """Both VMs, every ingress accepted (an enforced firewall with no rule accepts none)."""
    set_up(svc, lambda s, vm: accept(s, vm, "all"))


@pytest.fixture(scope="module")
def services() -> Iterator[dict[str, harness.Service]]:
    opts = ["--firewall-enforce"]
    with service_pair({"off": ["--no-offload", *opts], "on": opts}, prepare) as out:
        yield out


def to_vm1(dport: int, payload: bytes):
    return vm_step("vm2", IP(src="10.0.0.3", dst="10.0.0.2") / UDP(sport=5100, dport=dport) /
                   payload, ("dtapvf_0",))


def test_rules_carry_only_what_the_firewall_accepts(services):
    for svc in services.values():  # vm1 takes UDP to port 6000 only
        accept(svc, "vm1", "udp6000", udp_dst=6000)
        remove(svc, "vm1", "all")
    try:
        steps = [to_vm1(6000, b"a%d" % i) for i in range(3)] + \
            [to_vm1(6001, b"b%d" % i) for i in range(3)]
        seen = steps_differential(services, steps, dropped=frozenset({3, 4, 5}))
        assert delta(seen, "installs") == 1 and delta(seen, "hits") == 2

        # the accepting rule goes: the flow's next packets are dropped, its rule stale
        for svc in services.values():
            remove(svc, "vm1", "udp6000")
        seen = steps_differential(services, [to_vm1(6000, b"c%d" % i) for i in range(2)],
                                  dropped=frozenset({0, 1}))
        assert delta(seen, "hits") == 0

        # and back: accepted again, and carried again once its rule is made anew
        for svc in services.values():
            accept(svc, "vm1", "udp6000", udp_dst=6000)
        seen = steps_differential(services, [to_vm1(6000, b"d%d" % i) for i in range(3)])
        assert delta(seen, "installs") == 1 and delta(seen, "hits") == 2
    finally:
        for svc in services.values():
            accept(svc, "vm1", "all")
