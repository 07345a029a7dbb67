# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/trace.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "dplane/trace.h" nogil:
    enum:
        DP_TRACE_SNAPLEN
        DP_TRACE_NODE_LEN
        DP_TRACE_RING_SIZE
        DP_TRACE_F_DROP

    struct dp_trace_pkt:
        uint64_t ts_ns
        char node[DP_TRACE_NODE_LEN]
        uint32_t pkt_len
        uint16_t cap_len
        uint16_t port
        uint16_t flags
        uint8_t data[DP_TRACE_SNAPLEN]

    struct dp_trace_stats:
        uint64_t traced
        uint64_t lost

    int dp_trace_node_set(const char *name, bint on)
    int dp_trace_nodes_clear()
    int dp_trace_start()
    int dp_trace_stop()
    bint dp_trace_active()
    int dp_trace_read(dp_trace_pkt *out, unsigned int max)
    int dp_trace_stats_get(dp_trace_stats *stats)
