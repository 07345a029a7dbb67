# SPDX-License-Identifier: Apache-2.0
"""The firewall's options, from each place options come from: the command line, the config
file ($DP_CONF) and a board profile's [service] table; and their defaults, dpservice's
behaviour."""
from __future__ import annotations

from importlib import resources

import pytest

from dplane import app, board, cmdline
from dplane.errors import ConfigError
from dplane.features import firewall

PORTS = ["--vdev=net_tap0,iface=dtap0"]
NAMES = ("firewall_enforce", "firewall_allow_drop_rules", "firewall_priorities",
         "firewall_max_rules")


def parse(*argv: str, environ=None):
    app.load_features()
    cfg = cmdline.parse(list(argv), environ or {"DP_CONF": ""}, board.load_board,
                        board.default_board)
    return {name: cfg.features[name] for name in NAMES}


def test_defaults_are_dpservice_s():
    assert parse(*PORTS) == {"firewall_enforce": False, "firewall_allow_drop_rules": False,
                             "firewall_priorities": False, "firewall_max_rules": 16384}


def test_command_line():
    assert parse(*PORTS, "--", "--firewall-enforce", "--firewall-allow-drop-rules",
                 "--firewall-priorities", "--firewall-max-rules=10") == {
        "firewall_enforce": True, "firewall_allow_drop_rules": True,
        "firewall_priorities": True, "firewall_max_rules": 10}
    for bad in ("0", "16385", "x"):
        with pytest.raises(ConfigError, match="Invalid argument for '--firewall-max-rules'"):
            parse(*PORTS, "--", f"--firewall-max-rules={bad}")


def test_config_file(tmp_path):
    conf = tmp_path / "dpservice.conf"
    conf.write_text("firewall-enforce\nfirewall-max-rules 5\n")
    got = parse(*PORTS, environ={"DP_CONF": str(conf)})
    assert got["firewall_enforce"] and got["firewall_max_rules"] == 5
    assert not got["firewall_priorities"]


def test_board_profile(tmp_path):
    profile = tmp_path / "board.toml"
    profile.write_text(resources.files("dplane").joinpath("boards/sim.toml").read_text())
    with profile.open("a") as f:
        f.write("firewall-enforce = true\nfirewall-priorities = true\n")
    got = parse("--", "--board", str(profile))
    assert got["firewall_enforce"] and got["firewall_priorities"]
    assert not got["firewall_allow_drop_rules"]


def test_the_feature_reads_them():
    assert {firewall.ENFORCE.dest, firewall.ALLOW_DROP.dest, firewall.PRIORITIES.dest,
            firewall.MAX_RULES.dest} == set(NAMES)
