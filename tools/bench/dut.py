# SPDX-License-Identifier: Apache-2.0
"""The device under test: the dplane service on a temporary board whose pf0 (net_pcap,
replaying the pcap forever) is cross-connected to pf1 (net_null, which receives nothing):
every frame takes rx -> cls -> tx, with cls parsing it fully before sending it on.

Counters come from dplane's own diagnostics (dplane.v1.Diagnostics/GetStats over gRPC), the
snapshot time being the middle of the call.
"""
from __future__ import annotations

import dataclasses
import json
import os
import pathlib
import signal
import sys
import time
from typing import Any

import grpc
from child import Child, wait_until
from measure import Snapshot, WorkerThread, cpu_ticks

from dplane.proto import (
    dpdk_pb2,
    dpdk_pb2_grpc,
    dplane_pb2,
    dplane_pb2_grpc,
    health_pb2,
    health_pb2_grpc,
)
from dplane.telemetry_client import TelemetryClient, socket_path

RPC_TIMEOUT = 5.0
VM_IPV4 = "10.0.0.1"  # the bench VM's address: its traffic's source
NAT_IP = "198.51.100.1"  # --nat: the VM's NAT IP and port range
NAT_PORTS = (1024, 65535)
# lb: the load balancer the pcap's flows come to, and the other hosts' targets it spreads
# them over (every frame goes back out of pf0, re-encapsulated to its flow's target)
LB_UNDERLAY = "fc00:1::8000:0:1b"  # a preferred underlay: byte 10 flags it external
LB_IP = "203.0.113.80"
LB_PORT = 80
LB_TARGETS = ("fc00:3::1", "fc00:4::1", "fc00:5::1")


