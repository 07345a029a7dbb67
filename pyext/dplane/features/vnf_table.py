# SPDX-License-Identifier: Apache-2.0
"""The VNF table (firmware/vnf): every underlay address this host answers for, of
interfaces, prefixes and (to come) virtual IPs, NAT and load balancers. Its size comes from
--vnf-table-size and is handed over before the dataplane starts; how much of it one
interface's prefixes may take is Prefixes' (--prefixes-per-interface)."""
from __future__ import annotations

from .. import _firmware
from ..assembly import component
from ..cmdline import Config


@component
class VnfTable:
    def __init__(self, cfg: Config) -> None:
        self.size = cfg.vnf_table_size

    def configure(self) -> None:
        _firmware.vnf_conf_set(self.size)
