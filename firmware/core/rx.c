/* SPDX-License-Identifier: Apache-2.0 */
/* rx-<port>-0: source node, one clone per port, reads queue 0 of its port. */
#include <stdio.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "fastpath.h"

#include "node.h"
#include "port.h"
#include "worker.h"

enum {
	RX_DROP = 0,
	RX_CLS,
	RX_EDGE_COUNT,
};

struct rx_ctx {
	uint16_t port_id;
};
_Static_assert(sizeof(struct rx_ctx) <= RTE_NODE_CTX_SZ, "rx ctx too large");

static int rx_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct rx_ctx *ctx = (struct rx_ctx *)node->ctx;
	unsigned int port_id, queue;

	/* the clone's name carries its port: "rx-<port>-<queue>" */
	if (sscanf(node->name, "rx-%u-%u", &port_id, &queue) != 2 || port_id >= DP_MAX_PORTS)
		return -EINVAL;
	ctx->port_id = (uint16_t)port_id;
	return 0;
}

static uint16_t rx_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb_objs)
{
	const struct rx_ctx *ctx = (const struct rx_ctx *)node->ctx;
	dp_rx_fastpath_fn fastpath = dp_rx_fastpath;
	uint16_t n, got;

	if (!dp_port_rx_enabled(ctx->port_id))
		return 0;
	got = rte_eth_rx_burst(ctx->port_id, 0, (struct rte_mbuf **)node->objs, DP_RX_BURST);
	if (got == 0)
		return 0;
	dp_worker.rx_packets += got; /* one worker today: per-worker once there are more */
	n = got;
	if (fastpath) {
		n = fastpath(ctx->port_id, (struct rte_mbuf **)node->objs, got, rte_rdtsc());
		if (n == 0)
			return got;
	}
	node->idx = n;
	rte_node_next_stream_move(graph, node, RX_CLS);
	return got;
}

/* clang-format off */
DP_NODE_SOURCE(rx_node, "rx", rx_process, rx_init, RX_EDGE_COUNT,
	[RX_DROP] = "drop", [RX_CLS] = "cls");
/* clang-format on */
