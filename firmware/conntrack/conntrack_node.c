/* SPDX-License-Identifier: Apache-2.0 */
/*
 * conntrack: keys every IP packet of the overlay (from a VM, or decapsulated from the
 * underlay), finds or creates its flow, keeps the TCP state and the idle time, and sends it
 * on (path.h): traffic from VMs into the PREROUTE chain, traffic from the underlay to the
 * handler of the type of underlay address it came through (the VNF dispatch).
 */
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_mbuf.h>
#include <rte_prefetch.h>

#include <dplane/conntrack.h>
#include <dplane/vnf.h>

#include "cls.h"
#include "ct.h"
#include "flow_key_inline.h"
#include "mbuf.h"
#include "node.h"
#include "path.h"
#include "port.h"
#include "vni_dp.h"

enum {
	CT_DROP = 0,
	CT_NOT_IP,
	CT_UNSUPPORTED_PROTO,
	CT_ICMP_UNTRACKED,
	CT_BAD_ICMP_ERROR,
	CT_TABLE_FULL,
	CT_NO_INTERFACE,
	CT_VNF_UNSUPPORTED,
	CT_SPOOFED_SOURCE,
	CT_QUOTA_EXCEEDED,
	CT_EDGE_COUNT,
};

static const rte_edge_t key_error_edge[] = {
	[DP_FLOW_KEY_NOT_IP] = CT_NOT_IP,
	[DP_FLOW_KEY_UNSUPPORTED] = CT_UNSUPPORTED_PROTO,
	[DP_FLOW_KEY_ICMP_UNTRACKED] = CT_ICMP_UNTRACKED,
	[DP_FLOW_KEY_BAD_ICMP_ERROR] = CT_BAD_ICMP_ERROR,
};

#define TCP_FLAGS_OFF 13

DP_CHAIN_ENTRY(ct_from_vm, DP_CHAIN_PREROUTE, "conntrack");
DP_VNF_DISPATCH(ct_from_underlay, "conntrack", CT_VNF_UNSUPPORTED);

/* Where a packet goes once conntrack is done with it. */
static inline rte_edge_t forward(const struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	if (dp_ports[m->port].role != DP_PORT_PF)
		return dp_chain_entry_next(&ct_from_vm, m);
	return dp_vnf_dispatch_next(&ct_from_underlay, priv->vnf_type, m);
}

/*
 * A fragment goes on untracked: only the first of a datagram's fragments has ports to key
 * on, and dropping them would break every datagram larger than the path MTU (large DNS
 * answers, UDP tunnels). It is routed like the rest; the hash that picks its PF is that of
 * its key without ports, the same for all fragments of a datagram.
 */
static inline rte_edge_t untracked_fragment(struct rte_mbuf *m, const struct dp_ct_key *key)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);

	priv->flow = NULL;
	priv->flow_dir = DP_FLOW_DIR_ORIG;
	priv->flow_hash = dp_ct_flow_hash(key);
	return forward(m, priv);
}

/* Whether a VM's packet has the VM's source: the interface's address, an IPv6 link-local
 * one, one whose route in the VNI leads back to this VF (an alias prefix), or one of the
 * VF's extra sources (its LB prefixes). */
static inline bool source_is_vm(const uint8_t *d, const struct dp_parse *p,
				const struct dp_iface_conf *iface, uint16_t port)
{
	const uint8_t *src;

	if (p->l3_type == DP_L3_IPV4) {
		src = d + p->l3_off + 12;
		if (likely(memcmp(src, iface->ipv4, 4) == 0 && iface->ipv4[0]))
			return true;
	} else {
		src = d + p->l3_off + 8;
		if (likely(memcmp(src, iface->ipv6, 16) == 0))
			return true;
		if (src[0] == 0xfe && (src[1] & 0xc0) == 0x80) /* fe80::/10 */
			return true;
	}
	return dp_vni_routes_to(iface->vni, src, p->l3_type == DP_L3_IPV4, port) ||
	       dp_ct_port_source(port, p->l3_type == DP_L3_IPV6, src);
}

/* The vnf_type of a packet's key, as dpservice marks them: from a VM, see dp_ct_vf_key_vnf();
 * from the underlay, the type of the underlay address when it is a NAT or an LB prefix. */
