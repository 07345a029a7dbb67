/* SPDX-License-Identifier: Apache-2.0 */
/* ipv6_lookup: the route of a VM's IPV6 packet in its VNI: another VM on this host, or an
 * underlay next hop (route.h does the work for both families), then the EGRESS chain. */
#include <rte_mbuf.h>

#include "node.h"
#include "path.h"
#include "route.h"

DP_CHAIN_ENTRY(ipv6_egress, DP_CHAIN_EGRESS, "ipv6_lookup");

static inline rte_edge_t ipv6_route(struct rte_mbuf *m, struct dp_vni_cache *cache)
{
	rte_edge_t edge = dp_route_lookup(m, cache, false);

	return likely(edge == LOOKUP_OK) ? dp_chain_entry_next(&ipv6_egress, m) : edge;
}

/* clang-format off */
DP_NODE_CTX(ipv6_lookup_node, "ipv6_lookup", struct dp_vni_cache, ipv6_route,
	LOOKUP_EDGE_COUNT,
	[LOOKUP_DROP] = "drop",
	[LOOKUP_NO_VNI] = "ipv6_lookup_no_vni",
	[LOOKUP_NO_ROUTE] = "ipv6_lookup_no_route",
	[LOOKUP_BAD_NEXTHOP] = "ipv6_lookup_bad_nexthop");
/* clang-format on */

DP_DROP_REGISTER(ipv6_lookup_no_vni);
DP_DROP_REGISTER(ipv6_lookup_no_route);
DP_DROP_REGISTER(ipv6_lookup_bad_nexthop);
