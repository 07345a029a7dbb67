# SPDX-License-Identifier: Apache-2.0
"""dp_node_test() itself: what it runs, and what it refuses."""
from __future__ import annotations

import errno

import pytest
from scapy.layers.inet import IP, UDP

from dplane import _firmware as fw
from nodeutil import MISSING_PORT, VM1, Config, Dataplane, from_vm


def udp(dp: Dataplane):
    return from_vm(dp, VM1, IP(src="10.0.0.2", dst="192.0.2.1") / UDP(sport=1, dport=2))


@pytest.mark.parametrize("node", ["no_such_node", "tx-0", "drop", "cls_bad_ether", ""])
def test_only_classifying_nodes(dp, node):
    """Unknown names, sinks and drop reasons have no classification."""
    with pytest.raises(OSError) as exc:
        dp.run(node, udp(dp), VM1)
    assert exc.value.errno == errno.ENOENT


def test_frame_room(dp):
    """A frame of DP_NODE_TEST_ROOM bytes runs; one byte more is refused before C."""
    frame = bytes(udp(dp) / bytes(2000))[:1536]
    result = dp.run("cls", frame, VM1)
    assert result.path == ["cls_bad_ipv4"]  # the IPv4 length does not match: parsed
    assert result.frame == frame
    with pytest.raises(ValueError):
        dp.run("cls", frame + b"\0", VM1)


def test_empty_frame(dp):
    assert dp.run("cls", b"", VM1).path == ["cls_bad_ether"]


@pytest.mark.parametrize("steps", [0, fw.NODE_TEST_MAX_STEPS + 1])
def test_max_steps_range(dp, steps):
    with pytest.raises(OSError) as exc:
        dp.run("cls", udp(dp), VM1, steps=steps)
    assert exc.value.errno == errno.EINVAL


def test_steps_stop_early(dp):
    """max_steps bounds the walk; a walk ends at the first node that does not classify."""
    assert dp.run("cls", udp(dp), VM1, steps=3).path == ["conntrack", "dnat", "ipv4_lookup"]
    full = dp.run("cls", udp(dp), VM1, steps=fw.NODE_TEST_MAX_STEPS).path
    assert full == ["conntrack", "dnat", "ipv4_lookup", "firewall", "snat", "output",
                    "ipip_encap", "tx-0"]


@pytest.mark.parametrize("node", ["cls", "conntrack", "dnat", "firewall", "snat", "output",
                                  "ipip_encap"])
@pytest.mark.parametrize("port, meta", [
    (fw.MAX_PORTS, {}), (fw.PORT_NONE, {}), (fw.MAX_PORTS - 1, {}), (MISSING_PORT, {}),
    (VM1, dict(out_port=fw.MAX_PORTS)), (VM1, dict(out_port=fw.PORT_NONE)),
    (VM1, dict(out_port=MISSING_PORT)),
    (VM1, dict(tun_port=fw.MAX_PORTS)), (VM1, dict(tun_port=fw.PORT_NONE)),
    (VM1, dict(tun_port=MISSING_PORT))],
    ids=["port128", "port_none", "port127", "port50", "out128", "out_none", "out50",
         "tun128", "tun_none", "tun50"])
def test_ports_not_configured(dp, node, port, meta):
    """Nodes index their port tables with these: no packet of the graph comes from, goes
    to or is tunnelled for a port that is not configured, and node_test makes none up."""
    with pytest.raises(OSError) as exc:
        dp.run(node, udp(dp), port, **meta)
    assert exc.value.errno == errno.EINVAL


def test_unknown_meta_key(dp):
    with pytest.raises(KeyError):
        dp.run("cls", udp(dp), VM1, flow=1)


def test_meta_in_and_out(dp):
    """The metadata given is what the node sees; what it does not touch comes back as given,
    and the parse is always the frame's."""
    meta = dict(vni=7, out_port=3, tun_port=4, vnf_type=2, flow_dir=1, route_depth=9,
                flow_hash=0xdeadbeef, nh_ipv6=bytes(range(16)))
    result = dp.run("output", udp(dp), VM1, **meta)
    assert result.path == ["tx-3"]
    assert {k: result.meta[k] for k in meta} == meta
    assert result.meta["has_flow"] is False
    assert (result.meta["l3_type"], result.meta["l3_off"], result.meta["l4_off"],
            result.meta["l4_proto"]) == (2, 14, 34, 17)


def test_control_thread_only(dp):
    """Like every control function: another thread is refused and changes nothing."""
    with pytest.raises(OSError) as exc:
        dp.call_in_thread("node_test", "cls", bytes(udp(dp)), VM1, None, 1)
    assert exc.value.errno == errno.EPERM
    assert dp.run("cls", udp(dp), VM1).path == ["conntrack"]


def test_refused_before_start():
    """No graph yet: refused; once started the same call runs."""
    config = Config("unstarted", start=False)
    dp = Dataplane(config)
    try:
        frame = bytes(udp(dp))
        with pytest.raises(OSError) as exc:
            dp.node_test("cls", frame, VM1)
        assert exc.value.errno == errno.ENODEV
        dp.core_start(2048, config.ports())
        path, _, _ = dp.node_test("cls", frame, VM1)
        assert path == ["cls_no_interface"]  # nothing attached in this one
    finally:
        dp.close()
