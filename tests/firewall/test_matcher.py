# SPDX-License-Identifier: Apache-2.0
"""The firmware's rule matcher against the model (fwmodel.py), through the pure functions
_firmware.fw_match() and fw_decide(), which compile the rules with the code the datapath
uses: hypothesis draws rule lists and first packets of flows from small address and port
pools (so that rules match often), and every answer must be the model's. Malformed rules are
refused (ValueError/OSError EINVAL), never crash."""
from __future__ import annotations

import errno

import pytest
from fwmodel import (
    ACCEPT,
    ANY,
    DROP,
    EGRESS,
    ICMP,
    ICMPV6,
    INGRESS,
    TCP,
    UDP,
    Packet,
    Rule,
    decide,
    first_match,
)
from hypothesis import given, note, settings
from hypothesis import strategies as st

from dplane import _firmware as fw

SETTINGS = settings(max_examples=3000, deadline=None)

V4_ADDRS = ["10.0.0.1", "10.0.0.2", "10.0.1.7", "192.168.3.4", "0.0.0.0", "255.255.255.255"]
V6_ADDRS = ["fd00::1", "fd00::2", "fd00:0:0:1::9", "2001:db8::1", "::", "ffff::1"]
PORTS = [0, 1, 22, 80, 443, 8080, 65535]


