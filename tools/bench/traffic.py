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


def write_pcap(traffic: Traffic, path: pathlib.Path) -> None:
    traffic.validate()
    frames = fast_frames(make_flows(traffic.flows, traffic.seed, traffic.src), traffic.size)
    writer = RawPcapWriter(str(path), linktype=DLT_EN10MB, sync=False)
    try:
        writer.write_header(None)  # linktype is given: nothing to guess
        for i in range(traffic.packets):
            writer.write_packet(frames[i % len(frames)], sec=i // 1_000_000,
                                usec=i % 1_000_000)
    finally:
        writer.close()
