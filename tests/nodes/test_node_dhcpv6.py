# SPDX-License-Identifier: Apache-2.0
"""dhcpv6: SOLICIT -> ADVERTISE, REQUEST/RELEASE -> REPLY, CONFIRM -> an empty REPLY,
NoAddrsAvail for an interface without IPv6, written into the request and sent back out of
the VF; every other message dropped under its reason. The exact bytes are the DHCP tests'
(tests/dhcp); here: the edge, and the fields the node fills in."""
from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment
from scapy.layers.l2 import Ether

from nodeutil import BARE, DHCPV6_DNS, GW6, NOIF, PXE6, VM1, VM3, VM_MAC, VMS, ip, mac

SOLICIT, ADVERTISE, REQUEST, CONFIRM, RENEW, REBIND, REPLY, RELEASE = range(1, 9)
INFORMATION_REQUEST = 11
CLIENTID, SERVERID, IA_NA, IAADDR, STATUS_CODE, RAPID_COMMIT = 1, 2, 3, 5, 13, 14
USER_CLASS, VENDOR_CLASS, DNS_SERVERS, BOOT_FILE_URL = 15, 16, 23, 59
NOADDRSAVAIL = 2
CLIENT_LLA = "fe80::2"
IAID = b"\x0a\x0b\x0c\x0d"


def opt(code: int, value: bytes = b"") -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def duid(port=VM1) -> bytes:
    return struct.pack("!HH", 3, 1) + mac(VM_MAC[port])


def client_options(port=VM1, rapid=False) -> bytes:
    return (opt(CLIENTID, duid(port)) + opt(IA_NA, IAID + bytes(8))
            + (opt(RAPID_COMMIT) if rapid else b"") + opt(8, b"\x00\x00"))


def message(msg_type: int, options: bytes) -> bytes:
    return bytes([msg_type]) + b"\xab\xcd\xef" + options


def request(port=VM1, msg_type=SOLICIT, options=None, src=CLIENT_LLA, ext=None) -> Ether:
    options = client_options(port) if options is None else options
    ip6 = IPv6(src=src, dst="ff02::1:2", tc=8, fl=0x54321, hlim=1)
    if ext is not None:
        ip6 = ip6 / ext
    return (Ether(src=VM_MAC[port], dst="33:33:00:01:00:02") / ip6
            / UDP(sport=546, dport=547) / message(msg_type, options))


def parse_options(data: bytes) -> list[tuple[int, bytes]]:
    out = []
    while data:
        code, length = struct.unpack("!HH", data[:4])
        assert len(data) >= 4 + length, "an option runs past the end"
        out.append((code, data[4:4 + length]))
        data = data[4 + length:]
    return out


def reply_of(dp, result, port=VM1, src=CLIENT_LLA):
    """The reply's headers checked; returns (message type, [(option, value)])."""
    assert result.path == [f"tx-{port}"]
    pkt = result.pkt
    assert (pkt.src, pkt.dst) == (dp.port_mac[port], VM_MAC[port])
    assert (pkt[IPv6].src, pkt[IPv6].dst) == (GW6, src)
    assert (pkt[IPv6].tc, pkt[IPv6].fl, pkt[IPv6].hlim, pkt[IPv6].nh) == (8, 0x54321, 1, 17)
    assert (pkt[UDP].sport, pkt[UDP].dport) == (547, 546)
    again = pkt.copy()
    del again[UDP].chksum
    assert Ether(bytes(again))[UDP].chksum == pkt[UDP].chksum
    payload = bytes(pkt[UDP].payload)
    assert len(result.frame) == 14 + 40 + 8 + len(payload)
    assert payload[1:4] == b"\xab\xcd\xef"  # the transaction id kept
    return payload[0], parse_options(payload[4:])


def full_options(port, rapid=False, url=None) -> list[tuple[int, bytes]]:
    ia_addr = ip(VMS[port].ipv6) + b"\xff" * 8 + opt(STATUS_CODE, b"\x00\x00")
    opts = [(SERVERID, duid(port).replace(b"\x00\x01", b"\xab\xcd", 1)),  # DUID-LL, 0xabcd
            (CLIENTID, duid(port)),
            (IA_NA, IAID + b"\xff" * 8 + opt(IAADDR, ia_addr))]
    if rapid:
        opts.append((RAPID_COMMIT, b""))
    opts.append((DNS_SERVERS, b"".join(ip(a) for a in DHCPV6_DNS)))
    if url:
        opts.append((BOOT_FILE_URL, url))
    return opts


@pytest.mark.parametrize("msg_type, reply_type", [
    (SOLICIT, ADVERTISE), (REQUEST, REPLY), (RELEASE, REPLY)])
def test_full_reply(dp, msg_type, reply_type):
    req = request(VM1, msg_type)
    got_type, opts = reply_of(dp, dp.run("dhcpv6", req, VM1))
    assert got_type == reply_type
    assert opts == full_options(VM1)
    # the whole way from the VF
    assert dp.run("cls", req, VM1, steps=8).path == ["dhcpv6", f"tx-{VM1}"]


