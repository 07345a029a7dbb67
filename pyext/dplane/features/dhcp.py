# SPDX-License-Identifier: Apache-2.0
"""DHCPv4 and DHCPv6 for the VMs: the firmware answers every request itself (firmware/dhcp,
firmware/dhcpv6); what all its answers carry comes from the command line (--dhcp-mtu,
--dhcp-dns, --dhcpv6-dns) and is handed over before the dataplane starts. What differs per
VM (address, hostname, PXE) comes with its interface."""
from __future__ import annotations

import ipaddress

from .. import _firmware
from ..assembly import component
from ..cmdline import Config


@component
class DhcpSettings:
    def __init__(self, cfg: Config) -> None:
        self._mtu = cfg.dhcp_mtu
        self._dns4 = [ipaddress.IPv4Address(a).packed for a in cfg.dhcp_dns]
        self._dns6 = [ipaddress.IPv6Address(a).packed for a in cfg.dhcpv6_dns]

    def configure(self) -> None:
        _firmware.dhcp_conf_set(self._mtu, self._dns4)
        _firmware.dhcpv6_conf_set(self._dns6)
