# SPDX-License-Identifier: Apache-2.0
"""--graphtrace-loglevel: the packet trace in the service's own log (level 1: ports and
drops; level 2: every node), as dpservice's test builds log it."""
from __future__ import annotations

import time

from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

import harness


def logged_lines(start_service, level: int) -> list[str]:
    svc = start_service(opts=[*harness.SERVICE_OPTS, "--graphtrace-loglevel", str(level)])
    svc.initialize()
    time.sleep(0.5)  # the session starts with the service
    # IPv4 from the underlay: parsed by cls, then dropped as not a tunnel
    svc.tap("dtap0").send(Ether(dst=harness.PF_MACS[0], src="02:00:00:00:00:09") /
                          IP(src="192.0.2.1", dst="192.0.2.2") / UDP(sport=4242, dport=4242))
    svc.wait_drops("cls_pf_not_tunnel", 1)
    time.sleep(0.3)  # the log is written every 10 ms
    status, err = svc.terminate()
    assert status == 0, err
    return [line for line in err.splitlines() if "dplane.graphtrace" in line]


def test_level_1_logs_ports_and_drops(start_service):
    lines = logged_lines(start_service, 1)
    assert any("PORT 0 >> cls" in line and "4242" in line for line in lines), lines
    assert any("cls_pf_not_tunnel >> DROP" in line and "4242" in line for line in lines), lines


def test_level_2_logs_nodes_too(start_service):
    lines = logged_lines(start_service, 2)
    assert any("cls_pf_not_tunnel >> DROP" in line for line in lines), lines
