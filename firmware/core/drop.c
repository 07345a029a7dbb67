/* SPDX-License-Identifier: Apache-2.0 */
/* Drop nodes: free the packets and count them, one counter per reason and worker. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>

#include <dplane/trace.h>

#include "ctl.h"
#include "node.h"
#include "worker.h"

#define DP_MAX_DROP_REASONS 256

struct drop_ctx {
	uint64_t packets; /* written by the worker owning the graph, read by control */
};
_Static_assert(sizeof(struct drop_ctx) <= RTE_NODE_CTX_SZ, "drop ctx too large");

static const char *drop_reasons[DP_MAX_DROP_REASONS];
static unsigned int nb_drop_reasons;

uint16_t dp_drop_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			 uint16_t nb_objs)
{
	struct drop_ctx *ctx = (struct drop_ctx *)node->ctx;

	dp_trace_hook(node, objs, nb_objs, DP_TRACE_F_DROP); /* the reason is this node's name */
	rte_pktmbuf_free_bulk((struct rte_mbuf **)objs, nb_objs);
	__atomic_store_n(&ctx->packets, ctx->packets + nb_objs, __ATOMIC_RELAXED);
	return nb_objs;
}

void dp_drop_register(struct rte_node_register *reg)
{
	if (nb_drop_reasons == DP_MAX_DROP_REASONS) {
		fprintf(stderr, "too many drop reasons (%s)\n", reg->name);
		abort();
	}
	drop_reasons[nb_drop_reasons++] = reg->name;
	dp_node_register(reg, NULL);
}

/* Edge 0 of every node. Nothing should reach it: every failure has a reason of its own. */
DP_DROP_REGISTER(drop);

unsigned int dp_drop_reason_count(void)
{
	return nb_drop_reasons;
}

const char *dp_drop_reason_name(unsigned int idx)
{
	return idx < nb_drop_reasons ? drop_reasons[idx] : NULL;
}

int dp_drop_reason_packets(unsigned int idx, uint64_t *packets)
{
	struct rte_node *node;

	DP_CTL_CHECK();
	if (idx >= nb_drop_reasons)
		return dp_errno(ENOENT);
	*packets = 0;
	if (!dp_core_running())
		return 0;
	node = rte_graph_node_get_by_name(dp_worker.graph_name, drop_reasons[idx]);
	if (node) /* not in the graph: no edge leads there, nothing dropped */
		*packets =
			__atomic_load_n(&((struct drop_ctx *)node->ctx)->packets, __ATOMIC_RELAXED);
	return 0;
}
