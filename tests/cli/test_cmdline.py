# SPDX-License-Identifier: Apache-2.0
"""The dpservice-compatible command line, config file and board profiles, parsed in-process."""
from __future__ import annotations

import pytest

from dplane import board, cmdline
from dplane.errors import ConfigError

NO_CONF = {"DP_CONF": ""}


def parse(*argv: str, environ=NO_CONF, default_board=None):
    def no_default():
        raise AssertionError("the default board must not be loaded here")
    return cmdline.parse(list(argv), environ, board.load_board, default_board or no_default)


PORTS = ["--vdev=net_tap0,iface=dtap0"]


def test_help_and_version_win_over_everything():
    assert parse("--", "--help").startswith("Usage: dplane [EAL options] -- [service options]")
    assert parse("--", "-h") == parse("--", "--help")
    from dplane import __version__
    assert parse("--", "--version") == f"DP Service version {__version__}\n"
    assert parse("--", "-v") == parse("--", "--version")
    # help is acted on where getopt meets it: later garbage is never looked at
    assert parse("--no-pci", "--", "--help", "--bogus").startswith("Usage:")


def test_help_lists_every_option():
    text = parse("--", "--help")
    for opt in cmdline.OPTIONS:
        assert f"--{opt.name}" in text


def test_defaults_match_dpservice():
    cfg = parse(*PORTS)
    assert cfg.eal_args == PORTS and cfg.board is None
    assert (cfg.pf0, cfg.pf1, cfg.ipv6, cfg.vf_pattern) == ("", "", "::", "")
    assert (cfg.dhcp_mtu, cfg.wcmp, cfg.nic_type, cfg.grpc_port, cfg.flow_timeout) == (
        1500, 100, "mellanox", 1337, 30)
    assert (cfg.color, cfg.log_format, cfg.graphtrace_loglevel) == ("never", "text", 0)
    assert not any([cfg.no_stats, cfg.enable_ipv6_overlay, cfg.no_offload,
                    cfg.multiport_eswitch, cfg.debug_coredumps])


def test_every_option_is_accepted():
    cfg = parse(*PORTS, "--",
                "--pf0", "dtap0", "--pf1=dtap1", "--ipv6", "fc00:1::1", "--vf-pattern=dtapvf_",
                "--dhcp-mtu=1400",
                "--dhcp-dns", "8.8.8.8", "--dhcp-dns=1.1.1.1",
                "--dhcpv6-dns", "2001:4860::8888",
                "--udp-virtsvc", "1.2.3.4,53,2001:db8::1,5353",
                "--tcp-virtsvc=1.2.3.4,80,2001:db8::2,8080",
                "--wcmp", "50", "--nic-type", "tap", "--no-stats", "--enable-ipv6-overlay",
                "--no-offload", "--graphtrace-loglevel", "2", "--color", "auto",
                "--log-format", "json", "--grpc-port", "1338", "--flow-timeout", "1",
                "--multiport-eswitch", "--active-lockfile", "/run/lock/dp",
                "--sync-tap", "dtapsync", "--debug-coredumps")
    assert cfg.pf0 == "dtap0" and cfg.pf1 == "dtap1" and cfg.ipv6 == "fc00:1::1"
    assert cfg.dhcp_mtu == 1400 and cfg.dhcp_dns == ["8.8.8.8", "1.1.1.1"]
    assert cfg.dhcpv6_dns == ["2001:4860::8888"]
    assert cfg.udp_virtsvc[0] == cmdline.VirtualService("udp", "1.2.3.4", 53,
                                                        "2001:db8::1", 5353)
    assert cfg.tcp_virtsvc[0].service_port == 8080
    assert (cfg.wcmp, cfg.nic_type, cfg.graphtrace_loglevel, cfg.color) == (50, "tap", 2, "auto")
    assert (cfg.log_format, cfg.grpc_port, cfg.flow_timeout) == ("json", 1338, 1)
    assert cfg.no_stats and cfg.enable_ipv6_overlay and cfg.no_offload
    assert cfg.multiport_eswitch and cfg.debug_coredumps
    assert cfg.active_lockfile == "/run/lock/dp" and cfg.sync_tap == "dtapsync"


