/* SPDX-License-Identifier: Apache-2.0 */
/*
 * snat: the EGRESS stage that gives a VM's south-north flows their public source. On a
 * flow's first packet it decides: a VM with a NAT gets a port of its range (dpservice's
 * choice, nat_ports.c), one with only a VIP its VIP, any other flow nothing; the flow's reply
 * key becomes what the replies will carry (to the NAT IP and port, or to the VIP), and the
 * flow's later packets are rewritten from what the flow keeps. It also gives the VM's
 * answers to a flow that came in through its VIP the VIP as source.
 *
 * South-north: from a VM's VF, out to the underlay, by a default route (depth 0). IPv4; and
 * IPv6 to 64:ff9b::/96 from a VM with a NAT: NAT64, the packet leaves as IPv4 from the NAT
 * IP and a port of the same range (nat64.h).
 */
#include <netinet/in.h>

#include <rte_mbuf.h>

#include <dplane/vnf.h>

#include "mbuf.h"
#include "nat64_mbuf.h"
#include "nat_dp.h"
#include "nat_frag.h"
#include "nat_rewrite.h"
#include "node.h"
#include "path.h"
#include "port.h"

enum {
	SNAT_DROP = 0,
	SNAT_PORTS_EXHAUSTED,
	SNAT_PORT_TAKEN,
	SNAT_FRAGMENT,
	SNAT_BAD_PACKET,
	SNAT_NAT64_UNSUPPORTED,
	SNAT_TABLE_FULL,
	SNAT_EDGE_COUNT,
	SNAT_OK = SNAT_EDGE_COUNT,
};

DP_STAGE_REGISTER(snat_stage, DP_CHAIN_EGRESS, "snat", 200);

static inline bool to_nat64(const struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	return priv->parse.l3_type == DP_L3_IPV6 &&
	       memcmp(rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l3_off + 24,
		      dp_nat64_prefix, sizeof(dp_nat64_prefix)) == 0;
}

static inline bool south_north(const struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	return dp_ports[m->port].role != DP_PORT_PF && priv->route_depth == 0 &&
	       dp_ports[priv->out_port].role == DP_PORT_PF &&
	       (priv->parse.l3_type == DP_L3_IPV4 || to_nat64(m, priv));
}

static inline bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP;
}

#define ICMP_ECHO_REPLY 0
#define ICMPV6_ECHO_REQUEST 128

/* A VM's first IPv6 packet to the NAT64 prefix: a port for it, and the reply key of the
 * IPv4 replies to come. */
static rte_edge_t decide_nat64(struct rte_mbuf *m, const struct dp_nat_snat_dp *s,
			       struct dp_ct_flow *flow, struct dp_nat_flow *nf)
{
	const struct dp_flow_key *key = &flow->key[0].k;
	struct dp_flow_key *rkey = &flow->key[1].k;
	uint32_t host, be;
	uint16_t port;
	int ret;

	if (!nat64_translatable(m, dp_mbuf_priv(m)) ||
	    (key->proto == IPPROTO_ICMPV6 && key->port_src != ICMPV6_ECHO_REQUEST))
		return SNAT_NAT64_UNSUPPORTED;
	ret = dp_nat_port_alloc(s, m->port, key, &port);
	if (ret < 0)
		return ret == -EEXIST ? SNAT_PORT_TAKEN : SNAT_PORTS_EXHAUSTED;
	nf->kind = DP_NAT_SNAT_NAT64;
	nf->has_port = 1;
	nf->nat_l4 = port;
	nf->vm_l4 = key->proto == IPPROTO_ICMPV6 ? key->port_dst : key->port_src;
	nf->vm_port = (uint8_t)m->port;
	memcpy(nf->nat_ip, s->nat_ip, 4);
	/* the replies: IPv4 from the embedded address to the NAT IP and port */
	memset(rkey->l3_dst, 0, sizeof(rkey->l3_dst));
	memset(rkey->l3_src, 0, sizeof(rkey->l3_src));
	memcpy(&be, s->nat_ip, 4);
	host = rte_be_to_cpu_32(be);
	memcpy(rkey->l3_dst, &host, 4);
	memcpy(&be, key->l3_dst + 12, 4);
	host = rte_be_to_cpu_32(be);
	memcpy(rkey->l3_src, &host, 4);
	rkey->dst_is_v6 = rkey->src_is_v6 = 0;
	if (key->proto == IPPROTO_ICMPV6) {
		rkey->proto = IPPROTO_ICMP;
		rkey->port_src = ICMP_ECHO_REPLY;
	}
	rkey->port_dst = port;
	rkey->vnf_type = DP_VNF_NAT;
	return SNAT_OK;
}

/* A flow's first packet: how it is translated, and its reply key accordingly. */
static rte_edge_t decide(struct rte_mbuf *m, struct dp_mbuf_priv *priv, struct dp_ct_flow *flow,
			 struct dp_nat_flow *nf)
{
	const struct dp_nat_snat_dp *s;
	struct dp_flow_key *rkey = &flow->key[1].k;
	const struct dp_flow_key *key = &flow->key[0].k;
	uint32_t host, be;
	uint16_t port;
	int ret;

