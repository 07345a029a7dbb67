# SPDX-License-Identifier: Apache-2.0
"""Shared pieces of the DHCP tests: a module-wide service, interfaces created for one test,
request frames, and an independent model of the exact replies the contract fixes.

Addressing plan (on top of harness.py's):
  VF0 dtapvf_0 (net_tap2, 66:66:66:66:66:00), VF1 dtapvf_1 (net_tap3, 66:66:66:66:66:01)
  VM MACs 02:00:00:00:00:xx; VM IPv4 10.0.0.x, IPv6 fd00::x; PXE servers 192.0.2.10 and
  fd00:b007::10; gateway 169.254.0.1 / fe80::1
"""
from __future__ import annotations

import contextlib
import errno
import socket
import struct
import time
from collections.abc import Iterator, Sequence

from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import (
    DUID_LL,
    DHCP6OptClientId,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptOptReq,
    DHCP6OptRapidCommit,
)
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

import harness
from dplane.proto import dpdk_pb2

VF = {0: ("net_tap2", "dtapvf_0", "66:66:66:66:66:00"),
      1: ("net_tap3", "dtapvf_1", "66:66:66:66:66:01")}
VM_MAC = "02:00:00:00:00:01"
VM_IP, VM_IP6 = "10.0.0.2", "fd00::2"
PXE_IP, PXE_IP6 = "192.0.2.10", "fd00:b007::10"
GW_IP, GW_IP6 = "169.254.0.1", "fe80::1"
PXE_VENDOR_CLASS = b"PXEClient:Arch:00007:UNDI:003016"

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
SOLICIT, ADVERTISE, REQUEST6, CONFIRM, RENEW, REBIND, REPLY, RELEASE6 = range(1, 9)


def mac_bytes(mac: str) -> bytes:
    return bytes.fromhex(mac.replace(":", ""))


def ip4(text: str) -> bytes:
    return bytes(int(x) for x in text.split("."))


def ip6(text: str) -> bytes:
    return socket.inet_pton(socket.AF_INET6, text)


# ---------------------------------------------------------------------------------------------
# Service and interfaces

def service(opts: Sequence[str] = (), nb_vfs: int = 2):
    """A dplane in its own netns, initialised, for a whole test module."""
    return harness.running_service(opts, nb_vfs)


@contextlib.contextmanager
def interface(svc: harness.Service, vf: int = 0, ipv4: str = VM_IP, ipv6: str = VM_IP6,
              open_tap: bool = True, **extra) -> Iterator[harness.Tap | None]:
    """An interface on VF `vf` for the duration of the block; yields the VF's TAP (or None
    when `open_tap` is false)."""
    device, ifname, _ = VF[vf]
    iface_id = f"dhcp{vf}".encode()
    svc.api.CreateInterface(dpdk_pb2.CreateInterfaceRequest(
        interface_id=iface_id, vni=100, device_name=device,
        ipv4_config=dpdk_pb2.IpConfig(primary_address=ipv4.encode()),
        ipv6_config=dpdk_pb2.IpConfig(primary_address=ipv6.encode()), **extra), timeout=5)
    try:
        # a fresh socket per interface: the link going down leaves an error on the old one
        yield svc.tap(ifname) if open_tap else None
    finally:
        tap = svc.taps.pop(ifname, None)
        if tap is not None:
            tap.close()
        svc.api.DeleteInterface(dpdk_pb2.DeleteInterfaceRequest(interface_id=iface_id),
                                timeout=5)


def pxe(server: str, boot_file: str) -> dict:
    return {"pxe_config": dpdk_pb2.PxeConfig(next_server=server, boot_filename=boot_file)}


def send(tap: harness.Tap, frame) -> None:
    """Send, retrying while the VF's link is still coming up."""
    deadline = time.monotonic() + 2
    while True:
        try:
            tap.send(frame)
            return
        except OSError as err:
            if err.errno != errno.ENETDOWN or time.monotonic() > deadline:
                raise
            time.sleep(0.01)


def exchange(tap: harness.Tap, frame, timeout: float = 2.0) -> bytes | None:
    """Send a frame, return the first frame the service sends back (raw), or None."""
    send(tap, frame)
    return tap.recv_raw(timeout)


