# SPDX-License-Identifier: Apache-2.0
"""arp: the gateway's reply written into the request and sent back out of the VF, the VM's
MAC learned during its ARP cycle, every other ARP packet dropped under its reason."""
from __future__ import annotations

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import ARP, Ether

from nodeutil import GW4, LEARN, NOIF, VM1, VM_MAC, reattach

BROADCAST = "ff:ff:ff:ff:ff:ff"


def request(dp, port=VM1, **fields) -> Ether:
    arp = dict(op=1, hwsrc=VM_MAC[port], psrc="10.0.0.2", hwdst="00:00:00:00:00:00", pdst=GW4)
    arp.update(fields)
    return Ether(src=arp.pop("eth_src", VM_MAC[port]), dst=BROADCAST) / ARP(**arp)


def expected_reply(dp, req: Ether, port=VM1) -> bytes:
    """The request rewritten: Ethernet back to its source from the VF, opcode 2, sender the
    gateway at the VF's MAC, target the request's sender fields."""
    arp = req[ARP]
    return bytes(Ether(dst=req.src, src=dp.port_mac[port]) / ARP(
        op=2, hwsrc=dp.port_mac[port], psrc=GW4, hwdst=arp.hwsrc, pdst=arp.psrc))


def test_gateway_reply(dp):
    req = request(dp)
    result = dp.run("arp", req, VM1)
    assert result.path == [f"tx-{VM1}"]
    assert result.frame == expected_reply(dp, req)
    # the whole way from the VF: cls, arp, back out
    assert dp.run("cls", req, VM1, steps=8).path == ["arp", f"tx-{VM1}"]


@pytest.mark.parametrize("fields", [
    dict(hwsrc="00:00:00:00:00:00"),                 # a zero sender hardware address
    dict(psrc="0.0.0.0"),                            # an address probe
    dict(hwsrc="00:00:00:00:00:00", psrc="0.0.0.0"),
    dict(hwsrc="02:00:00:00:00:aa", psrc="10.9.9.9"),  # whatever the sender says
], ids=str)
def test_reply_whatever_the_sender_fields(dp, fields):
    """The reply goes to the frame's Ethernet source; the ARP target is what the sender
    fields said."""
    req = request(dp, **fields)
    result = dp.run("arp", req, VM1)
    assert result.path == [f"tx-{VM1}"]
    assert result.frame == expected_reply(dp, req)


def test_reply_keeps_padding(dp):
    req = request(dp) / (b"\xa5" * 18)
    result = dp.run("arp", req, VM1)
    assert result.path == [f"tx-{VM1}"]
    assert result.frame == expected_reply(dp, req) + b"\xa5" * 18


@pytest.mark.parametrize("frame, edge", [
    (lambda dp: request(dp, pdst="10.0.0.1"), "arp_not_gateway"),
    (lambda dp: request(dp, pdst="10.0.0.3"), "arp_not_gateway"),
    (lambda dp: request(dp, eth_src=BROADCAST), "arp_bad_sender"),
    (lambda dp: request(dp, eth_src="01:00:5e:00:00:01"), "arp_bad_sender"),
    (lambda dp: request(dp, eth_src="00:00:00:00:00:00"), "arp_bad_sender"),
    # a reply outside the ARP cycle (VM1's ended at setup), and other operations
    (lambda dp: request(dp, op=2, psrc="10.0.0.2", pdst=GW4), "arp_not_request"),
    (lambda dp: request(dp, op=3), "arp_not_request"),
    (lambda dp: request(dp, op=0), "arp_not_request"),
    # cls never sends it what the ARP parser refuses; the node checks again
    (lambda dp: Ether(src=VM_MAC[VM1], dst=BROADCAST) / IP(src="10.0.0.2", dst=GW4) / UDP(),
     "arp_malformed"),
])
def test_drops(dp, frame, edge):
    req = frame(dp)
    result = dp.run("arp", req, VM1)
    assert result.path == [edge]
    assert result.frame == bytes(req)  # a dropped request is not rewritten


def test_no_interface(dp):
    """cls sends a VF's ARP here only while it has an interface; the node checks again."""
    assert dp.edge("arp", request(dp, NOIF), NOIF) == "arp_no_interface"


@pytest.fixture
def fresh_learn(dp):
    """The LEARN VF with a new interface: its ARP cycle pending again."""
    yield reattach(dp, LEARN)
    reattach(dp, LEARN, learn=True)  # as the other tests expect it


def vm_reply(dp, vm, eth_src: str, psrc: str) -> Ether:
    return Ether(src=eth_src, dst=dp.port_mac[vm.port]) / ARP(
        op=2, hwsrc=eth_src, psrc=psrc, hwdst=dp.port_mac[vm.port], pdst=GW4)


def test_learn_during_arp_cycle(dp, fresh_learn):
    """The VM's answer for its own address teaches its MAC (the Ethernet source) and ends
    the cycle; the answer itself is consumed."""
    vm = fresh_learn
    new_mac = "02:00:00:00:aa:06"
    # not the VM's own address, or from a group address: nothing learned, the cycle goes on
    assert dp.edge("arp", vm_reply(dp, vm, new_mac, "10.0.0.9"), LEARN) == "arp_not_request"
    assert dp.edge("arp", vm_reply(dp, vm, BROADCAST, vm.ipv4), LEARN) == "arp_bad_sender"
    assert dp.iface_vm_mac(LEARN) == VM_MAC[LEARN]
    # the VM's own answer, through cls
    result = dp.run("cls", vm_reply(dp, vm, new_mac, vm.ipv4), LEARN, steps=8)
    assert result.path == ["arp", "arp_learned"]
    assert dp.iface_vm_mac(LEARN) == new_mac
    # the cycle is over: a second answer is a stray reply
    assert dp.edge("arp", vm_reply(dp, vm, VM_MAC[LEARN], vm.ipv4), LEARN) == "arp_not_request"
    assert dp.iface_vm_mac(LEARN) == new_mac
    # ... and a request is answered as usual, to the frame's source
    req = request(dp, LEARN, psrc=vm.ipv4)
    assert dp.run("arp", req, LEARN).frame == expected_reply(dp, req, LEARN)