	if (!south_north(m, priv) || !(s = dp_nat_snat_of(m->port)) ||
	    (!s->nat_ip[0] && !s->nat_ip[1] && !s->nat_ip[2] && !s->nat_ip[3] && !s->vip[0] &&
	     !s->vip[1] && !s->vip[2] && !s->vip[3])) {
		nf->kind = DP_NAT_NONE;
		return SNAT_OK;
	}
	memcpy(&be, s->nat_ip, 4);
	if (priv->parse.l3_type == DP_L3_IPV6) { /* NAT64: only with a NAT */
		if (!be) {
			nf->kind = DP_NAT_NONE;
			return SNAT_OK;
		}
		return decide_nat64(m, s, flow, nf);
	}
	if (be) {
		ret = dp_nat_port_alloc(s, m->port, key, &port);
		if (ret < 0) /* the flow stays undecided: its next packet tries again */
			return ret == -EEXIST ? SNAT_PORT_TAKEN : SNAT_PORTS_EXHAUSTED;
		nf->kind = DP_NAT_SNAT_NET;
		nf->has_port = 1;
		nf->nat_l4 = port;
		nf->vm_l4 = is_icmp(key->proto) ? key->port_dst : key->port_src;
		rkey->port_dst = port; /* for ICMP echo, the identifier */
		rkey->vnf_type = DP_VNF_NAT;
	} else {
		memcpy(&be, s->vip, 4);
		nf->kind = DP_NAT_SNAT_VIP;
		rkey->vnf_type = DP_VNF_UNDEFINED;
	}
	nf->vm_port = (uint8_t)m->port;
	memcpy(nf->vm_ip, s->vm_ip, 4);
	memcpy(nf->nat_ip, &be, 4);
	host = rte_be_to_cpu_32(be);
	memset(rkey->l3_dst, 0, sizeof(rkey->l3_dst));
	memcpy(rkey->l3_dst, &host, sizeof(host));
	return SNAT_OK;
}

static inline rte_edge_t rewrite(struct rte_mbuf *m, const struct dp_mbuf_priv *priv, bool dst,
				 const uint8_t addr[4], int32_t port)
{
	return likely(dp_nat_rewrite_mbuf(m, priv, dst, addr, port)) ? SNAT_OK : SNAT_BAD_PACKET;
}

static inline bool has_addr(const uint8_t a[4])
{
	return a[0] | a[1] | a[2] | a[3];
}

/* The fragments' table (nat_frag.h): the source their datagram's first fragment got. */
static struct nat_frag_table snat_frags;

/* The flow of a first fragment (key[0] from its ports), found or made as conntrack makes
 * flows, and its direction. NULL when the conntrack table is full. */
static struct dp_ct_flow *fragment_flow(struct rte_mbuf *m, struct dp_mbuf_priv *priv,
					const uint8_t *l3, const uint8_t *l4, uint8_t *dir)
{
	struct dp_ct_key key, rkey = {0};
	struct dp_ct_flow *flow;
	hash_sig_t sig;
	void *data;

	dp_nat_fragment_key(&key, priv->vni, dp_ct_vf_key_vnf(m->port, false, l3 + 12, l3 + 16), l3,
			    l4);
	sig = dp_ct_key_sig(&key);
	if (rte_hash_lookup_with_hash_data(dp_ct_hash, &key, sig, &data) >= 0) {
		flow = (struct dp_ct_flow *)((uintptr_t)data & ~(uintptr_t)1);
		*dir = (uint8_t)((uintptr_t)data & 1);
		__atomic_store_n(&flow->last_seen, rte_rdtsc(), __ATOMIC_RELAXED);
		return flow;
	}
	if (dp_ct_flow_get(&flow, 1) != 1)
		return NULL;
	dp_flow_key_reverse_inline(&key.k, &rkey.k);
	if (!dp_ct_insert(flow, &key, sig, &rkey, m->port, rte_rdtsc())) {
		dp_ct_flow_put(&flow, 1);
		return NULL;
	}
	*dir = DP_FLOW_DIR_ORIG;
	return flow;
}

/* A VM's first fragment: translated as its flow's packets are; the other fragments of its
 * datagram will get the same source. */
