# SPDX-License-Identifier: Apache-2.0
"""Request field checks shared by the RPCs, with dpservice's rules (contract 3.5): addresses
are text in bytes fields, IPv4 as inet_aton reads it, IPv6 as inet_pton reads it; ids and
names must fit dpservice's 64-byte buffers."""
from __future__ import annotations

import ipaddress
import re
import socket

from ..errors import InvalidArgument
from ..proto import dpdk_pb2

NAME_LEN = 64  # ids, device names, hostnames: at most 63 bytes
IFACE_ID_RE = re.compile(rb"^[A-Za-z0-9_-]*$")
VNI_LIMIT = 1 << 24


def text_fits(value: bytes | str, size: int = NAME_LEN) -> bool:
    """Non-empty and shorter than a C buffer of `size` bytes."""
    raw = value.encode() if isinstance(value, str) else value
    return 0 < len(raw) < size and b"\0" not in raw


def ipv4(text: bytes | str) -> bytes | None:
    """Packed IPv4, or None when the text is not one (inet_aton rules)."""
    try:
        value = text.decode("ascii") if isinstance(text, bytes) else text
        return socket.inet_aton(value)
    except (UnicodeDecodeError, OSError, ValueError):
        return None


def ipv6(text: bytes | str) -> bytes | None:
    try:
        value = text.decode("ascii") if isinstance(text, bytes) else text
        return socket.inet_pton(socket.AF_INET6, value)
    except (UnicodeDecodeError, OSError, ValueError):
        return None


def unusable(addr: bytes) -> str | None:
    """Why a VM cannot have this address (broadcast, multicast, loopback, link-local), or
    None. The all-zero address ("none") is the caller's to handle."""
    ip = ipaddress.ip_address(addr)
    if ip.version == 4 and ip == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if ip.is_multicast:
        return "a multicast address"
    if ip.is_loopback:
        return "a loopback address"
    if ip.is_link_local:
        return "a link-local address"
    return None


def address(addr: dpdk_pb2.IpAddress) -> bytes | None:
    """An IpAddress message, parsed by its ipver."""
    if addr.ipver == dpdk_pb2.IPV4:
        return ipv4(addr.address)
    if addr.ipver == dpdk_pb2.IPV6:
        return ipv6(addr.address)
    return None


def interface_id(value: bytes, message: str = "Invalid interface_id") -> str:
    if not text_fits(value):
        raise InvalidArgument(message)
    return value.decode("utf-8", "replace")


def vni(value: int) -> int:
    if value >= VNI_LIMIT:
        raise InvalidArgument("VNI exceeds 24-bit range")
    return value
