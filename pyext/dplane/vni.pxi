# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/vni.h (included by _firmware.pyx). Addresses are packed bytes. Every
# call that changes or walks a table runs without the GIL.
from dplane.vni cimport *

VNI_MAX = DP_VNI_MAX
VNI_TABLE_SIZE = DP_VNI_TABLE_SIZE
VNI_DEFAULT_ROUTES = DP_VNI_DEFAULT_ROUTES
VNI_MAX_ROUTES = DP_VNI_MAX_ROUTES


def vni_conf_set(uint32_t routes_per_table):
    """Before start(): routes per VNI and family."""
    _check(dp_vni_conf_set(routes_per_table))


def vni_create(uint32_t vni):
    cdef int rc
    with nogil:
        rc = dp_vni_create(vni)
    _check(rc)


def vni_destroy(uint32_t vni):
    cdef int rc
    with nogil:
        rc = dp_vni_destroy(vni)
    _check(rc)


def vni_exists(uint32_t vni):
    return bool(_check(dp_vni_exists(vni)))


def vni_reset(uint32_t vni):
    cdef int rc
    with nogil:
        rc = dp_vni_reset(vni)
    _check(rc)


def vni_count():
    return dp_vni_count()


def vni_list():
    """The VNIs in the VNI table, ascending."""
    cdef uint32_t it = 0
    cdef uint32_t vni
    cdef int rc
    out = []
    while True:
        with nogil:
            rc = dp_vni_next(&it, &vni)
        if rc == -_errno.ENOENT:
            return sorted(out)
        _check(rc)
        out.append(vni)


cdef int _fill_route(dp_route *r, bytes prefix, unsigned int prefix_len, int port_id,
                     uint32_t nh_vni, bytes nh_ipv6) except -1:
    memset(r, 0, sizeof(dp_route))
    if len(prefix) == 4:
        r.family = 4
    elif len(prefix) == 16:
        r.family = 6
    else:
        raise ValueError('prefix of 4 or 16 bytes expected')
    if prefix_len > 255:
        raise ValueError('prefix length above 255')
    memcpy(r.prefix, <const char *>prefix, len(prefix))
    r.prefix_len = prefix_len
    r.port_id = DP_PORT_NONE if port_id < 0 else port_id
    r.nh_vni = nh_vni
    if nh_ipv6:
        _copy_addr(r.nh_ipv6, nh_ipv6, 16)
    return 0


cdef tuple _route_tuple(const dp_route *r):
    size = 4 if r.family == 4 else 16
    return (r.prefix[:size], r.prefix_len, r.port_id, r.nh_vni, r.nh_ipv6[:16])


def route_add(uint32_t vni, bytes prefix, unsigned int prefix_len, int port_id,
              uint32_t nh_vni=0, bytes nh_ipv6=b''):
    cdef dp_route r
    cdef int rc
    _fill_route(&r, prefix, prefix_len, port_id, nh_vni, nh_ipv6)
    with nogil:
        rc = dp_route_add(vni, &r)
    _check(rc)


def route_del(uint32_t vni, bytes prefix, unsigned int prefix_len, int port_id=-1):
    """port_id >= 0: refuse (EXDEV) when the route leads elsewhere."""
    cdef dp_route r
    cdef int rc
    _fill_route(&r, prefix, prefix_len, port_id, 0, b'')
    with nogil:
        rc = dp_route_del(vni, &r)
    _check(rc)


def route_get(uint32_t vni, bytes prefix, unsigned int prefix_len):
    """The route of exactly prefix/prefix_len: (prefix bytes, prefix_len, port_id, nh_vni,
    nh_ipv6 bytes), or None."""
    cdef dp_route r
    cdef int rc
    _fill_route(&r, prefix, prefix_len, -1, 0, b'')
    with nogil:
        rc = dp_route_get(vni, &r)
    if rc == -_errno.ENOENT:
        return None
    _check(rc)
    return _route_tuple(&r)


def route_lookup(uint32_t vni, bytes addr):
    """Longest-prefix match of an address (4 or 16 bytes) in the tables the workers read:
    (port_id, depth, nh_vni, nh_ipv6 bytes), or None."""
    cdef dp_route r
    cdef uint8_t a[16]
    cdef uint8_t family
    cdef int rc
    if len(addr) not in (4, 16):
        raise ValueError('address of 4 or 16 bytes expected')
    memset(a, 0, 16)
    memcpy(a, <const char *>addr, len(addr))
    family = 4 if len(addr) == 4 else 6
    with nogil:
        rc = dp_route_lookup(vni, family, a, &r)
    if rc == -_errno.ENOENT:
        return None
    _check(rc)
    return (r.port_id, r.prefix_len, r.nh_vni, r.nh_ipv6[:16])


def route_count(uint32_t vni, int family):
    return _check(dp_route_count(vni, family))


def route_list(uint32_t vni, int family):
    """[(prefix bytes, prefix_len, port_id, nh_vni, nh_ipv6 bytes)]: the default route
    first, then in address order (a covering route after those it covers)."""
    cdef dp_route *routes = NULL
    cdef int n = _check(dp_route_list(vni, family, NULL, 0))
    cdef int got
    out = []
    if n == 0:
        return out
    routes = <dp_route *>calloc(n, sizeof(dp_route))
    if routes == NULL:
        raise MemoryError()
    try:
        with nogil:
            got = dp_route_list(vni, family, routes, n)
        n = min(n, _check(got))
        out = [_route_tuple(&routes[i]) for i in range(n)]
    finally:
        free(routes)
    return out
