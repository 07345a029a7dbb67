/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: the last stage before a packet leaves: to a VM's VF, or into a tunnel to the
 * underlay. Interfaces have no firewall rules yet (the firewall RPCs come with their own
 * feature), so every flow passes; this is where their verdict will be applied.
 */
#include <rte_mbuf.h>

#include "mbuf.h"
#include "node.h"
#include "port.h"

enum {
	FW_DROP = 0,
	FW_IPIP_ENCAP,
	FW_EDGE_COUNT,
};

DP_TX_EDGES("firewall", firewall_tx);

static inline rte_edge_t forward(struct rte_mbuf *m)
{
	uint16_t port = dp_mbuf_priv(m)->out_port;

	if (dp_ports[port].role == DP_PORT_PF)
		return FW_IPIP_ENCAP;
	return firewall_tx[port];
}

static uint16_t firewall_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				 uint16_t nb_objs)
{
	return dp_node_each(graph, node, objs, nb_objs, forward);
}

DP_NODE_REGISTER(firewall_node, "firewall", 0, firewall_process, NULL, FW_EDGE_COUNT,
		 [FW_DROP] = "drop",
		 [FW_IPIP_ENCAP] = "ipip_encap");
