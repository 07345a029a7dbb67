# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/vnf.h (included by _firmware.pyx).
from dplane.vnf cimport *

VNF_TYPES = tuple(dp_vnf_type_name(<dp_vnf_type>i).decode() for i in range(DP_VNF_TYPE_COUNT))
VNF_UNDEFINED = DP_VNF_UNDEFINED
VNF_INTERFACE_IP = DP_VNF_INTERFACE_IP
VNF_VIP = DP_VNF_VIP
VNF_NAT = DP_VNF_NAT
VNF_LB = DP_VNF_LB
VNF_LB_ALIAS_PFX = DP_VNF_LB_ALIAS_PFX
VNF_ALIAS_PFX = DP_VNF_ALIAS_PFX
VNF_DEFAULT_SIZE = DP_VNF_DEFAULT_SIZE
VNF_MAX_SIZE = DP_VNF_MAX_SIZE


def vnf_conf_set(uint32_t entries):
    """Before start(): the VNF table's size."""
    _check(dp_vnf_conf_set(entries))


def vnf_capacity():
    return dp_vnf_capacity()


def vnf_add(bytes underlay, int vnf_type, int port_id, uint32_t vni, bytes prefix=b'',
            unsigned int prefix_len=0):
    cdef dp_vnf v
    cdef uint8_t ul[16]
    cdef int rc
    memset(&v, 0, sizeof(v))
    _copy_addr(ul, underlay, 16)
    v.type = vnf_type
    v.port_id = port_id
    v.vni = vni
    if prefix:
        v.family = 4 if len(prefix) == 4 else 6
        _copy_addr(v.prefix, prefix, len(prefix))
        v.prefix_len = prefix_len
    with nogil:
        rc = dp_vnf_add(ul, &v)
    _check(rc)


def vnf_del(bytes underlay):
    cdef uint8_t ul[16]
    cdef int rc
    _copy_addr(ul, underlay, 16)
    with nogil:
        rc = dp_vnf_del(ul)
    _check(rc)


def vnf_get(bytes underlay):
    """(type, port_id, vni, prefix bytes, prefix_len) or None."""
    cdef dp_vnf v
    cdef uint8_t ul[16]
    _copy_addr(ul, underlay, 16)
    if dp_vnf_get(ul, &v) < 0:
        return None
    size = 4 if v.family == 4 else (16 if v.family == 6 else 0)
    return (v.type, v.port_id, v.vni, v.prefix[:size], v.prefix_len)


def vnf_count():
    return dp_vnf_count()


def vnf_list():
    """[(underlay bytes, type, port_id, vni, prefix bytes, prefix_len)] of the VNF table."""
    cdef uint32_t it = 0
    cdef uint8_t underlay[16]
    cdef dp_vnf v
    cdef int rc
    out = []
    while True:
        with nogil:
            rc = dp_vnf_next(&it, underlay, &v)
        if rc == -_errno.ENOENT:
            return out
        _check(rc)
        size = 4 if v.family == 4 else (16 if v.family == 6 else 0)
        out.append(((<char *>underlay)[:16], v.type, v.port_id, v.vni,
                    (<char *>v.prefix)[:size], v.prefix_len))
