# SPDX-License-Identifier: Apache-2.0
"""The VM MAC the firmware learns, read back from the firmware itself.

Nothing dplane sends today is addressed by the learned MAC (the responders answer the
requester's own addresses, as dpservice does; decapsulation, its user, comes later), and the
API does not show it. So this test drives the firmware directly, in a process of its own in
a private namespace with TAP ports, as the service would: the VF's own MAC is the first
guess; the VM's ARP reply for its address during the ARP cycle, and an NS for fe80::1 at any
time, set it; it belongs to the port and survives detaching and re-attaching an interface,
which starts a new ARP cycle."""
from __future__ import annotations

import subprocess
import sys
import textwrap
import time

from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
from scapy.layers.l2 import Ether

import harness
from neighutil import Vm

SCRIPT = textwrap.dedent("""
    import socket, sys, time
    from scapy.layers.inet6 import ICMPv6ND_NS, ICMPv6NDOptSrcLLAddr, IPv6
    from scapy.layers.l2 import ARP, Ether
    from dplane import _firmware as fw

    eal = sys.argv[1:]
    fw.eal_init(["t"] + eal)
    ports = {d["ifname"]: d["port_id"] for d in fw.ethdevs()}
    vf = ports["dtapvf_0"]
    fw.nd_conf_set(True)
    fw.core_start(4096, [(ports["dtap0"], fw.PORT_PF, 0, None, True),
                         (ports["dtap1"], fw.PORT_PF, 1, None, True),
                         (vf, fw.PORT_VF, 0, None, False)])
    VF_MAC = "66:66:66:66:66:00"
    VM_IP = bytes([10, 0, 0, 2])

    def attach():
        fw.iface_attach(vf, 100, VM_IP, bytes(16), fw.PXE_NONE, b"", b"", b"", bytes(16))
        fw.port_start(vf)

    def detach():
        fw.iface_detach(vf)
        fw.port_stop(vf)

    attach()
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, 0)  # nothing queued before bind
    sock.bind(("dtapvf_0", 3))  # ETH_P_ALL

    def send(frame):
        sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)  # ENETDOWN of an old stop
        sock.send(bytes(frame))

    def vm_mac_becomes(mac, timeout=3.0):
        deadline = time.monotonic() + timeout
        while fw.iface_vm_mac(vf) != mac:
            if time.monotonic() > deadline:
                return False
            time.sleep(0.01)
        return True

    def arp_reply(mac, ip="10.0.0.2"):
        return Ether(dst=VF_MAC, src=mac) / ARP(op=2, hwsrc=mac, psrc=ip, hwdst=VF_MAC,
                                                 pdst="169.254.0.1")

    def ns(mac):
        return (Ether(dst="33:33:ff:00:00:01", src=mac) /
                IPv6(src="fe80::2", dst="ff02::1:ff00:1", hlim=255) /
                ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr=mac))

    assert fw.iface_vm_mac(vf) == VF_MAC              # the guess
    send(arp_reply("02:00:00:00:00:0a", ip="10.0.0.9"))  # not the VM's address
    send(arp_reply("02:00:00:00:00:01"))
    assert vm_mac_becomes("02:00:00:00:00:01")       # the ARP cycle
    send(arp_reply("02:00:00:00:00:02"))              # cycle over: not learned
    send(ns("02:00:00:00:00:03"))                     # an NS always is
    assert vm_mac_becomes("02:00:00:00:00:03")
    detach()
    assert fw.iface_vm_mac(vf) == "02:00:00:00:00:03"  # the port keeps it
    attach()
    assert fw.iface_vm_mac(vf) == "02:00:00:00:00:03"
    send(arp_reply("02:00:00:00:00:04"))              # a new interface, a new cycle
    assert vm_mac_becomes("02:00:00:00:00:04")
    drops = fw.drop_counters()
    assert drops["arp_learned"] == 2 and drops["arp_not_request"] == 2, drops
    fw.core_stop()
    fw.eal_cleanup()
    print("ok")
""")


def test_learned_vm_mac(netns):
    eal = harness.tap_eal_args(1, f"dptl{netns.id}")
    result = subprocess.run(["ip", "netns", "exec", netns.name, sys.executable, "-c", SCRIPT,
                             *eal], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stdout.strip().endswith("ok"), (
        result.stdout + result.stderr)


def vm_mac(svc: harness.Service, port: str) -> str:
    return {p.name: p.vm_mac for p in svc.stats().ports}[port]


def wait_vm_mac(svc: harness.Service, port: str, mac: str, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while vm_mac(svc, port) != mac:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def test_learning_seen_through_the_service(svc6):
    """The same as above, through the running service: Diagnostics shows the learned MAC."""
    vm = Vm(svc6, 1, mac="02:aa:00:00:00:01")
    vm.create("learner")
    try:
        assert vm_mac(svc6, vm.tap_name) == vm.vf_mac  # the first guess: the VF's own
        vm.send(vm.arp_reply())  # the VM answers the ARP cycle's request
        assert wait_vm_mac(svc6, vm.tap_name, vm.mac)
        vm.delete("learner")
        vm.create("learner")  # a new interface on the same VF keeps what the port learned
        assert vm_mac(svc6, vm.tap_name) == vm.mac
        other = "02:bb:00:00:00:01"
        vm.send(Ether(src=other, dst="33:33:ff:00:00:01") /
                IPv6(src=vm.lla, dst="ff02::1:ff00:1", hlim=255) /
                ICMPv6ND_NS(tgt="fe80::1") / ICMPv6NDOptSrcLLAddr(lladdr=other))
        assert wait_vm_mac(svc6, vm.tap_name, other)
    finally:
        vm.delete("learner")
