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

