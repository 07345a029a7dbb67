/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph node registration helpers.
 *
 * One node per file. Each node declares a local edge enum ending in <NODE>_EDGE_COUNT whose
 * first value is edge 0 = "drop", and registers itself with one of the macros below, giving a
 * designated-initializer next_nodes table; the macro refuses to compile when the table is
 * longer than the enum, and the graph refuses to start when it has holes. Edges to the nodes
 * of other features are not listed there: they come from the attach points (path.h, cls.h)
 * and are appended when the graph is built.
 *
 * A node that processes packets says how it decides, not how it enqueues: a classification
 * (one packet -> its edge, or a burst -> the edge of each) from which the macro builds the
 * process function. The same classification is reachable by name (dp_node_test()), so tests
 * run every node's decisions on crafted packets. Sources and sinks bring their own process.
 *
 * Every failure leaves a node through an edge to a named drop node "<node>_<reason>",
 * declared with DP_DROP_REGISTER(<node>_<reason>): a sink that frees the packets and
 * counts them per worker (dp_drop_reason_packets()).
 */
#ifndef DP_NODE_H
#define DP_NODE_H

#include <string.h>

#include <rte_common.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include <dplane/core.h>

#include "trace_dp.h"

/* A burst of packets in, the edge each one takes out. Never enqueues. */
typedef void (*dp_node_classify_fn)(struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n);

/* classify: NULL for sources and sinks */
void dp_node_register(struct rte_node_register *reg, dp_node_classify_fn classify);
/* Index of the edge from node `from` to node `to`, appended if missing (before graph creation). */
int dp_node_edge_by_name(const char *from, const char *to);
void dp_drop_register(struct rte_node_register *reg);
uint16_t dp_drop_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			 uint16_t nb_objs);

/*
 * Hand `n` packets at objs (the start of the node's stream, or a slice of it) to their next
 * nodes: one stream move when the whole stream goes the same way (the common case), one
 * enqueue when a slice does, per-packet enqueue otherwise.
 */
static inline void dp_enqueue_burst(struct rte_graph *graph, struct rte_node *node, void **objs,
				    const rte_edge_t *nexts, uint16_t n)
{
	uint16_t i;

	for (i = 1; i < n; i++)
		if (nexts[i] != nexts[0])
			break;
	if (likely(i == n)) {
		if (objs == node->objs && n == node->idx)
			rte_node_next_stream_move(graph, node, nexts[0]);
		else
			rte_node_enqueue(graph, node, nexts[0], objs, n);
		return;
	}
	for (i = 0; i < n; i++)
		rte_node_enqueue_x1(graph, node, nexts[i], objs[i]);
}

/*
 * The process function of every classifying node. A stream may hold more than a burst (the
 * graph grows it when many predecessors feed one node, e.g. cls behind 128 ports): it is
 * classified and handed on a burst at a time.
 */
static __rte_always_inline uint16_t dp_node_run(struct rte_graph *graph, struct rte_node *node,
						void **objs, uint16_t nb_objs,
						dp_node_classify_fn classify)
{
	rte_edge_t nexts[RTE_GRAPH_BURST_SIZE];

	for (uint16_t off = 0; off < nb_objs; off += RTE_GRAPH_BURST_SIZE) {
		uint16_t n = RTE_MIN((uint16_t)RTE_GRAPH_BURST_SIZE, (uint16_t)(nb_objs - off));

		classify((struct rte_mbuf **)&objs[off], nexts, n);
		dp_enqueue_burst(graph, node, &objs[off], nexts, n);
	}
	return nb_objs;
}

/* The common part of the macros below. The registered process function is PROCESS behind the
 * packet-trace hook (trace_dp.h). */
