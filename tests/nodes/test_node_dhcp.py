# SPDX-License-Identifier: Apache-2.0
"""dhcp: DISCOVER -> OFFER and REQUEST -> ACK written into the request and sent back out of
the VF, every other message dropped under its reason. The exact reply bytes are the DHCP
tests' (tests/dhcp); here: the edge, and the fields the node fills in."""
from __future__ import annotations

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from nodeutil import (
    BARE,
    DHCP_DNS,
    DHCP_MTU,
    GW4,
    LEARN,
    NOIF,
    PXE4,
    VM1,
    VM2,
    VM_MAC,
    VMS,
    mac,
    reattach,
)

DISCOVER, OFFER, REQUEST, DECLINE, ACK, NAK, RELEASE, INFORM = range(1, 9)
MAGIC = b"\x63\x82\x53\x63"


def request(port=VM1, msg_type=DISCOVER, opts=(), eth_src=None) -> Ether:
    eth_src = eth_src or VM_MAC[port]
    return (Ether(src=eth_src, dst="ff:ff:ff:ff:ff:ff") / IP(src="0.0.0.0", dst="255.255.255.255")
            / UDP(sport=68, dport=67) / BOOTP(op=1, xid=0x11223344, chaddr=mac(eth_src))
            / DHCP(options=[("message-type", msg_type), *opts, "end"]))


def raw_request(port, bootp: bytes) -> Ether:
    return (Ether(src=VM_MAC[port], dst="ff:ff:ff:ff:ff:ff")
            / IP(src="0.0.0.0", dst="255.255.255.255") / UDP(sport=68, dport=67) / bootp)


def bootp_raw(options: bytes, op: int = 1, magic: bytes = MAGIC) -> bytes:
    return bytes([op, 1, 6, 0]) + bytes(232) + magic + options


def options(pkt: Ether) -> dict:
    return {o[0]: o[1:] for o in pkt[DHCP].options if isinstance(o, tuple)}


def checksums_ok(pkt: Ether) -> bool:
    again = Ether(bytes(pkt))
    del again[IP].chksum
    del again[UDP].chksum
    again = Ether(bytes(again))
    return (again[IP].chksum, again[UDP].chksum) == (pkt[IP].chksum, pkt[UDP].chksum)


@pytest.mark.parametrize("msg_type, reply_type", [(DISCOVER, OFFER), (REQUEST, ACK)])
def test_reply(dp, msg_type, reply_type):
    req = request(VM1, msg_type)
    result = dp.run("dhcp", req, VM1)
    assert result.path == [f"tx-{VM1}"]
    pkt = result.pkt
    assert (pkt.src, pkt.dst) == (dp.port_mac[VM1], VM_MAC[VM1])
    assert (pkt[IP].src, pkt[IP].dst, pkt[IP].ihl) == (GW4, "10.0.0.2", 5)
    assert (pkt[UDP].sport, pkt[UDP].dport) == (67, 68)
    assert checksums_ok(pkt)
    b = pkt[BOOTP]
    assert (b.op, b.xid, b.yiaddr, b.siaddr, b.giaddr) == (2, 0x11223344, "10.0.0.2", GW4, GW4)
    assert b.chaddr[:6] == mac(VM_MAC[VM1])
    assert [o[0] for o in pkt[DHCP].options if isinstance(o, tuple)] == [
        "message-type", "lease_time", "server_id", "classless_static_routes", "subnet_mask",
        "interface-mtu", "name_server", "hostname"]
    opts = options(pkt)
    assert opts["message-type"] == (reply_type,)
    assert opts["lease_time"] == (0xffffffff,)
    assert opts["subnet_mask"] == ("255.255.255.255",)
    assert opts["interface-mtu"] == (DHCP_MTU,)
    assert opts["name_server"] == DHCP_DNS
    assert opts["hostname"] == (b"vm1",)
    assert pkt[DHCP].options[-1] == "end"
    assert len(result.frame) == 14 + pkt[IP].len  # no bytes of the request left behind
    # the whole way from the VF
    assert dp.run("cls", req, VM1, steps=8).path == ["dhcp", f"tx-{VM1}"]


def test_defaults(plain):
    """Without --dhcp-mtu / --dhcp-dns: MTU 1500, no DNS option."""
    result = plain.run("dhcp", request(VM1), VM1)
    assert result.path == [f"tx-{VM1}"]
    opts = options(result.pkt)
    assert opts["interface-mtu"] == (1500,)
    assert "name_server" not in opts


def test_ip_options_dropped(dp):
    """A request with IP options gets a reply without them."""
    req = (Ether(src=VM_MAC[VM1], dst="ff:ff:ff:ff:ff:ff")
           / IP(src="0.0.0.0", dst="255.255.255.255", options=b"\x94\x04\x00\x00")
           / UDP(sport=68, dport=67) / BOOTP(chaddr=mac(VM_MAC[VM1]))
           / DHCP(options=[("message-type", DISCOVER), "end"]))
    result = dp.run("dhcp", req, VM1)
    assert result.path == [f"tx-{VM1}"]
    assert result.pkt[IP].ihl == 5 and checksums_ok(result.pkt)
    assert options(result.pkt)["message-type"] == (OFFER,)


