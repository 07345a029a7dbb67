# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/offload.h: the settings, counters and rules of flow offload, the
# builders' text (for their structural tests) and the flow engine's reader (fuzzed).
from dplane.offload cimport *

OFFLOAD_SHAPES = tuple(dp_offload_shape_name(<dp_offload_shape>i).decode()
                       for i in range(DP_OFFLOAD_SHAPE_COUNT))
OFFLOAD_REFUSALS = tuple(dp_offload_refusal_name(<dp_offload_refusal>i).decode()
                         for i in range(DP_OFFLOAD_REFUSAL_COUNT))


def offload_conf_set(bint enabled, uint32_t max_rules=0):
    """Before core_start(): offload on or off; the engine's rules (0: one per flow key)."""
    _check(dp_offload_conf_set(enabled, max_rules))


def offload_nic_conf_set(bint nic, bytes underlay, bint async_api=False):
    """Before core_start(): whether the ports' NIC takes rte_flow rules (not TAPs), the
    host's underlay address (packed IPv6) for the PFs' isolation rule, and whether the NIC
    takes rules through the template API only (a multiport e-switch)."""
    cdef uint8_t addr[16]
    _copy_addr(addr, underlay, 16)
    _check(dp_offload_nic_conf_set(nic, async_api, addr))


def offload_nic_port(uint16_t port_id):
    """A port as the NIC's side sees it: isolated, carrying (its flows' rules in the NIC),
    captured, and the NIC's reasons when it refused."""
    cdef dp_offload_nic_port info
    _check(dp_offload_nic_port_get(port_id, &info))
    return {'isolated': bool(info.isolated), 'carrying': bool(info.carrying),
            'captured': bool(info.captured),
            'isolation_error': info.isolation_error.decode(errors='replace'),
            'error': info.error.decode(errors='replace')}


def offload_isolation(bytes underlay):
    """The PFs' isolation rule for this underlay address: (attr, pattern, actions) text."""
    cdef uint8_t addr[16]
    cdef char attr[128]
    cdef char pattern[512]
    cdef char actions[128]
    _copy_addr(addr, underlay, 16)
    _check(dp_offload_isolation_text(addr, attr, sizeof(attr), pattern, sizeof(pattern),
                                     actions, sizeof(actions)))
    return attr.decode(), pattern.decode(), actions.decode()


def offload_nic_eligible(str src, str dst):
    """Whether a NIC would carry a flow's rule from port kind src to dst ("pf0", "pf1",
    "vf"); the others need hairpin queues, and the engine runs them."""
    index = {"pf0": 0, "pf1": 1, "vf": -1}
    return bool(dp_offload_nic_eligible(index[src], index[dst]))


def offload_enabled():
    return dp_offload_enabled()


def offload_invalidate():
    """Forwarding state changed: every flow's rule is stale (made again by its next packet)."""
    dp_offload_invalidate()


def offload_flush():
    """Remove every flow's rule; how many."""
    with nogil:
        rc = dp_offload_flush()
    return _check(rc)


def offload_maintain():
    """Free the rules destroyed or replaced since the last call (a grace period)."""
    with nogil:
        rc = dp_offload_maintain()
    _check(rc)


def offload_stats():
    cdef dp_offload_stats s
    _check(dp_offload_stats_get(&s))
    return {
        'enabled': bool(s.enabled),
        'hits': s.hits, 'misses': s.misses, 'unreadable': s.unreadable,
        'installs': s.installs, 'refusals': s.refusals, 'destroys': s.destroys,
        'tx_dropped': s.tx_dropped, 'rule_drops': s.rule_drops,
        'sampled': s.sampled, 'sample_dropped': s.sample_dropped,
        'rules': s.rules, 'capacity': s.capacity, 'templates': s.templates,
        'epoch': s.epoch,
        'nic': ({'installs': s.nic_installs, 'refusals': s.nic_refusals,
                 'needs_hairpin': s.nic_needs_hairpin, 'destroys': s.nic_destroys,
                 'destroy_failures': s.nic_destroy_failures, 'rules': s.nic_rules}
                if s.nic else None),
        'shapes': {OFFLOAD_SHAPES[i]: s.shapes[i] for i in range(1, DP_OFFLOAD_SHAPE_COUNT)},
        'not_offloaded': {OFFLOAD_REFUSALS[i]: s.not_offloadable[i]
                          for i in range(1, DP_OFFLOAD_REFUSAL_COUNT)},
    }


