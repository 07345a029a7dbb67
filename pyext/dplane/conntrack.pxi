# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/conntrack.h (included by _firmware.pyx after parse.pxi). Flow keys
# travel as their 44 raw bytes.
from dplane.conntrack cimport *

CT_DEFAULT_CAPACITY = DP_CT_DEFAULT_CAPACITY
CT_DEFAULT_TIMEOUT = DP_CT_DEFAULT_TIMEOUT
CT_TCP_ESTABLISHED_TIMEOUT = DP_CT_TCP_ESTABLISHED_TIMEOUT
FLOW_KEY_STATUS = tuple(dp_flow_key_status_name(<dp_flow_key_status>i).decode()
                        for i in range(DP_FLOW_KEY_STATUS_COUNT))
TCP_STATES = tuple(dp_ct_tcp_state_name(<dp_ct_tcp_state>i).decode()
                   for i in range(DP_CT_TCP_STATE_COUNT))


def ct_conf_set(uint32_t capacity, uint32_t timeout_s):
    _check(dp_ct_conf_set(capacity, timeout_s))


CT_SOURCE_CHECK = {'off': DP_CT_SOURCE_OFF, 'audit': DP_CT_SOURCE_AUDIT,
                   'enforce': DP_CT_SOURCE_ENFORCE}


def ct_source_check_set(str mode):
    """Before core_start(): 'off', 'audit' or 'enforce' (see dp_ct_source_check)."""
    _check(dp_ct_source_check_set(CT_SOURCE_CHECK[mode]))


def ct_spoofed(uint16_t port_id):
    """Packets of the VF whose source was not its VM's."""
    return dp_ct_spoofed(port_id)


def ct_spoofed_reset(uint16_t port_id):
    _check(dp_ct_spoofed_reset(port_id))


def ct_quota_set(uint32_t flows):
    """Before core_start(): the flows one VF's VM may have (0: no limit)."""
    _check(dp_ct_quota_set(flows))


CT_PORT_SOURCES_MAX = DP_CT_PORT_SOURCES_MAX


def ct_port_sources_set(uint16_t port_id, list sources):
    """The VF's extra sources: [(prefix bytes, length, vnf type the key of an IPv4 /32 one
    is marked with)]; [] for none."""
    cdef dp_ct_source arr[DP_CT_PORT_SOURCES_MAX]
    cdef unsigned int n = len(sources)
    cdef int rc
    if n > DP_CT_PORT_SOURCES_MAX:
        raise OSError(_errno.EINVAL, 'too many sources')
    memset(arr, 0, sizeof(arr))
    for i, (prefix, length, mark) in enumerate(sources):
        arr[i].family = 4 if len(prefix) == 4 else 6
        arr[i].prefix_len = length
        arr[i].mark_vnf = mark
        _copy_addr(arr[i].prefix, prefix, len(prefix))
    with nogil:
        rc = dp_ct_port_sources_set(port_id, arr, n)
    _check(rc)


def ct_port_flows(uint16_t port_id):
    """Live flows whose first packet came in on the port."""
    return dp_ct_port_flows(port_id)


def ct_age():
    cdef int rc
    with nogil:
        rc = dp_ct_age()
    return _check(rc)


def ct_flush(int port_id=-1, uint32_t vni=0, bytes prefix=b'', unsigned int prefix_len=0):
    """Remove the flows that came in on port_id, or (prefix given) those of vni with an end
    inside prefix/prefix_len. Returns how many."""
    cdef dp_ct_filter f
    cdef int rc
    memset(&f, 0, sizeof(f))
    f.port_id = DP_PORT_NONE if port_id < 0 else port_id
    f.vni = vni
    if prefix:
        if len(prefix) not in (4, 16):
            raise ValueError('prefix of 4 or 16 bytes expected')
        f.family = 4 if len(prefix) == 4 else 6
        f.prefix_len = prefix_len
        memcpy(f.prefix, <const char *>prefix, len(prefix))
    with nogil:
        rc = dp_ct_flush(&f)
    return _check(rc)


def ct_flush_all():
    cdef int rc
    with nogil:
        rc = dp_ct_flush_all()
    return _check(rc)


def ct_count():
    return dp_ct_count()


cdef bytes _key_bytes(const dp_flow_key *key):
    return (<const char *>key)[:sizeof(dp_flow_key)]


def ct_list():
    """[dict] for every flow: keys (44 bytes each), in_port, tcp_state, idle_ms, timeout_s,
    packets per direction."""
    cdef dp_ct_info *infos = NULL
    cdef int n = _check(dp_ct_list(NULL, 0))
    out = []
    if n == 0:
        return out
    infos = <dp_ct_info *>calloc(n, sizeof(dp_ct_info))
    if infos == NULL:
        raise MemoryError()
    try:
        n = min(n, _check(dp_ct_list(infos, n)))
        for i in range(n):
            out.append({
                'key': _key_bytes(&infos[i].key[0]),
                'reply_key': _key_bytes(&infos[i].key[1]),
                'in_port': infos[i].in_port,
                'tcp_state': TCP_STATES[infos[i].tcp_state],
                'idle_ms': infos[i].idle_ms,
                'timeout_s': infos[i].timeout_s,
                'packets': (infos[i].packets[0], infos[i].packets[1]),
            })
    finally:
        free(infos)
    return out


def flow_key_build(data, uint32_t vni=0, uint8_t vnf_type=0):
    """Parse a frame as cls does, then key it as conntrack does: (status, key bytes or
    None)."""
    cdef const unsigned char[:] view = data
    cdef unsigned char *buf = _guarded_copy(view)
    cdef uint32_t n = <uint32_t>view.shape[0]
    cdef dp_parse p
    cdef dp_flow_key key
    cdef dp_parse_status pst = dp_parse_frame(buf, n, &p)
    if pst != DP_PARSE_OK:
        return dp_parse_status_name(pst).decode(), None
    cdef dp_flow_key_status st = dp_flow_key_build(buf, n, &p, vni, vnf_type, &key)
    if st != DP_FLOW_KEY_OK:
        return FLOW_KEY_STATUS[st], None
    return 'ok', _key_bytes(&key)


def flow_key_reverse(bytes key):
    cdef dp_flow_key k, out
    if len(key) != sizeof(dp_flow_key):
        raise ValueError('flow keys are %d bytes' % sizeof(dp_flow_key))
    memcpy(&k, <const char *>key, sizeof(k))
    dp_flow_key_reverse(&k, &out)
    return _key_bytes(&out)


def ct_tcp_next(uint8_t state, uint8_t direction, uint8_t tcp_flags):
    return dp_ct_tcp_next(state, direction, tcp_flags)
