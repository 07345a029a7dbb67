# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/telemetry.h.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

from dplane.vnf cimport dp_vnf

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
    int dp_vnf_next(uint32_t *iter, uint8_t underlay[16], dp_vnf *vnf)
    int dp_vni_next(uint32_t *iter, uint32_t *vni)
