# SPDX-License-Identifier: Apache-2.0
"""The DHCPv4 responder as a VM sees it: scapy requests into a VF's TAP, the replies checked
byte for byte against dhcp_util.dhcp_reply() (the contract's reply, rebuilt independently)
and, for the first ones, field by field; malformed requests are counted drops."""
from __future__ import annotations

import random
import struct
import time

import pytest
from scapy.layers.dhcp import BOOTP
from scapy.layers.inet import IP, UDP, IPOption_Router_Alert
from scapy.layers.l2 import Ether

import harness
from dhcp_util import (
    ACK,
    CLASSLESS_ROUTES,
    DECLINE,
    DISCOVER,
    GW_IP,
    INFORM,
    NAK,
    OFFER,
    PXE_IP,
    PXE_VENDOR_CLASS,
    RELEASE,
    REQUEST,
    VF,
    VM_IP,
    VM_MAC,
    bootp_raw,
    counted,
    dhcp_frame,
    dhcp_reply,
    exchange,
    interface,
    pxe,
    raw_dhcp_frame,
    reply_options,
    send,
    send_and_count,
    service,
)

VF0_MAC = VF[0][2]
DISCOVER_OPTS = [("message-type", "discover"), "end"]


@pytest.fixture(scope="module")
def svc():
    with service() as s:
        yield s


def request_opts(*extra):
    return [("message-type", "request"), ("requested_addr", VM_IP), ("server_id", GW_IP),
            *extra, "end"]


def test_discover_gets_offer(svc):
    req = dhcp_frame(DISCOVER_OPTS)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply is not None
    assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER)
    # the same, spelled out
    p = Ether(reply)
    assert (p.dst, p.src) == (VM_MAC, VF0_MAC)
    assert (p[IP].src, p[IP].dst, p[IP].ihl) == (GW_IP, VM_IP, 5)
    assert (p[UDP].sport, p[UDP].dport) == (67, 68)
    assert (p[BOOTP].op, p[BOOTP].xid) == (2, 0x12345678)
    assert (p[BOOTP].yiaddr, p[BOOTP].siaddr, p[BOOTP].giaddr) == (VM_IP, GW_IP, GW_IP)
    assert p[BOOTP].chaddr[:6] == bytes.fromhex("020000000001")
    assert reply_options(reply) == [
        (53, b"\x02"),
        (51, b"\xff\xff\xff\xff"),
        (54, bytes([169, 254, 0, 1])),
        (121, bytes([16, 169, 254, 0, 0, 0, 0, 0, 169, 254, 0, 1])),
        (1, b"\xff\xff\xff\xff"),
        (26, (1500).to_bytes(2, "big")),
    ]
    assert CLASSLESS_ROUTES == reply_options(reply)[3][1]


def test_request_gets_ack_to_the_requesting_mac(svc):
    """The ACK goes to the MAC the REQUEST came from (the VM MAC is learned from it), even
    when the DISCOVER came from another one."""
    other = "02:00:00:00:00:77"
    with interface(svc) as tap:
        offer = exchange(tap, dhcp_frame(DISCOVER_OPTS, mac=other))
        learned = {p.name: p.vm_mac for p in svc.stats().ports}["dtapvf_0"]
        assert learned != other  # a DISCOVER teaches nothing
        req = dhcp_frame(request_opts())
        ack = exchange(tap, req)
        learned = {p.name: p.vm_mac for p in svc.stats().ports}["dtapvf_0"]
        assert learned == VM_MAC  # the REQUEST does
    assert Ether(offer).dst == other
    assert ack == dhcp_reply(bytes(req), VF0_MAC, ACK)
    assert Ether(ack).dst == VM_MAC and Ether(ack)[BOOTP].chaddr[:6] == bytes.fromhex(
        "020000000001")
    assert reply_options(ack)[0] == (53, bytes([ACK]))


