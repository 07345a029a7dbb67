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

#include "fastpath.h"
#include "mbuf.h"
#include "port.h"
#include "swflow_priv.h"

/* RFC 1624: the checksum at sum, len bytes (even) it covers changed from old to new. */
static inline void cksum_replace(uint8_t *sum, const uint8_t *old, const uint8_t *new,
				 unsigned int len)
{
	uint32_t s = (uint16_t)~rd16(sum);

	for (unsigned int i = 0; i < len; i += 2)
		s += (uint16_t)~rd16(old + i) + (uint32_t)rd16(new + i);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	wr16(sum, (uint16_t)~s);
}

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
		cksum_replace(d + p->l3_off + 10, field, v, len);
	if (sum && ((in_pseudo && pseudo) || in_l4)) {
		cksum_replace(sum, field, v, len);
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
			memcpy(h, v, op->len);
			if (op->len == 54) {
				wr16(h + 14 + 4, payload); /* the NIC sets the length */
				p->tunnel = 1;
				outer_tunnel = true;
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

/* Packets leaving, grouped by port. */
struct swf_out {
	uint16_t nb_ports;
	uint16_t port[SWF_BURST];
	uint16_t n[SWF_BURST];
	struct rte_mbuf *pkts[SWF_BURST][2 * SWF_BURST]; /* a packet, and its sample */
};

static inline bool out_has(const struct swf_out *o, uint16_t port)
{
	for (uint16_t i = 0; i < o->nb_ports; i++)
		if (o->port[i] == port)
			return true;
	return false;
}

static inline void out_add(struct swf_out *o, uint16_t port, struct rte_mbuf *m)
{
	for (uint16_t i = 0; i < o->nb_ports; i++)
		if (o->port[i] == port) {
			o->pkts[i][o->n[i]++] = m;
			return;
		}
	o->port[o->nb_ports] = port;
	o->n[o->nb_ports] = 1;
	o->pkts[o->nb_ports++][0] = m;
}

/* SAMPLE: a copy of m as it came in, in the sampler's header, to the sampler's port. */
static void mirror(const struct swf_rule *r, struct rte_mbuf *m, struct swf_out *o)
{
	struct rte_mbuf *c;
	uint8_t *h;
	uint32_t len;

	if (o->nb_ports == SWF_BURST && !out_has(o, r->sample_port))
		c = NULL; /* no room to send it */
	else
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

static inline struct swf_rule *lookup(uint16_t port, const struct swf_pkt *p, uint32_t epoch,
				      struct swf_rule **sampler)
{
	const uint64_t *fw = (const uint64_t *)&p->f;
	struct swf_rule *r = NULL;
	uint8_t group = 0;

	*sampler = NULL;

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
		/* a rule that only jumps counts its packets too */
		r->hits++;
		group = r->jump_group;
	}
	return NULL;
}

uint16_t dp_swflow_rx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n, uint64_t now)
{
	bool tunnel_ok = dp_ports[port_id].role == DP_PORT_PF;
	uint32_t epoch = __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE);
	struct swf_out out;
	uint16_t left = 0;
	uint64_t hits = 0, misses = 0, unread = 0, drops = 0;

	out.nb_ports = 0;
	for (uint16_t i = 0; i < n; i++) {
		struct rte_mbuf *m = pkts[i];
		struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
		struct swf_pkt *p = (struct swf_pkt *)(void *)priv->fastpath;
		struct swf_rule *r, *sampler;
		uint32_t len = rte_pktmbuf_data_len(m);

		priv->flow = NULL;
		priv->fastpath_read = 0;
		if (unlikely(m->nb_segs != 1) ||
		    !swf_extract(rte_pktmbuf_mtod(m, const uint8_t *), len, tunnel_ok, p)) {
			unread++;
			pkts[left++] = m;
			continue;
		}
		p->epoch = epoch;
		r = lookup(port_id, p, epoch, &sampler);
		if (unlikely(sampler != NULL))
			mirror(sampler, m, &out);
		if (!r) {
			priv->fastpath_read = 1;
			misses++;
			pkts[left++] = m;
			continue;
		}
		hits++;
		r->hits++;
		r->bytes += len;
		if (r->last_hit != now)
			__atomic_store_n(&r->last_hit, now, __ATOMIC_RELAXED);
		if (r->fate != FATE_PORT || !apply(r, m, p)) {
			rte_pktmbuf_free(m);
			drops++;
			continue;
		}
		out_add(&out, r->out_port, m);
	}
	for (uint16_t i = 0; i < out.nb_ports; i++) {
		uint16_t port = out.port[i], sent = 0;

		if (likely(dp_port_tx_enabled(port)))
			sent = rte_eth_tx_burst(port, 0, out.pkts[i], out.n[i]);
		if (unlikely(sent < out.n[i])) {
			rte_pktmbuf_free_bulk(&out.pkts[i][sent], out.n[i] - sent);
			count(&swf_stats.tx_dropped, out.n[i] - sent);
		}
	}
	if (hits)
		count(&swf_stats.hits, hits);
	if (misses)
		count(&swf_stats.misses, misses);
	if (unread)
		count(&swf_stats.unreadable, unread);
	if (drops)
		count(&swf_stats.rule_drops, drops);
	return left;
}
