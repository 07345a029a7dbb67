/* SPDX-License-Identifier: Apache-2.0 */
/*
 * packet_relay: what the host sends back into the underlay on nobody's behalf, out of the PF
 * the packet came in on, from the host's own underlay address (--ipv6):
 *
 *  - a new flow to a NAT IP whose port is in another host's range (dnat found it, and put
 *    that host's underlay address in nh_ipv6), or a fragment of such a datagram: relayed,
 *    unchanged, to that host;
 *  - an ICMP echo request to a NAT IP, or an ICMP or ICMPv6 one to a load balancer's address:
 *    answered, to the underlay address it came from.
 *
 * Which of the two, the node that sends the packet here says (dp_mbuf_priv.relay).
 */
#include <netinet/in.h>

#include <rte_mbuf.h>

#include "mbuf.h"
#include "nat_rewrite.h"
#include "node.h"

enum {
	RELAY_DROP = 0,
	RELAY_IPIP_ENCAP,
	RELAY_BAD_PACKET,
	RELAY_EDGE_COUNT,
};

#define ICMP_ECHO_REPLY 0
#define ICMP6_ECHO_REQUEST 128
#define ICMP6_ECHO_REPLY 129
#define ECHO_REPLY_TTL 64

/* The request turned into its reply, in place: addresses swapped (the IPv4 checksum does not
 * change with their order), a fresh TTL, type 0 (the ICMP checksum follows the type). */
static inline bool echo_reply(uint8_t *l3, uint32_t len, uint32_t l4_off)
{
	uint8_t addr[4], old[2], new[2];

	if (len < 20 || l4_off < 20 || len - l4_off < 8)
		return false;
	memcpy(addr, l3 + 12, 4);
	memcpy(l3 + 12, l3 + 16, 4);
	memcpy(l3 + 16, addr, 4);
	memcpy(old, l3 + 8, 2);
	l3[8] = ECHO_REPLY_TTL;
	memcpy(new, l3 + 8, 2);
	dp_cksum_replace(l3 + 10, old, new, 2);
	memcpy(old, l3 + l4_off, 2);
	l3[l4_off] = ICMP_ECHO_REPLY;
	l3[l4_off + 1] = 0;
	memcpy(new, l3 + l4_off, 2);
	dp_cksum_replace(l3 + l4_off + 2, old, new, 2);
	nat_icmp_sum_fix(l3 + l4_off, len - l4_off);
	return true;
}

/* The same for ICMPv6: the pseudo-header's sum does not change with the addresses' order,
 * and the hop limit is not in it. */
static inline bool echo6_reply(uint8_t *l3, uint32_t len, uint32_t l4_off)
{
	uint8_t addr[16], old[2], new[2];

	if (len < 40 || l4_off < 40 || len - l4_off < 8 || l3[l4_off] != ICMP6_ECHO_REQUEST)
		return false;
	memcpy(addr, l3 + 8, 16);
	memcpy(l3 + 8, l3 + 24, 16);
	memcpy(l3 + 24, addr, 16);
	l3[7] = ECHO_REPLY_TTL;
	memcpy(old, l3 + l4_off, 2);
	l3[l4_off] = ICMP6_ECHO_REPLY;
	l3[l4_off + 1] = 0;
	memcpy(new, l3 + l4_off, 2);
	dp_cksum_replace(l3 + l4_off + 2, old, new, 2);
	return true;
}

static inline rte_edge_t relay_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	uint8_t *l3;
	uint32_t len, l4_off;
	bool ok;

	if (priv->relay == DP_RELAY_ECHO) {
		if (unlikely(!priv->parse.l4_off))
			return RELAY_BAD_PACKET;
		l3 = rte_pktmbuf_mtod(m, uint8_t *) + priv->parse.l3_off;
		len = rte_pktmbuf_data_len(m) - priv->parse.l3_off;
		l4_off = (uint32_t)(priv->parse.l4_off - priv->parse.l3_off);
		ok = priv->parse.l3_type == DP_L3_IPV4 ? echo_reply(l3, len, l4_off)
						       : echo6_reply(l3, len, l4_off);
		if (unlikely(!ok))
			return RELAY_BAD_PACKET;
		memcpy(priv->nh_ipv6, priv->ul_src, 16);
	} /* else a relay: the sender has put the other host's underlay address in nh_ipv6 */
	/* back where it came from, with the host as the tunnel's source */
	priv->out_port = m->port;
	priv->tun_port = m->port;
	return RELAY_IPIP_ENCAP;
}

/* clang-format off */
DP_NODE(packet_relay_node, "packet_relay", relay_next, RELAY_EDGE_COUNT,
	[RELAY_DROP] = "drop",
	[RELAY_IPIP_ENCAP] = "ipip_encap",
	[RELAY_BAD_PACKET] = "packet_relay_bad_packet");
/* clang-format on */

DP_DROP_REGISTER(packet_relay_bad_packet);
