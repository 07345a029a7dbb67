/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software flow engine's datapath (swflow.h): for each packet of a burst, its fields
 * (swflow_extract.c), its rules group by group (tuple space search), SAMPLE copies, the
 * winning rule's rewrites, and the packets out of their ports; the rest to the graph.
 */
#include <netinet/in.h>
#include <string.h>

#include <rte_ethdev.h>
#include <rte_mbuf.h>

#include "cksum.h"
#include "fastpath.h"
#include "mbuf.h"
#include "port.h"
#include "swflow_priv.h"

/* The L4 checksum of the packet's innermost header, NULL if none or none to keep. */
static inline uint8_t *l4_sum(uint8_t *d, const struct swf_pkt *p, bool *pseudo)
{
	uint8_t proto = p->f.ip_proto;

	if (!p->l4_off)
		return NULL;
	if (proto == IPPROTO_TCP) {
		*pseudo = true;
		return d + p->l4_off + 16;
	}
	if (proto == IPPROTO_UDP) {
		*pseudo = true;
		return rd16(d + p->l4_off + 6) || p->l3_v6 ? d + p->l4_off + 6 : NULL;
	}
	if (proto == IPPROTO_ICMP) {
		*pseudo = false;
		return d + p->l4_off + 2;
	}
	return NULL;
}

/* Rewrite len bytes at field (in the packet's outermost IP header when `outer`, else in
 * the innermost, whose L4 checksum then covers it if pseudo). */
static inline void rewrite(uint8_t *d, const struct swf_pkt *p, uint8_t *field, const uint8_t *v,
			   unsigned int len, bool ip_hdr_sum, bool in_pseudo, bool in_l4)
{
	bool pseudo = false;
	uint8_t *sum = l4_sum(d, p, &pseudo);

	if (ip_hdr_sum)
		dp_cksum_replace(d + p->l3_off + 10, field, v, len);
	if (sum && ((in_pseudo && pseudo) || in_l4)) {
		dp_cksum_replace(sum, field, v, len);
		if (p->f.ip_proto == IPPROTO_UDP && rd16(sum) == 0)
			wr16(sum, 0xffff);
	}
	memcpy(field, v, len);
}

/*
 * Apply the rule's rewrites to m; false if m cannot take them (the rule matched, so only a
 * lack of headroom). Offsets in p follow the decapsulation and encapsulation.
 */
static inline bool apply(const struct swf_rule *r, struct rte_mbuf *m, struct swf_pkt *p)
{
	uint8_t *d = rte_pktmbuf_mtod(m, uint8_t *);
	/* rewrites go to the outermost IP header: the tunnel's while there is one */
	bool outer_tunnel = p->tunnel;

	for (unsigned int i = 0; i < r->nb_ops; i++) {
		const struct swf_op *op = &r->ops[i];
		const uint8_t *v = r->data + op->off;
		uint8_t *l3 = d + (outer_tunnel ? 14 : p->l3_off);
		bool v6 = outer_tunnel || p->l3_v6, inner = !outer_tunnel;

		switch (op->type) {
		case OP_SET_MAC_SRC:
			memcpy(d + 6, v, 6);
			break;
		case OP_SET_MAC_DST:
			memcpy(d, v, 6);
			break;
		case OP_SET_IPV4_SRC:
		case OP_SET_IPV4_DST:
			if (v6)
				return false;
			rewrite(d, p, l3 + (op->type == OP_SET_IPV4_SRC ? 12 : 16), v, 4, true,
				inner, false);
			break;
		case OP_SET_IPV6_SRC:
		case OP_SET_IPV6_DST:
			if (!v6)
				return false;
			rewrite(d, p, l3 + (op->type == OP_SET_IPV6_SRC ? 8 : 24), v, 16, false,
				inner, false);
			break;
		case OP_SET_TP_SRC:
		case OP_SET_TP_DST:
			if (outer_tunnel || !p->l4_off ||
			    (p->f.ip_proto != IPPROTO_TCP && p->f.ip_proto != IPPROTO_UDP))
				return false;
			rewrite(d, p, d + p->l4_off + (op->type == OP_SET_TP_SRC ? 0 : 2), v, 2,
				false, false, true);
			break;
		case OP_DECAP:
			if (op->len == 54) {
				/* the inner packet ends where the tunnel's payload does */
				uint32_t end = 54u + rd16(d + 14 + 4);

				if (!p->tunnel)
					return false;
				if (rte_pktmbuf_data_len(m) > end)
					rte_pktmbuf_trim(m,
							 (uint16_t)(rte_pktmbuf_data_len(m) - end));
				rte_pktmbuf_adj(m, 54);
				p->l3_off -= 40; /* the inner header, after the 14 bytes to come */
				p->l3_off -= 14;
				if (p->l4_off)
					p->l4_off -= 54;
				p->tunnel = 0;
				outer_tunnel = false;
			} else {
				rte_pktmbuf_adj(m, 14);
				p->l3_off -= 14;
				if (p->l4_off)
					p->l4_off -= 14;
			}
			d = rte_pktmbuf_mtod(m, uint8_t *);
			break;
		case OP_ENCAP: {
			uint16_t payload = rte_pktmbuf_data_len(m);
			uint8_t *h = (uint8_t *)rte_pktmbuf_prepend(m, op->len);

			if (!h)
				return false;
			if (op->len == 54) { /* sizes the compiler copies inline */
				memcpy(h, v, 54);
				wr16(h + 14 + 4, payload); /* the NIC sets the length */
				p->tunnel = 1;
				outer_tunnel = true;
			} else {
				memcpy(h, v, 14);
			}
			p->l3_off += op->len;
			if (p->l4_off)
				p->l4_off += op->len;
			d = h;
			break;
		}
		}
	}
	return true;
}