@dataclasses.dataclass
class Setup:
    pcap: pathlib.Path
    file_prefix: str
    memory_mb: int
    mbufs: int
    grpc_port: int
    scenario: str = "cls"  # "cls", "encap", "newflow" (encap, flows counted), "lb", "control"
    flow_table_size: int = 850000
    hugepages: bool = False
    vfs: int = 0  # control: net_tap VFs dpbvf_0.. (in the bench's own network namespace)
    options: dict[str, Any] = dataclasses.field(default_factory=dict)  # more [service] keys
    fw_rules: int = 0  # encap/newflow: firewall rules on the VM's interface (see attach_vm)
    telemetry: bool = False  # serve the telemetry socket (newflow counts firewall decisions)
    nat: bool = False  # encap/newflow: the VM has a NAT, its flows leave SNATed (attach_vm)

    def board(self) -> str:
        """The board TOML (strings quoted as JSON, which TOML basic strings accept)."""
        ports = {"cls": self._cls_ports, "control": self._control_ports,
                 "lb": self._lb_ports}.get(self.scenario, self._encap_ports)
        return self._head() + ports() + "".join(
            f"{key} = {value}\n" for key, value in self.options.items())

    def _head(self) -> str:
        q = json.dumps
        what = {"cls": "pcap in on pf0, patched to a null pf1",
                "control": "null PFs and TAP VFs for the control plane",
                "lb": "tunnels to a load balancer in on pf0, forwarded back out of it"}.get(
            self.scenario, "a VM's traffic (pcap) on a VF, tunnelled out of a null pf0")
        return f"""\
# Written by tools/bench/run.py: {what}.
[board]
name = "bench-{self.scenario}"
description = "{what}"

[eal]
lcores = "0,1"
memory = "{'in-memory' if self.hugepages else 'no-huge'}"
memory-mb = {self.memory_mb}
file-prefix = {q(self.file_prefix)}
args = ["--no-pci", {'' if self.telemetry else '"--no-telemetry", '}"--log-level=lib.eal:notice",
        "--log-level=lib.telemetry:error"]

[firmware]
mbufs = {self.mbufs}
"""

    def _pcap_devargs(self) -> str:
        return json.dumps(f"rx_pcap={self.pcap},infinite_rx=1")

    def _cls_ports(self) -> str:
        return f"""
[[port]]
role = "pf0"
driver = "net_pcap"
devargs = {self._pcap_devargs()}
xconnect = "pf1"

[[port]]
role = "pf1"
driver = "net_null"
devargs = "no-rx=1"

[service]
pf0 = "net_pcap0"
pf1 = "net_null0"
nic-type = "tap"
grpc-port = {self.grpc_port}
no-stats = true
"""

    def _lb_ports(self) -> str:
        """pf0 replays the pcap and takes what the LB forwards (net_pcap without a tx file
        drops it, counted as sent); pf1 is idle."""
        return f"""
[[port]]
role = "pf0"
driver = "net_pcap"
devargs = {self._pcap_devargs()}

[[port]]
role = "pf1"
driver = "net_null"
devargs = "no-rx=1"

[service]
pf0 = "net_pcap0"
pf1 = "net_null0"
ipv6 = "fc00:1::1"
flow-table-size = {self.flow_table_size}
nic-type = "tap"
grpc-port = {self.grpc_port}
no-stats = true
"""

    def _control_ports(self) -> str:
        """No traffic: null PFs, and TAP VFs that interfaces are created on (a VF starts and
        stops with its interface, as on the sim board)."""
        return f"""
[[port]]
role = "pf0"
driver = "net_null"
devargs = "no-rx=1"

[[port]]
role = "pf1"
driver = "net_null"
devargs = "no-rx=1"

[[port]]
role = "vf"
driver = "net_tap"
count = {self.vfs}
iface = "dpbvf_{{i}}"
mac = "66:66:66:66:66:{{i:02x}}"

[service]
pf0 = "net_null0"
pf1 = "net_null1"
ipv6 = "fc00:1::1"
nic-type = "tap"
grpc-port = {self.grpc_port}
no-stats = true
"""

    def _encap_ports(self) -> str:
        """The pcap is a VM on a VF; both PFs are null ports (pf0 takes the tunnels)."""
        return f"""
[[port]]
role = "pf0"
driver = "net_null"
devargs = "no-rx=1"

[[port]]
role = "pf1"
driver = "net_null"
devargs = "no-rx=1"

[[port]]
role = "vf"
driver = "net_pcap"
devargs = {self._pcap_devargs()}

[service]
pf0 = "net_null0"
pf1 = "net_null1"
vf-pattern = "net_pcap"
ipv6 = "fc00:1::1"
flow-table-size = {self.flow_table_size}
# one VM's flows fill the table here: no per-interface quota
flow-quota-per-interface = 0
nic-type = "tap"
grpc-port = {self.grpc_port}
no-stats = true
"""


def firewall_rules(n: int) -> list[dpdk_pb2.CreateFirewallRuleRequest]:
    """n egress rules on the bench VM, the first n-1 of which match none of its packets
    (another source): a new flow is decided by the last one, after a scan of them all."""
    def rule(i: int, src: bytes, length: int) -> dpdk_pb2.CreateFirewallRuleRequest:
        pb = dpdk_pb2
        return pb.CreateFirewallRuleRequest(interface_id=b"bench-vm", rule=pb.FirewallRule(
            id=f"bench-{i}".encode(), direction=pb.EGRESS, action=pb.ACCEPT,
            source_prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=src),
                                    length=length),
            destination_prefix=pb.Prefix(ip=pb.IpAddress(ipver=pb.IPV4, address=b"0.0.0.0")),
            protocol_filter=pb.ProtocolFilter(udp=pb.UdpFilter(src_port_lower=-1,
                                                               dst_port_lower=-1))))

    return [rule(i, f"192.0.{i // 256 % 256}.{i % 256}".encode(), 32) for i in range(n - 1)] + \
        [rule(n - 1, b"0.0.0.0", 0)] * (n > 0)


