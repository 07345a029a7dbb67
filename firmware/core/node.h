/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Graph node registration helpers.
 *
 * One node per file. Each node declares a local edge enum ending in <NODE>_EDGE_COUNT whose
 * first value is edge 0 = "drop", then registers itself with DP_NODE_REGISTER, giving a
 * designated-initializer next_nodes table; the macro refuses to compile when the table is
 * longer than the enum, and refuses to start when it has holes.
 *
 * Every failure leaves a node through an edge to a named drop node "<node>_<reason>",
 * declared with DP_DROP_REGISTER(<node>_<reason>): a sink that frees the packets and
 * counts them per worker (dp_drop_reason_packets()).
 */
#ifndef DP_NODE_H
#define DP_NODE_H

#include <rte_common.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include <dplane/core.h>

#include "trace_dp.h"

void dp_node_register(struct rte_node_register *reg);
/* Index of the edge from node `from` to node `to`, appended if missing (before graph creation). */
int dp_node_edge_by_name(const char *from, const char *to);
void dp_drop_register(struct rte_node_register *reg);
uint16_t dp_drop_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			 uint16_t nb_objs);

/* The registered process function is PROCESS behind the packet-trace hook (trace_dp.h). */
#define DP_NODE_REGISTER(var, NAME, FLAGS, PROCESS, INIT, EDGE_COUNT, ...)                   \
	static uint16_t dp_traced_##var(struct rte_graph *graph, struct rte_node *node,      \
					void **objs, uint16_t nb_objs)                       \
	{                                                                                    \
		if (!((FLAGS) & RTE_NODE_SOURCE_F) && dp_trace_enabled()) /* sources: no input */ \
			return dp_trace_process(graph, node, objs, nb_objs, PROCESS);        \
		return PROCESS(graph, node, objs, nb_objs);                                  \
	}                                                                                    \
	static struct rte_node_register var = {                                              \
		.name = NAME,                                                                \
		.flags = FLAGS,                                                              \
		.process = dp_traced_##var,                                                  \
		.init = INIT,                                                                \
		.nb_edges = EDGE_COUNT,                                                      \
		.next_nodes = {__VA_ARGS__},                                                 \
	};                                                                                   \
	_Static_assert(sizeof((const char *[]){__VA_ARGS__}) / sizeof(const char *) ==        \
			       (EDGE_COUNT),                                                 \
		       NAME ": next_nodes must name every edge of the enum");                \
	RTE_INIT(dp_node_register_##var)                                                      \
	{                                                                                    \
		dp_node_register(&var);                                                      \
	}

/* A drop reason: a sink node named after it (e.g. cls_bad_ipv4). */
#define DP_DROP_REGISTER(reason)                                                             \
	static struct rte_node_register dp_drop_node_##reason = {                            \
		.name = #reason,                                                             \
		.process = dp_drop_process,                                                  \
	};                                                                                   \
	RTE_INIT(dp_drop_register_##reason)                                                   \
	{                                                                                    \
		dp_drop_register(&dp_drop_node_##reason);                                    \
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

#define DP_TX_EDGES(NODE, table)                                                             \
	static rte_edge_t table[DP_MAX_PORTS];                                               \
	static struct dp_port_edges dp_tx_edges_##table = {.node = NODE, .edges = table};    \
	RTE_INIT(dp_tx_edges_register_##table)                                                \
	{                                                                                    \
		dp_port_edges_register(&dp_tx_edges_##table);                                \
	}

/*
 * Hand a burst to its next nodes: one stream move when every packet goes the same way
 * (the common case), per-packet enqueue otherwise.
 */
static inline void dp_enqueue_burst(struct rte_graph *graph, struct rte_node *node, void **objs,
				    const rte_edge_t *nexts, uint16_t nb_objs)
{
	uint16_t i;

	for (i = 1; i < nb_objs; i++)
		if (nexts[i] != nexts[0])
			break;
	if (likely(i == nb_objs)) {
		if (objs == node->objs)
			rte_node_next_stream_move(graph, node, nexts[0]);
		else
			rte_node_enqueue(graph, node, nexts[0], objs, nb_objs);
		return;
	}
	for (i = 0; i < nb_objs; i++)
		rte_node_enqueue_x1(graph, node, nexts[i], objs[i]);
}

/*
 * The process function of a node that decides each packet on its own: next() gives each
 * packet's edge, then the burst moves on. Always inlined, and next() with it (it is a
 * constant at every call). dp_node_each_ctx() hands next() the node's state for one burst.
 */
static __rte_always_inline uint16_t dp_node_each(struct rte_graph *graph, struct rte_node *node,
						 void **objs, uint16_t nb_objs,
						 rte_edge_t (*next)(struct rte_mbuf *m))
{
	rte_edge_t nexts[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++)
		nexts[i] = next((struct rte_mbuf *)objs[i]);
	dp_enqueue_burst(graph, node, objs, nexts, nb_objs);
	return nb_objs;
}

static __rte_always_inline uint16_t
dp_node_each_ctx(struct rte_graph *graph, struct rte_node *node, void **objs, uint16_t nb_objs,
		 rte_edge_t (*next)(struct rte_mbuf *m, void *ctx), void *ctx)
{
	rte_edge_t nexts[RTE_GRAPH_BURST_SIZE];

	for (uint16_t i = 0; i < nb_objs; i++)
		nexts[i] = next((struct rte_mbuf *)objs[i], ctx);
	dp_enqueue_burst(graph, node, objs, nexts, nb_objs);
	return nb_objs;
}

#endif
