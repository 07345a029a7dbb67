# SPDX-License-Identifier: Apache-2.0
"""The DHCPv6 responder as a VM sees it: scapy messages into a VF's TAP, the replies checked
byte for byte against dhcp_util.dhcp6_reply() (the contract's reply, rebuilt independently)
and, for the first ones, option by option; malformed messages are counted drops."""
from __future__ import annotations

import struct

import pytest
from scapy.layers.dhcp6 import (
    DUID_LL,
    USER_CLASS_DATA,
    VENDOR_CLASS_DATA,
    DHCP6_Advertise,
    DHCP6_Confirm,
    DHCP6_InfoRequest,
    DHCP6_Rebind,
    DHCP6_Release,
    DHCP6_Renew,
    DHCP6_Reply,
    DHCP6_Request,
    DHCP6_Solicit,
    DHCP6OptBootFileUrl,
    DHCP6OptClientId,
    DHCP6OptDNSServers,
    DHCP6OptElapsedTime,
    DHCP6OptIA_NA,
    DHCP6OptIAAddress,
    DHCP6OptRapidCommit,
    DHCP6OptServerId,
    DHCP6OptStatusCode,
    DHCP6OptUserClass,
    DHCP6OptVendorClass,
)
from scapy.layers.inet import UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrHopByHop
from scapy.layers.l2 import Ether

from dhcp_util import (
    ADVERTISE,
    GW_IP6,
    PXE_IP6,
    PXE_VENDOR_CLASS,
    REPLY,
    VF,
    VM_IP,
    VM_IP6,
    VM_MAC,
    client_id_of,
    client_options,
    dhcp6_frame,
    dhcp6_options,
    dhcp6_reply,
    exchange,
    interface,
    no_addrs_options,
    pxe,
    send_and_count,
    service,
)

VF0_MAC = VF[0][2]
DNS6 = ("2001:db8::53", "2001:db8::5353")
IAID = bytes.fromhex("0a0b0c0d")


@pytest.fixture(scope="module")
def svc():
    with service([a for server in DNS6 for a in ("--dhcpv6-dns", server)]) as s:
        yield s


def full_reply(req, reply_type, rapid=True, iaid=IAID, **extra) -> bytes:
    options = dhcp6_options(VM_MAC, client_id_of(req) if DHCP6OptClientId in req else None,
                            iaid, rapid, DNS6, **extra)
    return dhcp6_reply(bytes(req), VF0_MAC, reply_type, options)


def test_solicit_gets_advertise(svc):
    req = dhcp6_frame(DHCP6_Solicit(trid=0x123456) / client_options())
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply is not None
    assert reply == full_reply(req, ADVERTISE)
    # the same, spelled out
    p = Ether(reply)
    assert (p.dst, p.src) == (VM_MAC, VF0_MAC)
    assert (p[IPv6].src, p[IPv6].dst, p[IPv6].hlim) == (GW_IP6, "fe80::200:ff:fe00:1", 1)
    assert (p[UDP].sport, p[UDP].dport) == (547, 546)
    assert DHCP6_Advertise in p and p[DHCP6_Advertise].trid == 0x123456
    sid = p[DHCP6OptServerId]
    assert (sid.optlen, sid.duid.type, sid.duid.hwtype, sid.duid.lladdr) == (10, 3, 0xABCD,
                                                                            VM_MAC)
    assert p[DHCP6OptClientId].duid == DUID_LL(lladdr=VM_MAC)
    ia = p[DHCP6OptIA_NA]
    assert (ia.iaid, ia.T1, ia.T2, ia.optlen) == (0x0A0B0C0D, 0xFFFFFFFF, 0xFFFFFFFF, 46)
    addr = p[DHCP6OptIAAddress]
    assert (addr.addr, addr.preflft, addr.validlft, addr.optlen) == (VM_IP6, 0xFFFFFFFF,
                                                                    0xFFFFFFFF, 30)
    assert p[DHCP6OptStatusCode].statuscode == 0
    assert DHCP6OptRapidCommit in p
    assert p[DHCP6OptDNSServers].dnsservers == list(DNS6)
    assert DHCP6OptBootFileUrl not in p


