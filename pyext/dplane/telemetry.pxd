# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/telemetry.h.
from libc.stdint cimport uint64_t

cdef extern from "dplane/telemetry.h" nogil:
    enum:
        DP_NODE_NAME_LEN

    struct dp_node_stats:
        char name[DP_NODE_NAME_LEN]
        uint64_t objs
        uint64_t calls
        uint64_t cycles
        uint64_t realloc_count

    int dp_graph_stats_get(dp_node_stats *stats, unsigned int max)
    const char *dp_runtime_dir()
