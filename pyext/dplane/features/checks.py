# SPDX-License-Identifier: Apache-2.0
"""Checks that keep tenants apart on the packet path, beyond dpservice (which has none):

* --underlay-check=enforce|audit: a tunnel from the underlay must carry a packet for what
  its outer destination stands for (the interface's address, an address in the alias
  prefix). Otherwise ipip_decap drops it as `ipip_decap_inner_mismatch` (enforce, the
  default: no dpservice client depends on the delivery of such packets), or counts it and
  delivers it (audit).

The settings and what they counted are reported over telemetry (`/dplane/checks`) and by the
exporter. Control thread only.
"""
from __future__ import annotations

from .. import _firmware
from ..assembly import component
from ..cmdline import Config, Option, _choice, feature_option
from ..telemetry import Commands

UNDERLAY_CHECK = feature_option(Option(
    "underlay-check", "MODE", "tunnels whose inner destination is not the VM (or prefix) "
    "their underlay address stands for: 'enforce' (default) drops them, 'audit' counts and "
    "delivers them", _choice("enforce", "audit"), "enforce"))


@component
class IsolationChecks:
    def __init__(self, cfg: Config, commands: Commands) -> None:
        self.underlay_check = cfg.features.get(UNDERLAY_CHECK.dest, "enforce")
        commands.add("/dplane/checks", "Returns the tenant isolation checks' settings and "
                     "what they let through while auditing.", lambda params: self.report())

    def configure(self) -> None:
        _firmware.overlay_underlay_check_set(self.underlay_check == "enforce")

    def report(self) -> dict:
        return {"underlay_check": self.underlay_check,
                "underlay_mismatch_audited": _firmware.overlay_underlay_audited()}
