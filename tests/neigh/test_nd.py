# SPDX-License-Identifier: Apache-2.0
"""The `ipv6_nd` node with --enable-ipv6-overlay, as a VM sees it: an NS for fe80::1 gets an
NA (R, S, O, target link-layer address = the VF's MAC), an RS gets the gateway's RA; both to
the requester (ff02::1 when it has no address yet), checksums computed; every invalid or
foreign solicitation is dropped under its reason (RFC 4861 validity checks)."""
from __future__ import annotations

import random
import time

import pytest
from scapy.layers.inet6 import (
    ICMPv6ND_NA,
    ICMPv6ND_NS,
    ICMPv6ND_RA,
    ICMPv6ND_RS,
    ICMPv6NDOptDstLLAddr,
    ICMPv6NDOptMTU,
    ICMPv6NDOptSrcLLAddr,
    ICMPv6Unknown,
    IPv6,
    IPv6ExtHdrHopByHop,
)
from scapy.layers.l2 import Ether
from scapy.packet import Raw

from neighutil import (
    ALL_NODES,
    GW6,
    Vm,
    is_na,
    is_ra,
    send_and_count,
    still_serving,
)

SOLICITED_NODE_GW = "ff02::1:ff00:1"
SOLICITED_NODE_GW_MAC = "33:33:ff:00:00:01"


@pytest.fixture(scope="module")
def vm(svc6):
    vm = Vm(svc6, 0)
    vm.create("nd-vm0")
    yield vm
    vm.delete("nd-vm0")


def answer(vm: Vm, kind):
    """An answer to the VM's solicitation: addressed to its MAC, unlike the periodic NA and
    RA of the maintenance timer (to 33:33:00:00:00:01), which this service sends too."""
    return lambda p: kind(p) and p.dst == vm.mac


def ns(vm: Vm, src: str | None = None, tgt: str = GW6, hlim: int = 255, options=True, **ip):
    src = vm.lla if src is None else src
    pkt = (Ether(dst=SOLICITED_NODE_GW_MAC, src=vm.mac) /
           IPv6(src=src, dst=SOLICITED_NODE_GW, hlim=hlim, **ip) / ICMPv6ND_NS(tgt=tgt))
    return pkt / ICMPv6NDOptSrcLLAddr(lladdr=vm.mac) if options else pkt


def rs(vm: Vm, src: str | None = None, hlim: int = 255, options=True, **ip):
    src = vm.lla if src is None else src
    pkt = (Ether(dst="33:33:00:00:00:02", src=vm.mac) /
           IPv6(src=src, dst="ff02::2", hlim=hlim, **ip) / ICMPv6ND_RS())
    return pkt / ICMPv6NDOptSrcLLAddr(lladdr=vm.mac) if options else pkt


def expected_na(vm: Vm, dst: str, solicited: bool = True, tc: int = 0, fl: int = 0) -> bytes:
    return bytes(Ether(dst=vm.mac, src=vm.vf_mac) /
                 IPv6(src=GW6, dst=dst, hlim=255, tc=tc, fl=fl) /
                 ICMPv6ND_NA(R=1, S=int(solicited), O=1, tgt=GW6) /
                 ICMPv6NDOptDstLLAddr(lladdr=vm.vf_mac))


def expected_ra(vm: Vm, dst: str, tc: int = 0, fl: int = 0) -> bytes:
    return bytes(Ether(dst=vm.mac, src=vm.vf_mac) /
                 IPv6(src=GW6, dst=dst, hlim=255, tc=tc, fl=fl) /
                 ICMPv6ND_RA(chlim=255, M=1, O=1, H=0, prf=0, P=0, res=0,
                             routerlifetime=0xFFFF, reachabletime=0, retranstimer=0) /
                 ICMPv6NDOptSrcLLAddr(lladdr=vm.vf_mac))


def checksum_ok(pkt) -> bool:
    """scapy recomputes the ICMPv6 checksum of what it received."""
    icmp = pkt[IPv6].payload
    sent = icmp.cksum
    icmp.cksum = None
    return IPv6(bytes(pkt[IPv6]))[IPv6].payload.cksum == sent


