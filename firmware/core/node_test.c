/* SPDX-License-Identifier: Apache-2.0 */
/* dp_node_test(): a node's classification on a crafted packet (see dplane/core.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/core.h>

#include "ctl.h"
#include "graph.h"
#include "inject.h"
#include "mbuf.h"
#include "port.h"

_Static_assert(DP_NODE_TEST_ROOM <= 1558, "a test frame fits the data room of the pool's mbufs");
_Static_assert(DP_NODE_TEST_OUT_ROOM >= RTE_PKTMBUF_HEADROOM + 1558,
	       "whatever the nodes make of a frame fits the report");

static bool configured(uint16_t port_id)
{
	return port_id < DP_MAX_PORTS && dp_ports[port_id].configured;
}

static void meta_to_priv(const struct dp_pkt_meta *meta, struct dp_mbuf_priv *priv)
{
	memset(priv, 0, sizeof(*priv));
	priv->parse = meta->parse;
	priv->vni = meta->vni;
	priv->out_port = meta->out_port;
	priv->tun_port = meta->tun_port;
	priv->vnf_type = meta->vnf_type;
	priv->flow_dir = meta->flow_dir;
	priv->route_depth = meta->route_depth;
	priv->flow_hash = meta->flow_hash;
	memcpy(priv->nh_ipv6, meta->nh_ipv6, sizeof(priv->nh_ipv6));
}

static void priv_to_meta(const struct dp_mbuf_priv *priv, struct dp_pkt_meta *meta)
{
	memset(meta, 0, sizeof(*meta));
	meta->parse = priv->parse;
	meta->vni = priv->vni;
	meta->out_port = priv->out_port;
	meta->tun_port = priv->tun_port;
	meta->vnf_type = priv->vnf_type;
	meta->flow_dir = priv->flow_dir;
	meta->route_depth = priv->route_depth;
	meta->has_flow = priv->flow != NULL;
	meta->flow_hash = priv->flow_hash;
	memcpy(meta->nh_ipv6, priv->nh_ipv6, sizeof(meta->nh_ipv6));
}

int dp_node_test(const char *node, struct dp_node_test_pkt *pkt, unsigned int max_steps)
{
	char current[DP_NAME_LEN];
	dp_node_classify_fn classify;
	struct rte_mbuf *m;
	unsigned int steps = 0;
	uint8_t *data;
	int ret;

	DP_CTL_CHECK();
	if (!dp_core_running())
		return dp_errno(ENODEV);
	if (pkt->len > DP_NODE_TEST_ROOM || max_steps == 0 || max_steps > DP_NODE_TEST_MAX_STEPS)
		return dp_errno(EINVAL);
	/* nodes index their port tables with these: no packet of the graph has others */
	if (!configured(pkt->port) || !configured(pkt->meta.out_port) ||
	    !configured(pkt->meta.tun_port))
		return dp_errno(EINVAL);
	if (!dp_node_classifier(node))
		return dp_errno(ENOENT);
	m = dp_pkt_alloc_len(pkt->len, &data);
	if (!m)
		return dp_errno(ENOBUFS);
	memcpy(data, pkt->data, pkt->len);
	m->port = pkt->port;
	meta_to_priv(&pkt->meta, dp_mbuf_priv(m));
	if (pkt->parse)
		dp_parse_frame(data, pkt->len, &dp_mbuf_priv(m)->parse);

	snprintf(current, sizeof(current), "%s", node);
	while (steps < max_steps && (classify = dp_node_classifier(current)) != NULL) {
		rte_edge_t edge;

		classify(&m, &edge, 1);
		ret = dp_node_edge_name(current, edge, pkt->path[steps], DP_NAME_LEN);
		if (ret < 0) {
			rte_pktmbuf_free(m);
			return dp_errno(-ret);
		}
		snprintf(current, sizeof(current), "%s", pkt->path[steps]);
		steps++;
	}

	pkt->len = (uint16_t)RTE_MIN(rte_pktmbuf_data_len(m), (uint16_t)DP_NODE_TEST_OUT_ROOM);
	memcpy(pkt->data, rte_pktmbuf_mtod(m, const uint8_t *), pkt->len);
	priv_to_meta(dp_mbuf_priv(m), &pkt->meta);
	rte_pktmbuf_free(m);
	return (int)steps;
}
