/* SPDX-License-Identifier: Apache-2.0 */
/* What ipv4_lookup and ipv6_lookup share: their edges, the route lookup in the packet's VNI
 * and applying the next hop to the packet. */
#ifndef DP_OVERLAY_ROUTE_H
#define DP_OVERLAY_ROUTE_H

#include <stdbool.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_graph.h>
#include <rte_mbuf.h>

#include "mbuf.h"
#include "overlay_dp.h"
#include "port.h"
#include "vni_dp.h"

/* The PF for IPv4 traffic to the underlay (dpservice's multipath): with --wcmp < 100, a
 * 10-slot table, round(wcmp / 10) slots for PF0 and the rest for PF1, indexed by the flow
 * hash; otherwise PF0. A chosen PF whose link is down gives way to the other. */
static inline uint16_t dp_multipath_pf(uint32_t flow_hash)
{
	unsigned int pf = 0;
	uint16_t port, other;

	if (dp_overlay_wcmp < 100 && flow_hash % 10 >= (dp_overlay_wcmp + 5u) / 10)
		pf = 1;
	port = dp_pf_ports[pf];
	other = dp_pf_ports[!pf];
	if (port == DP_PORT_NONE ||
	    (!dp_port_link_up(port) && other != DP_PORT_NONE && dp_port_link_up(other)))
		return other;
	return port;
}

/* Point the packet at the next hop. Returns false when the route leads nowhere usable. */
static inline bool dp_route_apply(struct rte_mbuf *m, const struct dp_nexthop *nh, bool ipv4)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	uint16_t port = nh->port_id;

	if (unlikely(port >= DP_MAX_PORTS || !dp_ports[port].configured))
		return false;
	priv->route_depth = nh->depth;
	if (dp_ports[port].role == DP_PORT_PF) {
		priv->out_port = ipv4 ? dp_multipath_pf(priv->flow_hash) : port;
		memcpy(priv->nh_ipv6, nh->nh_ipv6, sizeof(priv->nh_ipv6));
		return priv->out_port != DP_PORT_NONE;
	}
	/* to a VM on this host: the frame is rewritten for its VF */
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);

	priv->out_port = port;
	dp_port_vm_mac(port, &eth->dst_addr);
	rte_ether_addr_copy(&dp_ports[port].mac, &eth->src_addr);
	return true;
}

/* The edges of both lookup nodes (the way on is the EGRESS chain: LOOKUP_OK stands for it). */
enum {
	LOOKUP_DROP = 0,
	LOOKUP_NO_VNI,
	LOOKUP_NO_ROUTE,
	LOOKUP_BAD_NEXTHOP,
	LOOKUP_EDGE_COUNT,
	LOOKUP_OK = LOOKUP_EDGE_COUNT,
};

/* The VNI of the previous packet of the burst: usually the next one's too. */
struct dp_vni_cache {
	uint32_t vni;
	const struct dp_vni_dp *v;
};

static inline rte_edge_t dp_route_lookup(struct rte_mbuf *m, struct dp_vni_cache *cache, bool ipv4)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const uint8_t *dst =
		rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l3_off + (ipv4 ? 16 : 24);
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
	if (ipv4) {
		uint32_t ip;

		memcpy(&ip, dst, sizeof(ip));
		nh = dp_fib4_lookup(v, rte_be_to_cpu_32(ip));
	} else {
		nh = dp_fib6_lookup(v, dst);
	}
	if (unlikely(!nh))
		return LOOKUP_NO_ROUTE;
	if (unlikely(!dp_route_apply(m, nh, ipv4)))
		return LOOKUP_BAD_NEXTHOP;
	return LOOKUP_OK;
}

#endif