static rte_edge_t first_fragment(struct rte_mbuf *m, struct dp_mbuf_priv *priv, uint8_t *l3,
				 const struct nat_frag *k)
{
	const uint8_t *l4 = rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l4_off;
	struct dp_ct_flow *flow;
	struct dp_nat_flow *nf;
	rte_edge_t edge = SNAT_OK;
	uint8_t dir, addr[4];
	int32_t port = -1;

	if (l3[9] != IPPROTO_TCP && l3[9] != IPPROTO_UDP)
		return SNAT_FRAGMENT;
	flow = fragment_flow(m, priv, l3, l4, &dir);
	if (!flow)
		return SNAT_TABLE_FULL;
	/* its reply key goes into the table when it leaves (output), as for any first packet */
	priv->flow = flow;
	priv->flow_dir = dir;
	nf = dp_nat_flow(flow);
	memcpy(addr, l3 + 12, 4);
	if (dir == DP_FLOW_DIR_ORIG) {
		if (nf->kind == DP_NAT_UNDECIDED)
			edge = decide(m, priv, flow, nf);
		if (edge != SNAT_OK)
			return edge;
		if (nf->kind == DP_NAT_SNAT_NET || nf->kind == DP_NAT_SNAT_VIP) {
			memcpy(addr, nf->nat_ip, 4);
			if (nf->kind == DP_NAT_SNAT_NET)
				port = nf->nat_l4;
		}
	} else if (nf->kind == DP_NAT_DNAT_VIP) {
		memcpy(addr, nf->nat_ip, 4);
	}
	edge = rewrite(m, priv, false, addr, port);
	if (edge == SNAT_OK)
		nat_frag_put(&snat_frags, k, addr, 0);
	return edge;
}

/* A fragment (untracked, see nat_frag.h). A VM with only a VIP: the VIP, stateless. */
static inline rte_edge_t fragment(struct rte_mbuf *m, struct dp_mbuf_priv *priv)
{
	const struct dp_nat_snat_dp *s;
	const struct nat_frag *f;
	struct nat_frag k;
	uint8_t *l3;

	if (!south_north(m, priv) || !(s = dp_nat_snat_of(m->port)))
		return SNAT_OK;
	if (!has_addr(s->nat_ip)) {
		if (priv->parse.l3_type == DP_L3_IPV4 && has_addr(s->vip))
			return rewrite(m, priv, false, s->vip, -1);
		return SNAT_OK;
	}
	if (priv->parse.l3_type != DP_L3_IPV4)
		return SNAT_FRAGMENT; /* NAT64 of fragments: not yet */
	l3 = rte_pktmbuf_mtod(m, uint8_t *) + priv->parse.l3_off;
	nat_frag_key(&k, priv->vni, l3);
	if (nat_frag_first(l3) && priv->parse.l4_off && !(priv->parse.flags & DP_PARSE_F_NO_L4))
		return first_fragment(m, priv, l3, &k);
	f = nat_frag_get(&snat_frags, &k);
	if (!f)
		return SNAT_FRAGMENT;
	return rewrite(m, priv, false, f->addr, -1);
}

static inline rte_edge_t snat_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	struct dp_ct_flow *flow = priv->flow;
	struct dp_nat_flow *nf;
	rte_edge_t edge = SNAT_OK;

	if (unlikely(!flow)) {
		edge = fragment(m, priv);
		return edge == SNAT_OK ? dp_stage_next(&snat_stage, m) : edge;
	}
	nf = dp_nat_flow(flow);
	if (priv->flow_dir == DP_FLOW_DIR_ORIG) {
		if (unlikely(nf->kind == DP_NAT_UNDECIDED))
			edge = decide(m, priv, flow, nf);
		if (nf->kind == DP_NAT_SNAT_NET)
			edge = rewrite(m, priv, false, nf->nat_ip, nf->nat_l4);
		else if (nf->kind == DP_NAT_SNAT_NAT64 && edge == SNAT_OK &&
			 !nat64_mbuf_6to4(m, priv, nf->nat_ip, nf->nat_l4))
			edge = SNAT_NAT64_UNSUPPORTED;
		else if (nf->kind == DP_NAT_SNAT_VIP)
			edge = rewrite(m, priv, false, nf->nat_ip, -1);
	} else if (nf->kind == DP_NAT_DNAT_VIP) {
		/* the VM answers a flow that came to its VIP */
		edge = rewrite(m, priv, false, nf->nat_ip, -1);
	}
	return likely(edge == SNAT_OK) ? dp_stage_next(&snat_stage, m) : edge;
}

/* clang-format off */
DP_NODE(snat_node, "snat", snat_next, SNAT_EDGE_COUNT,
	[SNAT_DROP] = "drop",
	[SNAT_PORTS_EXHAUSTED] = "snat_ports_exhausted",
	[SNAT_PORT_TAKEN] = "snat_port_taken",
	[SNAT_FRAGMENT] = "snat_fragment",
	[SNAT_BAD_PACKET] = "snat_bad_packet",
	[SNAT_NAT64_UNSUPPORTED] = "snat_nat64_unsupported",
	[SNAT_TABLE_FULL] = "snat_table_full");
/* clang-format on */

DP_DROP_REGISTER(snat_ports_exhausted);
DP_DROP_REGISTER(snat_port_taken);
DP_DROP_REGISTER(snat_fragment);
DP_DROP_REGISTER(snat_bad_packet);
DP_DROP_REGISTER(snat_nat64_unsupported);
DP_DROP_REGISTER(snat_table_full);
