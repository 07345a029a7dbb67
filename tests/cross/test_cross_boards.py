# SPDX-License-Identifier: Apache-2.0
"""The shipped board profiles: what EAL arguments and service options each one adds up to
(`dplane --board X --print-eal-args`), and the errors a bad profile gives."""
from __future__ import annotations

import pathlib
import shlex
import subprocess
import sys

import pytest

from dplane import board, cmdline
from dplane.errors import ConfigError

BOARDS = ("sim", "connectx-host", "bluefield2", "bluefield3", "bluefield3-multiport")
SOURCE = pathlib.Path(__file__).resolve().parents[2] / "board"
MLX5 = "class=rxq_cqe_comp_en=0,rx_vec_en=1"


def print_eal_args(*argv: str) -> tuple[list[str], list[str]]:
    """(EAL args, service options) printed by `python -m dplane ARGV --print-eal-args`."""
    proc = subprocess.run([sys.executable, "-m", "dplane", *argv, "--print-eal-args"],
                          capture_output=True, text=True, timeout=60, env={"DP_CONF": ""},
                          check=False)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""  # EAL was not started: it would have logged
    words = shlex.split(proc.stdout)
    cut = words.index("--")
    return words[:cut], words[cut + 1:]


def test_every_board_ships_and_matches_the_source():
    for name in BOARDS:
        shipped = board.load_board(name)
        assert shipped.name == name
        assert pathlib.Path(shipped.path).read_text() == (SOURCE / f"{name}.toml").read_text()
    assert sorted(p.stem for p in SOURCE.glob("*.toml")) == sorted(BOARDS)


def test_sim_board():
    eal, svc = print_eal_args("--board", "sim")
    assert eal[:2] == ["-l", "0,1"] and "--no-huge" in eal and "--no-pci" in eal
    assert "--vdev=net_tap0,iface=dtap0,mac=22:22:22:22:22:00" in eal
    assert svc == ["--pf0=dtap0", "--pf1=dtap1", "--ipv6=fc00:1::1", "--vf-pattern=dtapvf_",
                   "--nic-type=tap", "--idle=interrupt"]
    # the default board, and --print-eal-args after --
    assert print_eal_args() == (eal, svc)
    assert print_eal_args("--") == (eal, svc)


def test_connectx_host_board():
    eal, svc = print_eal_args("--board", "connectx-host")
    assert eal[eal.index("-a") + 1] == f"0000:3b:00.0,{MLX5},representor=pf[0]vf[0-125]"
    assert eal.count("-a") == 2 and f"0000:3b:00.1,{MLX5}" in eal
    assert "--no-pci" not in eal and "--huge-unlink" in eal
    assert "--nic-type=mellanox" in svc and "--pf0=enp59s0f0np0" in svc
    assert "--idle=interrupt" in svc  # mlx5 gives rx interrupts


@pytest.mark.parametrize("name, vfs", [("bluefield2", "0-125"), ("bluefield3", "0-125")])
def test_bluefield_boards(name, vfs):
    eal, svc = print_eal_args("--board", name)
    allowed = [eal[i + 1] for i, a in enumerate(eal) if a == "-a"]
    assert allowed == [f"0000:03:00.0,{MLX5},representor=pf[0]vf[{vfs}]",
                       f"0000:03:00.1,{MLX5}"]
    assert svc == ["--pf0=p0", "--pf1=p1", "--vf-pattern=pf0vf", "--nic-type=bluefield2",
                   "--no-stats", "--idle=interrupt"]
    assert board.load_board(name).drivers() == ["mempool_ring", "bus_pci", "common_mlx5",
                                                "net_mlx5"]


def test_bluefield_multiport_eswitch_board():
    eal, svc = print_eal_args("--board", "bluefield3-multiport")
    allowed = [eal[i + 1] for i, a in enumerate(eal) if a == "-a"]
    assert allowed == [f"0000:03:00.0,{MLX5},dv_flow_en=2,dv_esw_en=1,fdb_def_rule_en=1,"
                       "representor=pf[0-1]vf[0-124]"]
    assert {"--multiport-eswitch", "--no-offload", "--pf1=p1"} <= set(svc)


