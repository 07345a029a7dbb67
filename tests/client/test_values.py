# SPDX-License-Identifier: Apache-2.0
"""Flag value parsers: the syntax of the Go CLI's flags (netip, strconv base 0,
time.ParseDuration) and error texts that name the bad value."""
from __future__ import annotations

import ipaddress

import pytest

from dplane.cli import values
from dplane.cli.values import FlagValueError


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.1", "10.0.0.1"), (" 10.0.0.1 ", "10.0.0.1"), ("fc00:1::1", "fc00:1::1"),
    ("FC00:0001:0:0::1", "fc00:1::1"), ("::", "::"), ("0.0.0.0", "0.0.0.0")])
def test_addr(text, expected):
    assert str(values.parse_addr(text)) == expected


@pytest.mark.parametrize("text", ["", "xxx", "10.0.0.256", "010.0.0.1", "1.2.3", "fe80::1%eth0",
                                  "10.0.0.1/24", "::g"])
def test_addr_rejected(text):
    with pytest.raises(FlagValueError) as err:
        values.parse_addr(text)
    assert str(err.value) == f'ParseAddr("{text.strip()}"): unable to parse IP'


@pytest.mark.parametrize("text, expected", [
    ("10.0.0.0/8", "10.0.0.0/8"), ("10.1.2.3/24", "10.1.2.3/24"),  # host bits are kept
    ("0.0.0.0/0", "0.0.0.0/0"), ("fd00::/64", "fd00::/64"), ("::1/128", "::1/128")])
def test_prefix(text, expected):
    assert str(values.parse_prefix(text)) == expected


@pytest.mark.parametrize("text, reason", [
    ("10.0.0.0", "no '/'"),
    ("10.0.0.0/33", "prefix length out of range"),
    ("fd00::/129", "prefix length out of range"),
    ("10.0.0.0/024", 'bad bits after slash: "024"'),
    ("10.0.0.0/x", 'bad bits after slash: "x"'),
    ("10.0.0.0/", 'bad bits after slash: ""'),
    ("x/8", 'ParseAddr("x"): unable to parse IP'),
])
def test_prefix_rejected(text, reason):
    with pytest.raises(FlagValueError) as err:
        values.parse_prefix(text)
    assert str(err.value) == f'netip.ParsePrefix("{text}"): {reason}'


@pytest.mark.parametrize("text, expected", [
    ("0", 0), ("100", 100), ("0x10", 16), ("0o17", 15), ("017", 15), ("0b101", 5),
    ("1_000", 1000), ("0x_ff", 255), ("4294967295", 4294967295)])
def test_uint32(text, expected):
    assert values.parse_uint(text, 32) == expected


@pytest.mark.parametrize("text", ["", "-1", "+1", "abc", "1.5", "_1", "1_", "1__0", "08",
                                  "0x", " 1", "\u0663"])
def test_uint_syntax(text):
    with pytest.raises(FlagValueError, match="strconv.ParseUint: parsing .*: invalid syntax"):
        values.parse_uint(text, 32)


def test_uint_range():
    with pytest.raises(FlagValueError) as err:
        values.parse_uint("4294967296", 32)
    assert str(err.value) == 'strconv.ParseUint: parsing "4294967296": value out of range'
    assert values.parse_uint("255", 8) == 255
    with pytest.raises(FlagValueError, match="value out of range"):
        values.parse_uint("256", 8)


@pytest.mark.parametrize("text, expected", [("-1", -1), ("+5", 5), ("2147483647", 2**31 - 1),
                                            ("-2147483648", -2**31), ("-0x10", -16)])
def test_int32(text, expected):
    assert values.parse_int(text, 32) == expected


def test_int32_range():
    with pytest.raises(FlagValueError, match='strconv.ParseInt: parsing "2147483648": value'):
        values.parse_int("2147483648", 32)


@pytest.mark.parametrize("text, seconds", [
    ("4s", 4.0), ("500ms", 0.5), ("1m30s", 90.0), ("1.5h", 5400.0), ("0", 0.0), ("-2s", -2.0),
    ("100us", 1e-4), ("100\u00b5s", 1e-4), ("10ns", 1e-8), (".5s", 0.5), ("1.s", 1.0)])
def test_duration(text, seconds):
    assert values.parse_duration(text) == pytest.approx(seconds)


@pytest.mark.parametrize("text, message", [
    ("4", 'time: missing unit in duration "4"'),
    ("4x", 'time: unknown unit "x" in duration "4x"'),
    ("1e3s", 'time: unknown unit "e" in duration "1e3s"'),
    ("", 'time: invalid duration ""'),
    ("s", 'time: invalid duration "s"'),
    (".s", 'time: invalid duration ".s"'),
    ("9999999999h", 'time: invalid duration "9999999999h"'),
])
def test_duration_rejected(text, message):
    with pytest.raises(FlagValueError) as err:
        values.parse_duration(text)
    assert str(err.value) == message


@pytest.mark.parametrize("text, expected", [
    ("localhost:1337", "localhost:1337"), ("10.0.0.1:1", "10.0.0.1:1"),
    ("[fc00::1]:1337", "[fc00::1]:1337"), (":1337", "localhost:1337"),
    ("unix:/run/dp.sock", "unix:/run/dp.sock")])
def test_grpc_address(text, expected):
    assert values.parse_grpc_address(text) == expected


@pytest.mark.parametrize("text, reason", [
    ("localhost", "missing port in address"), ("fc00::1:1337", "too many colons in address"),
    ("host:x", 'invalid port "x"'), ("host:70000", 'invalid port "70000"'),
    ("[fc00::1:1337", "missing ']' in address")])
def test_grpc_address_rejected(text, reason):
    with pytest.raises(FlagValueError) as err:
        values.parse_grpc_address(text)
    assert str(err.value) == reason


@pytest.mark.parametrize("text, expected", [("TCP/443", (6, 443)), ("udp/53", (17, 53)),
                                            ("IcmpV6/0", (58, 0)), ("sctp/9", (132, 9))])
def test_lbport(text, expected):
    assert values.parse_lbport(text) == expected


@pytest.mark.parametrize("text", ["TCP", "GRE/1", "TCP/x", "TCP/65536", "TCP/-1", "/80"])
def test_lbport_rejected(text):
    with pytest.raises(FlagValueError, match=f'"{text}"'):
        values.parse_lbport(text)


@pytest.mark.parametrize("text, expected", [("true", True), ("1", True), ("T", True),
                                            ("False", False), ("0", False), ("f", False)])
def test_bool(text, expected):
    assert values.parse_bool(text) is expected


def test_bool_rejected():
    with pytest.raises(FlagValueError, match='strconv.ParseBool: parsing "yes"'):
        values.parse_bool("yes")


def test_undecodable_argv_bytes():
    raw = b"vm\xff".decode("utf-8", "surrogateescape")  # what sys.argv holds for such bytes
    assert values.to_bytes(raw) == b"vm\xff"
    assert values.quote(raw) == '"vm\\\\xff"'
    with pytest.raises(FlagValueError, match="not valid UTF-8"):
        values.to_text(raw)
    with pytest.raises(FlagValueError, match="not valid UTF-8"):
        values.to_bytes("\ud800")
    assert values.safe_text("\ud800") == "\\xed\\xa0\\x80"


def test_prefix_keeps_address_type():
    prefix = values.parse_prefix("fd00::5/64")
    assert prefix.addr == ipaddress.IPv6Address("fd00::5") and prefix.bits == 64
