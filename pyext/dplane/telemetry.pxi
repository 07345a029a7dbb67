# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/telemetry.h (included by _firmware.pyx).
from dplane.telemetry cimport *


def graph_stats():
    """[(node name, objs, calls, cycles, realloc_count)] for every node of the worker graph,
    in graph order."""
    cdef dp_node_stats *stats = NULL
    cdef int n = _check(dp_graph_stats_get(NULL, 0))
    out = []
    while n:
        free(stats)
        stats = <dp_node_stats *>calloc(n, sizeof(dp_node_stats))
        if stats == NULL:
            raise MemoryError()
        total = _check(dp_graph_stats_get(stats, n))
        if total <= n:  # else the graph grew in between: try again with room for it
            out = [(stats[i].name.decode(), stats[i].objs, stats[i].calls, stats[i].cycles,
                    stats[i].realloc_count) for i in range(total)]
            break
        n = total
    free(stats)
    return out


def runtime_dir():
    """EAL's runtime directory ("" before EAL init)."""
    return dp_runtime_dir().decode()


def vnf_list():
    """[(underlay bytes, type, port_id, vni, prefix bytes, prefix_len)] of the VNF table."""
    cdef uint32_t it = 0
    cdef uint8_t underlay[16]
    cdef dp_vnf v
    cdef int rc
    out = []
    while True:
        rc = dp_vnf_next(&it, underlay, &v)
        if rc == -_errno.ENOENT:
            return out
        _check(rc)
        size = 4 if v.family == 4 else (16 if v.family == 6 else 0)
        out.append(((<char *>underlay)[:16], v.type, v.port_id, v.vni,
                    (<char *>v.prefix)[:size], v.prefix_len))


def vni_list():
    """The VNIs in the VNI table."""
    cdef uint32_t it = 0
    cdef uint32_t vni
    cdef int rc
    out = []
    while True:
        rc = dp_vni_next(&it, &vni)
        if rc == -_errno.ENOENT:
            return sorted(out)
        _check(rc)
        out.append(vni)