static inline uint8_t key_vnf(const struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	const uint8_t *l3;

	if (dp_ports[m->port].role == DP_PORT_PF)
		return priv->vnf_type == DP_VNF_NAT || priv->vnf_type == DP_VNF_LB_ALIAS_PFX
			       ? priv->vnf_type
			       : DP_VNF_UNDEFINED;
	l3 = rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l3_off;
	if (priv->parse.l3_type == DP_L3_IPV4)
		return dp_ct_vf_key_vnf(m->port, false, l3 + 12, l3 + 16);
	if (priv->parse.l3_type == DP_L3_IPV6)
		return dp_ct_vf_key_vnf(m->port, true, l3 + 8, l3 + 24);
	return DP_VNF_UNDEFINED;
}

/* First pass: the packet's VNI and key; an edge other than CT_DROP means it is done. */
static inline rte_edge_t prepare(struct rte_mbuf *m, struct dp_ct_key *key)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	enum dp_flow_key_status st;

	if (dp_ports[m->port].role != DP_PORT_PF) {
		const struct dp_iface_conf *iface = dp_port_iface(m->port);

		if (unlikely(!iface))
			return CT_NO_INTERFACE;
		if (dp_ct_source_mode != DP_CT_SOURCE_OFF &&
		    (priv->parse.l3_type == DP_L3_IPV4 || priv->parse.l3_type == DP_L3_IPV6) &&
		    unlikely(!source_is_vm(rte_pktmbuf_mtod(m, const uint8_t *), &priv->parse,
					   iface, m->port))) {
			uint64_t *spoofed = &dp_ct_spoofed_count[m->port];

			__atomic_store_n(spoofed, *spoofed + 1, __ATOMIC_RELAXED);
			if (dp_ct_source_mode == DP_CT_SOURCE_ENFORCE)
				return CT_SPOOFED_SOURCE;
		}
		priv->vni = iface->vni;
		priv->vnf_type = DP_VNF_UNDEFINED;
		priv->tun_port = m->port;
	}
	key->zero = 0;
	st = dp_flow_key_build_inline(rte_pktmbuf_mtod(m, const uint8_t *), rte_pktmbuf_data_len(m),
				      &priv->parse, priv->vni, key_vnf(m, priv), &key->k);
	if (likely(st == DP_FLOW_KEY_OK))
		return CT_DROP;
	if (st == DP_FLOW_KEY_FRAGMENT)
		return untracked_fragment(m, key);
	return key_error_edge[st];
}

/* Second pass: the packet's flow and direction; its state, and where the packet goes. */
static inline rte_edge_t track(struct rte_mbuf *m, struct dp_ct_flow *flow, uint8_t dir,
			       uint64_t now)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const struct dp_parse *p = &priv->parse;

	if (flow->last_seen != now)
		__atomic_store_n(&flow->last_seen, now, __ATOMIC_RELAXED);
	flow->packets[dir]++;
	if (p->l4_proto == IPPROTO_TCP)
		flow->tcp_state = dp_ct_tcp_next_inline(
			flow->tcp_state, dir,
			rte_pktmbuf_mtod(m, const uint8_t *)[p->l4_off + TCP_FLAGS_OFF]);
	priv->flow = flow;
	priv->flow_dir = dir;
	priv->flow_hash = flow->hash;
	return forward(m, priv);
}

#define CT_BULK RTE_HASH_LOOKUP_BULK_MAX

/* A chunk of packets: their keys, and for the misses the reverse keys. */
struct ct_chunk {
	struct dp_ct_key keys[CT_BULK];
	struct dp_ct_key rkeys[CT_BULK];
	const void *lookup[CT_BULK];
	hash_sig_t sig[CT_BULK]; /* of keys[i] */
	hash_sig_t lookup_sig[CT_BULK];
	void *found[CT_BULK];
	void *rfound[CT_BULK];
	uint16_t idx[CT_BULK];
	/* flows this chunk created, with their keys' table hashes */
	struct dp_ct_flow *created[CT_BULK];
	uint32_t created_sig[CT_BULK][2];
	uint16_t nb_created;
};

/* Whether key is the flow's key of direction dir (a reply key's vnf_type may not be
 * decided yet: any then matches). */
