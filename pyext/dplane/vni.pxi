# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/vni.h (included by _firmware.pyx). Addresses are packed bytes.
from dplane.vni cimport *

VNI_MAX = DP_VNI_MAX
VNI_TABLE_SIZE = DP_VNI_TABLE_SIZE


def vni_create(uint32_t vni):
    _check(dp_vni_create(vni))


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


cdef _fill_route(dp_route *r, bytes prefix, unsigned int prefix_len, int port_id,
                 uint32_t nh_vni, bytes nh_ipv6):
    memset(r, 0, sizeof(dp_route))
    if len(prefix) == 4:
        r.family = 4
    elif len(prefix) == 16:
        r.family = 6
    else:
        raise ValueError('prefix of 4 or 16 bytes expected')
    memcpy(r.prefix, <const char *>prefix, len(prefix))
    r.prefix_len = prefix_len
    r.port_id = DP_PORT_NONE if port_id < 0 else port_id
    r.nh_vni = nh_vni
    if nh_ipv6:
        _copy_addr(r.nh_ipv6, nh_ipv6, 16)


def route_add(uint32_t vni, bytes prefix, unsigned int prefix_len, int port_id,
              uint32_t nh_vni=0, bytes nh_ipv6=b''):
    cdef dp_route r
    _fill_route(&r, prefix, prefix_len, port_id, nh_vni, nh_ipv6)
    _check(dp_route_add(vni, &r))


def route_del(uint32_t vni, bytes prefix, unsigned int prefix_len, int port_id=-1):
    """port_id >= 0: refuse (EXDEV) when the route leads elsewhere."""
    cdef dp_route r
    _fill_route(&r, prefix, prefix_len, port_id, 0, b'')
    _check(dp_route_del(vni, &r))


def route_list(uint32_t vni, int family):
    """[(prefix bytes, prefix_len, port_id, nh_vni, nh_ipv6 bytes)] in table order."""
    cdef dp_route *routes = NULL
    cdef int n = _check(dp_route_list(vni, family, NULL, 0))
    out = []
    if n == 0:
        return out
    routes = <dp_route *>calloc(n, sizeof(dp_route))
    if routes == NULL:
        raise MemoryError()
    try:
        n = min(n, _check(dp_route_list(vni, family, routes, n)))
        size = 4 if family == 4 else 16
        for i in range(n):
            out.append((routes[i].prefix[:size], routes[i].prefix_len, routes[i].port_id,
                        routes[i].nh_vni, routes[i].nh_ipv6[:16]))
    finally:
        free(routes)
    return out