def test_config_file_and_command_line_override_the_board(tmp_path):
    conf = tmp_path / "dp.conf"
    conf.write_text("ipv6 fc00::5\na-pf0 0000:03:00.0,dv_flow_en=1\n")
    cfg = cmdline.parse(["--board", "bluefield2", "--print-eal-args", "--", "--wcmp", "50"],
                        {"DP_CONF": str(conf)}, board.load_board, board.default_board)
    eal, _, svc = cfg.partition(" -- ")
    assert eal.endswith("-a 0000:03:00.0,dv_flow_en=1")
    assert "--ipv6=fc00::5" in svc and "--wcmp=50" in svc


BF = """[[port]]
role = "pf0"
pci = "0000:03:00.0"
iface = "p0"
"""


@pytest.mark.parametrize("text, message", [
    (BF + "frobnicate = 1\n", "port[0]: unknown key 'frobnicate'"),
    ("[eal]\nlcore = '0,1'\n", "[eal]: unknown key 'lcore'"),
    (BF.replace("0000:03:00.0", "0000:03:00.8"), "port[0].pci: not a PCI address"),
    (BF.replace("0000:03:00.0", "03:00"), "port[0].pci: not a PCI address"),
    (BF + "vf-representors = '3-1'\n", "port[0].vf-representors: bad VF range '3-1'"),
    (BF + "vf-representors = '0-200'\n", "port[0].vf-representors: bad VF range '0-200': "
                                         "200 is out of range 0..125"),
    (BF + "vf-representors = '0-3,2'\n", "overlaps an earlier entry"),
    (BF + "vf-representors = 'vf[0-3]'\n", "bad VF range 'vf[0-3]': expected N, N-M"),
    (BF + "vf-representors = 4\n", "port[0].vf-representors: must be str"),
    (BF + "representor-pfs = '0-2'\n", "port[0].representor-pfs: bad PF range"),
    (BF + "devargs = 'representor=pf[0]vf[0-3]'\n", "port[0].devargs: give representors"),
    (BF + "devargs = 'rx_vec_en'\n", "port[0].devargs: 'rx_vec_en' is not key=value"),
    (BF + "mac = '02:00:00:00:00:01'\n", "port[0].mac: only applies to vdev ports"),
    ("[[port]]\nrole = 'pf0'\ndriver = 'net_tap'\nvf-representors = '0-3'\n",
     "port[0].vf-representors: only applies to PCI ports"),
    ("[[port]]\nrole = 'vf'\npci = '0000:03:00.2'\n", "port[0].pci: VFs of a PCI NIC"),
])
def test_bad_profiles_name_the_key(tmp_path, text, message):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(ConfigError) as err:
        board.load_board(str(path))
    assert message in str(err.value)
    assert str(err.value).startswith(f"{path}: ")


def test_bad_profile_on_the_command_line(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text(BF + "vf-representors = '0-x'\n")
    proc = subprocess.run([sys.executable, "-m", "dplane", "--board", str(path),
                           "--print-eal-args"], capture_output=True, text=True, timeout=60,
                          env={"DP_CONF": ""}, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"dplane: {path}: port[0].vf-representors: bad VF range '0-x': "
                           "expected N, N-M or a comma-separated list of them\n")


def test_representor_lists():
    b = board.parse_board(BF + "vf-representors = '0,2,4-7'\n", "t.toml")
    assert b.eal_args()[-1] == "0000:03:00.0,representor=pf[0]vf[0,2,4-7]"
    b = board.parse_board(BF.replace("pf0", "pf1") + "vf-representors = '5'\n", "t.toml")
    assert b.eal_args()[-1] == "0000:03:00.0,representor=pf[1]vf[5]"