def test_ns_for_gateway_gets_na(vm):
    vm.send(ns(vm))
    na = vm.expect(answer(vm, is_na))
    assert na is not None
    assert bytes(na) == expected_na(vm, vm.lla)
    assert checksum_ok(na)
    ip, adv = na[IPv6], na[ICMPv6ND_NA]
    assert (ip.src, ip.dst, ip.hlim, ip.plen, ip.nh) == (GW6, vm.lla, 255, 32, 58)
    assert (adv.R, adv.S, adv.O, adv.tgt) == (1, 1, 1, GW6)
    assert na[ICMPv6NDOptDstLLAddr].lladdr == vm.vf_mac
    assert (na.dst, na.src) == (vm.mac, vm.vf_mac)


def test_na_variants(vm):
    """Unicast NS, NS without options, with an unknown option, with a Hop-by-Hop header,
    with a traffic class and flow label (kept in the answer): all answered alike."""
    variants = [
        (ns(vm), {}),
        (Ether(dst=vm.vf_mac, src=vm.mac) / IPv6(src=vm.lla, dst=GW6, hlim=255) /
         ICMPv6ND_NS(tgt=GW6) / ICMPv6NDOptSrcLLAddr(lladdr=vm.mac), {}),
        (ns(vm, options=False), {}),
        (ns(vm) / Raw(b"\x0e\x01" + bytes(6)), {}),  # a Nonce option (RFC 3971)
        (Ether(dst=SOLICITED_NODE_GW_MAC, src=vm.mac) /
         IPv6(src=vm.lla, dst=SOLICITED_NODE_GW, hlim=255) / IPv6ExtHdrHopByHop() /
         ICMPv6ND_NS(tgt=GW6), {}),
        (ns(vm, tc=0x2E, fl=0xABCDE), dict(tc=0x2E, fl=0xABCDE)),
        (ns(vm, src=vm.ipv6), dict(dst=vm.ipv6)),
    ]
    for request, expect in variants:
        vm.send(request)
        na = vm.expect(answer(vm, is_na))
        assert na is not None, request.summary()
        kwargs = dict(dst=vm.lla, tc=0, fl=0)
        kwargs.update(expect)
        assert bytes(na) == expected_na(vm, **kwargs), request.summary()


def test_ns_from_unspecified_gets_multicast_na(vm):
    """From :: the answer goes to ff02::1, with S clear (RFC 4861 7.2.4)."""
    vm.send(ns(vm, src="::", options=False))
    na = vm.expect(answer(vm, is_na))
    assert na is not None
    assert bytes(na) == expected_na(vm, ALL_NODES, solicited=False)
    assert (na[ICMPv6ND_NA].R, na[ICMPv6ND_NA].S, na[ICMPv6ND_NA].O) == (1, 0, 1)


def test_rs_gets_ra(vm):
    vm.send(rs(vm))
    ra = vm.expect(answer(vm, is_ra))
    assert ra is not None
    assert bytes(ra) == expected_ra(vm, vm.lla)
    assert checksum_ok(ra)
    adv = ra[ICMPv6ND_RA]
    assert (adv.chlim, adv.M, adv.O, adv.routerlifetime) == (255, 1, 1, 0xFFFF)
    assert (adv.reachabletime, adv.retranstimer) == (0, 0)
    assert ra[ICMPv6NDOptSrcLLAddr].lladdr == vm.vf_mac
    assert (ra[IPv6].src, ra[IPv6].hlim, ra[IPv6].plen) == (GW6, 255, 24)


def test_rs_variants(vm):
    for request, dst in [(rs(vm, src="::", options=False), ALL_NODES),
                         (rs(vm, options=False), vm.lla),
                         (rs(vm) / ICMPv6NDOptMTU(mtu=1500), vm.lla)]:
        vm.send(request)
        ra = vm.expect(answer(vm, is_ra))
        assert ra is not None and bytes(ra) == expected_ra(vm, dst), request.summary()


def _bad_checksum(pkt):
    pkt = pkt.copy()
    pkt[IPv6].payload.cksum = 0x1234
    return pkt


def _raw_icmp(vm: Vm, body: bytes, src: str | None = None):
    return (Ether(dst=SOLICITED_NODE_GW_MAC, src=vm.mac) /
            IPv6(src=src or vm.lla, dst=SOLICITED_NODE_GW, hlim=255) /
            ICMPv6Unknown(type=body[0], code=body[1], msgbody=body[4:]))


NS_BODY = bytes([135, 0, 0, 0, 0, 0, 0, 0]) + bytes.fromhex("fe800000000000000000000000000001")


