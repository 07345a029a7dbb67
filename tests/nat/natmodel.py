# SPDX-License-Identifier: Apache-2.0
"""dpservice's NAT port allocation, written out from the contract (§1.1 NAT gateway, §1.2):

* portmap {vni u32, source address as in a flow key (17 bytes), source port u16}, packed
  (23 bytes), hashed with DPDK's rte_jhash (byte length, init 0xfee1900d);
* a source already in portmap keeps its port, unless exactly its destination
  {NAT IP, port, destination IP, destination port, protocol} is taken (then: refused);
* a new source takes min + (hash + p) % (max - min) for the first p whose destination is free.

For ICMP echo the identifier is the port on both sides. Used to check the ports dplane picks
on the wire, flow by flow."""
from __future__ import annotations

import ipaddress
import struct

from dpservice_hash import rte_jhash

_M = 0xFFFFFFFF


def _key_addr(ip: str) -> tuple[bytes, int]:
    addr = ipaddress.ip_address(ip)
    if addr.version == 4:
        return struct.pack("<I", int(addr)) + bytes(12), 0
    return addr.packed, 1


def portmap_key(vni: int, src: str, src_port: int) -> bytes:
    addr, v6 = _key_addr(src)
    key = struct.pack("<I", vni) + addr + bytes([v6]) + struct.pack("<H", src_port)
    assert len(key) == 23
    return key


def portmap_hash(vni: int, src: str, src_port: int) -> int:
    return rte_jhash(portmap_key(vni, src, src_port))


class PortModel:
    """One NAT (IP and range) as dpservice allocates its ports."""

    def __init__(self, nat_ip: str, min_port: int, max_port: int) -> None:
        self.nat_ip = nat_ip
        self.min_port, self.max_port = min_port, max_port
        self.portmap: dict[tuple, list[int]] = {}  # source -> [port, flows]
        self.taken: set[tuple] = set()  # (port, dst, dst_port, proto)

    def alloc(self, vni: int, src: str, src_port: int, dst: str, dst_port: int,
              proto: int) -> int | None:
        source = (vni, src, src_port)
        if source in self.portmap:
            port = self.portmap[source][0]
            if (port, dst, dst_port, proto) in self.taken:
                return None
            self.taken.add((port, dst, dst_port, proto))
            self.portmap[source][1] += 1
            return port
        size = self.max_port - self.min_port
        h = portmap_hash(vni, src, src_port)
        for p in range(size):
            port = self.min_port + ((h + p) & _M) % size
            if (port, dst, dst_port, proto) not in self.taken:
                self.taken.add((port, dst, dst_port, proto))
                self.portmap[source] = [port, 1]
                return port
        return None