@pytest.mark.parametrize("message,reply_type", [
    (DHCP6_Request, REPLY), (DHCP6_Release, REPLY)], ids=["request", "release"])
def test_request_and_release_get_a_full_reply(svc, message, reply_type):
    req = dhcp6_frame(message(trid=0xABCDEF) / client_options(rapid=False), hlim=64)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == full_reply(req, reply_type, rapid=False)
    assert DHCP6_Reply in Ether(reply) and DHCP6OptRapidCommit not in Ether(reply)


def test_confirm_gets_a_reply_without_options(svc):
    req = dhcp6_frame(DHCP6_Confirm(trid=0x010203) / client_options())
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, REPLY, b"")
    assert bytes(Ether(reply)[UDP].payload) == bytes([REPLY, 1, 2, 3])


@pytest.mark.parametrize("options,client_id,iaid", [
    (DHCP6OptElapsedTime(), False, None),
    (DHCP6OptClientId(duid=DUID_LL(lladdr=VM_MAC)), True, None),
    (DHCP6OptIA_NA(iaid=7), False, (7).to_bytes(4, "big")),
    # dpservice echoes a client id of any length up to the DUID maximum
    (DHCP6OptClientId(optlen=130, duid=b"\x00\x02" + bytes(range(128))), True, None),
    (DHCP6OptClientId(optlen=0, duid=b""), True, None),
], ids=["neither", "client-id-only", "ia-na-only", "longest-duid", "empty-client-id"])
def test_only_what_the_client_sent_is_echoed(svc, options, client_id, iaid):
    req = dhcp6_frame(DHCP6_Solicit(trid=5) / options)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    cid = client_id_of(req) if client_id else None
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, ADVERTISE,
                                dhcp6_options(VM_MAC, cid, iaid, False, DNS6))


def test_the_last_ia_na_and_client_id_count(svc):
    req = dhcp6_frame(DHCP6_Solicit(trid=5) / DHCP6OptIA_NA(iaid=1) /
                      DHCP6OptClientId(duid=DUID_LL(lladdr="02:00:00:00:00:aa")) /
                      DHCP6OptIA_NA(iaid=2) / DHCP6OptClientId(duid=DUID_LL(lladdr=VM_MAC)))
    with interface(svc) as tap:
        reply = exchange(tap, req)
    cid = bytes(DHCP6OptClientId(duid=DUID_LL(lladdr=VM_MAC)))[4:]
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, ADVERTISE,
                                dhcp6_options(VM_MAC, cid, (2).to_bytes(4, "big"), False, DNS6))


def test_extension_headers_are_not_in_the_reply(svc):
    req = dhcp6_frame(DHCP6_Solicit(trid=9) / client_options(), ext=IPv6ExtHdrHopByHop())
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == full_reply(req, ADVERTISE)
    assert Ether(reply)[IPv6].nh == 17


# ---------------------------------------------------------------------------------------------
# PXE: boot file URL

PXE_VENDOR = DHCP6OptVendorClass(enterprisenum=343, vcdata=[VENDOR_CLASS_DATA(
    data=PXE_VENDOR_CLASS)])
IPXE_USER = DHCP6OptUserClass(userclassdata=[USER_CLASS_DATA(data=b"iPXE")])