@pytest.mark.parametrize("args, message", [
    (["--bogus"], "Unknown option '--bogus'"),
    (["-x"], "Unknown option '-x'"),
    (["stray"], "Unknown option 'stray'"),
    (["--dhcp-mtu=67"], "Invalid argument for '--dhcp-mtu'"),
    (["--dhcp-mtu=1501"], "Invalid argument for '--dhcp-mtu'"),
    (["--dhcp-mtu=abc"], "Invalid argument for '--dhcp-mtu'"),
    (["--pf0=0123456789abcdef"], "Invalid argument for '--pf0'"),
    (["--ipv6=10.0.0.1"], "Invalid argument for '--ipv6'"),
    (["--dhcp-dns=fc00::1"], "Invalid argument for '--dhcp-dns'"),
    (["--dhcpv6-dns=1.2.3.4"], "Invalid argument for '--dhcpv6-dns'"),
    (["--wcmp=101"], "Invalid argument for '--wcmp'"),
    (["--nic-type=intel"], "Invalid argument for '--nic-type'"),
    (["--grpc-port=1023"], "Invalid argument for '--grpc-port'"),
    (["--grpc-port=65536"], "Invalid argument for '--grpc-port'"),
    (["--flow-timeout=0"], "Invalid argument for '--flow-timeout'"),
    (["--flow-timeout=301"], "Invalid argument for '--flow-timeout'"),
    (["--graphtrace-loglevel=3"], "Invalid argument for '--graphtrace-loglevel'"),
    (["--color=blue"], "Invalid argument for '--color'"),
    (["--log-format=xml"], "Invalid argument for '--log-format'"),
    (["--udp-virtsvc=1.2.3.4,0,fc00::1,53"], "Invalid argument for '--udp-virtsvc'"),
    (["--udp-virtsvc=1.2.3.4,53,fc00::1"], "Invalid argument for '--udp-virtsvc'"),
    (["--tcp-virtsvc=1.2.3.4,80,fc00::1,80", "--tcp-virtsvc=1.2.3.4,80,fc00::2,81"],
     "duplicate virtual service 1.2.3.4:80"),
    (["--no-stats=yes"], "Option '--no-stats' doesn't allow an argument"),
    (["--pf0"], "Option '--pf0' requires an argument"),
    (["--multiport-eswitch"], "'--multiport-eswitch' cannot be used with offloading"),
    (["--active-lockfile=" + "x" * 256], "Invalid argument for '--active-lockfile'"),
])
def test_bad_service_options(args, message):
    with pytest.raises(ConfigError) as err:
        parse(*PORTS, "--", *args)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_repeatable_limits():
    parse(*PORTS, "--", *[f"--dhcp-dns=10.0.0.{i}" for i in range(63)])
    with pytest.raises(ConfigError, match="Too many '--dhcp-dns'"):
        parse(*PORTS, "--", *[f"--dhcp-dns=10.0.0.{i}" for i in range(64)])
    with pytest.raises(ConfigError, match="Too many '--dhcpv6-dns'"):
        parse(*PORTS, "--", *[f"--dhcpv6-dns=fc00::{i + 1}" for i in range(16)])


def test_config_file(tmp_path):
    conf = tmp_path / "dp.conf"
    conf.write_text("# dpservice configuration\n"
                    "pf0 dtap0\n"
                    "pf1 dtap1   # trailing comment\n"
                    "a-pf0 0000:3b:00.0,class=rxq_cqe_comp_en=0\n"
                    "no-offload\n"
                    "dhcp-dns 8.8.8.8\n"
                    "\n"
                    "grpc-port 2000\n")
    cfg = parse("--", "--grpc-port", "3000", "--dhcp-dns=1.1.1.1",
                environ={"DP_CONF": str(conf)})
    assert cfg.eal_args == ["-a", "0000:3b:00.0,class=rxq_cqe_comp_en=0"]
    assert (cfg.pf0, cfg.pf1, cfg.no_offload) == ("dtap0", "dtap1", True)
    assert cfg.grpc_port == 3000  # the command line wins
    assert cfg.dhcp_dns == ["8.8.8.8", "1.1.1.1"]


def test_config_file_errors(tmp_path):
    with pytest.raises(ConfigError, match="not found"):
        parse(*PORTS, environ={"DP_CONF": str(tmp_path / "missing.conf")})
    bad = tmp_path / "bad.conf"
    bad.write_text("grpc-port 80\n")
    with pytest.raises(ConfigError, match=r"Invalid argument for '--grpc-port' in .*bad.conf"):
        parse(*PORTS, environ={"DP_CONF": str(bad)})
    bad.write_text("frobnicate 1\n")
    with pytest.raises(ConfigError, match="Unknown option 'frobnicate'"):
        parse(*PORTS, environ={"DP_CONF": str(bad)})


def test_missing_default_config_file_is_fine(monkeypatch, tmp_path):
    monkeypatch.setattr(cmdline, "DEFAULT_CONF", str(tmp_path / "absent.conf"))
    assert parse(*PORTS, environ={}).pf0 == ""


def test_default_board_when_no_ports_given():
    cfg = parse(default_board=board.default_board)
    assert cfg.board.name == "sim"
    assert "--vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00" in cfg.eal_args
    assert "--vdev=net_tap5,iface=dtapvf_3,mac=66:66:66:66:66:03" in cfg.eal_args
    assert cfg.eal_args[:2] == ["-l", "0,1"]
    assert (cfg.pf0, cfg.pf1, cfg.vf_pattern, cfg.nic_type) == ("dtap0", "dtap1", "dtapvf_",
                                                                "tap")
    # command-line options still override the board
    assert parse("--", "--nic-type", "bluefield2", default_board=board.default_board
                 ).nic_type == "bluefield2"


