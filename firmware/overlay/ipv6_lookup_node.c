/* SPDX-License-Identifier: Apache-2.0 */
/* ipv6_lookup: the route of a VM's IPV6 packet in its VNI: another VM on this host, or an
 * underlay next hop. */
#include <rte_byteorder.h>
#include <rte_mbuf.h>

#include "mbuf.h"
#include "node.h"
#include "route.h"
#include "vni_dp.h"

enum {
	LOOKUP_DROP = 0,
	LOOKUP_FIREWALL,
	LOOKUP_NO_VNI,
	LOOKUP_NO_ROUTE,
	LOOKUP_BAD_NEXTHOP,
	LOOKUP_EDGE_COUNT,
};

/* The VNI of the previous packet of the burst: usually the next one's too. */
struct vni_cache {
	uint32_t vni;
	const struct dp_vni_dp *v;
};

static inline rte_edge_t lookup(struct rte_mbuf *m, struct vni_cache *cache)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const uint8_t *data = rte_pktmbuf_mtod(m, const uint8_t *);
	const struct dp_nexthop *nh;
	const struct dp_vni_dp *v;

	if (likely(cache->v && cache->vni == priv->vni)) {
		v = cache->v;
	} else {
		v = dp_vni_lookup(priv->vni);
		if (unlikely(!v))
			return LOOKUP_NO_VNI;
		cache->vni = priv->vni;
		cache->v = v;
	}
	nh = dp_fib6_lookup(v, data + priv->parse.l3_off + 24);
	if (unlikely(!nh))
		return LOOKUP_NO_ROUTE;
	if (unlikely(!dp_route_apply(m, nh, false)))
		return LOOKUP_BAD_NEXTHOP;
	return LOOKUP_FIREWALL;
}

static uint16_t ipv6_lookup_process(struct rte_graph *graph, struct rte_node *node,
				    void **objs, uint16_t nb_objs)
{
	rte_edge_t nexts[RTE_GRAPH_BURST_SIZE];
	struct vni_cache cache = {0};

	for (uint16_t i = 0; i < nb_objs; i++)
		nexts[i] = lookup((struct rte_mbuf *)objs[i], &cache);
	dp_enqueue_burst(graph, node, objs, nexts, nb_objs);
	return nb_objs;
}

DP_NODE_REGISTER(ipv6_lookup_node, "ipv6_lookup", 0, ipv6_lookup_process, NULL,
		 LOOKUP_EDGE_COUNT,
		 [LOOKUP_DROP] = "drop",
		 [LOOKUP_FIREWALL] = "firewall",
		 [LOOKUP_NO_VNI] = "ipv6_lookup_no_vni",
		 [LOOKUP_NO_ROUTE] = "ipv6_lookup_no_route",
		 [LOOKUP_BAD_NEXTHOP] = "ipv6_lookup_bad_nexthop");

DP_DROP_REGISTER(ipv6_lookup_no_vni);
DP_DROP_REGISTER(ipv6_lookup_no_route);
DP_DROP_REGISTER(ipv6_lookup_bad_nexthop);
