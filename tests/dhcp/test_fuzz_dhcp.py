# SPDX-License-Identifier: Apache-2.0
"""Fuzz and differential tests for the DHCP parsers, dp_dhcp_parse() (firmware/dhcp) and
dp_dhcpv6_parse() (firmware/dhcpv6).

firmware.dhcp_parse()/dhcpv6_parse() copy their input to the end of a page followed by an
inaccessible guard page, so a read past the end of the message kills the test process: a
crash is a failure.

1. Arbitrary bytes (>= 100 000 examples per parser), as a whole message and, for DHCPv4, as
   the options behind a valid fixed header: a known status, and exactly what `model_v4` /
   `model_v6` (a plain Python reading of dhcp.h / dhcpv6.h) say.
2. Valid messages built from option lists (and from scapy's DHCP layers): exactly the
   expected result.
3. Those messages mutated (truncated, bytes changed, lengths corrupted): the models still
   agree, and targeted corruptions give exactly the documented status.
"""
from __future__ import annotations

import dataclasses
import struct

from hypothesis import HealthCheck, given, note, settings
from hypothesis import strategies as st
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dhcp6 import (
    DUID_LL,
    USER_CLASS_DATA,
    VENDOR_CLASS_DATA,
    DHCP6_Confirm,
    DHCP6_Release,
    DHCP6_Request,
    DHCP6_Solicit,
    DHCP6OptClientId,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptOptReq,
    DHCP6OptRapidCommit,
    DHCP6OptUserClass,
    DHCP6OptVendorClass,
)

from dplane import _firmware as firmware
from dplane._firmware import (
    DHCP_PXE_HTTP,
    DHCP_PXE_NONE,
    DHCP_PXE_TFTP,
    DHCPV6_F_CLIENT_ID,
    DHCPV6_F_IA_NA,
    DHCPV6_F_RAPID_COMMIT,
)


@dataclasses.dataclass(frozen=True)
class DhcpInfo:
    """What the DHCPv4 responder reads from a request (see dplane/dhcp.h)."""

    options_end: int  # offset just past the END option, or the length without one
    msg_type: int
    pxe: int          # DHCP_PXE_*


@dataclasses.dataclass(frozen=True)
class Dhcpv6Info:
    """What the DHCPv6 responder reads from a client message (see dplane/dhcpv6.h)."""

    msg_type: int
    flags: int          # DHCPV6_F_*
    pxe: int            # DHCP_PXE_*
    client_id_off: int  # where the CLIENTID value is in the message (0 if absent)
    client_id_len: int
    iaid: bytes         # of the IA_NA (zeros if absent)


def dhcp_parse(data: bytes) -> tuple[str, DhcpInfo | None]:
    """The DHCPv4 request parser on a UDP payload (needs no EAL)."""
    status, fields = firmware.dhcp_parse(data)
    return status, None if fields is None else DhcpInfo(**fields)


def dhcpv6_parse(data: bytes) -> tuple[str, Dhcpv6Info | None]:
    """The DHCPv6 message parser on a UDP payload (needs no EAL)."""
    status, fields = firmware.dhcpv6_parse(data)
    return status, None if fields is None else Dhcpv6Info(**fields)


OPTIONS_OFF, MAGIC = 240, b"\x63\x82\x53\x63"
VENDOR, USER = b"PXEClient:Arch:00007", b"iPXE"
MAX_DUID = 130
STATUS_V4, STATUS_V6 = frozenset(firmware.DHCP_STATUS), frozenset(firmware.DHCPV6_STATUS)