def test_rapid_commit_echoed(dp):
    got_type, opts = reply_of(dp, dp.run("dhcpv6", request(VM1, SOLICIT, client_options(
        VM1, rapid=True)), VM1))
    assert got_type == ADVERTISE
    assert opts == full_options(VM1, rapid=True)


def test_confirm(dp):
    assert reply_of(dp, dp.run("dhcpv6", request(VM1, CONFIRM), VM1)) == (REPLY, [])


def test_extension_headers_dropped(dp):
    req = request(VM1, SOLICIT, ext=IPv6ExtHdrFragment(offset=0, m=0, id=7))  # atomic
    assert dp.run("cls", req, VM1, steps=4).path == ["dhcpv6", f"tx-{VM1}"]
    assert reply_of(dp, dp.run("dhcpv6", req, VM1)) == (ADVERTISE, full_options(VM1))


@pytest.mark.parametrize("vendor, user, url", [
    (b"PXEClient:Arch:00007", None, f"tftp://[{PXE6}]/ipxe/x86_64/ipxe.new"),
    (b"PXEClient:Arch:00007", b"iPXE", f"http://[{PXE6}]/boot.ipxe"),
])
def test_pxe(dp, vendor, user, url):
    options = client_options(VM3) + opt(VENDOR_CLASS, b"\x00\x00\x01\x37"
                                        + struct.pack("!H", len(vendor)) + vendor)
    if user:
        options += opt(USER_CLASS, struct.pack("!H", len(user)) + user)
    got_type, opts = reply_of(dp, dp.run("dhcpv6", request(VM3, SOLICIT, options), VM3), VM3)
    assert got_type == ADVERTISE
    assert opts == full_options(VM3, url=url.encode())


@pytest.mark.parametrize("with_ia", [True, False])
@pytest.mark.parametrize("msg_type", [SOLICIT, REQUEST])
def test_no_addresses(dp, msg_type, with_ia):
    """An interface without IPv6: NoAddrsAvail, in the IA_NA if there was one."""
    options = opt(CLIENTID, duid(BARE)) + (opt(IA_NA, IAID + bytes(8)) if with_ia else b"")
    got_type, opts = reply_of(dp, dp.run("dhcpv6", request(BARE, msg_type, options), BARE),
                              BARE)
    assert got_type == REPLY
    status = opt(STATUS_CODE, struct.pack("!H", NOADDRSAVAIL))
    assert opts == [(SERVERID, duid(BARE).replace(b"\x00\x01", b"\xab\xcd", 1)),
                    (CLIENTID, duid(BARE)),
                    (IA_NA, IAID + bytes(8) + status) if with_ia else
                    (STATUS_CODE, struct.pack("!H", NOADDRSAVAIL))]


@pytest.mark.parametrize("msg_type", [CONFIRM, RELEASE])
def test_no_ipv6(dp, msg_type):
    assert dp.run("cls", request(BARE, msg_type), BARE, steps=4).path == [
        "dhcpv6", "dhcpv6_no_ipv6"]


DROPS = [
    (lambda: request(VM1, INFORMATION_REQUEST), "dhcpv6_unhandled_type"),
    (lambda: request(VM1, RENEW), "dhcpv6_unhandled_type"),
    (lambda: request(VM1, ADVERTISE), "dhcpv6_unhandled_type"),
    (lambda: request(VM1, 12), "dhcpv6_unhandled_type"),  # RELAY-FORW
    (lambda: Ether(src=VM_MAC[VM1], dst="33:33:00:01:00:02") / IPv6(src=CLIENT_LLA,
     dst="ff02::1:2") / UDP(sport=546, dport=547) / b"\x01\xab\xcd", "dhcpv6_truncated"),
    (lambda: request(VM1, SOLICIT, opt(CLIENTID, duid())[:-1]), "dhcpv6_bad_option"),
    (lambda: request(VM1, SOLICIT, b"\x00\x01\x00"), "dhcpv6_bad_option"),
    (lambda: request(VM1, SOLICIT, opt(CLIENTID, bytes(131))), "dhcpv6_bad_client_id"),
    (lambda: request(VM1, SOLICIT, opt(IA_NA, bytes(11))), "dhcpv6_bad_ia_na"),
    (lambda: request(VM1, SOLICIT, opt(RAPID_COMMIT, b"\x00")), "dhcpv6_bad_rapid_commit"),
    (lambda: request(VM1, SOLICIT, ext=IPv6ExtHdrFragment(offset=0, m=1, id=9)),
     "dhcpv6_fragment"),
]


@pytest.mark.parametrize("make, edge", DROPS, ids=[e for _, e in DROPS])
def test_drops(dp, make, edge):
    frame = bytes(make())
    result = dp.run("cls", frame, VM1, steps=4)
    assert result.path == ["dhcpv6", edge]
    assert result.frame == frame


def test_no_interface(dp):
    assert dp.edge("dhcpv6", request(NOIF), NOIF) == "dhcpv6_no_interface"


def test_defaults(plain):
    """Without --dhcpv6-dns the DNS option is there, empty."""
    got_type, opts = reply_of(plain, plain.run("dhcpv6", request(VM1), VM1))
    assert (DNS_SERVERS, b"") in opts
