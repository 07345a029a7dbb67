# SPDX-License-Identifier: Apache-2.0
"""The offered traffic: a pcap of Ether/IPv4/UDP frames spread over distinct 5-tuples.

The file is deterministic for a given (packets, flows, size, seed): the flows come from a
seeded generator, frames take the flows round-robin, and every pcap timestamp is fixed, so
the same arguments always produce the same bytes.
"""
from __future__ import annotations

import dataclasses
import ipaddress
import pathlib
import random
import struct

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether
from scapy.packet import Raw
from scapy.utils import RawPcapWriter

FCS_BYTES = 4           # counted in --size (as on the wire), absent from the pcap
MIN_FRAME = 64
MAX_FRAME = 1518        # both contenders' mbufs hold at least this much
DLT_EN10MB = 1
SRC_MAC = "02:00:00:00:00:01"
DST_MAC = "02:00:00:00:00:02"
SRC_NET = ipaddress.IPv4Network("10.0.0.0/10")
DST_NET = ipaddress.IPv4Network("10.64.0.0/10")


@dataclasses.dataclass(frozen=True)
class Flow:
    src: str
    dst: str
    sport: int
    dport: int


@dataclasses.dataclass(frozen=True)
class Traffic:
    packets: int  # frames in the file
    flows: int    # distinct 5-tuples among them
    size: int     # frame size on the wire, FCS included
    seed: int
    src: str | None = None  # every frame's source (a VM's address), or random in SRC_NET
    # lb: every frame is a client's UDP packet to (lb_ip, lb_port), tunnelled from the
    # underlay to the load balancer's underlay address
    lb: tuple[str, str, int] | None = None  # (underlay, lb_ip, lb_port)

    def validate(self) -> None:
        if not MIN_FRAME <= self.size <= MAX_FRAME:
            raise ValueError(f"--size must be {MIN_FRAME}..{MAX_FRAME}, got {self.size}")
        if self.flows < 1:
            raise ValueError("--flows must be at least 1")
        if self.packets < self.flows:
            raise ValueError(f"--packets ({self.packets}) must be at least --flows "
                             f"({self.flows}): every flow needs a frame in the file")


def _random_ip(rng: random.Random, net: ipaddress.IPv4Network) -> str:
    return str(net[rng.randrange(1, net.num_addresses - 1)])


def make_flows(count: int, seed: int, src: str | None = None) -> list[Flow]:
    """`count` distinct UDP 5-tuples, the same ones for the same seed; from `src` if given,
    else from random sources."""
    rng = random.Random(seed)
    seen: set[Flow] = set()
    flows: list[Flow] = []
    while len(flows) < count:
        source = _random_ip(rng, SRC_NET)
        flow = Flow(src or source, _random_ip(rng, DST_NET),
                    rng.randrange(1024, 65536), rng.randrange(1024, 65536))
        if flow not in seen:
            seen.add(flow)
            flows.append(flow)
    return flows


def frame_bytes(flow: Flow, size: int) -> bytes:
    """One frame of `size` bytes on the wire (the pcap holds it without the FCS)."""
    pkt = (Ether(src=SRC_MAC, dst=DST_MAC) / IP(src=flow.src, dst=flow.dst, ttl=64) /
           UDP(sport=flow.sport, dport=flow.dport))
    pad = size - FCS_BYTES - len(pkt)
    data = bytes(pkt / Raw(b"\x00" * pad))
    assert len(data) == size - FCS_BYTES
    return data


def _ip_checksum(header: bytes) -> int:
    total = sum(struct.unpack("!10H", header))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def fast_frames(flows: list[Flow], size: int) -> list[bytes]:
    """The same frames as frame_bytes() gives, built by patching one template (scapy takes
    about 0.3 ms a frame: too slow for the million flows of the new-flow scenario)."""
    template = bytearray(frame_bytes(Flow("0.0.0.0", "0.0.0.0", 0, 0), size))
    out = []
    for flow in flows:
        frame = bytearray(template)
        frame[26:30] = ipaddress.IPv4Address(flow.src).packed
        frame[30:34] = ipaddress.IPv4Address(flow.dst).packed
        frame[24:26] = b"\0\0"
        frame[24:26] = _ip_checksum(bytes(frame[14:34])).to_bytes(2, "big")
        frame[34:36] = flow.sport.to_bytes(2, "big")
        frame[36:38] = flow.dport.to_bytes(2, "big")
        frame[40:42] = b"\0\0"  # no UDP checksum (allowed for IPv4)
        out.append(bytes(frame))
    return out


TUNNEL_SRC = "fc00:2::1"  # the underlay router's side


def lb_frames(flows: list[Flow], size: int, underlay: str, lb_ip: str, lb_port: int
              ) -> list[bytes]:
    """Each flow's client (its source, its source port) to the load balancer, in IP-in-IPv6
    to the LB's underlay address; `size` on the wire, outer headers included."""
    template = bytearray(bytes(
        Ether(src=SRC_MAC, dst=DST_MAC) / IPv6(src=TUNNEL_SRC, dst=underlay, nh=4, hlim=64) /
        IP(src="0.0.0.0", dst=lb_ip, ttl=64) / UDP(sport=0, dport=lb_port) /
        Raw(b"\x00" * max(0, size - FCS_BYTES - 14 - 40 - 28))))
    out = []
    inner = 14 + 40
    for flow in flows:
        frame = bytearray(template)
        frame[inner + 12:inner + 16] = ipaddress.IPv4Address(flow.src).packed
        frame[inner + 10:inner + 12] = b"\0\0"
        frame[inner + 10:inner + 12] = _ip_checksum(bytes(frame[inner:inner + 20])).to_bytes(
            2, "big")
        frame[inner + 20:inner + 22] = flow.sport.to_bytes(2, "big")
        frame[inner + 26:inner + 28] = b"\0\0"  # no UDP checksum (allowed for IPv4)
        out.append(bytes(frame))
    return out


def write_pcap(traffic: Traffic, path: pathlib.Path) -> None:
    traffic.validate()
    flows = make_flows(traffic.flows, traffic.seed, traffic.src)
    frames = (lb_frames(flows, traffic.size, *traffic.lb) if traffic.lb is not None
              else fast_frames(flows, traffic.size))
    writer = RawPcapWriter(str(path), linktype=DLT_EN10MB, sync=False)
    try:
        writer.write_header(None)  # linktype is given: nothing to guess
        for i in range(traffic.packets):
            writer.write_packet(frames[i % len(frames)], sec=i // 1_000_000,
                                usec=i % 1_000_000)
    finally:
        writer.close()