#define DP_NODE_REGISTER_(var, NAME, FLAGS, PROCESS, INIT, CLASSIFY, EDGE_COUNT, ...)              \
	static uint16_t dp_traced_##var(struct rte_graph *graph, struct rte_node *node,            \
					void **objs, uint16_t nb_objs)                             \
	{                                                                                          \
		if (!(RTE_NODE_SOURCE_F & (FLAGS)) && dp_trace_enabled()) /* sources: no input */  \
			return dp_trace_process(graph, node, objs, nb_objs, PROCESS);              \
		return PROCESS(graph, node, objs, nb_objs);                                        \
	}                                                                                          \
	static struct rte_node_register var = {                                                    \
		.name = NAME,                                                                      \
		.flags = FLAGS,                                                                    \
		.process = dp_traced_##var,                                                        \
		.init = INIT,                                                                      \
		.nb_edges = EDGE_COUNT,                                                            \
		.next_nodes = {__VA_ARGS__},                                                       \
	};                                                                                         \
	_Static_assert(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *) ==             \
			       (EDGE_COUNT),                                                       \
		       NAME ": next_nodes must name every edge of the enum");                      \
	RTE_INIT(dp_node_register_##var)                                                           \
	{                                                                                          \
		dp_node_register(&var, CLASSIFY);                                                  \
	}

/* A node that classifies whole bursts: CLASSIFY(pkts, nexts, n) (see dp_node_classify_fn). */
#define DP_NODE_BURST(var, NAME, CLASSIFY, EDGE_COUNT, ...)                                        \
	static uint16_t dp_process_##var(struct rte_graph *graph, struct rte_node *node,           \
					 void **objs, uint16_t nb_objs)                            \
	{                                                                                          \
		return dp_node_run(graph, node, objs, nb_objs, CLASSIFY);                          \
	}                                                                                          \
	DP_NODE_REGISTER_(var, NAME, 0, dp_process_##var, NULL, CLASSIFY, EDGE_COUNT, __VA_ARGS__)

/* A node that decides each packet on its own: NEXT(m) -> its edge. NEXT is inlined. */
#define DP_NODE(var, NAME, NEXT, EDGE_COUNT, ...)                                                  \
	static void dp_classify_##var(struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n)       \
	{                                                                                          \
		for (uint16_t i = 0; i < n; i++)                                                   \
			nexts[i] = NEXT(pkts[i]);                                                  \
	}                                                                                          \
	DP_NODE_BURST(var, NAME, dp_classify_##var, EDGE_COUNT, __VA_ARGS__)

/* The same with state for one burst: NEXT(m, &ctx), ctx a CTX_TYPE zeroed per burst (e.g. the
 * previous packet's tunnel, which the next one usually shares). */
#define DP_NODE_CTX(var, NAME, CTX_TYPE, NEXT, EDGE_COUNT, ...)                                    \
	static void dp_classify_##var(struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n)       \
	{                                                                                          \
		CTX_TYPE ctx;                                                                      \
                                                                                                   \
		memset(&ctx, 0, sizeof(ctx));                                                      \
		for (uint16_t i = 0; i < n; i++)                                                   \
			nexts[i] = NEXT(pkts[i], &ctx);                                            \
	}                                                                                          \
	DP_NODE_BURST(var, NAME, dp_classify_##var, EDGE_COUNT, __VA_ARGS__)

/* Sources (rx) and sinks (tx) move packets in and out of the graph with their own process. */
#define DP_NODE_SOURCE(var, NAME, PROCESS, INIT, EDGE_COUNT, ...)                                  \
	DP_NODE_REGISTER_(var, NAME, RTE_NODE_SOURCE_F, PROCESS, INIT, NULL, EDGE_COUNT,           \
			  __VA_ARGS__)
#define DP_NODE_SINK(var, NAME, PROCESS, INIT, EDGE_COUNT, ...)                                    \
	DP_NODE_REGISTER_(var, NAME, 0, PROCESS, INIT, NULL, EDGE_COUNT, __VA_ARGS__)

/* A drop reason: a sink node named after it (e.g. cls_bad_ipv4). */
#define DP_DROP_REGISTER(reason)                                                                   \
	static struct rte_node_register dp_drop_node_##reason = {                                  \
		.name = #reason,                                                                   \
		.process = dp_drop_process,                                                        \
	};                                                                                         \
	RTE_INIT(dp_drop_register_##reason)                                                        \
	{                                                                                          \
		dp_drop_register(&dp_drop_node_##reason);                                          \
	}

/*
 * Per-port edges to the tx-<port> nodes. A node that sends packets out of ports declares a
 * table indexed by port id; the graph builder appends one edge per configured port and
 * stores its index there before the graph is created.
 */
struct dp_port_edges {
	const char *node;
	rte_edge_t *edges; /* DP_MAX_PORTS entries */
	struct dp_port_edges *next;
};
void dp_port_edges_register(struct dp_port_edges *reg);

#define DP_TX_EDGES(NODE, table)                                                                   \
	static rte_edge_t table[DP_MAX_PORTS];                                                     \
	static struct dp_port_edges dp_tx_edges_##table = {.node = NODE, .edges = table};          \
	RTE_INIT(dp_tx_edges_register_##table)                                                     \
	{                                                                                          \
		dp_port_edges_register(&dp_tx_edges_##table);                                      \
	}

#endif