class Dplane:
    """Source of snapshots from a running dplane service."""

    def __init__(self, setup: Setup, workdir: pathlib.Path) -> None:
        self.name = f"dplane {setup.scenario}"
        self.setup = setup
        self.workdir = workdir
        self.child: Child | None = None
        self.worker: WorkerThread | None = None
        self.exit_code: int | None = None
        self._channel: grpc.Channel | None = None

    def start(self, timeout: float) -> None:
        """Returns once gRPC health says SERVING: the ports and the worker are running."""
        board = self.workdir / "bench-board.toml"
        board.write_text(self.setup.board(), encoding="utf-8")
        # DP_CONF="": no dpservice.conf from this machine may change the set-up
        env = dict(os.environ, DP_CONF="", PYTHONUNBUFFERED="1")
        argv = [sys.executable, "-m", "dplane", "--board", str(board)]
        self.child = Child("dplane", argv, self.workdir / "dplane.log", env=env,
                           cwd=self.workdir)
        self.worker = WorkerThread(self.child.pid)
        self._channel = grpc.insecure_channel(f"localhost:{self.setup.grpc_port}")
        wait_until(self._serving, timeout, self.child, "gRPC health SERVING", poll=0.2)
        if self.setup.scenario == "encap":
            self.attach_vm()
        elif self.setup.scenario == "lb":
            self.attach_lb()

    def attach_vm(self) -> float:
        """The VM behind the pcap VF, and a default route into the underlay: every frame
        takes rx -> cls -> conntrack -> dnat -> ipv4_lookup -> firewall -> snat -> output ->
        ipip_encap -> tx (with --nat, snat gives it the NAT IP and a port). The VF starts
        with its interface, so the traffic starts with it: returns when that was."""
        api = dpdk_pb2_grpc.DPDKironcoreStub(self._channel)
        api.Initialize(dpdk_pb2.InitializeRequest(), timeout=RPC_TIMEOUT)
        replies = [api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
            interface_id=b"bench-vm", vni=100, device_name="net_pcap0",
            ipv4_config=dpdk_pb2.IpConfig(primary_address=VM_IPV4.encode()),
            ipv6_config=dpdk_pb2.IpConfig(primary_address=b"::")), timeout=RPC_TIMEOUT)]
        replies += [api.CreateFirewallRule(rule, timeout=RPC_TIMEOUT)
                    for rule in firewall_rules(self.setup.fw_rules)]
        if self.setup.nat:
            replies.append(api.CreateNat(dpdk_pb2.CreateNatRequest(
                interface_id=b"bench-vm", nat_ip=dpdk_pb2.IpAddress(
                    ipver=dpdk_pb2.IPV4, address=NAT_IP.encode()),
                min_port=NAT_PORTS[0], max_port=NAT_PORTS[1]), timeout=RPC_TIMEOUT))
        started = time.monotonic()
        replies.append(api.CreateRoute(dpdk_pb2.CreateRouteRequest(vni=100, route=dpdk_pb2.Route(
            prefix=dpdk_pb2.Prefix(ip=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV4,
                                                         address=b"0.0.0.0"), length=0),
            nexthop_vni=100, nexthop_address=dpdk_pb2.IpAddress(ipver=dpdk_pb2.IPV6,
                                                                address=b"fc00:2::1"))),
            timeout=RPC_TIMEOUT))
        for reply in replies:
            if reply.status.code != 0:
                raise self.child.fail(f"set-up failed: {reply.status.message}")
        return started

    def attach_lb(self) -> None:
        """The load balancer at LB_UNDERLAY with its remote targets: every frame takes
        rx -> cls -> ipip_decap -> conntrack -> lb -> ipip_encap -> tx (pf0)."""
        api = dpdk_pb2_grpc.DPDKironcoreStub(self._channel)
        api.Initialize(dpdk_pb2.InitializeRequest(), timeout=RPC_TIMEOUT)
        replies = [api.CreateLoadBalancer(dpdk_pb2.CreateLoadBalancerRequest(
            loadbalancer_id=b"bench-lb", vni=100, loadbalanced_ip=dpdk_pb2.IpAddress(
                ipver=dpdk_pb2.IPV4, address=LB_IP.encode()),
            loadbalanced_ports=[dpdk_pb2.LbPort(port=LB_PORT, protocol=dpdk_pb2.UDP)],
            preferred_underlay_route=LB_UNDERLAY.encode()), timeout=RPC_TIMEOUT)]
        replies += [api.CreateLoadBalancerTarget(dpdk_pb2.CreateLoadBalancerTargetRequest(
            loadbalancer_id=b"bench-lb", target_ip=dpdk_pb2.IpAddress(
                ipver=dpdk_pb2.IPV6, address=target.encode())), timeout=RPC_TIMEOUT)
            for target in LB_TARGETS]
        for reply in replies:
            if reply.status.code != 0:
                raise self.child.fail(f"set-up failed: {reply.status.message}")

    def conntrack_keys(self) -> tuple[float, int]:
        """(time, keys in the conntrack table)."""
        stub = dplane_pb2_grpc.DiagnosticsStub(self._channel)
        before = time.monotonic()
        stats = stub.GetStats(dplane_pb2.GetStatsRequest(), timeout=RPC_TIMEOUT)
        after = time.monotonic()
        keys = next(t.entries for t in stats.tables if t.name == "conntrack_table")
        return (before + after) / 2, keys

    def fw_decisions(self) -> tuple[float, int]:
        """(time, flows the firewall has decided for the bench VM), over telemetry."""
        before = time.monotonic()
        with TelemetryClient(socket_path(self.setup.file_prefix)) as client:
            stats = client.query("/dplane/firewall/stats")
        after = time.monotonic()
        return (before + after) / 2, stats["bench-vm"]["decisions"]

    def _serving(self) -> bool:
        stub = health_pb2_grpc.HealthStub(self._channel)
        try:
            reply = stub.Check(health_pb2.HealthCheckRequest(), timeout=1.0)
        except grpc.RpcError:
            return False
        return reply.status == health_pb2.HealthCheckResponse.SERVING

    def snapshot(self, not_before: float) -> Snapshot:
        assert self.child is not None and self.worker is not None
        delay = not_before - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        stub = dplane_pb2_grpc.DiagnosticsStub(self._channel)
        before = time.monotonic()
        try:
            stats = stub.GetStats(dplane_pb2.GetStatsRequest(), timeout=RPC_TIMEOUT)
        except grpc.RpcError as exc:
            raise self.child.fail(f"GetStats failed: {exc.code().name}") from None
        after = time.monotonic()
        cpu, ticks = self.worker.cpu_time(), cpu_ticks()
        nodes = self.graph_stats()
        ports = {p.role: p for p in stats.ports}
        if not {"pf0", "pf1"} <= set(ports) or self.setup.scenario == "encap" and "vf" not in ports:
            raise self.child.fail(f"GetStats lacks a port: {sorted(ports)}")
        # in: the pcap port; out: the port the traffic leaves by
        src, out = {"encap": (ports.get("vf"), ports["pf0"]),
                    "lb": (ports["pf0"], ports["pf0"])}.get(self.setup.scenario,
                                                            (ports["pf0"], ports["pf1"]))
        return Snapshot(
            t=(before + after) / 2, tx_packets=out.tx_packets, rx_packets=src.rx_packets,
            drops=sum(stats.drops.values()) + src.rx_errors + out.tx_errors,
            rx_nombuf=src.rx_nombuf, rx_missed=src.rx_missed, cpu=cpu, ticks=ticks,
            nodes=nodes)

    def graph_stats(self) -> dict[str, tuple[int, int]]:
        """Every graph node's (objects, TSC cycles) so far: the per-node cost."""
        stub = dplane_pb2_grpc.DiagnosticsStub(self._channel)
        try:
            reply = stub.GetGraphStats(dplane_pb2.GetGraphStatsRequest(), timeout=RPC_TIMEOUT)
        except grpc.RpcError as exc:
            raise self.child.fail(f"GetGraphStats failed: {exc.code().name}") from None
        return {n.name: (n.objs, n.cycles) for n in reply.nodes}

    def stop(self) -> int:
        if self._channel is not None:
            self._channel.close()
            self._channel = None
        if self.child is not None and self.exit_code is None:
            self.exit_code = self.child.stop(signal.SIGTERM)
        return self.exit_code if self.exit_code is not None else 0