def counted(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    """Drop counters that moved, and by how much."""
    return {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}


def send_and_count(svc: harness.Service, tap: harness.Tap, frames, reason: str,
                   ) -> dict[str, int]:
    before = svc.drops()
    for frame in frames:
        send(tap, frame)
    after = svc.wait_drops(reason, before.get(reason, 0) + len(frames))
    return counted(before, after)


# ---------------------------------------------------------------------------------------------
# DHCPv4 requests and the replies the contract fixes

def dhcp_frame(options: list, mac: str = VM_MAC, xid: int = 0x12345678, bootp_extra=None,
               ip_extra=None):
    """A client's DHCP message to the broadcast address (scapy)."""
    return (Ether(dst="ff:ff:ff:ff:ff:ff", src=mac) /
            IP(src="0.0.0.0", dst="255.255.255.255", **(ip_extra or {})) /
            UDP(sport=68, dport=67) /
            BOOTP(chaddr=mac_bytes(mac), xid=xid, **(bootp_extra or {})) /
            DHCP(options=options))


def bootp_raw(options: bytes, op: int = 1, magic: bytes = b"\x63\x82\x53\x63",
              mac: str = VM_MAC) -> bytes:
    """A BOOTP message with raw option bytes (for malformed ones)."""
    fixed = struct.pack("!BBBBIHHIIII16s64s128s", op, 1, 6, 0, 0x1234, 0, 0, 0, 0, 0, 0,
                        mac_bytes(mac), b"", b"")
    return fixed + magic + options


def raw_dhcp_frame(payload: bytes, mac: str = VM_MAC, more_fragments: bool = False) -> bytes:
    """Ether/IPv4/UDP 68 -> 67 around any payload, without scapy (fast enough for bursts)."""
    src, dst = bytes(4), b"\xff" * 4
    udp = struct.pack("!HHHH", 68, 67, 8 + len(payload), 0) + payload
    pseudo = src + dst + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", udp_checksum(pseudo, udp)) + udp[8:]
    iph = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), 1,
                                0x2000 if more_fragments else 0, 64, 17, 0, src, dst))
    iph[10:12] = struct.pack("!H", checksum(bytes(iph)))
    return b"\xff" * 6 + mac_bytes(mac) + b"\x08\x00" + bytes(iph) + udp


def checksum(data: bytes) -> int:
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def udp_checksum(pseudo: bytes, udp: bytes) -> int:
    value = checksum(pseudo + udp)
    return value or 0xFFFF


CLASSLESS_ROUTES = bytes([16, 169, 254, 0, 0, 0, 0, 0, 169, 254, 0, 1])


def dhcp_options(reply_type: int, mtu: int = 1500, dns: Sequence[str] = (), hostname: str = "",
                 router: bool = False) -> list[tuple[int, bytes]]:
    """The reply's options in the contract's order, as (code, value)."""
    opts = [(53, bytes([reply_type])), (51, b"\xff" * 4), (54, ip4(GW_IP)),
            (121, CLASSLESS_ROUTES), (1, b"\xff" * 4), (26, struct.pack("!H", mtu))]
    if router:
        opts.append((3, ip4(GW_IP)))
    if dns:
        opts.append((6, b"".join(ip4(a) for a in dns)))
    if hostname:
        opts.append((12, hostname.encode()))
    return opts


def dhcp_reply(request: bytes, vf_mac: str, reply_type: int, vm_ip: str = VM_IP,
               pxe_server: str | None = None, boot_file: bytes = b"", **options) -> bytes:
    """The exact reply to `request` (raw Ethernet frame), rebuilt from the contract: the
    request with its addresses, ports and BOOTP fields rewritten and new options."""
    client = request[6:12]
    ihl = (request[14] & 0x0F) * 4
    tos, ident, frag, ttl = request[15], request[18:20], request[20:22], request[22]
    bootp = bytearray(request[14 + ihl + 8:14 + ihl + 8 + 240])
    bootp[0] = 2
    bootp[16:20] = ip4(vm_ip)
    bootp[20:24] = ip4(pxe_server or GW_IP)
    bootp[24:28] = ip4(GW_IP)
    bootp[28:34] = client
    if pxe_server:
        bootp[108:236] = boot_file.ljust(128, b"\0")
    opts = b"".join(bytes([code, len(value)]) + value for code, value in
                    dhcp_options(reply_type, router=pxe_server is not None, **options))
    payload = bytes(bootp) + opts + b"\xff"
    dst = ip4("255.255.255.255") if pxe_server else ip4(vm_ip)
    udp = struct.pack("!HHHH", 67, 68, 8 + len(payload), 0) + payload
    pseudo = ip4(GW_IP) + dst + struct.pack("!BBH", 0, 17, len(udp))
    udp = udp[:6] + struct.pack("!H", udp_checksum(pseudo, udp)) + udp[8:]
    iph = bytearray(struct.pack("!BB", 0x45, tos) + struct.pack("!H", 20 + len(udp)) + ident +
                    frag + bytes([ttl, 17, 0, 0]) + ip4(GW_IP) + dst)
    iph[10:12] = struct.pack("!H", checksum(bytes(iph)))
    eth_dst = b"\xff" * 6 if pxe_server else client
    return eth_dst + mac_bytes(vf_mac) + b"\x08\x00" + bytes(iph) + udp


