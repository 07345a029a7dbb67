# SPDX-License-Identifier: Apache-2.0
"""The `arp` node as a VM sees it: the gateway 169.254.0.1 answered with the VF's MAC, every
other ARP dropped under its reason, the VM's MAC learned during the ARP cycle. One service
(without --enable-ipv6-overlay) for the module; also checks that ND is off without it."""
from __future__ import annotations

import random
import time

import pytest
from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6ND_RS, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from neighutil import GW4, Vm, is_arp_reply, send_and_count, still_serving


@pytest.fixture(scope="module")
def vm(svc):
    """VM 0 with an interface, its ARP cycle already over (it answered once)."""
    vm = Vm(svc, 0)
    vm.create("arp-vm0")
    got = send_and_count(vm, [vm.arp_reply()], "arp_learned")
    assert got == {"arp_learned": 1}
    yield vm
    vm.delete("arp-vm0")


def expected_reply(vm: Vm, request: bytes) -> bytes:
    """The request rewritten as the contract says (5, gateway ARP): Ethernet back to the
    request's Ethernet source from the VF's MAC, opcode 2, sender = VF MAC / 169.254.0.1,
    target = the request's sender hardware and IP addresses; hardware/protocol fields and
    any padding unchanged."""
    req = Ether(request)
    arp = req[ARP]
    reply = Ether(dst=req.src, src=vm.vf_mac, type=0x0806) / ARP(
        hwtype=arp.hwtype, ptype=arp.ptype, hwlen=6, plen=4, op=2,
        hwsrc=vm.vf_mac, psrc=arp.pdst, hwdst=arp.hwsrc, pdst=arp.psrc)
    return bytes(reply) + request[len(bytes(reply)):]


def test_gateway_reply_exact_bytes(vm):
    request = bytes(vm.arp_request())
    vm.send(request)
    reply = vm.expect(is_arp_reply)
    assert reply is not None
    assert bytes(reply) == expected_reply(vm, request)
    assert bytes(reply).hex() == (
        "020000000001" "666666666600" "0806"           # to the VM, from the VF
        "0001" "0800" "06" "04" "0002"                 # Ethernet/IPv4, reply
        "666666666600" "a9fe0001"                      # the gateway at the VF's MAC
        "020000000001" "0a000002")                     # the requester


def test_reply_keeps_padding_and_goes_to_ethernet_source(vm):
    """The reply is the rewritten request: a padded request gives a padded reply, and it
    goes back to the frame's Ethernet source even if the ARP sender hardware address
    differs (the ARP target hardware address is the request's sender's)."""
    request = bytes(Ether(dst="ff:ff:ff:ff:ff:ff", src=vm.mac) /
                    ARP(op=1, hwsrc="02:00:00:00:00:aa", psrc=vm.ipv4, pdst=GW4) /
                    Raw(bytes(range(1, 19))))
    assert len(request) == 60
    vm.send(request)
    reply = vm.expect(is_arp_reply)
    assert reply is not None
    assert bytes(reply) == expected_reply(vm, request)
    assert reply.dst == vm.mac and reply[ARP].hwdst == "02:00:00:00:00:aa"


ANY_SENDER = [
    pytest.param(dict(psrc="0.0.0.0"), id="probe"),
    pytest.param(dict(psrc="10.9.9.9"), id="other-address"),
    pytest.param(dict(hwsrc="00:00:00:00:00:00"), id="zero-sha"),
    pytest.param(dict(hwsrc="00:00:00:00:00:00", psrc="0.0.0.0"), id="zero-sha-probe"),
    pytest.param(dict(hwsrc="ff:ff:ff:ff:ff:ff"), id="broadcast-sha"),
    pytest.param(dict(hwsrc="01:00:5e:00:00:01"), id="multicast-sha"),
]


@pytest.mark.parametrize("fields", ANY_SENDER)
def test_reply_for_any_sender(vm, fields):
    """Whatever the ARP sender says (an RFC 5227 probe from 0.0.0.0, another address, a
    zero hardware address as tools without a route send): the gateway is answered, to the
    frame's Ethernet source, with the sender's fields as the target."""
    request = bytes(vm.arp_request(**fields))
    vm.send(request)
    reply = vm.expect(is_arp_reply)
    assert reply is not None and bytes(reply) == expected_reply(vm, request), fields
    assert reply.dst == vm.mac
    assert (reply[ARP].hwdst, reply[ARP].pdst) == (
        fields.get("hwsrc", vm.mac), fields.get("psrc", vm.ipv4))


DROPPED = [
    pytest.param(dict(pdst="10.0.0.1"), "arp_not_gateway", id="other-target"),
    pytest.param(dict(pdst="10.0.0.2", psrc="10.0.0.2"), "arp_not_gateway",
                 id="gratuitous-request"),
    pytest.param(dict(pdst="169.254.0.2"), "arp_not_gateway", id="near-gateway"),
    pytest.param(dict(op=2), "arp_not_request", id="reply-after-cycle"),
    pytest.param(dict(op=3), "arp_not_request", id="rarp-request"),
    pytest.param(dict(op=0), "arp_not_request", id="op-0"),
]


@pytest.mark.parametrize("fields, reason", DROPPED)
def test_other_arp_is_dropped(vm, fields, reason):
    frame = vm.arp_request(**fields)
    assert send_and_count(vm, [frame], reason) == {reason: 1}
    assert vm.expect(is_arp_reply, timeout=0.2) is None


