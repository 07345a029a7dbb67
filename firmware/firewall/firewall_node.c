/* SPDX-License-Identifier: Apache-2.0 */
/*
 * firewall: the first EGRESS stage (path.h). Every packet that leaves for a VM or the
 * underlay passes here with its flow: the flow's verdict, decided once on the flow's original
 * direction with the rules of both ends (fw.h) and kept in the flow, lets it on, or counts it
 * (audit, the default) or drops it (enforcing). A flow decided under rules that have changed
 * since, on either end, is decided again: a deleted rule keeps no connection alive.
 *
 * Fragments have no flow (conntrack does not track them). The first fragment of a datagram
 * carries the ports: it takes the verdict of its flow if there is one, or one decided on
 * itself, and leaves it in a small table for the datagram's other fragments. A fragment
 * whose datagram is not in the table (its first fragment was not seen, or long ago) has no
 * verdict: it is dropped when enforcing, counted when auditing.
 */
#include <netinet/in.h>

#include <rte_cycles.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_mbuf.h>

#include "ct.h"
#include "flow_key_inline.h"
#include "fw.h"
#include "mbuf.h"
#include "node.h"
#include "path.h"
#include "port.h"

enum {
	FW_DROP = 0,
	FW_EGRESS_DENIED,
	FW_INGRESS_DENIED,
	FW_FRAGMENT_UNKNOWN,
	FW_EDGE_COUNT,
};

DP_STAGE_REGISTER(fw_stage, DP_CHAIN_EGRESS, "firewall", 100);

/* The firewall's slice of a flow. */
struct fw_flow {
	uint32_t gen[2];   /* of the rule sets of the original direction's in and out ports */
	uint8_t verdict;   /* 0: none yet, else enum dp_fw_verdict + 1 */
	uint8_t icmp_code; /* of the first ICMP packet in the original direction */
	uint8_t pad[2];
};
_Static_assert(sizeof(struct fw_flow) <= 12, "the firewall's slice of dp_ct_flow.ext");

static inline struct fw_flow *fw_flow(struct dp_ct_flow *flow)
{
	return (struct fw_flow *)(void *)&flow->ext[DP_CT_EXT_FIREWALL];
}

static inline bool is_vf(uint16_t port)
{
	return dp_ports[port].role != DP_PORT_PF;
}

/* The rules of a VM's interface (NULL: none, or a PF). */
static inline const struct fw_set *port_set(uint16_t port)
{
	return __atomic_load_n(&dp_fw_sets[port], __ATOMIC_ACQUIRE);
}

static inline uint32_t set_gen(const struct fw_set *set)
{
	return set ? set->gen : 0;
}

/* A flow's original direction as the rules see it. */
static void tuple_of_key(const struct dp_flow_key *k, uint8_t icmp_code, struct dp_fw_tuple *t)
{
	memset(t, 0, sizeof(*t));
	t->proto = k->proto;
	if (k->src_is_v6) {
		t->family = 6;
		memcpy(t->src, k->l3_src, 16);
		memcpy(t->dst, k->l3_dst, 16);
	} else {
		uint32_t src, dst;

		t->family = 4;
		memcpy(&src, k->l3_src, 4); /* host order in the key */
		memcpy(&dst, k->l3_dst, 4);
		src = rte_cpu_to_be_32(src);
		dst = rte_cpu_to_be_32(dst);
		memcpy(t->src, &src, 4);
		memcpy(t->dst, &dst, 4);
	}
	if (k->proto == IPPROTO_TCP || k->proto == IPPROTO_UDP) {
		t->src_port = k->port_src;
		t->dst_port = k->port_dst;
	} else {
		t->icmp_type = (uint8_t)k->port_src;
		t->icmp_code = icmp_code;
	}
}

static inline void count(uint64_t *counter)
{
	__atomic_store_n(counter, *counter + 1, __ATOMIC_RELAXED); /* one writer: the worker */
}

/*
 * The verdict of a flow, for one of its packets in direction dir, which came in on rx_port
 * and leaves towards out; decided (again) when it has none or the rules of either end
 * changed. *from / *to are set to the ports of the flow's original direction.
 */