@pytest.mark.parametrize("classes,url", [
    (PXE_VENDOR, f"tftp://[{PXE_IP6}]/ipxe/x86_64/ipxe.new"),
    (IPXE_USER, f"http://[{PXE_IP6}]//boot.ipxe"),  # a slash is added here, unlike DHCPv4
    (PXE_VENDOR / IPXE_USER, f"http://[{PXE_IP6}]//boot.ipxe"),
    (IPXE_USER / PXE_VENDOR, f"http://[{PXE_IP6}]//boot.ipxe"),
    (DHCP6OptUserClass(userclassdata=[USER_CLASS_DATA(data=b"other"),
                                      USER_CLASS_DATA(data=b"iPXE")]),
     f"http://[{PXE_IP6}]//boot.ipxe"),
    (DHCP6OptUserClass(userclassdata=[USER_CLASS_DATA(data=b"iPXE2")]), None),
    (DHCP6OptVendorClass(enterprisenum=343, vcdata=[VENDOR_CLASS_DATA(
        data=b"PXEClient:Arch:00009")]), None),
], ids=["pxe-tftp", "ipxe-http", "both", "both-reversed", "second-user-class", "not-ipxe",
        "other-arch"])
def test_boot_file_url(svc, classes, url):
    req = dhcp6_frame(DHCP6_Solicit(trid=77) / client_options() / classes)
    with interface(svc, **pxe(PXE_IP6, "/boot.ipxe")) as tap:
        reply = exchange(tap, req)
    assert reply == full_reply(req, ADVERTISE, boot_url=url)
    if url is not None:
        assert Ether(reply)[DHCP6OptBootFileUrl].optdata == url.encode()


def test_boot_file_url_without_slash_in_the_boot_file(svc):
    req = dhcp6_frame(DHCP6_Request(trid=78) / client_options() / IPXE_USER)
    with interface(svc, **pxe(PXE_IP6, "boot.ipxe")) as tap:
        reply = exchange(tap, req)
    assert reply == full_reply(req, REPLY, boot_url=f"http://[{PXE_IP6}]/boot.ipxe")


def test_no_boot_file_url_without_a_boot_server(svc):
    req = dhcp6_frame(DHCP6_Solicit(trid=79) / client_options() / PXE_VENDOR)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == full_reply(req, ADVERTISE)


# ---------------------------------------------------------------------------------------------
# An interface without IPv6

@pytest.mark.parametrize("message", [DHCP6_Solicit, DHCP6_Request], ids=["solicit", "request"])
def test_no_addrs_avail_without_ipv6(svc, message):
    req = dhcp6_frame(message(trid=0x424242) / client_options())
    with interface(svc, ipv6="::") as tap:
        reply = exchange(tap, req)
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, REPLY,
                                no_addrs_options(VM_MAC, client_id_of(req), IAID))
    p = Ether(reply)
    assert DHCP6_Reply in p and DHCP6OptIAAddress not in p
    assert p[DHCP6OptIA_NA][DHCP6OptStatusCode].statuscode == 2  # NoAddrsAvail


def test_no_addrs_avail_without_an_ia_na(svc):
    req = dhcp6_frame(DHCP6_Solicit(trid=1) / DHCP6OptClientId(duid=DUID_LL(lladdr=VM_MAC)))
    with interface(svc, ipv6="::") as tap:
        reply = exchange(tap, req)
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, REPLY,
                                no_addrs_options(VM_MAC, client_id_of(req), None))
    assert Ether(reply)[DHCP6OptStatusCode].statuscode == 2


@pytest.mark.parametrize("message", [DHCP6_Confirm, DHCP6_Release], ids=["confirm", "release"])
def test_confirm_and_release_dropped_without_ipv6(svc, message):
    with interface(svc, ipv4=VM_IP, ipv6="::") as tap:
        got = send_and_count(svc, tap, [dhcp6_frame(message(trid=3) / client_options())],
                             "dhcpv6_no_ipv6")
        assert tap.recv_raw(0.1) is None
    assert got == {"dhcpv6_no_ipv6": 1}


# ---------------------------------------------------------------------------------------------
# What is not answered

def opt(code: int, value: bytes) -> bytes:
    return struct.pack("!HH", code, len(value)) + value


