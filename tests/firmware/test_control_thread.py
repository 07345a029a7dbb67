# SPDX-License-Identifier: Apache-2.0
"""The firmware's own rules, checked in a process of their own (EAL initialises once per
process): control functions refuse any thread but the control thread, and start/stop
cycles leave nothing running."""
from __future__ import annotations

import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent("""
    import errno, os, threading
    from dplane import _firmware as fw

    fw.eal_init(["t", "-l", "0,1", "--no-huge", "-m", "128", "--no-shconf", "--no-pci",
                 "--no-telemetry", "--file-prefix=dptctl%d" % os.getpid(),
                 "--log-level=lib.eal:crit", "--vdev=net_null0,no-rx=1", "--vdev=net_null1"])
    devs = fw.ethdevs()
    assert [d["name"] for d in devs] == ["net_null0", "net_null1"], devs
    fw.ct_conf_set(4096, 30)  # dpservice's 850 000 keys do not fit in -m 128
    fw.core_start(2048, [(0, fw.PORT_PF, 0, None, True), (1, fw.PORT_PF, 1, None, True)])
    assert fw.core_running()

    # another thread: refused, nothing changed
    errors = []
    def other():
        for call in (lambda: fw.port_stats(0), fw.core_stop, lambda: fw.port_stop(1),
                     fw.rcu_synchronize, fw.drop_counters):
            try:
                call()
                errors.append("accepted")
            except OSError as exc:
                errors.append(exc.errno)
    t = threading.Thread(target=other)
    t.start(); t.join()
    assert errors == [errno.EPERM] * 5, errors
    assert fw.core_running()

    # net_null1 generates packets (all zero bytes) that cls must classify
    import time
    deadline = time.monotonic() + 5
    while fw.port_stats(1)["ipackets"] == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fw.port_stats(1)["ipackets"] > 0
    # an all-zero frame from an uplink is no tunnel: counted under its reason, nowhere else
    drops = fw.drop_counters()
    assert drops["cls_pf_not_tunnel"] > 0 and drops["drop"] == 0, drops
    fw.rcu_synchronize()
    fw.port_stop(1)          # stop a port while the worker runs
    fw.port_start(1)
    fw.core_stop()
    assert not fw.core_running()
    fw.core_stop()           # idempotent
    fw.eal_cleanup()
    print("ok")
""")


def test_control_functions_only_on_control_thread():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("ok")
