# SPDX-License-Identifier: Apache-2.0
"""The table sizes a service takes from its command line (dplane's own options), parsed
in-process, and what the firmware accepts of them before it starts."""
from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from dplane import board, cmdline
from dplane.errors import ConfigError

PORTS = ["--vdev=net_tap0,iface=dtap0"]


def parse(*args: str) -> cmdline.Config:
    def no_default():
        raise AssertionError("no default board here")
    return cmdline.parse([*PORTS, "--", *args], {"DP_CONF": ""}, board.load_board,
                         no_default)


def test_defaults():
    cfg = parse()
    assert (cfg.route_table_size, cfg.vnf_table_size, cfg.prefixes_per_interface) == (
        100000, 131072, 1024)


def test_values():
    cfg = parse("--route-table-size", "2048", "--vnf-table-size=64",
                "--prefixes-per-interface", "0")
    assert (cfg.route_table_size, cfg.vnf_table_size, cfg.prefixes_per_interface) == (
        2048, 64, 0)


@pytest.mark.parametrize("arg", ["--route-table-size=0", "--route-table-size=16777217",
                                 "--vnf-table-size=0", "--vnf-table-size=x",
                                 "--prefixes-per-interface=-1"])
def test_bad_values(arg):
    with pytest.raises(ConfigError) as err:
        parse(arg)
    assert f"Invalid argument for '{arg.split('=')[0]}'" in str(err.value)


SCRIPT = textwrap.dedent("""
    import errno, os
    from dplane import _firmware as fw

    fw.eal_init(["t", "-l", "0,1", "--no-huge", "-m", "128", "--no-shconf", "--no-pci",
                 "--no-telemetry", "--file-prefix=dptopt%d" % os.getpid(),
                 "--log-level=lib.eal:crit", "--vdev=net_null0,no-rx=1"])
    for call in (lambda: fw.vni_conf_set(0), lambda: fw.vnf_conf_set(0),
                 lambda: fw.vni_conf_set(fw.VNI_MAX_ROUTES + 1)):
        try:
            call()
            raise AssertionError("accepted")
        except OSError as exc:
            assert exc.errno == errno.EINVAL
    fw.ct_conf_set(4096, 30)
    fw.vni_conf_set(3)
    fw.vnf_conf_set(5)
    fw.core_start(2048, [(0, fw.PORT_PF, 0, None, True)])
    tables = {name: capacity for name, capacity, _ in fw.tables()}
    assert tables["vnf_table"] == 5, tables
    for call in (lambda: fw.vni_conf_set(10), lambda: fw.vnf_conf_set(10)):
        try:
            call()
            raise AssertionError("accepted while running")
        except OSError as exc:
            assert exc.errno == errno.EBUSY
    # three routes per table and family, then ENOSPC; the other family has its own three
    fw.vni_create(1)
    for i in range(3):
        fw.route_add(1, bytes([10, 0, 0, i]), 32, 0)
        fw.route_add(1, bytes(15) + bytes([i]), 128, 0)
    for prefix, length in ((bytes([10, 0, 0, 9]), 32), (bytes(16), 0)):
        try:
            fw.route_add(1, prefix, length, 0)
            raise AssertionError("accepted")
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    # five VNF entries, then ENOSPC
    for i in range(5):
        fw.vnf_add(bytes(15) + bytes([i]), fw.VNF_INTERFACE_IP, 0, 1)
    try:
        fw.vnf_add(bytes(15) + bytes([9]), fw.VNF_INTERFACE_IP, 0, 1)
        raise AssertionError("accepted")
    except OSError as exc:
        assert exc.errno == errno.ENOSPC
    fw.core_stop()
    fw.eal_cleanup()
    print("ok")
""")


def test_firmware_sizes():
    result = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr[-4000:]
    assert result.stdout.strip().endswith("ok")
