# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/firewall.h (included by _firmware.pyx). A rule travels as a tuple
# (direction, action, protocol, src, src_len, dst, dst_len, src_port_lower, src_port_upper,
# dst_port_lower, dst_port_upper, icmp_type, icmp_code), addresses packed (4 or 16 bytes);
# a packet as (proto, src, dst, src_port, dst_port, icmp_type, icmp_code).
from dplane.firewall cimport *

FW_MAX_RULES = DP_FW_MAX_RULES
FW_ANY = DP_FW_ANY
FW_VERDICTS = tuple(dp_fw_verdict_name(<dp_fw_verdict>i).decode()
                    for i in range(DP_FW_VERDICT_COUNT))


cdef int _fw_addr(uint8_t *out, bytes addr) except -1:
    if len(addr) not in (4, 16):
        raise ValueError('addresses are 4 or 16 bytes')
    memset(out, 0, 16)
    memcpy(out, <const char *>addr, len(addr))
    return 4 if len(addr) == 4 else 6


cdef dp_fw_rule *_fw_rules(rules) except? NULL:
    """A calloc'ed array of the rules (free() it); NULL for none."""
    cdef dp_fw_rule *out
    cdef dp_fw_rule *r
    cdef Py_ssize_t n = len(rules)
    if n == 0:
        return NULL
    out = <dp_fw_rule *>calloc(n, sizeof(dp_fw_rule))
    if out == NULL:
        raise MemoryError()
    try:
        for i, rule in enumerate(rules):
            (direction, action, protocol, src, src_len, dst, dst_len, sport_lo, sport_hi,
             dport_lo, dport_hi, icmp_type, icmp_code) = rule
            r = &out[i]
            r.direction = direction
            r.action = action
            r.protocol = protocol
            r.src_family = _fw_addr(r.src, src)
            r.src_len = src_len
            r.dst_family = _fw_addr(r.dst, dst)
            r.dst_len = dst_len
            r.src_port_lower = sport_lo
            r.src_port_upper = sport_hi
            r.dst_port_lower = dport_lo
            r.dst_port_upper = dport_hi
            r.icmp_type = icmp_type
            r.icmp_code = icmp_code
    except BaseException:
        free(out)
        raise
    return out


cdef _fw_tuple(dp_fw_tuple *t, packet):
    proto, src, dst, sport, dport, icmp_type, icmp_code = packet
    memset(t, 0, sizeof(dp_fw_tuple))
    t.proto = proto
    t.family = _fw_addr(t.src, src)
    if _fw_addr(t.dst, dst) != t.family:
        raise ValueError('a packet has one family')
    t.src_port = sport
    t.dst_port = dport
    t.icmp_type = icmp_type
    t.icmp_code = icmp_code


def fw_conf_set(bint enforce):
    _check(dp_fw_conf_set(enforce))


def fw_rules_set(uint16_t port_id, rules):
    """Replace the rules of the interface on a VF (in the order they are tried)."""
    cdef dp_fw_rule *arr = _fw_rules(rules)
    cdef unsigned int n = len(rules)
    cdef int rc
    try:
        with nogil:
            rc = dp_fw_rules_set(port_id, arr, n)
    finally:
        free(arr)
    _check(rc)


def fw_rule_count(uint16_t port_id):
    return dp_fw_rule_count(port_id)


def fw_stats(uint16_t port_id):
    """Counters of the interface on a VF, per direction ('ingress', 'egress')."""
    cdef dp_fw_stats s
    _check(dp_fw_stats_get(port_id, &s))
    out = {'decisions': s.decisions}
    for d, name in enumerate(('ingress', 'egress')):
        out[name] = {'flows_denied': s.flows_denied[d], 'audit_denied': s.audit_denied[d],
                     'dropped': s.dropped[d]}
    return out


def fw_stats_reset(uint16_t port_id):
    _check(dp_fw_stats_reset(port_id))


def fw_match(rules, uint8_t direction, packet):
    """Index of the first rule of `direction` that matches the packet, or -1 (pure)."""
    cdef dp_fw_rule *arr = _fw_rules(rules)
    cdef dp_fw_tuple t
    cdef int rc
    try:
        _fw_tuple(&t, packet)
        rc = dp_fw_match(arr, len(rules), direction, &t)
    finally:
        free(arr)
    if rc < -1:
        _check(rc)
    return rc


def fw_decide(bint from_vf, src_rules, bint to_vf, dst_rules, packet):
    """The verdict's name for a flow from a VM with src_rules (from_vf false: the underlay)
    to a VM with dst_rules (pure)."""
    cdef dp_fw_rule *src = _fw_rules(src_rules)
    cdef dp_fw_rule *dst = NULL
    cdef dp_fw_tuple t
    cdef int rc
    try:
        dst = _fw_rules(dst_rules)
        _fw_tuple(&t, packet)
        rc = dp_fw_decide(from_vf, src, len(src_rules), to_vf, dst, len(dst_rules), &t)
    finally:
        free(src)
        free(dst)
    return FW_VERDICTS[_check(rc)]