#define SWF_BURST 64
_Static_assert(SWF_BURST <= RTE_HASH_LOOKUP_BULK_MAX, "a burst's keys in one bulk lookup");
_Static_assert(DP_RX_BURST <= SWF_BURST, "an rx burst is one of the engine's");

/* Packets leaving (a packet and its SAMPLE copy at most, each), in order. */
struct swf_out {
	uint16_t n;
	uint16_t port[2 * SWF_BURST];
	struct rte_mbuf *pkts[2 * SWF_BURST];
};

static inline void out_add(struct swf_out *o, uint16_t port, struct rte_mbuf *m)
{
	o->port[o->n] = port;
	o->pkts[o->n++] = m;
}

/* Send them, port by port, each port's in order. */
static void out_flush(struct swf_out *o)
{
	struct rte_mbuf *batch[2 * SWF_BURST];

	for (uint16_t i = 0; i < o->n; i++) {
		uint16_t port = o->port[i], nb = 0, sent = 0;

		if (port == DP_PORT_NONE)
			continue;
		for (uint16_t j = i; j < o->n; j++)
			if (o->port[j] == port) {
				batch[nb++] = o->pkts[j];
				o->port[j] = DP_PORT_NONE;
			}
		if (likely(dp_port_tx_enabled(port)))
			sent = rte_eth_tx_burst(port, 0, batch, nb);
		if (unlikely(sent < nb)) {
			rte_pktmbuf_free_bulk(&batch[sent], nb - sent);
			count(&swf_stats.tx_dropped, nb - sent);
		}
	}
	o->n = 0;
}

/* SAMPLE: a copy of m as it came in, in the sampler's header, to the sampler's port. */
static void mirror(const struct swf_rule *r, struct rte_mbuf *m, struct swf_out *o)
{
	struct rte_mbuf *c;
	uint8_t *h;
	uint32_t len;

	c = rte_pktmbuf_copy(m, m->pool, 0, UINT32_MAX);
	if (c && rte_pktmbuf_pkt_len(c) + r->sample_len <= UINT16_MAX - 8 &&
	    (h = (uint8_t *)rte_pktmbuf_prepend(c, r->sample_len)) != NULL) {
		memcpy(h, r->sample_hdr, r->sample_len);
		len = rte_pktmbuf_pkt_len(c) - 54; /* UDP header and the packet */
		wr16(h + 18, (uint16_t)len);       /* IPv6 payload length */
		wr16(h + 58, (uint16_t)len);       /* UDP length */
		count(&swf_stats.sampled, 1);
		out_add(o, r->sample_port, c);
		return;
	}
	rte_pktmbuf_free(c);
	count(&swf_stats.sample_dropped, 1);
}

/*
 * A packet's rule from group `group` on: match-all templates take their table's one rule
 * (swf_solo), the others are looked up by key. *sampler: a SAMPLE rule on the way.
 */
