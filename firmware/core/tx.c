/* SPDX-License-Identifier: Apache-2.0 */
/* tx-<port>: sink node, one clone per port, sends on queue 0 of its port. */
#include <stdio.h>

#include <rte_ethdev.h>

#include "fastpath.h"
#include "node.h"
#include "port.h"

enum {
	TX_DROP = 0,
	TX_QUEUE_FULL,
	TX_PORT_DOWN,
	TX_EDGE_COUNT,
};

struct tx_ctx {
	uint16_t port_id;
};
_Static_assert(sizeof(struct tx_ctx) <= RTE_NODE_CTX_SZ, "tx ctx too large");

static int tx_init(const struct rte_graph *graph, struct rte_node *node)
{
	struct tx_ctx *ctx = (struct tx_ctx *)node->ctx;
	unsigned int port_id;

	if (sscanf(node->name, "tx-%u", &port_id) != 1 || port_id >= DP_MAX_PORTS)
		return -EINVAL;
	ctx->port_id = (uint16_t)port_id;
	return 0;
}

static uint16_t tx_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			   uint16_t nb_objs)
{
	const struct tx_ctx *ctx = (const struct tx_ctx *)node->ctx;
	dp_tx_observer_fn observer = dp_tx_observer;
	uint16_t sent;

	if (unlikely(!dp_port_tx_enabled(ctx->port_id))) {
		rte_node_enqueue(graph, node, TX_PORT_DOWN, objs, nb_objs);
		return nb_objs;
	}
	if (observer)
		observer(ctx->port_id, (struct rte_mbuf **)objs, nb_objs);
	sent = rte_eth_tx_burst(ctx->port_id, 0, (struct rte_mbuf **)objs, nb_objs);
	if (unlikely(sent < nb_objs))
		rte_node_enqueue(graph, node, TX_QUEUE_FULL, &objs[sent], nb_objs - sent);
	return nb_objs;
}

/* clang-format off */
DP_NODE_SINK(tx_node, "tx", tx_process, tx_init, TX_EDGE_COUNT,
	[TX_DROP] = "drop", [TX_QUEUE_FULL] = "tx_queue_full",
	[TX_PORT_DOWN] = "tx_port_down");
/* clang-format on */

dp_rx_fastpath_fn dp_rx_fastpath;
dp_tx_observer_fn dp_tx_observer;
dp_port_hook_fn dp_port_started;
dp_port_hook_fn dp_port_stopping;
uint32_t dp_fwd_epoch;

DP_DROP_REGISTER(tx_queue_full);
DP_DROP_REGISTER(tx_port_down);