ARBITRARY = settings(max_examples=100_000, deadline=None,
                     suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STRUCTURED = settings(max_examples=1000, deadline=None,
                      suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
TARGETED = settings(STRUCTURED, max_examples=200)


# ---------------------------------------------------------------------------------------------
# The oracles: plain Python readings of dhcp.h and dhcpv6.h

def pxe_of(tftp: bool, http: bool) -> int:
    return DHCP_PXE_HTTP if http else DHCP_PXE_TFTP if tftp else DHCP_PXE_NONE


def model_v4(data: bytes) -> tuple[str, DhcpInfo | None]:
    if len(data) < OPTIONS_OFF:
        return "truncated", None
    if data[0] != 1:
        return "not_request", None
    if data[236:240] != MAGIC:
        return "bad_magic", None
    i, n, msg_type, tftp, http = OPTIONS_OFF, len(data), None, False, False
    while i < n:
        code = data[i]
        i += 1
        if code == 0:
            continue
        if code == 255:
            break
        if i == n or data[i] > n - i - 1:
            return "bad_option", None
        value = data[i + 1:i + 1 + data[i]]
        i += 1 + len(value)
        if code == 53:
            if len(value) != 1:
                return "bad_option", None
            msg_type = value[0]
        elif code == 60:
            tftp |= VENDOR in value
        elif code == 77:
            http |= value == USER
    if msg_type is None:
        return "no_msg_type", None
    return "ok", DhcpInfo(options_end=i, msg_type=msg_type, pxe=pxe_of(tftp, http))


def model_v6(data: bytes) -> tuple[str, Dhcpv6Info | None]:
    if len(data) < 4:
        return "truncated", None
    info = dict(msg_type=data[0], flags=0, pxe=0, client_id_off=0, client_id_len=0,
                iaid=bytes(4))
    if data[0] in (12, 13):
        return "ok", Dhcpv6Info(**info)
    i, n, tftp, http = 4, len(data), False, False
    while i < n:
        if n - i < 4:
            return "bad_option", None
        code, length = struct.unpack_from("!HH", data, i)
        i += 4
        if length > n - i:
            return "bad_option", None
        value = data[i:i + length]
        if code == 1:
            if length > MAX_DUID:
                return "bad_client_id", None
            info.update(client_id_off=i, client_id_len=length)
            info["flags"] |= DHCPV6_F_CLIENT_ID
        elif code == 3:
            if length < 12:
                return "bad_ia_na", None
            info["iaid"] = value[:4]
            info["flags"] |= DHCPV6_F_IA_NA
        elif code == 14:
            if length:
                return "bad_rapid_commit", None
            info["flags"] |= DHCPV6_F_RAPID_COMMIT
        elif code == 16:
            tftp |= length > 4 and VENDOR in value[4:]
        elif code == 15:
            j = 0
            while length - j >= 2:
                k = struct.unpack_from("!H", value, j)[0]
                j += 2
                if k > length - j:
                    break
                http |= value[j:j + k] == USER
                j += k
        i += length
    info["pxe"] = pxe_of(tftp, http)
    return "ok", Dhcpv6Info(**info)


def check_v4(data: bytes) -> tuple[str, DhcpInfo | None]:
    got = dhcp_parse(data)
    assert got[0] in STATUS_V4
    if got[0] == "ok":
        info = got[1]
        assert OPTIONS_OFF <= info.options_end <= len(data) and info.pxe in (0, 1, 2)
    assert got == model_v4(data)
    return got


def check_v6(data: bytes) -> tuple[str, Dhcpv6Info | None]:
    got = dhcpv6_parse(data)
    assert got[0] in STATUS_V6
    if got[0] == "ok":
        info = got[1]
        assert info.msg_type == data[0]
        assert info.client_id_off + info.client_id_len <= len(data)
        assert info.client_id_len <= MAX_DUID
    assert got == model_v6(data)
    return got


# ---------------------------------------------------------------------------------------------
# 1. Arbitrary bytes

FIXED_V4 = bytes([1, 1, 6, 0]) + bytes(232) + MAGIC


@ARBITRARY
@given(st.binary(max_size=400))
def test_arbitrary_bytes_dhcpv4(data: bytes) -> None:
    check_v4(data)
    check_v4(FIXED_V4 + data)  # the same bytes as options


@ARBITRARY
@given(st.binary(max_size=400))
def test_arbitrary_bytes_dhcpv6(data: bytes) -> None:
    check_v6(data)


# ---------------------------------------------------------------------------------------------
# 2. Valid messages

V4_CODES = (1, 3, 6, 12, 50, 51, 53, 54, 55, 60, 61, 77, 93, 121, 250)


@st.composite
def v4_option(draw) -> tuple[int, bytes]:
    code = draw(st.sampled_from(V4_CODES))
    if code == 53:
        return code, bytes([draw(st.integers(0, 255))])
    if code == 60:
        value = draw(st.sampled_from((VENDOR, VENDOR + b":UDNI:003016", b"x" + VENDOR,
                                      VENDOR[:-1], b"PXEClient:Arch:00000", b"")))
    elif code == 77:
        value = draw(st.sampled_from((USER, USER + b"\0", b"ipxe", USER[:3], b"")))
    else:
        value = draw(st.binary(max_size=40))
    return code, value


@st.composite
def v4_messages(draw) -> tuple[bytes, DhcpInfo]:
    """A valid request: header, cookie, options with pads, a message type, END or not,
    anything after END; and what the parser must answer."""
    header = bytes([1]) + draw(st.binary(max_size=16)).ljust(235, b"\0") + MAGIC
    opts = draw(st.lists(v4_option(), max_size=8))
    msg_type = draw(st.integers(0, 255))
    opts.insert(draw(st.integers(0, len(opts))), (53, bytes([msg_type])))
    body = b""
    for code, value in opts:
        body += b"\0" * draw(st.integers(0, 2)) + bytes([code, len(value)]) + value
    has_end = draw(st.booleans())
    end = OPTIONS_OFF + len(body) + (1 if has_end else 0)
    tail = (b"\xff" + draw(st.binary(max_size=20))) if has_end else b""
    last_type = [v[0] for c, v in opts if c == 53][-1]
    tftp = any(c == 60 and VENDOR in v for c, v in opts)
    http = any(c == 77 and v == USER for c, v in opts)
    return header + body + tail, DhcpInfo(options_end=end, msg_type=last_type,
                                          pxe=pxe_of(tftp, http))


@STRUCTURED
@given(v4_messages())
def test_valid_dhcpv4(m) -> None:
    data, expected = m
    note(data.hex())
    assert check_v4(data) == ("ok", expected)


SCAPY_V4_OPTIONS = [("requested_addr", "10.0.0.2"), ("server_id", "169.254.0.1"),
                    ("hostname", b"vm"), ("param_req_list", [1, 3, 6, 121]),
                    ("vendor_class_id", VENDOR + b":UNDI:003016"), ("user_class", USER),
                    ("client_id", b"\x01\x02\x00\x00\x00\x00\x01"), ("lease_time", 3600)]


@TARGETED
@given(st.sampled_from(("discover", "request", "decline", "release", "inform")),
       st.lists(st.sampled_from(SCAPY_V4_OPTIONS), max_size=5, unique_by=lambda o: o[0]),
       st.booleans())
def test_scapy_dhcpv4(msg_type, options, end) -> None:
    data = bytes(BOOTP(chaddr=b"\x02" * 6) / DHCP(options=[("message-type", msg_type), *options,
                                                           *(["end"] if end else [])]))
    status, info = check_v4(data)
    assert status == "ok"
    types = {"discover": 1, "request": 3, "decline": 4, "release": 7, "inform": 8}
    assert info.msg_type == types[msg_type]
    names = {o[0] for o in options}
    assert info.pxe == pxe_of("vendor_class_id" in names, "user_class" in names)


V6_CODES = (1, 2, 3, 6, 8, 14, 15, 16, 23, 25, 39, 59, 61, 1000)


@st.composite
def v6_option(draw) -> tuple[int, bytes]:
    code = draw(st.sampled_from(V6_CODES))
    if code == 1:
        value = draw(st.binary(max_size=MAX_DUID))
    elif code == 3:
        value = draw(st.binary(min_size=12, max_size=60))
    elif code == 14:
        value = b""
    elif code == 16:
        value = draw(st.binary(min_size=4, max_size=4)) + draw(st.sampled_from((
            struct.pack("!H", 32) + VENDOR + b":UNDI:003016", VENDOR, VENDOR[:-1], b"")))
    elif code == 15:
        entries = draw(st.lists(st.sampled_from((USER, b"other", b"", b"iPX", USER + b"!")),
                                max_size=3))
        value = b"".join(struct.pack("!H", len(e)) + e for e in entries)
        if draw(st.integers(0, 4)) == 0:
            value += draw(st.binary(max_size=3))  # a broken last entry: no match, no error
    else:
        value = draw(st.binary(max_size=40))
    return code, value


@st.composite
def v6_messages(draw) -> tuple[bytes, Dhcpv6Info]:
    msg_type = draw(st.sampled_from((1, 3, 4, 5, 6, 8, 9, 11, 255)))
    data = bytes([msg_type]) + draw(st.binary(min_size=3, max_size=3))
    info = dict(msg_type=msg_type, flags=0, pxe=0, client_id_off=0, client_id_len=0,
                iaid=bytes(4))
    tftp = http = False
    for code, value in draw(st.lists(v6_option(), max_size=8)):
        data += struct.pack("!HH", code, len(value))
        if code == 1:
            info.update(client_id_off=len(data), client_id_len=len(value))
            info["flags"] |= DHCPV6_F_CLIENT_ID
        elif code == 3:
            info["iaid"] = value[:4]
            info["flags"] |= DHCPV6_F_IA_NA
        elif code == 14:
            info["flags"] |= DHCPV6_F_RAPID_COMMIT
        elif code == 16:
            tftp |= VENDOR in value[4:]
        elif code == 15:
            http |= USER in split_user_class(value)
        data += value
    info["pxe"] = pxe_of(tftp, http)
    return data, Dhcpv6Info(**info)


def split_user_class(value: bytes) -> list[bytes]:
    out, j = [], 0
    while len(value) - j >= 2:
        k = struct.unpack_from("!H", value, j)[0]
        if k > len(value) - j - 2:
            break
        out.append(value[j + 2:j + 2 + k])
        j += 2 + k
    return out


@STRUCTURED
@given(v6_messages())
def test_valid_dhcpv6(m) -> None:
    data, expected = m
    note(data.hex())
    assert check_v6(data) == ("ok", expected)


@TARGETED
@given(st.sampled_from((1, 3, 4, 8)), st.booleans(), st.booleans(), st.booleans(),
       st.sampled_from((None, "vendor", "user", "both")))
def test_scapy_dhcpv6(msg_type, client_id, ia_na, rapid, pxe) -> None:
    message = {1: DHCP6_Solicit, 3: DHCP6_Request, 4: DHCP6_Confirm, 8: DHCP6_Release}[msg_type]
    msg = message(trid=0x123456) / DHCP6OptElapsedTime()
    if client_id:
        msg = msg / DHCP6OptClientId(duid=DUID_LL(lladdr="02:00:00:00:00:01"))
    if ia_na:
        msg = msg / DHCP6OptIA_NA(iaid=0xDEADBEEF)
    if rapid:
        msg = msg / DHCP6OptRapidCommit()
    if pxe in ("vendor", "both"):
        msg = msg / DHCP6OptVendorClass(enterprisenum=343, vcdata=[VENDOR_CLASS_DATA(
            data=VENDOR + b":UNDI:003016")])
    if pxe in ("user", "both"):
        msg = msg / DHCP6OptUserClass(userclassdata=[USER_CLASS_DATA(data=USER)])
    data = bytes(msg / DHCP6OptOptReq(reqopts=[23, 59]))
    status, info = check_v6(data)
    assert status == "ok" and info.msg_type == msg_type
    assert info.flags == ((DHCPV6_F_CLIENT_ID if client_id else 0) |
                          (DHCPV6_F_IA_NA if ia_na else 0) |
                          (DHCPV6_F_RAPID_COMMIT if rapid else 0))
    if client_id:
        assert data[info.client_id_off:info.client_id_off + info.client_id_len] == \
            bytes(DUID_LL(lladdr="02:00:00:00:00:01"))
    assert info.iaid == (bytes.fromhex("deadbeef") if ia_na else bytes(4))
    assert info.pxe == pxe_of(pxe == "vendor", pxe in ("user", "both"))


# ---------------------------------------------------------------------------------------------
# 3. Mutations of valid messages

@st.composite
def mutated(draw, messages) -> bytes:
    data = bytearray(draw(messages)[0])
    note(f"original: {bytes(data).hex()}")
    for _ in range(draw(st.integers(1, 4))):
        if not data:
            break
        op = draw(st.sampled_from(("truncate", "flip", "byte", "insert", "delete")))
        i = draw(st.integers(0, len(data) - 1))
        if op == "truncate":
            del data[i:]
        elif op == "flip":
            data[i] ^= 1 << draw(st.integers(0, 7))
        elif op == "byte":
            data[i] = draw(st.sampled_from((0, 1, 3, 12, 53, 255, draw(st.integers(0, 255)))))
        elif op == "insert":
            data[i:i] = draw(st.binary(min_size=1, max_size=4))
        else:
            del data[i:i + draw(st.integers(1, 4))]
    return bytes(data)


@STRUCTURED
@given(mutated(v4_messages()))
def test_mutated_dhcpv4(data: bytes) -> None:
    check_v4(data)


@STRUCTURED
@given(mutated(v6_messages()))
def test_mutated_dhcpv6(data: bytes) -> None:
    check_v6(data)


def option_starts_v4(data: bytes, end: int) -> list[int]:
    """Offsets of the (non-pad, non-end) options of a valid message."""
    out, i = [], OPTIONS_OFF
    while i < end and data[i] != 255:
        if data[i]:
            out.append(i)
            i += 2 + data[i + 1]
        else:
            i += 1
    return out


@TARGETED
@given(v4_messages(), st.data())
def test_dhcpv4_targeted_errors(m, data) -> None:
    msg, info = m
    note(msg.hex())
    cut = data.draw(st.integers(0, OPTIONS_OFF - 1))
    assert dhcp_parse(msg[:cut]) == ("truncated", None)
    assert dhcp_parse(bytes([data.draw(st.sampled_from((0, 2, 3, 255)))]) + msg[1:]) == (
        "not_request", None)
    bad_magic = bytearray(msg)
    bad_magic[236 + data.draw(st.integers(0, 3))] ^= 0x10
    assert dhcp_parse(bytes(bad_magic)) == ("bad_magic", None)
    starts = option_starts_v4(msg, info.options_end)
    i = data.draw(st.sampled_from(starts))
    # any option whose length runs past the end of the message
    past = bytearray(msg[:i + 2 + msg[i + 1]])
    past[i + 1] = min(255, msg[i + 1] + data.draw(st.integers(1, 255)))
    if past[i + 1] > msg[i + 1]:
        assert dhcp_parse(bytes(past)) == ("bad_option", None)
    # a message type of another length
    wrong = bytearray(msg[:i]) + bytes([53, data.draw(st.sampled_from((0, 2, 4)))]) + bytes(4)
    assert dhcp_parse(bytes(wrong)) == ("bad_option", None)
    # every message type option gone
    stripped = msg[:OPTIONS_OFF] + b"".join(
        msg[s:s + 2 + msg[s + 1]] for s in starts if msg[s] != 53)
    assert dhcp_parse(stripped) == ("no_msg_type", None)


@TARGETED
@given(v6_messages(), st.data())
def test_dhcpv6_targeted_errors(m, data) -> None:
    msg, _ = m
    note(msg.hex())
    assert dhcpv6_parse(msg[:data.draw(st.integers(0, 3))]) == ("truncated", None)
    assert dhcpv6_parse(msg + bytes(data.draw(st.integers(1, 3)))) == ("bad_option", None)
    opt = data.draw(st.sampled_from((
        (1, bytes(MAX_DUID + 1), "bad_client_id"),
        (3, bytes(data.draw(st.integers(0, 11))), "bad_ia_na"),
        (14, bytes(data.draw(st.integers(1, 4))), "bad_rapid_commit"))))
    code, value, status = opt
    assert dhcpv6_parse(msg + struct.pack("!HH", code, len(value)) + value) == (status, None)
    over = data.draw(st.integers(1, 0xFFFF - 8))
    assert dhcpv6_parse(msg + struct.pack("!HH", 23, 8 + over) + bytes(8)) == ("bad_option",
                                                                            None)
