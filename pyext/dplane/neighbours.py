# SPDX-License-Identifier: Apache-2.0
"""The underlay router behind each PF, as dpservice finds it: an IPv6 neighbour entry with the
router flag on the PF's kernel interface. Its MAC is the destination of every encapsulated
frame. Read with one netlink dump (RTM_GETNEIGH); no external tools."""
from __future__ import annotations

import logging
import socket
import struct
from collections.abc import Callable, Iterator

log = logging.getLogger("dplane.neighbours")

RTM_NEWNEIGH, RTM_GETNEIGH = 28, 30
NLM_F_REQUEST, NLM_F_DUMP = 0x01, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
NDA_LLADDR = 2
NTF_ROUTER = 0x80
NUD_INCOMPLETE, NUD_FAILED = 0x01, 0x20

_NLMSGHDR = struct.Struct("=IHHII")
_NDMSG = struct.Struct("=BBHiHBB")  # family, pad1, pad2, ifindex, state, flags, type
_RTATTR = struct.Struct("=HH")


def _align(n: int) -> int:
    return (n + 3) & ~3


def _attributes(data: bytes, offset: int) -> Iterator[tuple[int, bytes]]:
    while offset + _RTATTR.size <= len(data):
        length, kind = _RTATTR.unpack_from(data, offset)
        if length < _RTATTR.size or offset + length > len(data):
            return
        yield kind, data[offset + _RTATTR.size:offset + length]
        offset += _align(length)


def parse_dump(data: bytes) -> Iterator[tuple[int, int, int, bytes | None]]:
    """(ifindex, state, flags, lladdr) of each RTM_NEWNEIGH message in a dump reply."""
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, _flags, _seq, _pid = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size or offset + length > len(data):
            return
        body = offset + _NLMSGHDR.size
        if kind == RTM_NEWNEIGH and length >= _NLMSGHDR.size + _NDMSG.size:
            _fam, _p1, _p2, ifindex, state, flags, _type = _NDMSG.unpack_from(data, body)
            lladdr = None
            for attr, value in _attributes(data[:offset + length], body + _NDMSG.size):
                if attr == NDA_LLADDR and len(value) == 6:
                    lladdr = value
            yield ifindex, state, flags, lladdr
        offset += _align(length)


def _dump() -> bytes:
    """All IPv6 neighbour entries of this network namespace, raw."""
    with socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE) as sock:
        sock.settimeout(2.0)
        request = _NLMSGHDR.pack(_NLMSGHDR.size + _NDMSG.size, RTM_GETNEIGH,
                                 NLM_F_REQUEST | NLM_F_DUMP, 1, 0)
        request += _NDMSG.pack(socket.AF_INET6, 0, 0, 0, 0, 0, 0)
        sock.send(request)
        chunks = []
        while True:
            chunk = sock.recv(65536)
            chunks.append(chunk)
            kinds = [k for *_rest, k in _message_kinds(chunk)]
            if NLMSG_DONE in kinds or NLMSG_ERROR in kinds or not chunk:
                return b"".join(chunks)


def _message_kinds(data: bytes) -> Iterator[tuple[int, int]]:
    offset = 0
    while offset + _NLMSGHDR.size <= len(data):
        length, kind, *_ = _NLMSGHDR.unpack_from(data, offset)
        if length < _NLMSGHDR.size:
            return
        yield offset, kind
        offset += _align(length)


def router_mac(ifindex: int, dump: Callable[[], bytes] = _dump) -> bytes | None:
    """The MAC of a usable router neighbour on the interface, or None."""
    try:
        data = dump()
    except OSError as exc:
        log.debug("reading the neighbour table failed: %s", exc)
        return None
    for index, state, flags, lladdr in parse_dump(data):
        if index == ifindex and flags & NTF_ROUTER and lladdr and lladdr != bytes(6) \
                and not state & (NUD_INCOMPLETE | NUD_FAILED):
            return lladdr
    return None