@pytest.mark.parametrize("vendor, user, file", [
    (b"PXEClient:Arch:00007:UNDI:003016", None, b"ipxe/x86_64/ipxe.new"),
    (b"PXEClient:Arch:00007:UNDI:003016", b"iPXE", f"http://{PXE4}/boot.ipxe".encode()),
])
def test_pxe(dp, vendor, user, file):
    """A PXE client of an interface with an IPv4 boot server: broadcast, the server as
    next server and router, the boot file (TFTP for a PXE ROM, HTTP for iPXE: the server and
    the boot file name as given, no slash added)."""
    opts = [("vendor_class_id", vendor)] + ([("user_class", user)] if user else [])
    result = dp.run("dhcp", request(VM2, DISCOVER, opts), VM2)
    assert result.path == [f"tx-{VM2}"]
    pkt = result.pkt
    assert (pkt.dst, pkt[IP].dst) == ("ff:ff:ff:ff:ff:ff", "255.255.255.255")
    assert pkt[BOOTP].siaddr == PXE4 and pkt[BOOTP].yiaddr == VMS[VM2].ipv4
    assert pkt[BOOTP].file.rstrip(b"\0") == file
    assert options(pkt)["router"] == (GW4,)
    # not a PXE client: an ordinary answer from the same interface
    plain_reply = dp.run("dhcp", request(VM2), VM2).pkt
    assert (plain_reply.dst, plain_reply[BOOTP].siaddr) == (VM_MAC[VM2], GW4)
    assert "router" not in options(plain_reply)


def test_pxe_without_boot_server(dp):
    """PXE asked of an interface without an IPv4 boot server: answered as usual."""
    opts = [("vendor_class_id", b"PXEClient:Arch:00007:UNDI:003016")]
    pkt = dp.run("dhcp", request(VM1, DISCOVER, opts), VM1).pkt
    assert pkt.dst == VM_MAC[VM1] and pkt[BOOTP].siaddr == GW4
    assert pkt[BOOTP].file.rstrip(b"\0") == b""


def test_ack_learns_mac(dp):
    """A REQUEST teaches the VM's MAC (the Ethernet source); a DISCOVER does not."""
    new_mac = "02:00:00:00:cc:06"
    try:
        assert dp.edge("dhcp", request(LEARN, DISCOVER, eth_src=new_mac), LEARN) == \
            f"tx-{LEARN}"
        assert dp.iface_vm_mac(LEARN) == VM_MAC[LEARN]
        result = dp.run("dhcp", request(LEARN, REQUEST, eth_src=new_mac), LEARN)
        assert result.path == [f"tx-{LEARN}"]
        assert result.pkt.dst == new_mac
        assert dp.iface_vm_mac(LEARN) == new_mac
    finally:
        reattach(dp, LEARN, learn=True)


DROPS = [
    (lambda: request(VM1, RELEASE), "dhcp_unhandled_type"),
    (lambda: request(VM1, INFORM), "dhcp_unhandled_type"),
    (lambda: request(VM1, DECLINE), "dhcp_unhandled_type"),
    (lambda: request(VM1, OFFER), "dhcp_unhandled_type"),
    (lambda: raw_request(VM1, bootp_raw(b"\xff")[:239]), "dhcp_truncated"),
    (lambda: raw_request(VM1, b""), "dhcp_truncated"),
    (lambda: raw_request(VM1, bootp_raw(b"\x35\x01\x01\xff", op=2)), "dhcp_not_request"),
    (lambda: raw_request(VM1, bootp_raw(b"\x35\x01\x01\xff", magic=b"\x63\x82\x53\x64")),
     "dhcp_bad_magic"),
    (lambda: raw_request(VM1, bootp_raw(b"\x35\x05\x01")), "dhcp_bad_option"),
    (lambda: raw_request(VM1, bootp_raw(b"\x35\x02\x01\x01\xff")), "dhcp_bad_option"),
    (lambda: raw_request(VM1, bootp_raw(b"\x35")), "dhcp_bad_option"),
    (lambda: raw_request(VM1, bootp_raw(b"\x0c\x02ab\xff")), "dhcp_no_msg_type"),
    (lambda: raw_request(VM1, bootp_raw(b"")), "dhcp_no_msg_type"),
]


@pytest.mark.parametrize("make, edge", DROPS, ids=[e for _, e in DROPS])
def test_drops(dp, make, edge):
    frame = bytes(make())
    result = dp.run("cls", frame, VM1, steps=4)
    assert result.path == ["dhcp", edge]
    assert result.frame == frame


def test_fragment(dp):
    """A fragmented request is not answered (the first fragment has the UDP header)."""
    first = bytes(request(VM1))
    first = bytearray(first)
    first[14 + 6] |= 0x20  # more fragments
    ip = IP(bytes(first[14:]))
    del ip.chksum
    frame = bytes(first[:14]) + bytes(ip)
    assert dp.run("cls", frame, VM1, steps=4).path == ["dhcp", "dhcp_fragment"]


def test_no_ipv4(dp):
    """An interface without IPv4 has nothing to offer."""
    assert dp.run("cls", request(BARE), BARE, steps=4).path == ["dhcp", "dhcp_no_ipv4"]


def test_no_interface(dp):
    assert dp.edge("dhcp", request(NOIF), NOIF) == "dhcp_no_interface"
