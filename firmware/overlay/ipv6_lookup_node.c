/* SPDX-License-Identifier: Apache-2.0 */
/* ipv6_lookup: the route of a VM's IPV6 packet in its VNI: another VM on this host, or an
 * underlay next hop (route.h does the work for both families). */
#include <rte_mbuf.h>

#include "node.h"
#include "route.h"

static rte_edge_t ipv6_route(struct rte_mbuf *m, void *cache)
{
	return dp_route_lookup(m, cache, false);
}

static uint16_t ipv6_lookup_process(struct rte_graph *graph, struct rte_node *node,
				    void **objs, uint16_t nb_objs)
{
	struct dp_vni_cache cache = {0};

	return dp_node_each_ctx(graph, node, objs, nb_objs, ipv6_route, &cache);
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