def dropped(vm: Vm):
    return [
        ("other-target", ns(vm, tgt="fe80::2"), "ipv6_nd_not_gateway"),
        ("own-address-dad", ns(vm, src="::", tgt=vm.lla, options=False),
         "ipv6_nd_not_gateway"),
        ("multicast-target", ns(vm, tgt="ff02::1"), "ipv6_nd_not_gateway"),
        ("ns-hop-limit-64", ns(vm, hlim=64), "ipv6_nd_bad_hop_limit"),
        ("rs-hop-limit-1", rs(vm, hlim=1), "ipv6_nd_bad_hop_limit"),
        ("ns-bad-checksum", _bad_checksum(ns(vm)), "ipv6_nd_bad_checksum"),
        ("rs-bad-checksum", _bad_checksum(rs(vm)), "ipv6_nd_bad_checksum"),
        ("ns-code-1", _raw_icmp(vm, bytes([135, 1]) + NS_BODY[2:]), "ipv6_nd_bad_code"),
        ("rs-code-7", _raw_icmp(vm, bytes([133, 7, 0, 0, 0, 0, 0, 0])), "ipv6_nd_bad_code"),
        ("ns-truncated", _raw_icmp(vm, NS_BODY[:20]), "ipv6_nd_truncated"),
        ("rs-truncated", _raw_icmp(vm, bytes([133, 0, 0, 0, 0, 0])), "ipv6_nd_truncated"),
        ("option-length-0", _raw_icmp(vm, NS_BODY + b"\x01\x00" + bytes(6)),
         "ipv6_nd_bad_option"),
        ("option-past-end", _raw_icmp(vm, NS_BODY + b"\x01\x02" + bytes(6)),
         "ipv6_nd_bad_option"),
        ("option-trailing-byte", _raw_icmp(vm, NS_BODY + b"\x01\x01" + bytes(6) + b"\x00"),
         "ipv6_nd_bad_option"),
        ("slla-from-unspecified", ns(vm, src="::"), "ipv6_nd_bad_option"),
        ("rs-slla-from-unspecified", rs(vm, src="::"), "ipv6_nd_bad_option"),
        ("group-ethernet-source", Ether(dst=SOLICITED_NODE_GW_MAC, src="01:00:00:00:00:01")
         / ns(vm)[IPv6], "ipv6_nd_bad_sender"),
    ]


def test_invalid_solicitations_are_dropped(vm):
    for name, frame, reason in dropped(vm):
        assert send_and_count(vm, [frame], reason) == {reason: 1}, name
    assert vm.expect(answer(vm, lambda p: is_na(p) or is_ra(p)), timeout=0.3) is None


def test_icmpv6_too_short_for_cls(vm):
    """Fewer than 4 bytes of ICMPv6: cls refuses it before it is an ND message."""
    frame = (Ether(dst=SOLICITED_NODE_GW_MAC, src=vm.mac) /
             IPv6(src=vm.lla, dst=SOLICITED_NODE_GW, hlim=255, nh=58) / Raw(b"\x87\x00"))
    assert send_and_count(vm, [frame], "cls_bad_l4") == {"cls_bad_l4": 1}


def test_garbage_burst_leaves_responder_up(vm):
    """Mutated NS/RS frames: each either a counted drop or (rarely) answered; afterwards the
    NS is still answered."""
    rng = random.Random(6)
    templates = [bytes(ns(vm)), bytes(rs(vm)), bytes(ns(vm, options=False))]
    frames = []
    for _ in range(600):
        data = bytearray(rng.choice(templates))
        for _ in range(rng.randint(1, 3)):
            data[rng.randrange(14, len(data))] = rng.getrandbits(8)
        frames.append(bytes(data[:rng.randint(54, len(data))]))
    before = sum(vm.svc.drops().values())
    answers = 0
    for chunk in range(0, len(frames), 100):
        for frame in frames[chunk:chunk + 100]:
            vm.send(frame)
        while vm.expect(answer(vm, lambda p: is_na(p) or is_ra(p)), timeout=0.02) is not None:
            answers += 1
    deadline = time.monotonic() + 5
    while True:
        while vm.expect(answer(vm, lambda p: is_na(p) or is_ra(p)), timeout=0.02) is not None:
            answers += 1
        drops = vm.svc.drops()
        handled = sum(drops.values()) - before + answers
        if handled >= len(frames) or time.monotonic() > deadline:
            break
    assert handled == len(frames)
    assert drops["drop"] == 0
    vm.send(ns(vm))
    na = vm.expect(answer(vm, is_na))
    assert na is not None and bytes(na) == expected_na(vm, vm.lla)
    assert still_serving(vm.svc)
