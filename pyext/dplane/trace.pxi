# SPDX-License-Identifier: Apache-2.0
# Bindings for dplane/trace.h (included by _firmware.pyx).
from dplane.trace cimport *

TRACE_SNAPLEN = DP_TRACE_SNAPLEN
TRACE_RING_SIZE = DP_TRACE_RING_SIZE


def trace_select(names, bint on=True):
    """Select (or deselect) graph nodes by name for tracing; unknown names raise OSError."""
    cdef bytes encoded
    for name in names:
        encoded = name.encode()
        _check(dp_trace_node_set(encoded, on))


def trace_start():
    """Empty the trace ring, zero its counters and turn tracing on for the selected nodes."""
    _check(dp_trace_start())


def trace_stop():
    """Turn tracing off and deselect every node (what is in the ring stays readable)."""
    _check(dp_trace_stop())


def trace_active():
    return dp_trace_active()


def trace_read(unsigned int max_records=256):
    """Drain up to max_records: [(ts_ns, node, port, dropped, pkt_len, data bytes)]."""
    cdef dp_trace_pkt *recs
    cdef int n
    if max_records == 0:
        return []
    recs = <dp_trace_pkt *>calloc(max_records, sizeof(dp_trace_pkt))
    if recs == NULL:
        raise MemoryError()
    try:
        with nogil:
            n = dp_trace_read(recs, max_records)
        _check(n)
        return [(recs[i].ts_ns, recs[i].node.decode(), recs[i].port,
                 bool(recs[i].flags & DP_TRACE_F_DROP), recs[i].pkt_len,
                 (<char *>recs[i].data)[:recs[i].cap_len]) for i in range(n)]
    finally:
        free(recs)


def trace_stats():
    """(records traced, records lost because the ring was full) of the current session."""
    cdef dp_trace_stats st
    _check(dp_trace_stats_get(&st))
    return st.traced, st.lost
