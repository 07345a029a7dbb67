/* SPDX-License-Identifier: Apache-2.0 */
/* Per-packet metadata, kept in the mbuf private area. Small typed structs, one per stage. */
#ifndef DP_MBUF_H
#define DP_MBUF_H

#include <rte_mbuf.h>

#include <dplane/parse.h>

#define DP_MBUF_PRIV_SIZE 192

struct dp_ct_flow;

/* Written by cls (parse), ipip_decap and conntrack (flow), the lookup nodes (route). */
struct dp_mbuf_priv {
	struct dp_parse parse;   /* of the frame as it is now (the inner one after decap) */
	uint32_t vni;            /* overlay network of the packet */
	uint16_t out_port;       /* where it leaves: a VF, or a PF (then encapsulated) */
	uint16_t tun_port;       /* VF whose underlay address is the tunnel source */
	uint8_t vnf_type;        /* enum dp_vnf_type it arrived through (from a PF), or 0 */
	uint8_t flow_dir;        /* enum dp_flow_dir */
	uint8_t route_depth;     /* of the route taken: 0 = default route (south-north) */
	uint8_t relay;           /* what packet_relay does with it: enum dp_relay */
	uint32_t flow_hash;      /* of the flow's original key (multipath) */
	struct dp_ct_flow *flow; /* conntrack entry, valid until the end of the graph walk */
	uint8_t nh_ipv6[16];     /* tunnel destination when out_port is a PF */
	uint8_t ul_src[16];      /* from the underlay: the tunnel's source (ipip_decap) */
	/* The fast path in front of the graph (fastpath.h): whether it read the packet as it
	 * came in, and what it read, for the offload of the packet's flow when it leaves. */
	uint8_t fastpath_read;
	uint64_t fastpath[14];
};

/* tun_port of a packet whose tunnel source is not an interface's nor the host's: ul_src */
#define DP_TUN_PORT_UL_SRC 0xfffe

enum dp_relay {
	DP_RELAY_TO_NH = 0, /* unchanged, to the underlay address in nh_ipv6 */
	DP_RELAY_ECHO,      /* an ICMP or ICMPv6 echo request: answered, to ul_src */
};

_Static_assert(sizeof(struct dp_mbuf_priv) <= DP_MBUF_PRIV_SIZE, "mbuf private area too small");
_Static_assert(DP_MBUF_PRIV_SIZE % RTE_MBUF_PRIV_ALIGN == 0, "mbuf private area misaligned");

static inline struct dp_mbuf_priv *dp_mbuf_priv(struct rte_mbuf *m)
{
	return (struct dp_mbuf_priv *)rte_mbuf_to_priv(m);
}

#endif
