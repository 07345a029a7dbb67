# SPDX-License-Identifier: Apache-2.0
"""Underlay addresses: every object reachable from the underlay gets an IPv6 address of its
own, in dpservice's format:

    bytes 0-7   the /64 prefix of --ipv6
    byte 8      0xd0
    byte 9      subtype (0)
    byte 10     flags: 0x80 externally generated ("preferred"), 0x40 virtual services
    byte 11     a random byte, chosen once per process
    bytes 12-15 a big-endian counter, starting at a random value 0..255

A preferred underlay from a client is accepted if it is :: (= generate one) or shares the
/64 of --ipv6 and has the 0x80 flag.
"""
from __future__ import annotations

import ipaddress
import random

from .errors import InvalidArgument

MARKER = 0xD0
FLAG_EXTERNAL = 0x80


class UnderlayGenerator:
    def __init__(self, ipv6: str, rng: random.Random | None = None) -> None:
        rng = rng or random.SystemRandom()
        self.prefix = ipaddress.IPv6Address(ipv6).packed[:8]
        self._random = rng.randrange(256)
        self._counter = rng.randrange(256)

    def generate(self) -> bytes:
        """The next address (16 bytes)."""
        address = self.prefix + bytes([MARKER, 0, 0, self._random]) + \
            self._counter.to_bytes(4, "big")
        self._counter = (self._counter + 1) & 0xFFFFFFFF
        return address

    def preferred(self, text: bytes) -> bytes | None:
        """A client's preferred underlay (text), None for "generate one". Raises
        InvalidArgument unless acceptable."""
        if not text:
            return None
        try:
            address = ipaddress.IPv6Address(text.decode("ascii"))
        except (UnicodeDecodeError, ValueError):
            raise InvalidArgument("Invalid preferred_underlay_route") from None
        packed = address.packed
        if packed == bytes(16):
            return None
        if packed[:8] != self.prefix or not packed[10] & FLAG_EXTERNAL:
            raise InvalidArgument("Invalid preferred_underlay_route")
        return packed


def text(packed: bytes) -> str:
    return str(ipaddress.ip_address(packed))
