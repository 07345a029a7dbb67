# SPDX-License-Identifier: Apache-2.0
"""Flag value parsers with the syntax (and error wording) of the Go dpservice-cli's flags.

Each parser takes the text of one flag value and returns the parsed value or raises
FlagValueError with the reason; the caller names the flag (see `spec.convert`). Integers
follow Go's strconv with base 0 (0x1f, 0o17, 0b11, 017, 1_000), durations follow Go's
time.ParseDuration (4s, 500ms, 1m30s).
"""
from __future__ import annotations

import ipaddress
import json
import re
from typing import NamedTuple

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

PROTOCOLS = {"icmp": 1, "tcp": 6, "udp": 17, "icmpv6": 58, "sctp": 132}
PROTOCOL_NAMES = {1: "ICMP", 6: "TCP", 17: "UDP", 58: "ICMPv6", 132: "SCTP"}


class FlagValueError(ValueError):
    """Why a flag value does not parse (without the flag name)."""


class NetPrefix(NamedTuple):
    """An address and a prefix length; the address keeps its host bits, as netip.Prefix."""

    addr: Address
    bits: int

    def __str__(self) -> str:
        return f"{self.addr}/{self.bits}"


def safe_text(text: str) -> str:
    """`text` with undecodable bytes / lone surrogates shown as escapes, safe to print."""
    try:
        raw = text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raw = text.encode("utf-8", "surrogatepass")
    return raw.decode("utf-8", "backslashreplace")


def quote(text: str) -> str:
    """A double-quoted, escaped rendering of a user-given value (Go's %q)."""
    return json.dumps(safe_text(text), ensure_ascii=False)


def parse_addr(text: str) -> Address:
    value = text.strip()
    try:
        if "%" in value:
            raise ValueError("zone")
        return ipaddress.ip_address(value)
    except ValueError:
        raise FlagValueError(f"ParseAddr({quote(value)}): unable to parse IP") from None


def parse_prefix(text: str) -> NetPrefix:
    value = text.strip()
    where = f"netip.ParsePrefix({quote(value)})"
    addr_text, slash, bits_text = value.rpartition("/")
    if not slash:
        raise FlagValueError(f"{where}: no '/'")
    try:
        addr = parse_addr(addr_text)
    except FlagValueError as exc:
        raise FlagValueError(f"{where}: {exc}") from None
    if not re.fullmatch(r"0|[1-9][0-9]{0,2}", bits_text):
        raise FlagValueError(f"{where}: bad bits after slash: {quote(bits_text)}")
    bits = int(bits_text)
    if bits > addr.max_prefixlen:
        raise FlagValueError(f"{where}: prefix length out of range")
    return NetPrefix(addr, bits)


_DIGITS = {2: "01_", 8: "01234567_", 10: "0123456789_", 16: "0123456789abcdefABCDEF_"}


def _split_base(body: str) -> tuple[int, str, bool]:
    """(base, digits, had_prefix) for Go's base-0 integer syntax."""
    head = body[:2].lower()
    if head in ("0x", "0o", "0b"):
        return {"x": 16, "o": 8, "b": 2}[head[1]], body[2:], True
    if len(body) > 1 and body[0] == "0":
        return 8, body[1:], True
    return 10, body, False


def _underscores_ok(digits: str, had_prefix: bool) -> bool:
    if "_" not in digits:
        return True
    if digits.endswith("_") or "__" in digits:
        return False
    return had_prefix or not digits.startswith("_")


def _parse_go_int(text: str, signed: bool, bits: int) -> int:
    func = "strconv.ParseInt" if signed else "strconv.ParseUint"
    syntax = FlagValueError(f"{func}: parsing {quote(text)}: invalid syntax")
    body, negative = text, False
    if signed and body[:1] in ("+", "-"):
        negative, body = body[0] == "-", body[1:]
    base, digits, had_prefix = _split_base(body)
    if not digits or not all(c in _DIGITS[base] for c in digits):
        raise syntax
    if not _underscores_ok(digits, had_prefix) or not digits.strip("_"):
        raise syntax
    value = int(digits.replace("_", ""), base) * (-1 if negative else 1)
    low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
    if not low <= value <= high:
        raise FlagValueError(f"{func}: parsing {quote(text)}: value out of range")
    return value