static enum dp_fw_verdict flow_verdict(struct dp_ct_flow *flow, uint8_t dir, uint16_t out,
				       uint16_t rx_port, const uint8_t *icmp, uint16_t *from,
				       uint16_t *to)
{
	struct fw_flow *f = fw_flow(flow);
	const struct fw_set *sfrom, *sto;
	struct dp_fw_tuple t;
	enum dp_fw_verdict v;

	*from = flow->in_port;
	*to = dir == DP_FLOW_DIR_ORIG ? out : rx_port;
	sfrom = is_vf(*from) ? port_set(*from) : NULL;
	sto = is_vf(*to) ? port_set(*to) : NULL;
	if (likely(f->verdict && f->gen[0] == set_gen(sfrom) && f->gen[1] == set_gen(sto)))
		return (enum dp_fw_verdict)(f->verdict - 1);

	if (icmp && dir == DP_FLOW_DIR_ORIG)
		f->icmp_code = icmp[1];
	tuple_of_key(&flow->key[0].k, f->icmp_code, &t);
	v = fw_decide(is_vf(*from), sfrom, is_vf(*to), sto, &t);
	f->verdict = (uint8_t)(v + 1);
	f->gen[0] = set_gen(sfrom);
	f->gen[1] = set_gen(sto);
	if (is_vf(*from))
		count(&dp_fw_port_stats[*from].decisions);
	if (is_vf(*to))
		count(&dp_fw_port_stats[*to].decisions);
	if (v == DP_FW_EGRESS_DENIED)
		count(&dp_fw_port_stats[*from].flows_denied[DP_FW_EGRESS]);
	else if (v == DP_FW_INGRESS_DENIED)
		count(&dp_fw_port_stats[*to].flows_denied[DP_FW_INGRESS]);
	return v;
}

/* What a verdict does to the packet. */
static inline rte_edge_t apply(struct rte_mbuf *m, enum dp_fw_verdict v, uint16_t from, uint16_t to)
{
	uint8_t side;
	uint16_t port;

	if (likely(v == DP_FW_ACCEPTED))
		return dp_stage_next(&fw_stage, m);
	side = v == DP_FW_EGRESS_DENIED ? DP_FW_EGRESS : DP_FW_INGRESS;
	port = side == DP_FW_EGRESS ? from : to;
	if (!dp_fw_enforce) {
		count(&dp_fw_port_stats[port].audit_denied[side]);
		return dp_stage_next(&fw_stage, m);
	}
	count(&dp_fw_port_stats[port].dropped[side]);
	return side == DP_FW_EGRESS ? FW_EGRESS_DENIED : FW_INGRESS_DENIED;
}

/* -- fragments ------------------------------------------------------------------------ */

#define FW_FRAG_SLOTS 4096 /* datagrams in reassembly at once, about */
#define FW_FRAG_TIMEOUT_S 30

struct fw_frag {
	uint64_t tsc; /* when its first fragment passed; 0: free */
	uint32_t vni;
	uint32_t id;
	uint8_t src[16], dst[16];
	uint8_t family, proto;
	uint8_t verdict; /* enum dp_fw_verdict */
	uint8_t pad;
	uint16_t from, to;
};

/* The worker's (one worker: see ct.c). */
static struct fw_frag fw_frags[FW_FRAG_SLOTS];

/* A datagram's identity: addresses, protocol, IP id (the IPv6 fragment header's). */
static bool frag_key(const uint8_t *d, const struct dp_parse *p, uint32_t vni, struct fw_frag *k,
		     bool *first)
{
	uint32_t off = p->l3_off, end = (uint32_t)p->l3_off + p->l3_len;

	memset(k, 0, sizeof(*k));
	k->vni = vni;
	k->proto = p->l4_proto;
	if (p->l3_type == DP_L3_IPV4) {
		k->family = 4;
		memcpy(k->src, d + off + 12, 4);
		memcpy(k->dst, d + off + 16, 4);
		k->id = fk_rd16(d + off + 4);
		*first = (fk_rd16(d + off + 6) & 0x1fff) == 0;
		return true;
	}
	/* IPv6: find the fragment header (the parser has checked the chain) */
	k->family = 6;
	memcpy(k->src, d + off + 8, 16);
	memcpy(k->dst, d + off + 24, 16);
	uint8_t nh = d[off + 6];
	uint32_t q = off + 40;

	for (int i = 0; i <= DP_PARSE_MAX_IPV6_EXT && q + 8 <= end; i++) {
		uint32_t hlen;

		if (nh == IPPROTO_FRAGMENT) {
			k->id = (uint32_t)fk_rd16(d + q + 4) << 16 | fk_rd16(d + q + 6);
			*first = (fk_rd16(d + q + 2) & 0xfff8) == 0;
			return true;
		}
		if (nh == IPPROTO_AH)
			hlen = ((uint32_t)d[q + 1] + 2) * 4;
		else if (nh == IPPROTO_HOPOPTS || nh == IPPROTO_ROUTING || nh == IPPROTO_DSTOPTS ||
			 nh == 135 /* mobility */ || nh == 139 /* HIP */ || nh == 140 /* shim6 */)
			hlen = ((uint32_t)d[q + 1] + 1) * 8;
		else
			break;
		nh = d[q];
		q += hlen;
	}
	return false;
}

static inline struct fw_frag *frag_slot(const struct fw_frag *k)
{
	uint32_t h = rte_hash_crc(
		&k->vni, offsetof(struct fw_frag, verdict) - offsetof(struct fw_frag, vni), 0);

	return &fw_frags[h & (FW_FRAG_SLOTS - 1)];
}