def prefixes(addrs: list[str], max_len: int):
    return st.builds(lambda a, n: f"{a}/{n}", st.sampled_from(addrs),
                     st.one_of(st.sampled_from([0, max_len, max_len // 2, 8, 24]),
                               st.integers(0, max_len)))


any_prefix = st.one_of(prefixes(V4_ADDRS, 32), prefixes(V6_ADDRS, 128))
port_bounds = st.one_of(
    st.just((ANY, ANY)), st.tuples(st.just(ANY), st.sampled_from(PORTS)),
    st.builds(lambda a, b: (min(a, b), max(a, b)), st.sampled_from(PORTS), st.sampled_from(PORTS)),
    st.tuples(st.sampled_from(PORTS), st.just(ANY)))  # upper -1: no upper bound
icmp_values = st.one_of(st.just(ANY), st.sampled_from([0, 3, 8, 128, 129, 255]))


@st.composite
def rules(draw, direction=None) -> Rule:
    proto = draw(st.sampled_from([0, ICMP, TCP, UDP]))
    return Rule(
        direction=draw(st.sampled_from([INGRESS, EGRESS])) if direction is None else direction,
        action=draw(st.sampled_from([ACCEPT, ACCEPT, DROP])),
        src=draw(any_prefix), dst=draw(any_prefix), protocol=proto,
        src_ports=draw(port_bounds) if proto in (TCP, UDP) else (ANY, ANY),
        dst_ports=draw(port_bounds) if proto in (TCP, UDP) else (ANY, ANY),
        icmp_type=draw(icmp_values) if proto == ICMP else ANY,
        icmp_code=draw(icmp_values) if proto == ICMP else ANY)


@st.composite
def packets(draw) -> Packet:
    v6 = draw(st.booleans())
    addrs = V6_ADDRS if v6 else V4_ADDRS
    proto = draw(st.sampled_from([TCP, UDP, ICMPV6 if v6 else ICMP]))
    return Packet(proto, draw(st.sampled_from(addrs)), draw(st.sampled_from(addrs)),
                  sport=draw(st.sampled_from(PORTS)), dport=draw(st.sampled_from(PORTS)),
                  icmp_type=draw(st.sampled_from([0, 3, 8, 128, 129, 255])),
                  icmp_code=draw(st.sampled_from([0, 1, 255])))


@SETTINGS
@given(st.lists(rules(), max_size=12), st.sampled_from([INGRESS, EGRESS]), packets())
def test_first_match_is_the_models(rule_list, direction, pkt):
    expected = first_match(rule_list, direction, pkt)
    note(f"expected rule {expected}")
    assert fw.fw_match([r.firmware() for r in rule_list], direction, pkt.firmware()) == expected


@SETTINGS
@given(st.booleans(), st.lists(rules(), max_size=8), st.booleans(),
       st.lists(rules(), max_size=8), packets())
def test_verdict_is_the_models(from_vf, src_rules, to_vf, dst_rules, pkt):
    expected = decide(from_vf, src_rules, to_vf, dst_rules, pkt)
    got = fw.fw_decide(from_vf, [r.firmware() for r in src_rules], to_vf,
                       [r.firmware() for r in dst_rules], pkt.firmware())
    assert got == expected


def test_the_contract_s_defaults():
    pkt = Packet(TCP, "10.0.0.2", "10.0.0.3", 40000, 80)
    allow_80 = Rule(INGRESS, ACCEPT, "0.0.0.0/0", "0.0.0.0/0", TCP, dst_ports=(80, 80))
    only_dns = Rule(EGRESS, ACCEPT, "0.0.0.0/0", "0.0.0.0/0", UDP, dst_ports=(53, 53))
    # from the underlay to a VM without rules: ingress default drop
    assert fw.fw_decide(False, [], True, [], pkt.firmware()) == "ingress_denied"
    # from a VM without egress rules to the underlay: anything goes
    assert fw.fw_decide(True, [], False, [], pkt.firmware()) == "accepted"
    # VM to VM: the sender's egress (none: accept) and the receiver's ingress rule
    assert fw.fw_decide(True, [], True, [allow_80.firmware()], pkt.firmware()) == "accepted"
    # one egress rule makes egress default drop
    assert fw.fw_decide(True, [only_dns.firmware()], False, [], pkt.firmware()) == \
        "egress_denied"
    # an ICMP rule matches ICMPv6 too; a /0 IPv4 prefix matches IPv6 addresses
    echo6 = Packet(ICMPV6, "fd00::2", "fd00::3", icmp_type=128)
    icmp_any = Rule(INGRESS, ACCEPT, "0.0.0.0/0", "0.0.0.0/0", ICMP)
    assert fw.fw_match([icmp_any.firmware()], INGRESS, echo6.firmware()) == 0
    # ... but a longer IPv4 prefix never matches an IPv6 packet
    v4_only = Rule(INGRESS, ACCEPT, "10.0.0.0/8", "0.0.0.0/0")
    assert fw.fw_match([v4_only.firmware()], INGRESS, echo6.firmware()) == -1
    # the first match wins, a later broader rule does not matter
    drop_then_accept = [Rule(INGRESS, DROP, "10.0.0.2/32", "0.0.0.0/0").firmware(),
                        Rule(INGRESS, ACCEPT, "0.0.0.0/0", "0.0.0.0/0").firmware()]
    assert fw.fw_decide(False, [], True, drop_then_accept, pkt.firmware()) == "ingress_denied"


def _rule(**change) -> tuple:
    base = dict(direction=INGRESS, action=ACCEPT, protocol=TCP, src=b"\0" * 4, src_len=0,
                dst=b"\0" * 4, dst_len=0, sport=(ANY, ANY), dport=(80, 80), icmp=(ANY, ANY))
    base.update(change)
    return (base["direction"], base["action"], base["protocol"], base["src"], base["src_len"],
            base["dst"], base["dst_len"], *base["sport"], *base["dport"], *base["icmp"])


@pytest.mark.parametrize("change", [
    {"direction": 2}, {"action": 2}, {"protocol": 58}, {"protocol": 132},
    {"src_len": 33}, {"dst": b"\0" * 16, "dst_len": 129}, {"dport": (80, 79)},
    {"dport": (-5, 9)}, {"sport": (1, 65536)}, {"protocol": ICMP, "icmp": (256, 0)},
    {"protocol": ICMP, "icmp": (0, -7)},
])
def test_malformed_rules_are_refused(change):
    pkt = Packet(TCP, "10.0.0.2", "10.0.0.3", 1, 80).firmware()
    assert fw.fw_match([_rule()], INGRESS, pkt) == 0
    with pytest.raises(OSError) as err:
        fw.fw_match([_rule(), _rule(**change)], INGRESS, pkt)
    assert err.value.errno == errno.EINVAL


ADDRESSES = st.binary(min_size=4, max_size=4) | st.binary(min_size=16, max_size=16)


@settings(max_examples=500, deadline=None)
@given(st.lists(st.tuples(st.integers(-3, 3), st.integers(-3, 3),
                          st.sampled_from([0, 1, 6, 17, 58, 255]), ADDRESSES, st.integers(0, 255),
                          ADDRESSES,
                          st.integers(0, 255), st.integers(-70000, 70000),
                          st.integers(-70000, 70000), st.integers(-70000, 70000),
                          st.integers(-70000, 70000), st.integers(-300, 300),
                          st.integers(-300, 300)), max_size=6), packets())
def test_arbitrary_rule_fields_never_crash(raw_rules, pkt):
    try:
        got = fw.fw_match(raw_rules, INGRESS, pkt.firmware())
    except (OSError, OverflowError):
        return
    assert -1 <= got < len(raw_rules)
