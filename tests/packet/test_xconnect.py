# SPDX-License-Identifier: Apache-2.0
"""A board that patches pf0 to pf1 (the benchmark's path, rx -> cls -> tx) on real TAPs:
what goes in one port comes out of the other, byte for byte; what cannot be parsed does not."""
from __future__ import annotations

import os

from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import Ether

BOARD = """
[board]
name = "xconnect"
[eal]
memory-mb = 256
file-prefix = "dptx{pid}"
args = ["--no-pci", "--no-telemetry", "--log-level=lib.eal:notice",
        "--log-level=pmd.net.tap:crit"]
[firmware]
mbufs = 8192
[[port]]
role = "pf0"
driver = "net_tap"
iface = "dtap0"
xconnect = "pf1"
[[port]]
role = "pf1"
driver = "net_tap"
iface = "dtap1"
[service]
nic-type = "tap"
no-stats = true
"""


def test_xconnect_forwards_unchanged(start_service, tmp_path):
    board = tmp_path / "xconnect.toml"
    board.write_text(BOARD.format(pid=os.getpid()))
    svc = start_service(eal=[], opts=["--board", str(board)])
    svc.initialize()
    tx, rx = svc.tap("dtap0"), svc.tap("dtap1")
    frames = [Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(dst=f"10.0.0.{i}") /
              UDP(sport=1000 + i, dport=53) / (b"x" * i) for i in range(1, 20)]
    frames.append(Ether() / IPv6() / UDP())
    for frame in frames:
        tx.send(frame)
        out = rx.recv_raw(2.0)
        assert out is not None
        assert out == bytes(frame)
    # the other direction is not patched, and malformed frames are still dropped
    rx.send(frames[0])
    assert tx.recv_raw(0.3) is None
    drops = svc.drops()
    assert drops["cls_pf_not_tunnel"] == 1
    tx.send(bytes(Ether(type=0x0800)) + bytes(10))
    assert svc.wait_drops("cls_bad_ipv4", 1)["cls_bad_ipv4"] == 1
    assert rx.recv_raw(0.3) is None