static inline struct swf_rule *lookup_from(uint16_t port, const struct swf_pkt *p, uint32_t epoch,
					   uint8_t group, struct swf_rule **sampler)
{
	const uint64_t *fw = (const uint64_t *)&p->f;
	struct swf_rule *r = NULL;

	for (unsigned int hops = 0; hops < SWF_GROUPS; hops++) {
		uint64_t tbl = __atomic_load_n(&swf_tables[port][group], __ATOMIC_ACQUIRE);
		struct swf_key k;
		void *data;

		r = NULL;
		for (unsigned int i = 0; i < table_n(tbl); i++) {
			unsigned int t = table_id(tbl, i);
			const struct swf_template *tp = &swf_tmpls[t];

			if ((p->f.stack & (uint16_t)tp->mask[0]) != tp->stack)
				continue;
			if (tp->match_all) {
				r = __atomic_load_n(&swf_solo[port][group], __ATOMIC_ACQUIRE);
				if (r)
					break;
				continue;
			}
			key_build(&k, tp, port, group, (uint8_t)t, fw);
			if (rte_hash_lookup_with_hash_data(swf_hash, &k, key_sig(&k), &data) >= 0) {
				r = data;
				break;
			}
		}
		if (r && unlikely(r->epoch != epoch) && r->age_timeout)
			return NULL; /* stale: the graph decides, and the rule is made again */
		if (r && unlikely(r->sampled))
			*sampler = r;
		if (!r || r->fate != FATE_JUMP)
			return r;
		r->hits++; /* a rule that only jumps counts its packets too */
		group = r->jump_group;
	}
	return NULL;
}

/*
 * Where a port's packets go by match-all rules alone (its default jump; a capture's sample):
 * the same for every packet of a burst, so walked once per burst. The group where their rules
 * must be looked up by key (-1: the walk ended, *r is the rule that ended it or NULL),
 * the SAMPLE rule on the way, and the rules it crossed (their hits are counted per burst).
 */
struct swf_solo_walk {
	int group;
	struct swf_rule *r, *sampler;
	struct swf_rule *crossed[SWF_GROUPS];
	unsigned int nb_crossed;
};

static inline void walk_solo(uint16_t port, struct swf_solo_walk *w)
{
	uint8_t group = 0;

	w->r = w->sampler = NULL;
	w->nb_crossed = 0;
	w->group = -1;
	for (unsigned int hops = 0; hops < SWF_GROUPS; hops++) {
		uint64_t tbl = __atomic_load_n(&swf_tables[port][group], __ATOMIC_ACQUIRE);
		const struct swf_template *tp;
		struct swf_rule *solo;

		if (table_n(tbl) != 1) {
			if (table_n(tbl))
				w->group = group;
			return;
		}
		tp = &swf_tmpls[table_id(tbl, 0)];
		/* a match-all template of Ethernet alone takes every packet the engine reads */
		if (!tp->match_all || tp->stack != SWF_L_ETH) {
			w->group = group;
			return;
		}
		solo = __atomic_load_n(&swf_solo[port][group], __ATOMIC_ACQUIRE);
		if (!solo)
			return;
		if (unlikely(solo->sampled))
			w->sampler = solo;
		if (solo->fate != FATE_JUMP) {
			w->r = solo;
			return;
		}
		w->crossed[w->nb_crossed++] = solo;
		group = solo->jump_group;
	}
}

#define SWF_BULK RTE_HASH_LOOKUP_BULK_MAX

/* What the burst's packets need, stage by stage. */
struct swf_burst {
	struct swf_pkt pkt[SWF_BURST];
	struct swf_rule *rule[SWF_BURST];
	struct swf_rule *sampler[SWF_BURST];
	int8_t group[SWF_BURST]; /* where a lookup by key starts, -1: none */
	uint8_t readable[SWF_BURST];
	struct swf_key keys[SWF_BULK];
	const void *key_ptrs[SWF_BULK];
	hash_sig_t sigs[SWF_BULK];
	void *found[SWF_BULK];
	uint16_t idx[SWF_BULK];
};

/*
 * The rules of the packets waiting in group g, looked up together (the table's cache misses
 * overlap): template by template, best first, each over the packets still without a rule.
 * A rule found that jumps on continues packet by packet.
 */
