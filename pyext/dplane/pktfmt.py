# SPDX-License-Identifier: Apache-2.0
"""One line per traced packet, as dplane-dump prints it and --graphtrace-loglevel logs it:
where it was (`PORT p >> cls`, a node, `tx-p >> PORT p`, `<reason> >> DROP`) and what it is
(Ethernet, VLAN, ARP, IPv4/IPv6 with the overlay's IP-in-IPv6, TCP/UDP/ICMP)."""
from __future__ import annotations

import ipaddress
import re
import struct
import time

from .proto import dplane_pb2


def _mac(raw: bytes) -> str:
    return raw.hex(":")


def _l4(proto: int, payload: bytes, src: str, dst: str) -> str:
    if proto in (6, 17) and len(payload) >= 4:
        sport, dport = struct.unpack_from("!HH", payload)
        name = "TCP" if proto == 6 else "UDP"
        flags = ""
        if proto == 6 and len(payload) >= 14:
            bits = payload[13]
            flags = " [" + "".join(c for b, c in enumerate("FSRPAU") if bits >> b & 1) + "]"
        return f"{name} {src}:{sport} > {dst}:{dport}{flags}"
    if proto in (1, 58) and len(payload) >= 2:
        name = "ICMP" if proto == 1 else "ICMPv6"
        return f"{name} {src} > {dst} type {payload[0]} code {payload[1]}"
    return f"IP proto {proto} {src} > {dst}"


def _ip(ethertype: int, data: bytes, depth: int = 0) -> str:
    if ethertype == 0x0800 and len(data) >= 20:
        ihl = (data[0] & 0xF) * 4
        src = str(ipaddress.IPv4Address(data[12:16]))
        dst = str(ipaddress.IPv4Address(data[16:20]))
        return "IPv4 " + _l4(data[9], data[ihl:], src, dst)
    if ethertype == 0x86DD and len(data) >= 40:
        src = str(ipaddress.IPv6Address(data[8:24]))
        dst = str(ipaddress.IPv6Address(data[24:40]))
        nh = data[6]
        if nh in (4, 41) and depth == 0:  # the overlay: IP-in-IPv6
            inner = _ip(0x0800 if nh == 4 else 0x86DD, data[40:], 1)
            return f"IPv6 {src} > {dst} | {inner}"
        return "IPv6 " + _l4(nh, data[40:], src, dst)
    if ethertype == 0x0806 and len(data) >= 28:
        op = struct.unpack_from("!H", data, 6)[0]
        spa = str(ipaddress.IPv4Address(data[14:18]))
        tpa = str(ipaddress.IPv4Address(data[24:28]))
        if op == 1:
            return f"ARP who-has {tpa} tell {spa}"
        return f"ARP {spa} is-at {_mac(data[8:14])}"
    return f"ethertype 0x{ethertype:04x}"


def summary(data: bytes, length: int) -> str:
    if len(data) < 14:
        return f"{length} bytes"
    ethertype = struct.unpack_from("!H", data, 12)[0]
    off = 14
    vlan = ""
    if ethertype == 0x8100 and len(data) >= 18:
        vlan = f"vlan {struct.unpack_from('!H', data, 14)[0] & 0xFFF} "
        ethertype = struct.unpack_from("!H", data, 16)[0]
        off = 18
    return (f"{_mac(data[6:12])} > {_mac(data[0:6])} {vlan}{_ip(ethertype, data[off:])}"
            f" len {length}")


def where(pkt: dplane_pb2.TracedPacket) -> str:
    if pkt.dropped:
        return f"{pkt.node} >> DROP"
    if pkt.node == "cls":
        return f"PORT {pkt.port} >> cls"
    m = re.fullmatch(r"tx-(\d+)", pkt.node)
    if m:
        return f"{pkt.node} >> PORT {m.group(1)}"
    return pkt.node


def format_line(pkt: dplane_pb2.TracedPacket) -> str:
    sec, ns = divmod(pkt.timestamp_ns, 1_000_000_000)
    stamp = time.strftime("%H:%M:%S", time.gmtime(sec)) + f".{ns // 1000:06d}"
    return f"{stamp} {where(pkt):<24}: {summary(pkt.data, pkt.length)}"