def raw6(payload: bytes):
    return (Ether(dst="33:33:00:01:00:02", src=VM_MAC) / IPv6(src="fe80::1:2", dst="ff02::1:2") /
            UDP(sport=546, dport=547) / payload)


SOL = b"\x01\x00\x00\x01"
MALFORMED = [
    (b"", "dhcpv6_truncated", "empty"),
    (b"\x01\x00\x00", "dhcpv6_truncated", "three-bytes"),
    (SOL + b"\x00", "dhcpv6_bad_option", "one-byte-of-option"),
    (SOL + b"\x00\x01\x00", "dhcpv6_bad_option", "three-bytes-of-option"),
    (SOL + struct.pack("!HH", 1, 10) + bytes(9), "dhcpv6_bad_option", "value-past-end"),
    (SOL + opt(14, b"") + struct.pack("!HH", 23, 0xFFFF), "dhcpv6_bad_option", "huge-length"),
    (SOL + opt(1, bytes(131)), "dhcpv6_bad_client_id", "client-id-131"),
    (SOL + opt(3, bytes(11)), "dhcpv6_bad_ia_na", "ia-na-11"),
    (SOL + opt(3, b""), "dhcpv6_bad_ia_na", "ia-na-empty"),
    (SOL + opt(14, b"\x00"), "dhcpv6_bad_rapid_commit", "rapid-commit-with-value"),
    (b"\x05\x00\x00\x01" + opt(14, b""), "dhcpv6_unhandled_type", "renew"),
    (b"\x06\x00\x00\x01", "dhcpv6_unhandled_type", "rebind"),
    (b"\x0b\x00\x00\x01", "dhcpv6_unhandled_type", "information-request"),
    (b"\x0c\x00" + bytes(32), "dhcpv6_unhandled_type", "relay-forward"),
    (b"\x02\x00\x00\x01", "dhcpv6_unhandled_type", "advertise"),
    (b"\x07\x00\x00\x01", "dhcpv6_unhandled_type", "reply"),
    (b"\x09\x00\x00\x01", "dhcpv6_unhandled_type", "decline"),
]


def test_malformed_messages_are_counted_drops(svc):
    with interface(svc) as tap:
        for payload, reason, name in MALFORMED:
            got = send_and_count(svc, tap, [raw6(payload)], reason)
            assert got == {reason: 1}, name
        assert tap.recv_raw(0.05) is None
        scapy_made = [DHCP6_Renew(trid=1) / client_options(), DHCP6_Rebind() / client_options(),
                      DHCP6_InfoRequest()]
        assert send_and_count(svc, tap, [dhcp6_frame(m) for m in scapy_made],
                              "dhcpv6_unhandled_type") == {"dhcpv6_unhandled_type": 3}
        # a first fragment: the message is not all there
        frag = bytes(dhcp6_frame(DHCP6_Solicit() / client_options()))
        frag = frag[:20] + bytes([44]) + frag[21:54] + bytes([17, 0, 0, 1, 0, 0, 0, 9]) + \
            frag[54:]
        frag = frag[:18] + struct.pack("!H", len(frag) - 54) + frag[20:]
        assert send_and_count(svc, tap, [frag], "dhcpv6_fragment") == {"dhcpv6_fragment": 1}
        assert tap.recv_raw(0.05) is None
        req = dhcp6_frame(DHCP6_Solicit(trid=1) / client_options())
        assert exchange(tap, req) == full_reply(req, ADVERTISE)


def test_dns_option_is_there_when_empty(start_service):
    svc = start_service()
    svc.initialize()
    req = dhcp6_frame(DHCP6_Solicit(trid=2) / client_options())
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp6_reply(bytes(req), VF0_MAC, ADVERTISE,
                                dhcp6_options(VM_MAC, client_id_of(req), IAID, True, ()))
    assert bytes(Ether(reply)[DHCP6OptDNSServers])[:4] == b"\x00\x17\x00\x00"