static inline bool frag_same(const struct fw_frag *a, const struct fw_frag *b)
{
	return memcmp(&a->vni, &b->vni,
		      offsetof(struct fw_frag, verdict) - offsetof(struct fw_frag, vni)) == 0;
}

/* The verdict for the first fragment of a datagram: its flow's, if it has one. */
static enum dp_fw_verdict first_fragment_verdict(struct rte_mbuf *m, struct dp_mbuf_priv *priv,
						 uint16_t *from, uint16_t *to)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	struct dp_parse p = priv->parse;
	struct dp_fw_tuple t;
	struct dp_ct_key key;
	void *data;

	p.flags &= (uint8_t)~DP_PARSE_F_FRAGMENT; /* it has its L4 header: key it */
	key.zero = 0;
	*from = m->port;
	*to = priv->out_port;
	if (dp_flow_key_build_inline(d, rte_pktmbuf_data_len(m), &p, priv->vni, DP_VNF_UNDEFINED,
				     &key.k) != DP_FLOW_KEY_OK)
		return is_vf(*to) ? DP_FW_INGRESS_DENIED : DP_FW_EGRESS_DENIED;
	if (rte_hash_lookup_data(dp_ct_hash, &key, &data) >= 0) {
		uintptr_t v = (uintptr_t)data;

		return flow_verdict((struct dp_ct_flow *)(v & ~(uintptr_t)1), (uint8_t)(v & 1),
				    priv->out_port, m->port, NULL, from, to);
	}
	/* a datagram that starts a flow: decided on itself, not remembered as a flow */
	tuple_of_key(&key.k, d[p.l4_off + 1], &t);
	return fw_decide(is_vf(*from), is_vf(*from) ? port_set(*from) : NULL, is_vf(*to),
			 is_vf(*to) ? port_set(*to) : NULL, &t);
}

static rte_edge_t fragment(struct rte_mbuf *m, struct dp_mbuf_priv *priv)
{
	const uint8_t *d = rte_pktmbuf_mtod(m, const uint8_t *);
	uint64_t now = rte_rdtsc();
	struct fw_frag k, *slot;
	uint16_t from, to;
	bool first = false;

	if (!frag_key(d, &priv->parse, priv->vni, &k, &first))
		goto unknown;
	slot = frag_slot(&k);
	if (first && priv->parse.l4_off && !(priv->parse.flags & DP_PARSE_F_NO_L4)) {
		enum dp_fw_verdict v = first_fragment_verdict(m, priv, &from, &to);

		*slot = k;
		slot->tsc = now ? now : 1;
		slot->verdict = (uint8_t)v;
		slot->from = from;
		slot->to = to;
		return apply(m, v, from, to);
	}
	if (slot->tsc && frag_same(slot, &k) &&
	    now - slot->tsc < FW_FRAG_TIMEOUT_S * rte_get_tsc_hz())
		return apply(m, (enum dp_fw_verdict)slot->verdict, slot->from, slot->to);
unknown:
	/* no verdict to follow: counted against the side it would enter */
	from = m->port;
	to = priv->out_port;
	if (!dp_fw_enforce) {
		if (is_vf(to))
			count(&dp_fw_port_stats[to].audit_denied[DP_FW_INGRESS]);
		else
			count(&dp_fw_port_stats[from].audit_denied[DP_FW_EGRESS]);
		return dp_stage_next(&fw_stage, m);
	}
	if (is_vf(to))
		count(&dp_fw_port_stats[to].dropped[DP_FW_INGRESS]);
	else
		count(&dp_fw_port_stats[from].dropped[DP_FW_EGRESS]);
	return FW_FRAGMENT_UNKNOWN;
}

/* -- the node ------------------------------------------------------------------------- */

static inline rte_edge_t firewall_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const uint8_t *icmp = NULL;
	enum dp_fw_verdict v;
	uint16_t from, to;

	if (unlikely(!priv->flow))
		return fragment(m, priv);
	if (unlikely(priv->parse.l4_proto == IPPROTO_ICMP ||
		     priv->parse.l4_proto == IPPROTO_ICMPV6) &&
	    priv->parse.l4_off)
		icmp = rte_pktmbuf_mtod_offset(m, const uint8_t *, priv->parse.l4_off);
	v = flow_verdict(priv->flow, priv->flow_dir, priv->out_port, m->port, icmp, &from, &to);
	return apply(m, v, from, to);
}

/* clang-format off */
DP_NODE(firewall_node, "firewall", firewall_next, FW_EDGE_COUNT,
	[FW_DROP] = "drop",
	[FW_EGRESS_DENIED] = "firewall_egress_denied",
	[FW_INGRESS_DENIED] = "firewall_ingress_denied",
	[FW_FRAGMENT_UNKNOWN] = "firewall_fragment_unknown");
/* clang-format on */

DP_DROP_REGISTER(firewall_egress_denied);
DP_DROP_REGISTER(firewall_ingress_denied);
DP_DROP_REGISTER(firewall_fragment_unknown);