def parse_uint(text: str, bits: int) -> int:
    return _parse_go_int(text, False, bits)


def parse_int(text: str, bits: int) -> int:
    return _parse_go_int(text, True, bits)


_TRUE = ("1", "t", "T", "TRUE", "true", "True")
_FALSE = ("0", "f", "F", "FALSE", "false", "False")


def parse_bool(text: str) -> bool:
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise FlagValueError(f"strconv.ParseBool: parsing {quote(text)}: invalid syntax")


_UNITS = {"ns": 1, "us": 1_000, "\u00b5s": 1_000, "\u03bcs": 1_000, "ms": 1_000_000,
          "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_PART = re.compile(r"([0-9]*)(?:\.([0-9]*))?([^0-9.]*)")
_MAX_NS = (1 << 63) - 1


def parse_duration(text: str) -> float:
    """Go's time.ParseDuration, in seconds."""
    invalid = FlagValueError(f"time: invalid duration {quote(text)}")
    rest, sign = text, 1
    if rest[:1] in ("+", "-"):
        sign, rest = (-1 if rest[0] == "-" else 1), rest[1:]
    if rest == "0":
        return 0.0
    if not rest:
        raise invalid
    total = 0.0
    while rest:
        match = _DURATION_PART.match(rest)
        whole, frac, unit = match.group(1), match.group(2), match.group(3)
        if not whole and not frac:
            raise invalid
        if not unit:
            raise FlagValueError(f"time: missing unit in duration {quote(text)}")
        if unit not in _UNITS:
            raise FlagValueError(f"time: unknown unit {quote(unit)} in duration {quote(text)}")
        total += float(f"{whole or 0}.{frac or 0}") * _UNITS[unit]
        rest = rest[match.end():]
    if total > _MAX_NS:
        raise invalid
    return sign * total / 1e9


def parse_grpc_address(text: str) -> str:
    """A gRPC target: host:port, [v6]:port, or a scheme target (unix:/path, dns:///...)."""
    if re.match(r"(unix|unix-abstract|dns|ipv4|ipv6|vsock):", text):
        return text
    host, colon, port = text.rpartition(":")
    if not colon:
        raise FlagValueError("missing port in address")
    if host.startswith("["):
        if not host.endswith("]"):
            raise FlagValueError("missing ']' in address")
    elif ":" in host:
        raise FlagValueError("too many colons in address")
    if not re.fullmatch(r"[0-9]{1,5}", port) or int(port) > 65535:
        raise FlagValueError(f"invalid port {quote(port)}")
    if any(c.isspace() for c in host) or host in ("[]",):
        raise FlagValueError("invalid host")
    return f"{host or 'localhost'}:{port}"


def parse_lbport(text: str) -> tuple[int, int]:
    """'TCP/443' -> (6, 443); protocol names are case-insensitive."""
    name, slash, port_text = text.strip().partition("/")
    if not slash:
        raise FlagValueError(f"{quote(text)}: expected PROTOCOL/PORT, e.g. TCP/443")
    protocol = PROTOCOLS.get(name.lower())
    if protocol is None:
        raise FlagValueError(f"{quote(text)}: unsupported protocol {quote(name)}")
    if not re.fullmatch(r"[0-9]{1,5}", port_text) or int(port_text) > 65535:
        raise FlagValueError(f"{quote(text)}: port must be a number in 0..65535")
    return protocol, int(port_text)


def to_bytes(text: str) -> bytes:
    """An ID flag as the bytes it stands for (undecodable argv bytes come back as they were)."""
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        raise FlagValueError("not valid UTF-8") from None


def to_text(text: str) -> str:
    """A flag sent in a protobuf string field: must be valid UTF-8."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise FlagValueError("not valid UTF-8") from None
    return text