def test_hostname_is_the_last_option(svc):
    with interface(svc, hostname="vm-one.example") as tap:
        for opts, reply_type in ((DISCOVER_OPTS, OFFER), (request_opts(), ACK)):
            req = dhcp_frame(opts)
            reply = exchange(tap, req)
            assert reply == dhcp_reply(bytes(req), VF0_MAC, reply_type,
                                       hostname="vm-one.example")
            assert reply_options(reply)[-1] == (12, b"vm-one.example")


def test_reply_keeps_the_request_fields(svc):
    """Built in place: xid, secs, flags, ciaddr, sname, TOS, IP id, DF and TTL come from the
    request; its IP options do not."""
    req = dhcp_frame(request_opts(), xid=0xCAFEF00D,
                     bootp_extra=dict(secs=7, flags=0x8000, ciaddr=VM_IP, sname=b"srv"),
                     ip_extra=dict(tos=0x10, ttl=16, id=4242, flags="DF",
                                   options=[IPOption_Router_Alert()]))
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert bytes(req)[14] == 0x46
    assert reply == dhcp_reply(bytes(req), VF0_MAC, ACK)
    p = Ether(reply)
    assert (p[IP].tos, p[IP].ttl, p[IP].id, p[IP].flags) == (0x10, 16, 4242, "DF")
    assert (p[BOOTP].secs, p[BOOTP].flags, p[BOOTP].ciaddr) == (7, 0x8000, VM_IP)


def test_pads_before_the_message_type_and_no_end(svc):
    payload = bootp_raw(b"\x00\x00\x00" + bytes([53, 1, DISCOVER]) + b"\x00")
    req = raw_dhcp_frame(payload)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER)


def test_options_after_end_are_ignored(svc):
    payload = bootp_raw(bytes([53, 1, DISCOVER, 255, 53, 1, REQUEST, 77]))
    req = raw_dhcp_frame(payload)
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER)


# ---------------------------------------------------------------------------------------------
# PXE

PXE_V4_ONLY = dict(ipv6="::", **pxe(PXE_IP, "/boot.ipxe"))


@pytest.mark.parametrize("msg_type,reply_type", [("discover", OFFER), ("request", ACK)])
def test_pxe_rom_gets_ipxe_over_tftp(svc, msg_type, reply_type):
    req = dhcp_frame([("message-type", msg_type), ("vendor_class_id", PXE_VENDOR_CLASS), "end"])
    with interface(svc, **PXE_V4_ONLY) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, reply_type, pxe_server=PXE_IP,
                               boot_file=b"ipxe/x86_64/ipxe.new")
    p = Ether(reply)
    assert (p.dst, p[IP].dst, p[BOOTP].siaddr) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255",
                                                   PXE_IP)
    assert p[BOOTP].file.rstrip(b"\0") == b"ipxe/x86_64/ipxe.new"
    assert reply_options(reply)[6] == (3, bytes([169, 254, 0, 1]))  # router, after the MTU


@pytest.mark.parametrize("boot_file,url", [
    ("/boot.ipxe", b"http://192.0.2.10/boot.ipxe"),
    ("boot.ipxe", b"http://192.0.2.10boot.ipxe"),  # no slash added
])
def test_ipxe_gets_the_boot_file_over_http(svc, boot_file, url):
    # iPXE sends the PXE vendor class too: its user class wins wherever it stands
    req = dhcp_frame([("message-type", "discover"), ("user_class", b"iPXE"),
                      ("vendor_class_id", PXE_VENDOR_CLASS), "end"])
    with interface(svc, ipv6="::", **pxe(PXE_IP, boot_file)) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER, pxe_server=PXE_IP, boot_file=url)


