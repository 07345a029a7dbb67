# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/nat.h (included by _firmware.pyx). Addresses: packed bytes.
from cpython.mem cimport PyMem_Free, PyMem_Malloc
from dplane.nat cimport *

NAT_TABLE_SIZE = DP_NAT_TABLE_SIZE
NAT_FLOWS_VIP = DP_NAT_FLOWS_VIP
NAT_FLOWS_NAT = DP_NAT_FLOWS_NAT


def nat_snat_set(int port_id, bytes vip, bytes nat_ip, unsigned int min_port,
                 unsigned int max_port):
    """The source translation of the VM behind a VF (b'\\0' * 4: none)."""
    cdef dp_nat_snat_conf conf
    cdef int rc
    _copy_addr(conf.vip, vip, 4)
    _copy_addr(conf.nat_ip, nat_ip, 4)
    conf.min_port = min_port
    conf.max_port = max_port
    with nogil:
        rc = dp_nat_snat_set(port_id, &conf)
    _check(rc)


def nat_snat_clear(int port_id):
    cdef int rc
    with nogil:
        rc = dp_nat_snat_clear(port_id)
    _check(rc)


def nat_flush(int port_id, uint32_t vni, bytes vm_ip, unsigned int which):
    """Remove the VM's flows its VIP and/or NAT translated; how many."""
    cdef uint8_t ip[4]
    cdef int rc
    _copy_addr(ip, vm_ip, 4)
    with nogil:
        rc = dp_nat_flush(port_id, vni, ip, which)
    _check(rc)
    return rc


def nat_neigh_set(list ranges):
    """The neighbour ranges: [(vni, nat_ip bytes, min_port, max_port, underlay bytes)]."""
    cdef dp_nat_neigh *arr = NULL
    cdef unsigned int n = len(ranges)
    cdef int rc
    if n:
        arr = <dp_nat_neigh *>PyMem_Malloc(n * sizeof(dp_nat_neigh))
        if arr == NULL:
            raise MemoryError()
    try:
        for i, (vni, ip, lo, hi, underlay) in enumerate(ranges):
            arr[i].vni = vni
            _copy_addr(arr[i].nat_ip, ip, 4)
            arr[i].min_port = lo
            arr[i].max_port = hi
            _copy_addr(arr[i].underlay, underlay, 16)
        with nogil:
            rc = dp_nat_neigh_set(arr, n)
        _check(rc)
    finally:
        PyMem_Free(arr)


def nat_flush_relayed(uint32_t vni, bytes nat_ip, unsigned int min_port, unsigned int max_port):
    """Remove the flows relayed to a neighbour's range; how many."""
    cdef uint8_t ip[4]
    cdef int rc
    _copy_addr(ip, nat_ip, 4)
    with nogil:
        rc = dp_nat_flush_relayed(vni, ip, min_port, max_port)
    _check(rc)
    return rc


def nat_dnat_add(uint32_t vni, bytes ip, bytes target):
    cdef uint8_t a[4]
    cdef uint8_t t[4]
    cdef int rc
    _copy_addr(a, ip, 4)
    _copy_addr(t, target, 4)
    with nogil:
        rc = dp_nat_dnat_add(vni, a, t)
    _check(rc)


def nat_dnat_del(uint32_t vni, bytes ip):
    cdef uint8_t a[4]
    cdef int rc
    _copy_addr(a, ip, 4)
    with nogil:
        rc = dp_nat_dnat_del(vni, a)
    _check(rc)


def nat_dnat_get(uint32_t vni, bytes ip):
    """The target of {ip, vni} (b'\\0' * 4 for a NAT IP), or None."""
    cdef uint8_t a[4]
    cdef uint8_t t[4]
    _copy_addr(a, ip, 4)
    if dp_nat_dnat_get(vni, a, t) < 0:
        return None
    return (<char *>t)[:4]


def nat_dnat_count():
    return dp_nat_dnat_count()


def nat_used_ports(int port_id):
    return dp_nat_used_ports(port_id)


def nat_port_tables():
    """(entries of nat_portmap_table, of nat_portoverload_table)."""
    return dp_nat_portmap_count(), dp_nat_portoverload_count()


def nat_portmap_hash(uint32_t vni, bytes src, unsigned int src_port):
    """dpservice's hash of a NAT source (src: 4 or 16 bytes)."""
    if len(src) not in (4, 16):
        raise ValueError('address of 4 or 16 bytes expected')
    return dp_nat_portmap_hash(vni, <const uint8_t *><const char *>src, len(src) == 16,
                               src_port)


def nat_rewrite4(bytes packet, unsigned int l4_off, bint dst, bytes addr, int port=-1):
    """The IPv4 packet (from its header on) with its source/destination address (and port)
    rewritten, or None when it is too short for that."""
    cdef bytearray buf = bytearray(packet)
    cdef uint8_t a[4]
    cdef uint8_t *p = buf
    _copy_addr(a, addr, 4)
    if dp_nat_rewrite4(p, len(buf), l4_off, dst, a, port) < 0:
        return None
    return bytes(buf)


def nat64_6to4(bytes packet, bytes nat_ip, unsigned int port):
    """The IPv6 packet (from its header on) as NAT64 sends it (IPv4), or None."""
    cdef bytearray out = bytearray(max(len(packet) - 20, 0))
    cdef uint8_t a[4]
    cdef uint8_t *o = out
    _copy_addr(a, nat_ip, 4)
    if len(packet) < 40 or dp_nat64_6to4(<const uint8_t *><const char *>packet, len(packet),
                                         o, a, port) < 0:
        return None
    return bytes(out)


def nat64_4to6(bytes packet, bytes src, bytes dst, unsigned int port):
    """The IPv4 packet as NAT64 returns it (IPv6 from src to dst), or None."""
    cdef bytearray out = bytearray(len(packet) + 20)
    cdef uint8_t s[16]
    cdef uint8_t d[16]
    cdef uint8_t *o = out
    _copy_addr(s, src, 16)
    _copy_addr(d, dst, 16)
    if len(packet) < 20 or dp_nat64_4to6(<const uint8_t *><const char *>packet, len(packet),
                                         o, s, d, port) < 0:
        return None
    return bytes(out)


def nat_portmap_list():
    """[(vni, source address bytes, source port, NAT port, flows)] of nat_portmap_table."""
    cdef uint32_t it = 0
    cdef dp_nat_portmap_entry e
    out = []
    while dp_nat_portmap_next(&it, &e) == 0:
        out.append((e.vni, (<char *>e.src)[:16 if e.src_is_v6 else 4], e.src_port, e.nat_port,
                    e.flows))
    return out


def nat_portoverload_list():
    """[(NAT IP bytes, NAT port, destination bytes, destination port, protocol)] of
    nat_portoverload_table."""
    cdef uint32_t it = 0
    cdef dp_nat_portoverload_entry e
    out = []
    while dp_nat_portoverload_next(&it, &e) == 0:
        out.append(((<char *>e.nat_ip)[:4], e.nat_port, (<char *>e.dst)[:4], e.dst_port,
                    e.proto))
    return out
