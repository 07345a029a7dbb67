# SPDX-License-Identifier: Apache-2.0
"""Checks that keep tenants apart on the packet path, beyond dpservice (which has none):

* --source-check=off|audit|enforce: a VM's packet must have the VM's source (the
  interface's address, an address of one of its alias prefixes, an IPv6 link-local one;
  DHCP from 0.0.0.0 and ND are answered before the check). Otherwise it is a spoof: counted
  per interface (audit, the default: dpservice forwards spoofs, and a VM configured with an
  address its controller does not know would lose its traffic), and with enforce dropped
  (`conntrack_spoofed_source`) before it creates a flow.

* --underlay-check=enforce|audit: a tunnel from the underlay must carry a packet for the VM
  its outer destination stands for (the interface's address, an address in the alias
  prefix, or any address whose route in the VNI leads to the VM's VF). Otherwise ipip_decap
  drops it as `ipip_decap_inner_mismatch` (enforce, the default: no dpservice client
  depends on the delivery of such packets), or counts it and delivers it (audit).

* --responder-rate=PPS, --responder-burst=N: the answers one VM may draw from the host's
  ARP, DHCPv4, DHCPv6 and ND responders, per second and at once (a token bucket per VF;
  default 1 000 and 1 000, far above what a booting guest asks: a few). Beyond, requests are
  dropped as `<responder>_rate_limited` (`arp_`, `dhcp_`, `dhcpv6_`, `ipv6_nd_`), so a VM
  flooding them costs the worker no more than that.

* --flow-quota-per-interface=N: the flows one VM may have in the connection tracking table
  (0: no limit; default: half the table), so that one VM's flood of new flows cannot fill
  the table for every other tenant; beyond, its new flows are dropped as
  `conntrack_quota_exceeded` while its existing ones go on.

The settings and what they counted are reported over telemetry (`/dplane/checks`) and by the
exporter. Control thread only.
"""
from __future__ import annotations

from .. import _firmware
from ..assembly import component
from ..cmdline import Config, Option, _choice, _int_range, feature_option
from ..interfaces import Interface, Interfaces
from ..telemetry import Commands

SOURCE_CHECK = feature_option(Option(
    "source-check", "MODE", "VM packets whose source is not the VM's: 'off', 'audit' "
    "(default: count them per interface) or 'enforce' (count and drop them)",
    _choice("off", "audit", "enforce"), "audit"))
FLOW_QUOTA = feature_option(Option(
    "flow-quota-per-interface", "FLOWS", "flows one VM may have in the connection tracking "
    "table (0 - 16777216; 0: no limit; default: half the table)", _int_range(0, 1 << 24)))
RESPONDER_RATE = feature_option(Option(
    "responder-rate", "PPS", "ARP, DHCP and ND answers one VM may draw per second "
    "(0 - 1000000; 0: no limit)", _int_range(0, 1_000_000), 1000))
RESPONDER_BURST = feature_option(Option(
    "responder-burst", "N", "ARP, DHCP and ND answers one VM may draw at once, "
    "beyond its --responder-rate (1 - 1000000)", _int_range(1, 1_000_000), 1000))
UNDERLAY_CHECK = feature_option(Option(
    "underlay-check", "MODE", "tunnels whose inner destination is not the VM (or prefix) "
    "their underlay address stands for: 'enforce' (default) drops them, 'audit' counts and "
    "delivers them", _choice("enforce", "audit"), "enforce"))


@component
class IsolationChecks:
    def __init__(self, cfg: Config, interfaces: Interfaces, commands: Commands) -> None:
        self.source_check = cfg.features.get(SOURCE_CHECK.dest, "audit")
        self.underlay_check = cfg.features.get(UNDERLAY_CHECK.dest, "enforce")
        self.responder_rate = cfg.features.get(RESPONDER_RATE.dest, 1000)
        self.responder_burst = cfg.features.get(RESPONDER_BURST.dest, 1000)
        quota = cfg.features.get(FLOW_QUOTA.dest)
        # half the table's flows (two keys per flow) unless given
        self.flow_quota = cfg.flow_table_size // 4 if quota is None else quota
        self._interfaces = interfaces
        interfaces.on_delete.append(self._drop_interface)
        commands.add("/dplane/checks", "Returns the tenant isolation checks' settings and "
                     "what they let through while auditing.", lambda params: self.report())

    def configure(self) -> None:
        _firmware.ct_source_check_set(self.source_check)
        _firmware.ct_quota_set(self.flow_quota)
        _firmware.overlay_underlay_check_set(self.underlay_check == "enforce")
        _firmware.responder_limit_set(self.responder_rate, self.responder_burst)

    def report(self) -> dict:
        return {"source_check": self.source_check,
                "spoofed_source": {iface.id: _firmware.ct_spoofed(iface.port.port_id)
                                   for iface in self._interfaces},
                "flow_quota": self.flow_quota,
                "flows": {iface.id: _firmware.ct_port_flows(iface.port.port_id)
                          for iface in self._interfaces},
                "responder_rate": self.responder_rate,
                "responder_burst": self.responder_burst,
                "underlay_check": self.underlay_check,
                "underlay_mismatch_audited": _firmware.overlay_underlay_audited()}

    def _drop_interface(self, iface: Interface) -> None:
        """The next interface on the port starts counting from zero."""
        _firmware.ct_spoofed_reset(iface.port.port_id)