static inline bool flow_key_is(const struct dp_ct_flow *flow, uint8_t dir,
			       const struct dp_ct_key *key)
{
	struct dp_flow_key k = flow->key[dir].k;

	if (dir == DP_FLOW_DIR_REPLY && k.vnf_type == DP_CT_VNF_AT_PUBLISH)
		k.vnf_type = key->k.vnf_type;
	return memcmp(&k, &key->k, sizeof(k)) == 0;
}

/* A flow created earlier in this chunk, for a key that missed the table before it was. */
static struct dp_ct_flow *created_lookup(const struct ct_chunk *c, const struct dp_ct_key *key,
					 uint32_t sig, uint8_t *dir)
{
	for (uint16_t i = 0; i < c->nb_created; i++)
		for (uint8_t d = 0; d < 2; d++)
			if (c->created_sig[i][d] == sig && flow_key_is(c->created[i], d, key)) {
				*dir = d;
				return c->created[i];
			}
	return NULL;
}

/* Whether a packet whose reverse key is flow's original key is the reply that flow
 * expects, before that reply's key went into the table (its first packet was dropped, or
 * has not left yet). */
static inline bool pending_reply(const struct dp_ct_flow *flow, uintptr_t data,
				 const struct dp_ct_key *key)
{
	return (data & 1) == DP_FLOW_DIR_ORIG &&
	       !__atomic_load_n(&flow->reply_in, __ATOMIC_ACQUIRE) &&
	       flow_key_is(flow, DP_FLOW_DIR_REPLY, key);
}

/* The misses of a chunk, in order: a flow for each, created unless an earlier packet of
 * the chunk did. Their reverse keys are looked up together, so that the table's cache
 * misses overlap instead of following each other. */
static void track_misses(struct ct_chunk *c, struct rte_mbuf **pkts, rte_edge_t *nexts,
			 const uint16_t *miss, uint16_t nb, uint64_t now)
{
	struct dp_ct_flow *spare[CT_BULK];
	unsigned int nb_spare, next_spare = 0;
	uint64_t taken = 0;

	nb_spare = dp_ct_flow_get(spare, nb);
	for (uint16_t j = 0; j < nb; j++) {
		dp_flow_key_reverse_inline(&c->keys[miss[j]].k, &c->rkeys[j].k);
		c->rkeys[j].zero = 0;
		c->lookup[j] = &c->rkeys[j];
	}
	rte_hash_lookup_bulk_data(dp_ct_hash, c->lookup, nb, &taken, c->rfound);

	for (uint16_t j = 0; j < nb; j++) {
		uint16_t i = miss[j];
		const struct dp_ct_key *key = &c->keys[i], *rkey = &c->rkeys[j];
		uint32_t sig = c->sig[i], rsig;
		struct dp_ct_flow *flow;
		uint8_t dir = DP_FLOW_DIR_ORIG, unused;
		bool one_way = dp_ports[pkts[i]->port].role == DP_PORT_PF &&
			       dp_ct_one_way_vnf[dp_mbuf_priv(pkts[i])->vnf_type];

		flow = created_lookup(c, key, sig, &dir);
		if (unlikely(one_way)) {
			rkey = key; /* inserted once: the flow has no reply key */
		} else if (!flow && unlikely((taken >> j) & 1)) {
			uintptr_t data = (uintptr_t)c->rfound[j];
			struct dp_ct_flow *other = (struct dp_ct_flow *)(data & ~(uintptr_t)1);

			if (pending_reply(other, data, key)) {
				nexts[i] = track(pkts[i], other, DP_FLOW_DIR_REPLY, now);
				continue;
			}
			/* never take another flow's key: its owner would lose its reply */
			nexts[i] = CT_TABLE_FULL;
			continue;
		}
		if (!flow) {
			rsig = one_way ? sig : dp_ct_key_sig(rkey);
			if (!one_way && unlikely(created_lookup(c, rkey, rsig, &unused))) {
				nexts[i] = CT_TABLE_FULL;
				continue;
			}
			/* one VM's flood must not fill the table for every other */
			if (dp_ct_quota && dp_ports[pkts[i]->port].role != DP_PORT_PF &&
			    unlikely(!dp_ct_quota_ok(pkts[i]->port))) {
				nexts[i] = CT_QUOTA_EXCEEDED;
				continue;
			}
			if (unlikely(next_spare == nb_spare) ||
			    unlikely(!dp_ct_insert(spare[next_spare], key, sig, rkey, pkts[i]->port,
						   now))) {
				nexts[i] = CT_TABLE_FULL;
				continue;
			}
			flow = spare[next_spare++];
			c->created[c->nb_created] = flow;
			c->created_sig[c->nb_created][0] = sig;
			c->created_sig[c->nb_created][1] = rsig;
			c->nb_created++;
		}
		nexts[i] = track(pkts[i], flow, dir, now);
	}
	dp_ct_flow_put(&spare[next_spare], nb_spare - next_spare);
}