def reply_options(frame: bytes) -> list[tuple[int, bytes]]:
    """The options of a reply as (code, value), checking they end with END and nothing else."""
    ihl = (frame[14] & 0x0F) * 4
    data = frame[14 + ihl + 8 + 240:]
    opts, i = [], 0
    while data[i] != 255:
        opts.append((data[i], data[i + 2:i + 2 + data[i + 1]]))
        i += 2 + data[i + 1]
    assert i == len(data) - 1, "bytes after the END option"
    return opts


# ---------------------------------------------------------------------------------------------
# DHCPv6 requests and replies

def dhcp6_frame(message, mac: str = VM_MAC, src: str = "fe80::200:ff:fe00:1",
                hlim: int = 1, ext=None):
    """A client's DHCPv6 message to All_DHCP_Relay_Agents_and_Servers (scapy)."""
    ip = IPv6(src=src, dst="ff02::1:2", hlim=hlim)
    if ext is not None:
        ip = ip / ext
    return Ether(dst="33:33:00:01:00:02", src=mac) / ip / UDP(sport=546, dport=547) / message


def client_options(mac: str = VM_MAC, iaid: int = 0x0A0B0C0D, rapid: bool = True):
    """The usual client options: CLIENTID (DUID-LL), IA_NA, rapid commit, elapsed time, ORO."""
    opts = DHCP6OptClientId(duid=DUID_LL(lladdr=mac)) / DHCP6OptIA_NA(iaid=iaid)
    if rapid:
        opts = opts / DHCP6OptRapidCommit()
    return opts / DHCP6OptElapsedTime() / DHCP6OptOptReq(reqopts=[23, 59])


def opt6(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def dhcp6_options(client_mac: str, client_id: bytes | None = None, iaid: bytes | None = None,
                  rapid: bool = False, dns: Sequence[str] = (), boot_url: str | None = None,
                  vm_ip6: str = VM_IP6) -> bytes:
    """The options of a full reply, in dpservice's order."""
    out = opt6(2, struct.pack("!HH", 3, 0xABCD) + mac_bytes(client_mac))
    if client_id is not None:
        out += opt6(1, client_id)
    if iaid is not None:
        status = opt6(13, b"\0\0")
        iaaddr = opt6(5, ip6(vm_ip6) + b"\xff" * 8 + status)
        out += opt6(3, iaid + b"\xff" * 8 + iaaddr)
    if rapid:
        out += opt6(14, b"")
    out += opt6(23, b"".join(ip6(a) for a in dns))
    if boot_url is not None:
        out += opt6(59, boot_url.encode())
    return out


def no_addrs_options(client_mac: str, client_id: bytes | None, iaid: bytes | None) -> bytes:
    out = opt6(2, struct.pack("!HH", 3, 0xABCD) + mac_bytes(client_mac))
    if client_id is not None:
        out += opt6(1, client_id)
    if iaid is not None:
        out += opt6(3, iaid + bytes(8) + opt6(13, b"\0\x02"))
    else:
        out += opt6(13, b"\0\x02")
    return out


def dhcp6_reply(request: bytes, vf_mac: str, reply_type: int, options: bytes) -> bytes:
    """The exact reply to `request`: Ether/IPv6 reversed (fe80::1), traffic class, flow label
    and hop limit kept, no extension headers, UDP 547 -> 546, type changed, xid kept."""
    client = request[6:12]
    ip = request[14:54]
    # skip extension headers (hop-by-hop, destination options: (next, len) in 8-octet units)
    nh, off = ip[6], 54
    while nh != 17:
        nh, off = request[off], off + (request[off + 1] + 1) * 8
    xid = request[off + 9:off + 12]
    payload = bytes([reply_type]) + xid + options
    udp = struct.pack("!HHHH", 547, 546, 8 + len(payload), 0) + payload
    src, dst = ip6(GW_IP6), ip[8:24]
    pseudo = src + dst + struct.pack("!IxxxB", len(udp), 17)
    udp = udp[:6] + struct.pack("!H", udp_checksum(pseudo, udp)) + udp[8:]
    iph = ip[:4] + struct.pack("!HBB", len(udp), 17, ip[7]) + src + dst
    return client + mac_bytes(vf_mac) + b"\x86\xdd" + iph + udp


def client_id_of(frame) -> bytes:
    """The CLIENTID value a scapy request carries."""
    raw = bytes(frame[DHCP6OptClientId])  # the option and what follows it
    return raw[4:4 + struct.unpack("!H", raw[2:4])[0]]
