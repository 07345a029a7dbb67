/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet trace (dplane-dump): while a trace session runs, the workers copy the first bytes of
 * every packet entering a selected graph node (and of every packet reaching a selected drop
 * node) into a bounded ring; the control thread drains it. Workers never wait: when the ring
 * is full the record is counted as lost. When no session runs, the datapath pays one load and
 * one predictable branch per node visit.
 *
 * Control functions: control thread only, 0 or a negative errno (errno set too).
 */
#ifndef DPLANE_TRACE_H
#define DPLANE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#define DP_TRACE_SNAPLEN 256    /* bytes of each packet kept */
#define DP_TRACE_NODE_LEN 64    /* RTE_NODE_NAMESIZE */
#define DP_TRACE_RING_SIZE 4096 /* records the ring holds (power of two) */

#define DP_TRACE_F_DROP 0x1 /* the packet reached a drop node: `node` is the reason */

/* One traced packet as the control thread reads it. */
struct dp_trace_pkt {
	uint64_t ts_ns;               /* wall clock (CLOCK_REALTIME) when the node got it */
	char node[DP_TRACE_NODE_LEN]; /* node entered: "cls", "tx-1", or a drop reason */
	uint32_t pkt_len;             /* length of the whole packet */
	uint16_t cap_len;             /* bytes in data (<= DP_TRACE_SNAPLEN) */
	uint16_t port;                /* mbuf port: where the packet came in */
	uint16_t flags;               /* DP_TRACE_F_* */
	uint8_t data[DP_TRACE_SNAPLEN];
};

struct dp_trace_stats {
	uint64_t traced; /* records put into the ring since the session started */
	uint64_t lost;   /* records skipped because the ring was full */
};

/* Select (on) or deselect a node of the graph by name; -ENOENT if no such node.
 * Takes effect at once, also during a session. */
int dp_trace_node_set(const char *name, bool on);
/* Deselect every node. */
int dp_trace_nodes_clear(void);
/* Start a session: empties the ring, zeroes the counters, turns tracing on.
 * -ENOMEM when the ring cannot be allocated. */
int dp_trace_start(void);
/* Turn tracing off and deselect every node; what is still in the ring can be read. */
int dp_trace_stop(void);
bool dp_trace_active(void);
/* Move up to max records out of the ring, oldest first; returns how many. */
int dp_trace_read(struct dp_trace_pkt *out, unsigned int max);
int dp_trace_stats_get(struct dp_trace_stats *stats);

#endif
