# SPDX-License-Identifier: Apache-2.0
"""ARP and ND towards the VMs: periodic announcements on the maintenance timer (contract:
"Periodic GARP / ND"): to every VF with an interface, the ARP request from the gateway
169.254.0.1 (asking for the VM's own address while its ARP cycle is pending, which teaches us
the VM's MAC) when the interface has an IPv4 address; with --enable-ipv6-overlay also the
Router Advertisement and the unsolicited Neighbor Advertisement for fe80::1 when it has an
IPv6 address, and the ND responder on. The firmware builds the packets; each sender runs
on the control thread for one interface."""
from __future__ import annotations

from collections.abc import Callable

from .. import _firmware
from ..assembly import component
from ..cmdline import Config
from ..interfaces import NO_IPV4, NO_IPV6, Interface
from ..maintenance import Maintenance


def send_arp(iface: Interface) -> None:
    if iface.spec.ipv4 != NO_IPV4:
        _firmware.arp_send_gratuitous(iface.port.port_id)


def send_ra(iface: Interface) -> None:
    if iface.spec.ipv6 != NO_IPV6:
        _firmware.nd_send_ra(iface.port.port_id)


def send_na(iface: Interface) -> None:
    if iface.spec.ipv6 != NO_IPV6:
        _firmware.nd_send_unsolicited_na(iface.port.port_id)


def senders(ipv6_overlay: bool) -> list[Callable[[Interface], None]]:
    """What each maintenance cycle sends to an interface, in dpservice's order."""
    return [send_ra, send_na, send_arp] if ipv6_overlay else [send_arp]


@component
class Announcements:
    def __init__(self, cfg: Config, maintenance: Maintenance) -> None:
        self._ipv6_overlay = cfg.enable_ipv6_overlay
        for send in senders(self._ipv6_overlay):
            maintenance.add(send)

    def configure(self) -> None:
        _firmware.nd_conf_set(self._ipv6_overlay)
