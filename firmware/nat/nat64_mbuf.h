/* SPDX-License-Identifier: Apache-2.0 */
/* NAT64 on an mbuf: the header translation of nat64.h, the frame's L2 header moved with it,
 * the parse results the later nodes read updated. Worker only. */
#ifndef DP_NAT64_MBUF_H
#define DP_NAT64_MBUF_H

#include <rte_ether.h>
#include <rte_mbuf.h>

#include "mbuf.h"
#include "nat64.h"

#define NAT64_GROWTH 20 /* an IPv6 header is 20 bytes longer than an IPv4 one */

/* Whether the packet can be translated: one segment, a whole datagram, no IPv6 extension
 * headers or IPv4 options (nat64.h refuses the latter). */
static inline bool nat64_translatable(const struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	return m->nb_segs == 1 && priv->parse.l4_off &&
	       !(priv->parse.flags &
		 (DP_PARSE_F_FRAGMENT | DP_PARSE_F_NO_L4 | DP_PARSE_F_IPV6_EXT)) &&
	       (uint32_t)priv->parse.l3_off + priv->parse.l3_len <= rte_pktmbuf_data_len(m);
}

static inline void nat64_set_ethertype(uint8_t *frame, uint16_t l3_off, uint16_t type)
{
	frame[l3_off - 2] = (uint8_t)(type >> 8);
	frame[l3_off - 1] = (uint8_t)type;
}

/* The VM's IPv6 packet as IPv4 from nat_ip, port. */
static inline bool nat64_mbuf_6to4(struct rte_mbuf *m, struct dp_mbuf_priv *priv,
				   const uint8_t nat_ip[4], uint16_t port)
{
	uint16_t l3_off = priv->parse.l3_off, l3_len = priv->parse.l3_len;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);

	if (!nat64_translatable(m, priv) ||
	    dp_nat64_6to4_inline(frame + l3_off, l3_len, frame + l3_off + NAT64_GROWTH, nat_ip,
				 port) < 0)
		return false;
	memmove(frame + NAT64_GROWTH, frame, l3_off);
	rte_pktmbuf_adj(m, NAT64_GROWTH);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - (l3_off + l3_len - NAT64_GROWTH)));
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	nat64_set_ethertype(frame, l3_off, RTE_ETHER_TYPE_IPV4);
	priv->parse.ethertype = RTE_ETHER_TYPE_IPV4;
	priv->parse.l3_type = DP_L3_IPV4;
	priv->parse.l3_len = (uint16_t)(l3_len - NAT64_GROWTH);
	priv->parse.l4_off = (uint16_t)(l3_off + 20);
	priv->parse.l4_proto = frame[l3_off + 9];
	priv->parse.flags = 0;
	return true;
}

/* A reply as IPv6 from src to dst, destination port (echo identifier) port. */
static inline bool nat64_mbuf_4to6(struct rte_mbuf *m, struct dp_mbuf_priv *priv,
				   const uint8_t dst[16], uint16_t port)
{
	uint16_t l3_off = priv->parse.l3_off, l3_len = priv->parse.l3_len;
	uint8_t *frame, src[16];

	if (!nat64_translatable(m, priv))
		return false;
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	memcpy(src, dp_nat64_prefix, 12);
	memcpy(src + 12, frame + l3_off + 12, 4);
	rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - (l3_off + l3_len)));
	if (!rte_pktmbuf_prepend(m, NAT64_GROWTH))
		return false;
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	/* the L2 header first: the IPv6 header takes its place */
	memmove(frame, frame + NAT64_GROWTH, l3_off);
	if (dp_nat64_4to6_inline(frame + l3_off + NAT64_GROWTH, l3_len, frame + l3_off, src, dst,
				 port) < 0) {
		memmove(frame + NAT64_GROWTH, frame, l3_off);
		rte_pktmbuf_adj(m, NAT64_GROWTH);
		return false;
	}
	nat64_set_ethertype(frame, l3_off, RTE_ETHER_TYPE_IPV6);
	priv->parse.ethertype = RTE_ETHER_TYPE_IPV6;
	priv->parse.l3_type = DP_L3_IPV6;
	priv->parse.l3_len = (uint16_t)(l3_len + NAT64_GROWTH);
	priv->parse.l4_off = (uint16_t)(l3_off + 40);
	priv->parse.l4_proto = frame[l3_off + 6];
	priv->parse.flags = 0;
	return true;
}

#endif