static void lookup_bulk(uint16_t port, struct swf_burst *b, uint16_t n, uint8_t g, uint32_t epoch)
{
	uint64_t tbl = __atomic_load_n(&swf_tables[port][g], __ATOMIC_ACQUIRE);

	for (unsigned int ti = 0; ti < table_n(tbl); ti++) {
		unsigned int t = table_id(tbl, ti);
		const struct swf_template *tp = &swf_tmpls[t];
		uint16_t nb = 0;
		uint64_t hits = 0;

		for (uint16_t i = 0; i < n; i++) {
			const struct swf_pkt *p = &b->pkt[i];

			if (b->group[i] != g || b->rule[i] ||
			    (p->f.stack & (uint16_t)tp->mask[0]) != tp->stack)
				continue;
			if (tp->match_all) {
				b->rule[i] = __atomic_load_n(&swf_solo[port][g], __ATOMIC_ACQUIRE);
				continue;
			}
			key_build(&b->keys[nb], tp, port, g, (uint8_t)t, (const uint64_t *)&p->f);
			b->idx[nb++] = i; /* n <= SWF_BURST == SWF_BULK: room for all */
		}
		for (uint16_t j = 0; j < nb; j++) {
			b->key_ptrs[j] = &b->keys[j];
			b->sigs[j] = key_sig(&b->keys[j]);
		}
		if (nb)
			rte_hash_lookup_with_hash_bulk_data(swf_hash, b->key_ptrs, b->sigs, nb,
							    &hits, b->found);
		for (uint16_t j = 0; j < nb; j++)
			if ((hits >> j) & 1)
				b->rule[b->idx[j]] = b->found[j];
	}
	for (uint16_t i = 0; i < n; i++) {
		struct swf_rule *r = b->rule[i];

		if (b->group[i] != g)
			continue;
		b->group[i] = -1;
		if (!r)
			continue;
		if (unlikely(r->epoch != epoch) && r->age_timeout) {
			b->rule[i] = NULL;
		} else if (unlikely(r->sampled || r->fate == FATE_JUMP)) {
			/* the unusual ways on, one packet at a time */
			if (r->sampled)
				b->sampler[i] = r;
			if (r->fate == FATE_JUMP) {
				r->hits++;
				b->rule[i] = lookup_from(port, &b->pkt[i], epoch, r->jump_group,
							 &b->sampler[i]);
			}
		}
	}
}

uint16_t dp_swflow_rx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	bool tunnel_ok = dp_ports[port_id].role == DP_PORT_PF;
	uint32_t epoch = __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE);
	struct swf_burst b;
	struct swf_out out;
	uint16_t left = 0;
	uint64_t hits = 0, misses = 0, unread = 0, drops = 0;
	uint8_t waiting = 0; /* groups where packets wait for a lookup by key, a bit each */

	struct swf_solo_walk w;
	uint16_t readable = 0;

	if (unlikely(n > SWF_BURST)) { /* not from the rx node (DP_RX_BURST): to the graph */
		for (uint16_t i = 0; i < n; i++) {
			dp_mbuf_priv(pkts[i])->flow = NULL;
			dp_mbuf_priv(pkts[i])->fastpath_read = 0;
		}
		return n;
	}
	walk_solo(port_id, &w);
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];

		b.rule[i] = b.sampler[i] = NULL;
		b.group[i] = -1;
		b.readable[i] = m->nb_segs == 1 &&
				swf_extract_rx(rte_pktmbuf_mtod(m, const uint8_t *),
					       rte_pktmbuf_data_len(m), tunnel_ok,
					       (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) ==
						       RTE_MBUF_F_RX_IP_CKSUM_GOOD,
					       &b.pkt[i]);
		if (!b.readable[i])
			continue;
		readable++;
		b.pkt[i].epoch = epoch;
		b.rule[i] = w.r;
		b.sampler[i] = w.sampler;
		b.group[i] = (int8_t)w.group;
	}
	for (unsigned int c = 0; c < w.nb_crossed; c++)
		w.crossed[c]->hits += readable;
	if (w.group >= 0 && readable)
		waiting = (uint8_t)(1u << w.group);
	for (uint8_t g = 0; waiting; g++, waiting >>= 1)
		if (waiting & 1)
			lookup_bulk(port_id, &b, n, g, epoch);

	out.n = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
		struct swf_rule *r = b.rule[i];
		uint32_t len = rte_pktmbuf_data_len(m);

		priv->flow = NULL;
		if (unlikely(b.sampler[i] != NULL))
			mirror(b.sampler[i], m, &out);
		if (!r) {
			/* to the graph, with what the engine read for the flow's rule */
			priv->fastpath_read = b.readable[i];
			if (b.readable[i]) {
				memcpy(priv->fastpath, &b.pkt[i], sizeof(b.pkt[i]));
				misses++;
			} else {
				unread++;
			}
			pkts[left++] = m;
			continue;
		}
		hits++;
		r->hits++;
		r->bytes += len;
		if (r->last_hit != now)
			__atomic_store_n(&r->last_hit, now, __ATOMIC_RELAXED);
		if (r->fate != FATE_PORT || !apply(r, m, &b.pkt[i])) {
			rte_pktmbuf_free(m);
			drops++;
			continue;
		}
		out_add(&out, r->out_port, m);
	}
	/* counted before they leave: whoever sees a packet out sees it counted */
	if (hits)
		count(&swf_stats.hits, hits);
	if (misses)
		count(&swf_stats.misses, misses);
	if (unread)
		count(&swf_stats.unreadable, unread);
	if (drops)
		count(&swf_stats.rule_drops, drops);
	out_flush(&out);
	return left;
}
