/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: the end of the EGRESS chain (path.h). A packet leaves out of the port its route (or
 * the underlay address it came through) chose: a VM's VF as it is, a PF through ipip_encap.
 * The stages before it (firewall, NAT, ...) have had their say, so this is where a new flow's
 * reply key, as they left it, goes into the conntrack table.
 */
#include <rte_mbuf.h>

#include "ct.h"
#include "mbuf.h"
#include "node.h"
#include "port.h"

enum {
	OUTPUT_DROP = 0,
	OUTPUT_IPIP_ENCAP,
	OUTPUT_REPLY_TAKEN,
	OUTPUT_EDGE_COUNT,
};

DP_TX_EDGES("output", output_tx);

static inline rte_edge_t output_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	uint16_t port = priv->out_port;

	if (priv->flow && unlikely(!priv->flow->reply_in) && priv->flow_dir == DP_FLOW_DIR_ORIG &&
	    unlikely(!dp_ct_reply_publish(priv->flow, port)))
		return OUTPUT_REPLY_TAKEN;
	if (dp_ports[port].role == DP_PORT_PF)
		return OUTPUT_IPIP_ENCAP;
	return output_tx[port];
}

/* clang-format off */
DP_NODE(output_node, "output", output_next, OUTPUT_EDGE_COUNT,
	[OUTPUT_DROP] = "drop",
	[OUTPUT_IPIP_ENCAP] = "ipip_encap",
	[OUTPUT_REPLY_TAKEN] = "output_reply_taken");
/* clang-format on */

DP_DROP_REGISTER(output_reply_taken);
