# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/lb.h (included by _firmware.pyx). Addresses: packed bytes.
from dplane.lb cimport *

LB_TABLE_SIZE = DP_LB_TABLE_SIZE
LB_MAX_TARGETS = DP_LB_MAX_TARGETS
LB_MAX_PORTS = DP_LB_MAX_PORTS
LB_MAGLEV_SIZE = DP_LB_MAGLEV_SIZE


cdef uint8_t _lb_family(bytes ip) except 0:
    if len(ip) == 4:
        return 4
    if len(ip) == 16:
        return 6
    raise ValueError('an IPv4 or IPv6 address expected')


def lb_set(uint32_t vni, bytes ip, bytes underlay, list ports, list targets):
    """Create or replace the LB {vni, ip}: ports [(proto, port)], targets sorted underlay
    addresses."""
    cdef dp_lb_conf conf
    cdef uint8_t a[16]
    cdef uint8_t family = _lb_family(ip)
    cdef int rc
    if len(ports) > DP_LB_MAX_PORTS or len(targets) > DP_LB_MAX_TARGETS:
        raise OSError(_errno.EINVAL, 'too many ports or targets')
    memset(&conf, 0, sizeof(conf))
    memset(a, 0, 16)
    _copy_addr(a, ip, len(ip))
    _copy_addr(conf.underlay, underlay, 16)
    for i, (proto, port) in enumerate(ports):
        conf.ports[i].proto = proto
        conf.ports[i].port = port
    conf.nb_ports = len(ports)
    for i, target in enumerate(targets):
        _copy_addr(conf.targets[i], target, 16)
    conf.nb_targets = len(targets)
    with nogil:
        rc = dp_lb_set(vni, family, a, &conf)
    _check(rc)


def lb_del(uint32_t vni, bytes ip):
    cdef uint8_t a[16]
    cdef uint8_t family = _lb_family(ip)
    cdef int rc
    memset(a, 0, 16)
    _copy_addr(a, ip, len(ip))
    with nogil:
        rc = dp_lb_del(vni, family, a)
    _check(rc)


def lb_count():
    return dp_lb_count()


def lb_list():
    """[(vni, ip bytes)] in loadbalancer_table's order."""
    cdef uint32_t it = 0, vni
    cdef uint8_t family
    cdef uint8_t a[16]
    out = []
    while dp_lb_next(&it, &vni, &family, a) == 0:
        out.append((vni, (<char *>a)[:4 if family == 4 else 16]))
    return out


def lb_flush(uint32_t vni, bytes ip, bytes target=None):
    """Remove the LB's flows (only those sent to target, if given); how many."""
    cdef uint8_t a[16]
    cdef uint8_t t[16]
    cdef uint8_t family = _lb_family(ip)
    cdef const uint8_t *tp = NULL
    cdef int rc
    memset(a, 0, 16)
    _copy_addr(a, ip, len(ip))
    if target is not None:
        _copy_addr(t, target, 16)
        tp = t
    with nogil:
        rc = dp_lb_flush(vni, family, a, tp)
    _check(rc)
    return rc


def lb_maglev(list targets):
    """dpservice's Maglev table for the sorted targets: 503 target indexes."""
    cdef uint8_t arr[64][16]
    cdef int16_t table[503]
    cdef unsigned int n = len(targets)
    if n > DP_LB_MAX_TARGETS:
        raise OSError(_errno.EINVAL, 'too many targets')
    for i, target in enumerate(targets):
        _copy_addr(arr[i], target, 16)
    _check(dp_lb_maglev(<const uint8_t (*)[16]>arr, n, table))
    return [table[i] for i in range(DP_LB_MAGLEV_SIZE)]


def lb_slot(bytes key):
    """The Maglev slot of a flow, by its 44-byte original key."""
    cdef dp_flow_key k
    if len(key) != sizeof(dp_flow_key):
        raise ValueError('flow keys are %d bytes' % sizeof(dp_flow_key))
    memcpy(&k, <const char *>key, sizeof(k))
    return dp_lb_slot(&k)