@pytest.mark.parametrize("options,boot_file", [
    ([("user_class", b"iPXE ")], None),
    ([("user_class", b"ipxe")], None),
    ([("vendor_class_id", b"PXEClient:Arch:00000:UNDI:002001")], None),
    ([("vendor_class_id", b"PXEClient:Arch:0000")], None),
    ([("user_class", b"iPXEx"), ("vendor_class_id", b"xPXEClient:Arch:00007")],
     b"ipxe/x86_64/ipxe.new"),
])
def test_only_the_contract_classes_mean_pxe(svc, options, boot_file):
    req = dhcp_frame([("message-type", "discover"), *options, "end"])
    with interface(svc, **PXE_V4_ONLY) as tap:
        reply = exchange(tap, req)
    if boot_file is None:
        assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER)
    else:
        assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER, pxe_server=PXE_IP,
                                   boot_file=boot_file)


def test_pxe_client_without_boot_server_gets_a_plain_offer(svc):
    req = dhcp_frame([("message-type", "discover"), ("vendor_class_id", PXE_VENDOR_CLASS),
                      "end"])
    with interface(svc) as tap:
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, OFFER)


# ---------------------------------------------------------------------------------------------
# What is not answered

def test_nothing_for_an_interface_without_ipv4(svc):
    with interface(svc, ipv4="0.0.0.0") as tap:
        got = send_and_count(svc, tap, [dhcp_frame(DISCOVER_OPTS), dhcp_frame(request_opts())],
                             "dhcp_no_ipv4")
        assert tap.recv_raw(0.1) is None
    assert got == {"dhcp_no_ipv4": 2}


def opt(code: int, value: bytes) -> bytes:
    return bytes([code, len(value)]) + value


MSG_DISCOVER = opt(53, bytes([DISCOVER]))

MALFORMED = [
    (bootp_raw(b"")[:100], "dhcp_truncated", "short-bootp"),
    (bootp_raw(b"")[:239], "dhcp_truncated", "no-room-for-the-cookie"),
    (b"", "dhcp_truncated", "empty-udp"),
    (bootp_raw(MSG_DISCOVER, op=2), "dhcp_not_request", "bootreply"),
    (bootp_raw(MSG_DISCOVER, op=3), "dhcp_not_request", "op-3"),
    (bootp_raw(MSG_DISCOVER, magic=b"\x63\x82\x53\x64"), "dhcp_bad_magic", "bad-cookie"),
    (bootp_raw(MSG_DISCOVER + bytes([12, 10]) + b"abc"), "dhcp_bad_option", "length-past-end"),
    (bootp_raw(MSG_DISCOVER + bytes([12])), "dhcp_bad_option", "code-without-length"),
    (bootp_raw(bytes([53, 2, DISCOVER, 0])), "dhcp_bad_option", "msg-type-2-bytes"),
    (bootp_raw(bytes([53, 0])), "dhcp_bad_option", "msg-type-empty"),
    (bootp_raw(bytes([53, 200]) + bytes(10)), "dhcp_bad_option", "msg-type-past-end"),
    (bootp_raw(b""), "dhcp_no_msg_type", "no-options"),
    (bootp_raw(b"\xff"), "dhcp_no_msg_type", "only-end"),
    (bootp_raw(opt(12, b"vm") + b"\xff" + MSG_DISCOVER), "dhcp_no_msg_type", "type-after-end"),
    (bootp_raw(opt(53, bytes([RELEASE])) + b"\xff"), "dhcp_unhandled_type", "release"),
    (bootp_raw(opt(53, bytes([INFORM])) + b"\xff"), "dhcp_unhandled_type", "inform"),
    (bootp_raw(opt(53, bytes([DECLINE])) + b"\xff"), "dhcp_unhandled_type", "decline"),
    (bootp_raw(opt(53, bytes([OFFER])) + b"\xff"), "dhcp_unhandled_type", "offer"),
    (bootp_raw(opt(53, bytes([NAK])) + b"\xff"), "dhcp_unhandled_type", "nak"),
    (bootp_raw(opt(53, bytes([0])) + b"\xff"), "dhcp_unhandled_type", "type-0"),
]


