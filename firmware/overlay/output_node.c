/* SPDX-License-Identifier: Apache-2.0 */
/*
 * output: the end of the EGRESS chain (path.h). A packet leaves out of the port its route (or
 * the underlay address it came through) chose: a VM's VF as it is, a PF through ipip_encap.
 * The stages before it (firewall, NAT, ...) have had their say.
 */
#include <rte_mbuf.h>

#include "mbuf.h"
#include "node.h"
#include "port.h"

enum {
	OUTPUT_DROP = 0,
	OUTPUT_IPIP_ENCAP,
	OUTPUT_EDGE_COUNT,
};

DP_TX_EDGES("output", output_tx);

static inline rte_edge_t output_next(struct rte_mbuf *m)
{
	uint16_t port = dp_mbuf_priv(m)->out_port;

	if (dp_ports[port].role == DP_PORT_PF)
		return OUTPUT_IPIP_ENCAP;
	return output_tx[port];
}

/* clang-format off */
DP_NODE(output_node, "output", output_next, OUTPUT_EDGE_COUNT,
	[OUTPUT_DROP] = "drop",
	[OUTPUT_IPIP_ENCAP] = "ipip_encap");
/* clang-format on */