def test_board_option_in_both_places(tmp_path):
    path = tmp_path / "b.toml"
    path.write_text('[[port]]\nrole = "pf0"\ndriver = "net_null"\n'
                    '[service]\npf0 = "net_null0"\n')
    for argv in (["--board", str(path)], [f"--board={path}"], ["--", "--board", str(path)]):
        cfg = parse(*argv)
        assert cfg.board.path == str(path) and cfg.pf0 == "net_null0"
        assert cfg.eal_args[-1] == "--vdev=net_null0"


SIM = (board.load_board("sim").path)


@pytest.mark.parametrize("text, message", [
    ("[eal]\nlcores = 1\n", "[eal].lcores: must be str"),
    ("[eal]\nmemory = 'lots'\n", "[eal].memory: must be one of"),
    ("[eal]\nmemory-mb = 8\n", "[eal].memory-mb: at least 64"),
    ("[eal]\nfrobnicate = 1\n", "[eal]: unknown key 'frobnicate'"),
    ("[firmware]\nmbufs = 10\n", "[firmware].mbufs"),
    ("[[port]]\nrole = 'pf3'\ndriver = 'net_tap'\n", "port[0].role: must be one of"),
    ("[[port]]\ndriver = 'net_tap'\n", "port[0].role: missing"),
    ("[[port]]\nrole = 'pf0'\n", "port[0].driver: give exactly one of"),
    ("[[port]]\nrole = 'pf0'\npci = '3b:00.0'\ndriver = 'net_tap'\n", "exactly one of"),
    ("[[port]]\nrole = 'pf0'\npci = 'zz:00.0'\n", "port[0].pci: not a PCI address"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'tap'\n", "port[0].driver: not a DPDK net driver"),
    ("[[port]]\nrole = 'vf'\ndriver = 'net_tap'\ncount = 127\n", "port[0].count: must be"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\ncount = 2\n", "only VF ports"),
    ("[[port]]\nrole = 'vf'\ndriver = 'net_tap'\ncount = 2\niface = 'vf'\n",
     "must contain '{i}'"),
    ("[[port]]\nrole = 'vf'\ndriver = 'net_tap'\niface = 'vf{x}'\n", "bad template"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\niface = 'abcdefghijklmnop'\n",
     "at most 15 characters"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\nmac = 'nope'\n", "not a MAC address"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\nspeed = 1\n", "port[0]: unknown key 'speed'"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\n[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\n",
     "more than one port with role 'pf0'"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\nxconnect = 'pf1'\n", "which no port has"),
    ("[service]\nfrobnicate = 1\n", "[service] has an unknown option 'frobnicate'"),
    ("[service]\ngrpc-port = 1\n", "Invalid argument for '--grpc-port'"),
    ("[boards]\n", "board file: unknown key 'boards'"),
    ("[eal\n", "not valid TOML"),
])
def test_bad_boards(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        parse("--board", str(path))
    assert message in str(err.value)
    assert str(path) in str(err.value)


def test_missing_board():
    with pytest.raises(ConfigError, match="Board file 'nosuchboard' not found"):
        parse("--board", "nosuchboard")


def test_has_devices():
    assert cmdline.has_devices(["--vdev", "net_null0"])
    assert cmdline.has_devices(["--vdev=net_null0"])
    assert cmdline.has_devices(["-a", "0000:3b:00.0"])
    assert cmdline.has_devices(["-a0000:3b:00.0"])
    assert cmdline.has_devices(["--allow=0000:3b:00.0"])
    assert not cmdline.has_devices(["-l", "0,1", "--no-pci", "--log-level=lib.eal:notice"])


def test_feature_options(monkeypatch, tmp_path):
    """A feature's own option: declared by its module, parsed from every source like the
    others, listed by --help, its value (or default) in Config.features."""
    monkeypatch.setattr(cmdline, "_FEATURE_OPTIONS", [])
    mode = cmdline.feature_option(cmdline.Option(
        "firewall-mode", "MODE", "what firewall verdicts do", cmdline._choice("audit", "enforce"),
        "audit"))
    cmdline.feature_option(cmdline.Option("quiet-feature", None, "a flag"))
    assert mode.dest == "firewall_mode"
    assert "--firewall-mode=MODE" in parse("--", "--help")
    assert parse(*PORTS).features == {"firewall_mode": "audit", "quiet_feature": False}
    cfg = parse(*PORTS, "--", "--firewall-mode", "enforce", "--quiet-feature")
    assert cfg.features == {"firewall_mode": "enforce", "quiet_feature": True}
    conf = tmp_path / "dp.conf"
    conf.write_text("firewall-mode enforce\n")
    assert parse(*PORTS, environ={"DP_CONF": str(conf)}).features["firewall_mode"] == "enforce"
    with pytest.raises(ConfigError, match="Invalid argument for '--firewall-mode'"):
        parse(*PORTS, "--", "--firewall-mode=off")
    with pytest.raises(ValueError, match="exists"):
        cmdline.feature_option(cmdline.Option("wcmp", "N", "again"))
    with pytest.raises(ValueError, match="exists"):
        cmdline.feature_option(cmdline.Option("firewall-mode", "N", "again"))