def test_malformed_requests_are_counted_drops(svc):
    with interface(svc) as tap:
        for payload, reason, name in MALFORMED:
            got = send_and_count(svc, tap, [raw_dhcp_frame(payload)], reason)
            assert got == {reason: 1}, name
        # a first fragment: the BOOTP message is not all there
        frag = raw_dhcp_frame(bootp_raw(MSG_DISCOVER + b"\xff"), more_fragments=True)
        assert send_and_count(svc, tap, [frag], "dhcp_fragment") == {"dhcp_fragment": 1}
        assert tap.recv_raw(0.05) is None  # dropped means: nothing came back
        # and the interface still gets its answer
        assert exchange(tap, dhcp_frame(DISCOVER_OPTS)) is not None


def garbage(rng: random.Random) -> bytes:
    """A DHCP-looking UDP payload that the responder must drop."""
    kind = rng.randrange(6)
    if kind == 0:
        return bytes(rng.getrandbits(8) for _ in range(rng.randrange(0, 240)))
    if kind == 1:  # random options after a valid header
        return bootp_raw(bytes(rng.getrandbits(8) for _ in range(rng.randrange(1, 64))) +
                         bytes([12, 255]))
    if kind == 2:
        return bootp_raw(MSG_DISCOVER, op=rng.choice((0, 2, 3, 255)))
    if kind == 3:
        return bootp_raw(MSG_DISCOVER, magic=rng.getrandbits(32).to_bytes(4, "big"))
    if kind == 4:
        return bootp_raw(opt(53, bytes([rng.choice((4, 6, 7, 8, 9, 200))])))
    return bootp_raw(bytes([53, rng.choice((0, 2, 3)), DISCOVER, DISCOVER]))


def test_burst_of_malformed_dhcp_leaves_the_service_answering(svc):
    rng = random.Random(4)
    frames = [raw_dhcp_frame(garbage(rng)) for _ in range(10_000)]
    with interface(svc) as tap:
        before = svc.drops()
        rx_before = port_rx(svc, VF[0][1])
        # paced: the kernel's TAP queue (1000 frames) must not overflow
        for chunk in range(0, len(frames), 250):
            for frame in frames[chunk:chunk + 250]:
                send(tap, frame)
            assert wait_rx(svc, VF[0][1], rx_before + chunk + 250)
        deadline = time.monotonic() + 5
        while True:
            got = counted(before, svc.drops())
            if sum(got.values()) >= len(frames) or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert sum(got.values()) == len(frames), got
        assert all(reason.startswith("dhcp_") for reason in got), got
        assert tap.recv_raw(0.05) is None
        req = dhcp_frame(DISCOVER_OPTS)
        assert exchange(tap, req) == dhcp_reply(bytes(req), VF0_MAC, OFFER)


def port_rx(svc: harness.Service, port: str) -> int:
    return {p.name: p for p in svc.stats().ports}[port].rx_packets


def wait_rx(svc: harness.Service, port: str, count: int, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if port_rx(svc, port) >= count:
            return True
        time.sleep(0.01)
    return False


# ---------------------------------------------------------------------------------------------
# Service options: --dhcp-dns and --dhcp-mtu

@pytest.mark.parametrize("dns,mtu", [
    (["8.8.8.8"], 1400),
    ([f"10.53.{i // 200}.{i % 200 + 1}" for i in range(63)], 68),  # the most there can be
], ids=["one-dns", "63-dns"])
def test_dns_and_mtu_options(start_service, dns, mtu):
    opts = [*harness.SERVICE_OPTS, "--dhcp-mtu", str(mtu)]
    for server in dns:
        opts += ["--dhcp-dns", server]
    svc = start_service(opts=opts)
    svc.initialize()
    with interface(svc, hostname="vm") as tap:
        req = dhcp_frame(request_opts())
        reply = exchange(tap, req)
    assert reply == dhcp_reply(bytes(req), VF0_MAC, ACK, mtu=mtu, dns=dns, hostname="vm")
    opts_seen = reply_options(reply)
    assert opts_seen[5] == (26, struct.pack("!H", mtu))
    assert opts_seen[6] == (6, b"".join(bytes(int(x) for x in a.split(".")) for a in dns))
    assert opts_seen[7] == (12, b"vm")