/* Keys of a whole chunk looked up at once: the hash pipelines and prefetches them. */
static void track_chunk(struct ct_chunk *c, struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n,
			uint64_t now)
{
	uint16_t miss[CT_BULK], nb = 0, nb_miss = 0;
	uint64_t hits = 0;

	for (uint16_t i = 0; i < n; i++) {
		nexts[i] = prepare(pkts[i], &c->keys[i]);
		if (likely(nexts[i] == CT_DROP)) {
			c->lookup[nb] = &c->keys[i];
			c->idx[nb++] = i;
		}
	}
	if (!nb)
		return;
	/* a loop of its own: a key read back right after its small stores would stall */
	for (uint16_t j = 0; j < nb; j++)
		c->lookup_sig[j] = c->sig[c->idx[j]] = dp_ct_key_sig(c->lookup[j]);
	rte_hash_lookup_with_hash_bulk_data(dp_ct_hash, c->lookup, c->lookup_sig, nb, &hits,
					    c->found);
	for (uint16_t j = 0; j < nb; j++)
		if ((hits >> j) & 1)
			rte_prefetch0((void *)((uintptr_t)c->found[j] & ~(uintptr_t)1));
	for (uint16_t j = 0; j < nb; j++) {
		uint16_t i = c->idx[j];
		uintptr_t data = (uintptr_t)c->found[j];

		if ((hits >> j) & 1)
			nexts[i] = track(pkts[i], (struct dp_ct_flow *)(data & ~(uintptr_t)1),
					 (uint8_t)(data & 1), now);
		else
			miss[nb_miss++] = i;
	}
	if (unlikely(nb_miss)) {
		c->nb_created = 0;
		track_misses(c, pkts, nexts, miss, nb_miss, now);
	}
}

static void conntrack_classify(struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n)
{
	struct ct_chunk chunk;
	uint64_t now = rte_rdtsc();

	for (uint16_t i = 0; i < n; i += CT_BULK)
		track_chunk(&chunk, &pkts[i], &nexts[i], RTE_MIN(CT_BULK, n - i), now);
}

/* clang-format off */
DP_NODE_BURST(conntrack_node, "conntrack", conntrack_classify, CT_EDGE_COUNT,
	[CT_DROP] = "drop",
	[CT_NOT_IP] = "conntrack_not_ip",
	[CT_UNSUPPORTED_PROTO] = "conntrack_unsupported_proto",
	[CT_ICMP_UNTRACKED] = "conntrack_icmp_untracked",
	[CT_BAD_ICMP_ERROR] = "conntrack_bad_icmp_error",
	[CT_TABLE_FULL] = "conntrack_table_full",
	[CT_NO_INTERFACE] = "conntrack_no_interface",
	[CT_VNF_UNSUPPORTED] = "conntrack_vnf_unsupported",
	[CT_SPOOFED_SOURCE] = "conntrack_spoofed_source",
	[CT_QUOTA_EXCEEDED] = "conntrack_quota_exceeded");
/* clang-format on */

DP_DROP_REGISTER(conntrack_not_ip);
DP_DROP_REGISTER(conntrack_unsupported_proto);
DP_DROP_REGISTER(conntrack_icmp_untracked);
DP_DROP_REGISTER(conntrack_bad_icmp_error);
DP_DROP_REGISTER(conntrack_table_full);
DP_DROP_REGISTER(conntrack_no_interface);
DP_DROP_REGISTER(conntrack_vnf_unsupported);
DP_DROP_REGISTER(conntrack_spoofed_source);
DP_DROP_REGISTER(conntrack_quota_exceeded);

RTE_INIT(conntrack_cls_register)
{
	dp_cls_register(DP_CLS_VF_IPV4, "conntrack");
	dp_cls_register(DP_CLS_VF_IPV6, "conntrack");
}