@pytest.mark.parametrize("src", ["ff:ff:ff:ff:ff:ff", "01:00:5e:00:00:01",
                                 "33:33:00:00:00:01", "00:00:00:00:00:00"])
def test_request_from_no_station_is_dropped(vm, src):
    """A gateway request whose Ethernet source is a group (or no) address has nobody to go
    back to: counted, not answered."""
    frame = vm.arp_request()
    frame[Ether].src = src
    assert send_and_count(vm, [frame], "arp_bad_sender") == {"arp_bad_sender": 1}
    assert vm.expect(is_arp_reply, timeout=0.2) is None


MALFORMED = [
    pytest.param(dict(hwlen=8), id="hardware-length-8"),
    pytest.param(dict(hwtype=6), id="ieee802-hardware"),
    pytest.param(dict(ptype=0x86DD), id="ipv6-protocol"),
    pytest.param(dict(plen=16), id="protocol-length-16"),
]


@pytest.mark.parametrize("fields", MALFORMED)
def test_malformed_arp_is_counted(vm, fields):
    """Not an Ethernet/IPv4 ARP packet: cls refuses it before the arp node sees it."""
    frame = vm.arp_request(**fields)
    assert send_and_count(vm, [frame], "cls_bad_arp") == {"cls_bad_arp": 1}


def test_truncated_arp_is_counted(vm):
    frame = bytes(vm.arp_request())[:14 + 27]
    assert send_and_count(vm, [frame], "cls_bad_arp") == {"cls_bad_arp": 1}


def test_learning_during_the_arp_cycle(svc):
    """The VM's reply for its own address ends the cycle (consumed, MAC learned); a second
    one is an ordinary reply; re-creating the interface starts a new cycle."""
    vm = Vm(svc, 1)
    vm.create("arp-vm1")
    try:
        assert send_and_count(vm, [vm.arp_reply(psrc="10.0.0.99")], "arp_not_request") == {
            "arp_not_request": 1}  # not the VM's address: nothing learned
        assert send_and_count(vm, [vm.arp_reply()], "arp_learned") == {"arp_learned": 1}
        assert send_and_count(vm, [vm.arp_reply()], "arp_not_request") == {
            "arp_not_request": 1}
        vm.delete("arp-vm1")
        vm.create("arp-vm1")
        assert send_and_count(vm, [vm.arp_reply()], "arp_learned") == {"arp_learned": 1}
        # a group MAC is never learned, and does not end the cycle
        vm.delete("arp-vm1")
        vm.create("arp-vm1")
        bad = vm.arp_reply()
        bad[Ether].src = "01:00:00:00:00:01"
        assert send_and_count(vm, [bad], "arp_bad_sender") == {"arp_bad_sender": 1}
        assert send_and_count(vm, [vm.arp_reply()], "arp_learned") == {"arp_learned": 1}
    finally:
        vm.delete("arp-vm1")


def test_garbage_arp_burst_leaves_responder_up(vm):
    """A thousand mutated and truncated ARP frames: each one is either a counted drop or,
    when the mutation left a valid gateway request, answered; then the gateway is still
    answered and the API still serves."""
    rng = random.Random(4)
    template = bytes(vm.arp_request()) + bytes(18)
    frames = []
    for _ in range(1000):
        data = bytearray(template)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(14, len(data))] = rng.getrandbits(8)
        frames.append(bytes(data[:rng.randint(14, len(data))]))
    before = sum(vm.svc.drops().values())
    replies = 0
    for chunk in range(0, len(frames), 100):
        for frame in frames[chunk:chunk + 100]:
            vm.send(frame)
        # paced: the kernel's TAP queue must not overflow while the worker is descheduled
        while vm.expect(is_arp_reply, timeout=0.02) is not None:
            replies += 1
    deadline = time.monotonic() + 5
    while True:
        while vm.expect(is_arp_reply, timeout=0.02) is not None:
            replies += 1
        drops = vm.svc.drops()
        handled = sum(drops.values()) - before + replies
        if handled >= len(frames) or time.monotonic() > deadline:
            break
    assert handled == len(frames)
    assert drops["drop"] == 0
    request = bytes(vm.arp_request())
    vm.send(request)
    reply = vm.expect(is_arp_reply)
    assert reply is not None and bytes(reply) == expected_reply(vm, request)
    assert still_serving(vm.svc)


def test_nd_is_off_without_ipv6_overlay(vm):
    """Without --enable-ipv6-overlay every NS and RS is a counted drop, never answered."""
    ns = (Ether(dst="33:33:ff:00:00:01", src=vm.mac) /
          IPv6(src=vm.lla, dst="ff02::1:ff00:1", hlim=255) /
          ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr=vm.mac))
    rs = (Ether(dst="33:33:00:00:00:02", src=vm.mac) / IPv6(src=vm.lla, dst="ff02::2", hlim=255)
          / ICMPv6ND_RS() / ICMPv6NDOptSrcLLAddr(lladdr=vm.mac))
    assert send_and_count(vm, [ns, rs], "ipv6_nd_disabled") == {"ipv6_nd_disabled": 2}
    assert vm.expect(lambda p: IPv6 in p, timeout=0.3) is None