def offload_rules(unsigned int max_rules=65536):
    """The engine's rules: a list of dicts (port, group, pattern, actions, hits, ...)."""
    cdef dp_offload_rule_info *infos = <dp_offload_rule_info *>calloc(
        max_rules if max_rules else 1, sizeof(dp_offload_rule_info))
    cdef int n
    if infos == NULL:
        raise MemoryError()
    try:
        with nogil:
            n = dp_offload_list(infos, max_rules)
        _check(n)
        return [{
            'port_id': infos[i].port_id, 'group': infos[i].group,
            'transfer': bool(infos[i].transfer), 'priority': infos[i].priority,
            'hits': infos[i].hits, 'bytes': infos[i].bytes, 'idle_ms': infos[i].idle_ms,
            'age': infos[i].age_timeout, 'stale': bool(infos[i].stale),
            'nic': bool(infos[i].nic),
            'pattern': infos[i].pattern.decode(), 'actions': infos[i].actions.decode(),
        } for i in range(min(n, <int>max_rules))]
    finally:
        free(infos)


def offload_build(inp, bint from_pf, bytes out, uint16_t out_port, bint to_pf,
                  uint32_t age_s=30):
    """The rule a packet would get: `inp` as it came in (from a PF: a tunnel), `out` as it
    leaves through out_port. (shape, attr, pattern, actions) as text, or (refusal, None,
    None, None)."""
    cdef const unsigned char[:] view = inp
    cdef unsigned char *buf = _guarded_copy(view)
    cdef char attr[128]
    cdef char pattern[512]
    cdef char actions[512]
    cdef int rc = dp_offload_build_text(buf, <uint32_t>view.shape[0], from_pf, out, len(out),
                                        out_port, to_pf, age_s, attr, sizeof(attr), pattern,
                                        sizeof(pattern), actions, sizeof(actions))
    if rc < 0 and -rc < DP_OFFLOAD_REFUSAL_COUNT:
        return OFFLOAD_REFUSALS[-rc], None, None, None
    _check(rc)
    return OFFLOAD_SHAPES[rc], attr.decode(), pattern.decode(), actions.decode()


def offload_extract(data, bint tunnel_ok):
    """What the flow engine reads of a frame: (readable, stack of layer names, l3_off,
    l4_off)."""
    cdef const unsigned char[:] view = data
    cdef unsigned char *buf = _guarded_copy(view)
    cdef uint16_t stack = 0, l3 = 0, l4 = 0
    cdef int ok = dp_offload_extract(buf, <uint32_t>view.shape[0], tunnel_ok, &stack, &l3, &l4)
    names = ('', 'eth', 'ipv4', 'ipv6', 'tcp', 'udp', 'icmp')
    layers = []
    while stack:
        layers.append(names[stack & 0xf] if (stack & 0xf) < len(names) else '?')
        stack >>= 4
    return bool(ok), tuple(layers), l3, l4


def offload_capture(uint16_t port_id, bint on, bytes src=None, bytes sink=None,
                    uint16_t udp_src_port=0, uint16_t udp_dst_port=0):
    """Capture every packet port_id receives (on), to sink (packed IPv6) from src, or stop."""
    cdef dp_offload_capture_conf conf
    memset(&conf, 0, sizeof(conf))
    if on:
        _copy_addr(conf.src, src, 16)
        _copy_addr(conf.sink, sink, 16)
        conf.udp_src_port = udp_src_port
        conf.udp_dst_port = udp_dst_port
    with nogil:
        rc = dp_offload_capture(port_id, on, &conf)
    _check(rc)


def offload_captured(uint16_t port_id):
    return dp_offload_captured(port_id)
