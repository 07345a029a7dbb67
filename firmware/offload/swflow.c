/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software flow engine (swflow.h): rules compiled from rte_flow arrays, matched by tuple
 * space search, applied by the worker before the graph.
 *
 * A template is a pattern's shape: its item sequence (as a stack prefix), its masks and its
 * priority. A table (port, group) lists the templates its rules use, best priority first, in
 * one 64-bit word that writers replace whole (a compare-and-swap: the worker adds, nobody
 * removes but a flush), so that readers need no lock. A rule's key is the template's masked
 * words of the packet's fields; all keys live in one rte_hash.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_ethdev.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>
#include <rte_spinlock.h>

#include <dplane/core.h>

#include "ctl.h"
#include "fastpath.h"
#include "mbuf.h"
#include "port.h"
#include "rcu.h"
#include "swflow_priv.h"

struct rte_hash *swf_hash;
struct swf_rule *swf_rules;
static struct rte_ring *swf_free;
uint32_t swf_capacity;
struct swf_template swf_tmpls[SWF_TEMPLATES];
uint64_t swf_tables[DP_MAX_PORTS][SWF_GROUPS];
struct swf_rule *swf_solo[DP_MAX_PORTS][SWF_GROUPS];
struct dp_swflow_stats swf_stats;
/* rules destroyed, waiting for a grace period before they are free */
static uint32_t *swf_retired;
static uint32_t swf_nb_retired;
/* rules the worker replaced (stale ones), for the control thread to free */
static struct rte_ring *swf_retire;
static rte_spinlock_t swf_tmpl_lock = RTE_SPINLOCK_INITIALIZER;
/* rules with a twin in the NIC */
static uint32_t swf_nic_live;

static uint32_t swf_key_hash(const void *key, uint32_t len, uint32_t init)
{
	const struct swf_key *k = key;

	(void)len;
	return rte_hash_crc(k, 8 + 8u * k->nwords, init);
}

bool dp_swflow_ready(void)
{
	return swf_hash != NULL;
}

int dp_swflow_init(uint32_t max_rules)
{
	struct rte_hash_parameters params = {
		.name = "offload_rules",
		/* room beyond the rules: a cuckoo table refuses keys before it is full */
		.entries = max_rules + max_rules / 4 + 64,
		.key_len = sizeof(struct swf_key),
		.hash_func = swf_key_hash,
		.hash_func_init_val = SWF_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};

	if (max_rules == 0)
		return -EINVAL;
	swf_capacity = max_rules;
	swf_hash = rte_hash_create(&params);
	swf_rules = rte_zmalloc("offload_rules", (size_t)max_rules * sizeof(*swf_rules),
				RTE_CACHE_LINE_SIZE);
	swf_free = rte_ring_create_elem("offload_rules_free", sizeof(uint32_t), max_rules,
					(int)rte_socket_id(), RING_F_EXACT_SZ);
	swf_retired = rte_zmalloc("offload_rules_retired", (size_t)max_rules * sizeof(uint32_t), 0);
	swf_retire = rte_ring_create_elem("offload_rules_stale", sizeof(uint32_t), max_rules,
					  (int)rte_socket_id(), RING_F_EXACT_SZ | RING_F_SC_DEQ);
	if (!swf_hash || !swf_rules || !swf_free || !swf_retired || !swf_retire) {
		dp_swflow_fini();
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < max_rules; i++)
		rte_ring_sp_enqueue_elem(swf_free, &i, sizeof(i));
	memset(swf_tmpls, 0, sizeof(swf_tmpls));
	memset(swf_tables, 0, sizeof(swf_tables));
	memset(swf_solo, 0, sizeof(swf_solo));
	memset(&swf_stats, 0, sizeof(swf_stats));
	swf_nb_retired = 0;
	swf_nic_live = 0;
	return 0;
}

void dp_swflow_fini(void)
{
	rte_hash_free(swf_hash);
	swf_hash = NULL;
	rte_free(swf_rules);
	swf_rules = NULL;
	rte_ring_free(swf_free);
	swf_free = NULL;
	rte_free(swf_retired);
	swf_retired = NULL;
	rte_ring_free(swf_retire);
	swf_retire = NULL;
	swf_capacity = 0;
}

/* -- compiling a pattern ------------------------------------------------------------------ */

static int fail(struct rte_flow_error *error, int code, enum rte_flow_error_type type,
		const void *cause, const char *msg)
{
	if (error) {
		error->type = type;
		error->cause = cause;
		error->message = msg;
	}
	rte_errno = code;
	return -code;
}

/* value/mask bytes into the match at field offset off */
static void put(struct swf_match *m, size_t off, const void *spec, const void *mask, size_t len)
{
	uint8_t *v = (uint8_t *)m->value, *k = (uint8_t *)m->mask;
	const uint8_t *s = spec, *ms = mask;

	for (size_t i = 0; i < len; i++) {
		k[off + i] |= ms[i];
		v[off + i] |= (uint8_t)(s[i] & ms[i]);
	}
}

#define FOFF(field) offsetof(struct swf_fields, field)

static const uint8_t zero16[16];

/* Fields of an item's header no template may mask (the engine does not read them). */
static bool only_zero(const void *p, size_t len)
{
	return len <= sizeof(zero16)
		       ? memcmp(p, zero16, len) == 0
		       : only_zero(p, 16) && only_zero((const uint8_t *)p + 16, len - 16);
}

int swf_compile_pattern(const struct rte_flow_item pattern[], struct swf_match *m,
			uint16_t *stack_out, struct rte_flow_error *error)
{
	unsigned int depth = 0, ips = 0;
	const struct rte_flow_item *it;
	uint16_t stack = 0;

	memset(m, 0, sizeof(*m));
	if (!pattern)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, NULL, "no pattern");
	for (it = pattern; it->type != RTE_FLOW_ITEM_TYPE_END; it++) {
		enum swf_layer layer;

		if (it->type == RTE_FLOW_ITEM_TYPE_VOID)
			continue;
		if (it->last)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_LAST, it,
				    "ranges are not supported");
		if (depth == 4)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
				    "pattern too deep");
		switch (it->type) {
		case RTE_FLOW_ITEM_TYPE_ETH: {
			const struct rte_flow_item_eth *s = it->spec, *k = it->mask;

			if (depth != 0)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
					    "ETH must come first");
			layer = SWF_L_ETH;
			if (s) {
				if (!k)
					k = &rte_flow_item_eth_mask;
				if (k->has_vlan)
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "VLAN matching is not supported");
				put(m, FOFF(eth_dst), &s->hdr.dst_addr, &k->hdr.dst_addr, 6);
				put(m, FOFF(eth_src), &s->hdr.src_addr, &k->hdr.src_addr, 6);
				put(m, FOFF(eth_type), &s->hdr.ether_type, &k->hdr.ether_type, 2);
			}
			break;
		}
		case RTE_FLOW_ITEM_TYPE_IPV4: {
			const struct rte_flow_item_ipv4 *s = it->spec, *k = it->mask;
			struct rte_ipv4_hdr rest;

			if (depth == 0 || (depth == 2 && ips != 1) || depth > 2)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
					    "IPV4 must follow ETH or a tunnel's IPV6");
			layer = SWF_L_IPV4;
			ips++;
			if (s) {
				if (!k)
					k = &rte_flow_item_ipv4_mask;
				rest = k->hdr;
				rest.src_addr = rest.dst_addr = 0;
				rest.next_proto_id = 0;
				rest.fragment_offset &= ~RTE_BE16(0x3fff);
				if (!only_zero(&rest, sizeof(rest)))
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it,
						    "IPV4: only addresses, protocol and fragment");
				put(m, FOFF(ip_src), &s->hdr.src_addr, &k->hdr.src_addr, 4);
				put(m, FOFF(ip_dst), &s->hdr.dst_addr, &k->hdr.dst_addr, 4);
				put(m, FOFF(ip_proto), &s->hdr.next_proto_id, &k->hdr.next_proto_id,
				    1);
				{
					uint16_t fv = s->hdr.fragment_offset & RTE_BE16(0x3fff);
					uint16_t fm = k->hdr.fragment_offset & RTE_BE16(0x3fff);

					put(m, FOFF(ip_frag), &fv, &fm, 2);
				}
			}
			break;
		}
		case RTE_FLOW_ITEM_TYPE_IPV6: {
			const struct rte_flow_item_ipv6 *s = it->spec, *k = it->mask;
			struct rte_ipv6_hdr rest;
			bool outer;

			if (depth == 0 || depth > 2 || (depth == 2 && ips != 1))
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
					    "IPV6 must follow ETH or a tunnel's IPV6");
			/* an IPV6 followed by another IP item is a tunnel's outer header */
			outer = depth == 1 && (it[1].type == RTE_FLOW_ITEM_TYPE_IPV4 ||
					       it[1].type == RTE_FLOW_ITEM_TYPE_IPV6);
			layer = SWF_L_IPV6;
			ips++;
			if (s) {
				if (!k)
					k = &rte_flow_item_ipv6_mask;
				if (k->has_hop_ext || k->has_route_ext || k->has_frag_ext ||
				    k->has_auth_ext || k->has_esp_ext || k->has_dest_ext ||
				    k->has_mobil_ext || k->has_hip_ext || k->has_shim6_ext)
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "IPV6 extension headers are not supported");
				rest = k->hdr;
				memset(rest.src_addr, 0, 16);
				memset(rest.dst_addr, 0, 16);
				rest.proto = 0;
				if (!only_zero(&rest, sizeof(rest)))
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "IPV6: only addresses and next header");
				if (outer) {
					put(m, FOFF(tun_src), s->hdr.src_addr, k->hdr.src_addr, 16);
					put(m, FOFF(tun_dst), s->hdr.dst_addr, k->hdr.dst_addr, 16);
					put(m, FOFF(tun_proto), &s->hdr.proto, &k->hdr.proto, 1);
				} else {
					put(m, FOFF(ip_src), s->hdr.src_addr, k->hdr.src_addr, 16);
					put(m, FOFF(ip_dst), s->hdr.dst_addr, k->hdr.dst_addr, 16);
					put(m, FOFF(ip_proto), &s->hdr.proto, &k->hdr.proto, 1);
				}
			}
			break;
		}
		case RTE_FLOW_ITEM_TYPE_TCP:
		case RTE_FLOW_ITEM_TYPE_UDP: {
			bool tcp = it->type == RTE_FLOW_ITEM_TYPE_TCP;

			if (ips == 0 || depth != ips + 1)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
					    "L4 must follow the innermost IP item");
			layer = tcp ? SWF_L_TCP : SWF_L_UDP;
			if (tcp && it->spec) {
				const struct rte_flow_item_tcp *s = it->spec, *k = it->mask;
				struct rte_tcp_hdr rest;

				if (!k)
					k = &rte_flow_item_tcp_mask;
				rest = k->hdr;
				rest.src_port = rest.dst_port = 0;
				rest.tcp_flags = 0;
				if (!only_zero(&rest, sizeof(rest)))
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "TCP: only ports and flags");
				put(m, FOFF(sport), &s->hdr.src_port, &k->hdr.src_port, 2);
				put(m, FOFF(dport), &s->hdr.dst_port, &k->hdr.dst_port, 2);
				put(m, FOFF(tcp_flags), &s->hdr.tcp_flags, &k->hdr.tcp_flags, 1);
			} else if (it->spec) {
				const struct rte_flow_item_udp *s = it->spec, *k = it->mask;

				if (!k)
					k = &rte_flow_item_udp_mask;
				if (k->hdr.dgram_len || k->hdr.dgram_cksum)
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "UDP: only ports");
				put(m, FOFF(sport), &s->hdr.src_port, &k->hdr.src_port, 2);
				put(m, FOFF(dport), &s->hdr.dst_port, &k->hdr.dst_port, 2);
			}
			break;
		}
		case RTE_FLOW_ITEM_TYPE_ICMP: {
			const struct rte_flow_item_icmp *s = it->spec, *k = it->mask;

			if (ips == 0 || depth != ips + 1)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
					    "ICMP must follow the innermost IP item");
			layer = SWF_L_ICMP;
			if (s) {
				if (!k)
					k = &rte_flow_item_icmp_mask;
				if (k->hdr.icmp_cksum || k->hdr.icmp_seq_nb)
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM_MASK,
						    it, "ICMP: only type, code and identifier");
				put(m, FOFF(sport), &s->hdr.icmp_type, &k->hdr.icmp_type, 1);
				put(m, FOFF(sport) + 1, &s->hdr.icmp_code, &k->hdr.icmp_code, 1);
				put(m, FOFF(dport), &s->hdr.icmp_ident, &k->hdr.icmp_ident, 2);
			}
			break;
		}
		default:
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, it,
				    "item type not supported");
		}
		stack |= (uint16_t)(layer << (4 * depth));
		depth++;
	}
	if (depth == 0)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ITEM_NUM, NULL, "empty pattern");
	/* the stack is part of every key: the packet's first `depth` headers */
	m->value[0] |= stack;
	m->mask[0] |= (uint16_t)((1u << (4 * depth)) - 1);
	*stack_out = stack;
	return 0;
}

/* -- compiling actions --------------------------------------------------------------------- */

static int add_op(struct swf_rule *r, unsigned int *data_used, uint8_t type, const void *v,
		  size_t len, const struct rte_flow_action *a, struct rte_flow_error *error)
{
	if (r->nb_ops == SWF_MAX_OPS)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a, "too many actions");
	if (*data_used + len > SWF_DATA)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a, "actions too large");
	r->ops[r->nb_ops++] =
		(struct swf_op){.type = type, .len = (uint8_t)len, .off = (uint8_t)*data_used};
	if (len)
		memcpy(r->data + *data_used, v, len);
	*data_used += (unsigned int)len;
	return 0;
}

/*
 * SAMPLE as a ConnectX e-switch takes it: ratio 1 (every packet), and a copy that is
 * encapsulated (Ethernet, IPv6, UDP: lengths set per packet) and sent to a port.
 */
static int compile_sample(int port_id, const struct rte_flow_attr *attr,
			  const struct rte_flow_action *a, struct swf_rule *r,
			  struct rte_flow_error *error)
{
	const struct rte_flow_action_sample *smp = a->conf;
	const struct rte_flow_action_raw_encap *encap = NULL;
	const struct rte_flow_action *sub;
	uint32_t to = UINT32_MAX;

	if (!smp || smp->ratio != 1 || !smp->actions || r->sampled)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
			    "SAMPLE: one, of every packet (ratio 1)");
	if (!attr->transfer)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, a,
			    "SAMPLE needs a transfer rule");
	for (sub = smp->actions; sub->type != RTE_FLOW_ACTION_TYPE_END; sub++) {
		if (sub->type == RTE_FLOW_ACTION_TYPE_RAW_ENCAP && !encap && sub->conf)
			encap = sub->conf;
		else if (sub->type == RTE_FLOW_ACTION_TYPE_PORT_ID && to == UINT32_MAX && sub->conf)
			to = ((const struct rte_flow_action_port_id *)sub->conf)->id;
		else if (sub->type != RTE_FLOW_ACTION_TYPE_VOID)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, sub,
				    "SAMPLE: RAW_ENCAP and PORT_ID only");
	}
	if (!encap || !encap->data || encap->size != SWF_SAMPLE_HDR || encap->data[12] != 0x86 ||
	    encap->data[13] != 0xdd || (encap->data[14] >> 4) != 6 ||
	    encap->data[14 + 6] != IPPROTO_UDP)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
			    "SAMPLE: RAW_ENCAP of Ethernet, IPv6 and UDP");
	if (to >= DP_MAX_PORTS || (port_id >= 0 && !dp_ports[to].configured))
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
			    "SAMPLE: no such port");
	r->sampled = 1;
	r->sample_port = (uint16_t)to;
	r->sample_len = SWF_SAMPLE_HDR;
	memcpy(r->sample_hdr, encap->data, SWF_SAMPLE_HDR);
	return 0;
}

/*
 * What a ConnectX e-switch takes: one fate; header rewrites before an encapsulation into a
 * tunnel (after it they would apply to the new outer header, which the rule builds itself)
 * or after a decapsulation's new Ethernet header; RAW_DECAP then RAW_ENCAP as a pair (L2
 * decap + L3 encap, L3 decap + L2 encap, or L3 decap + L3 encap: a tunnel's packet into
 * another tunnel); a JUMP only to a later group; PORT_ID only in transfer rules.
 */
int swf_compile_actions(int port_id, const struct rte_flow_attr *attr,
			const struct rte_flow_action actions[], struct swf_rule *r,
			struct rte_flow_error *error)
{
	unsigned int used = 0, decap = 0, encap_size = 0;
	bool encap = false, ages = false, counts = false;
	const struct rte_flow_action *a;
	int ret;

	r->nb_ops = 0;
	r->fate = FATE_NONE;
	r->sampled = 0;
	r->age_timeout = 0;
	r->age_ctx = NULL;
	if (!actions)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_NUM, NULL, "no actions");
	for (a = actions; a->type != RTE_FLOW_ACTION_TYPE_END; a++) {
		const void *c = a->conf;

		if (r->fate != FATE_NONE && a->type != RTE_FLOW_ACTION_TYPE_VOID &&
		    a->type != RTE_FLOW_ACTION_TYPE_COUNT && a->type != RTE_FLOW_ACTION_TYPE_AGE)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a,
				    "nothing but COUNT or AGE after the fate");
		switch (a->type) {
		case RTE_FLOW_ACTION_TYPE_VOID:
			continue;
		case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
		case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
		case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
		case RTE_FLOW_ACTION_TYPE_SET_TP_SRC:
		case RTE_FLOW_ACTION_TYPE_SET_TP_DST: {
			static const uint8_t op_of[] = {
				[RTE_FLOW_ACTION_TYPE_SET_MAC_SRC] = OP_SET_MAC_SRC,
				[RTE_FLOW_ACTION_TYPE_SET_MAC_DST] = OP_SET_MAC_DST,
				[RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC] = OP_SET_IPV4_SRC,
				[RTE_FLOW_ACTION_TYPE_SET_IPV4_DST] = OP_SET_IPV4_DST,
				[RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC] = OP_SET_IPV6_SRC,
				[RTE_FLOW_ACTION_TYPE_SET_IPV6_DST] = OP_SET_IPV6_DST,
				[RTE_FLOW_ACTION_TYPE_SET_TP_SRC] = OP_SET_TP_SRC,
				[RTE_FLOW_ACTION_TYPE_SET_TP_DST] = OP_SET_TP_DST,
			};
			const void *v;
			size_t len;

			if (!c)
				return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "no value");
			if (encap && encap_size == 54)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a,
					    "rewrites must come before an IPv6 RAW_ENCAP");
			if (decap && !encap)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a,
					    "RAW_DECAP must be followed by RAW_ENCAP");
			switch (a->type) {
			case RTE_FLOW_ACTION_TYPE_SET_MAC_SRC:
			case RTE_FLOW_ACTION_TYPE_SET_MAC_DST:
				v = ((const struct rte_flow_action_set_mac *)c)->mac_addr;
				len = 6;
				break;
			case RTE_FLOW_ACTION_TYPE_SET_IPV4_SRC:
			case RTE_FLOW_ACTION_TYPE_SET_IPV4_DST:
				v = &((const struct rte_flow_action_set_ipv4 *)c)->ipv4_addr;
				len = 4;
				break;
			case RTE_FLOW_ACTION_TYPE_SET_IPV6_SRC:
			case RTE_FLOW_ACTION_TYPE_SET_IPV6_DST:
				v = ((const struct rte_flow_action_set_ipv6 *)c)->ipv6_addr;
				len = 16;
				break;
			default:
				v = &((const struct rte_flow_action_set_tp *)c)->port;
				len = 2;
				break;
			}
			ret = add_op(r, &used, op_of[a->type], v, len, a, error);
			if (ret)
				return ret;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_RAW_DECAP: {
			const struct rte_flow_action_raw_decap *d = c;

			if (!d || (d->size != 14 && d->size != 54) || decap)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "RAW_DECAP: Ethernet (14) or Ethernet and IPv6 (54)");
			decap = (unsigned int)d->size;
			ret = add_op(r, &used, OP_DECAP, NULL, 0, a, error);
			if (ret)
				return ret;
			r->ops[r->nb_ops - 1].len = (uint8_t)d->size;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_RAW_ENCAP: {
			const struct rte_flow_action_raw_encap *e = c;

			if (!e || !e->data || encap || !decap ||
			    (decap == 14 ? e->size != 54 : e->size != 14 && e->size != 54))
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "RAW_ENCAP: after RAW_DECAP, Ethernet and IPv6 after "
					    "Ethernet, either after Ethernet and IPv6");
			if (e->size == 54 &&
			    (e->data[12] != 0x86 || e->data[13] != 0xdd || (e->data[14] >> 4) != 6))
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "RAW_ENCAP: Ethernet and IPv6 only");
			encap = true;
			encap_size = (unsigned int)e->size;
			ret = add_op(r, &used, OP_ENCAP, e->data, e->size, a, error);
			if (ret)
				return ret;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_COUNT:
			if (counts)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a,
					    "COUNT twice");
			counts = true;
			break;
		case RTE_FLOW_ACTION_TYPE_AGE: {
			const struct rte_flow_action_age *ag = c;

			if (!ag || ages || ag->timeout == 0)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "AGE: one, with a timeout");
			ages = true;
			r->age_timeout = ag->timeout;
			r->age_ctx = ag->context;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_JUMP: {
			const struct rte_flow_action_jump *j = c;

			if (!j || j->group <= attr->group || j->group >= SWF_GROUPS)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "JUMP: to a later group");
			r->fate = FATE_JUMP;
			r->jump_group = (uint8_t)j->group;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_PORT_ID:
		case RTE_FLOW_ACTION_TYPE_REPRESENTED_PORT: {
			uint32_t to;

			if (!c)
				return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "no port");
			if (!attr->transfer)
				return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_TRANSFER, a,
					    "a port as fate needs a transfer rule");
			to = a->type == RTE_FLOW_ACTION_TYPE_PORT_ID
				     ? ((const struct rte_flow_action_port_id *)c)->id
				     : ((const struct rte_flow_action_ethdev *)c)->port_id;
			/* port_id < 0: only the text of the rule is wanted; back out of the port
			 * it came in on is a way an e-switch knows (a load balancer's forward) */
			if (to >= DP_MAX_PORTS || (port_id >= 0 && !dp_ports[to].configured))
				return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION_CONF, a,
					    "no such port");
			r->fate = FATE_PORT;
			r->out_port = (uint16_t)to;
			break;
		}
		case RTE_FLOW_ACTION_TYPE_DROP:
			r->fate = FATE_DROP;
			break;
		case RTE_FLOW_ACTION_TYPE_SAMPLE:
			ret = compile_sample(port_id, attr, a, r, error);
			if (ret)
				return ret;
			break;
		default:
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, a,
				    "action type not supported");
		}
	}
	if (r->fate == FATE_NONE)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, NULL, "no fate action");
	if (decap && !encap)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			    "RAW_DECAP without RAW_ENCAP");
	if (r->fate != FATE_PORT && r->nb_ops)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, NULL,
			    "rewrites only with a port as fate");
	if (r->sampled && r->fate == FATE_DROP)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, NULL, "SAMPLE with DROP");
	r->counted = counts;
	return 0;
}

/* -- templates and tables ----------------------------------------------------------------- */

static int template_of(const struct swf_match *m, uint16_t stack, uint32_t priority,
		       struct rte_flow_error *error)
{
	int free_slot = -1;

	for (int t = 0; t < SWF_TEMPLATES; t++) {
		const struct swf_template *tp = &swf_tmpls[t];

		if (!__atomic_load_n(&tp->used, __ATOMIC_ACQUIRE)) {
			if (free_slot < 0)
				free_slot = t;
			continue;
		}
		/* the stack's value too: the readers skip a template by it */
		if (tp->priority == priority && tp->stack == (stack & (uint16_t)m->mask[0]) &&
		    memcmp(tp->mask, m->mask, sizeof(tp->mask)) == 0)
			return t;
	}
	if (free_slot < 0)
		return fail(error, ENOSPC, RTE_FLOW_ERROR_TYPE_ITEM, NULL,
			    "too many pattern shapes");
	{
		struct swf_template *tp = &swf_tmpls[free_slot];

		memcpy(tp->mask, m->mask, sizeof(tp->mask));
		tp->stack = stack & (uint16_t)m->mask[0];
		tp->priority = priority;
		tp->nwords = 0;
		for (unsigned int w = 0; w < SWF_WORDS; w++)
			if (m->mask[w]) {
				if (tp->nwords == SWF_KEY_WORDS)
					return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ITEM, NULL,
						    "pattern matches too many fields");
				tp->word[tp->nwords++] = (uint8_t)w;
			}
		tp->match_all = tp->nwords == 1 && (tp->mask[0] >> 16) == 0;
		__atomic_store_n(&tp->used, 1, __ATOMIC_RELEASE);
	}
	return free_slot;
}

/* Put template t into the table, best priority first; false if the table is full. */
static bool table_add(uint16_t port, uint8_t group, unsigned int t)
{
	uint64_t *slot = &swf_tables[port][group];
	uint64_t old = __atomic_load_n(slot, __ATOMIC_ACQUIRE), nt;

	for (;;) {
		unsigned int n = table_n(old), at = n;
		uint8_t ids[SWF_TABLE_TMPLS + 1];

		for (unsigned int i = 0; i < n; i++) {
			ids[i] = (uint8_t)table_id(old, i);
			if (ids[i] == t)
				return true;
		}
		if (n == SWF_TABLE_TMPLS)
			return false;
		for (unsigned int i = 0; i < n; i++)
			if (swf_tmpls[ids[i]].priority > swf_tmpls[t].priority) {
				at = i;
				break;
			}
		memmove(&ids[at + 1], &ids[at], n - at);
		ids[at] = (uint8_t)t;
		nt = n + 1;
		for (unsigned int i = 0; i <= n; i++)
			nt |= (uint64_t)ids[i] << (8 * (i + 1));
		if (__atomic_compare_exchange_n(slot, &old, nt, false, __ATOMIC_RELEASE,
						__ATOMIC_ACQUIRE))
			return true;
	}
}

/* -- create, destroy, query ---------------------------------------------------------------- */

static int check_attr(uint16_t port_id, const struct rte_flow_attr *attr,
		      struct rte_flow_error *error)
{
	if (!attr)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, NULL, "no attributes");
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return fail(error, ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL, "no such port");
	if (attr->egress)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_EGRESS, attr,
			    "egress rules are not supported");
	if (!attr->ingress && !attr->transfer)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ATTR, attr, "ingress or transfer");
	if (attr->group >= SWF_GROUPS)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_GROUP, attr, "no such group");
	if (attr->priority > 7)
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ATTR_PRIORITY, attr,
			    "priorities 0 to 7");
	return 0;
}

static int compile(uint16_t port_id, const struct rte_flow_attr *attr,
		   const struct rte_flow_item pattern[], const struct rte_flow_action actions[],
		   struct swf_rule *r, struct swf_match *m, uint16_t *stack,
		   struct rte_flow_error *error)
{
	int ret = check_attr(port_id, attr, error);

	if (!ret)
		ret = swf_compile_pattern(pattern, m, stack, error);
	if (!ret)
		ret = swf_compile_actions(port_id, attr, actions, r, error);
	return ret;
}

int dp_swflow_validate(uint16_t port_id, const struct rte_flow_attr *attr,
		       const struct rte_flow_item pattern[], const struct rte_flow_action actions[],
		       struct rte_flow_error *error)
{
	struct swf_rule r;
	struct swf_match m;
	uint16_t stack;

	return compile(port_id, attr, pattern, actions, &r, &m, &stack, error);
}

/* Control thread: destroy the rule's twin in the NIC, if it has one. The worker never does
 * (the control thread may be querying it): its rules' twins go when reclaim() frees them. */
static void nic_release(struct swf_rule *r)
{
	struct rte_flow *nic = __atomic_exchange_n(&r->nic, NULL, __ATOMIC_SEQ_CST);
	struct rte_flow_error error;

	if (!nic)
		return;
	__atomic_fetch_sub(&swf_nic_live, 1, __ATOMIC_RELAXED);
	if (rte_flow_destroy(r->nic_port, nic, &error) == 0) {
		count_shared(&swf_stats.nic_destroys, 1);
		return;
	}
	count_shared(&swf_stats.nic_destroy_failures, 1);
	DP_LOG(WARNING, "offload: port %u: the NIC kept a rule: %s", r->nic_port,
	       error.message ? error.message : "?");
}

/* Whoever wins takes the rule out of the table (false: it was out already). */
static bool take_out(struct swf_rule *r)
{
	uint8_t one = 1;

	if (!__atomic_compare_exchange_n(&r->live, &one, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return false;
	/* the key's slot, freed after the grace period (the table frees none on delete) */
	r->pos = rte_hash_del_key_with_hash(swf_hash, &r->key, key_sig(&r->key));
	if (swf_tmpls[r->key.tmpl].match_all) {
		struct swf_rule *expected = r;

		__atomic_compare_exchange_n(&swf_solo[r->key.port][r->key.group], &expected, NULL,
					    false, __ATOMIC_RELEASE, __ATOMIC_RELAXED);
	}
	count_shared(&swf_stats.destroys, 1);
	if (dp_ctl_is_thread())
		nic_release(r); /* at once: the NIC stops carrying the rule's packets */
	return true;
}

struct rte_flow *dp_swflow_create(uint16_t port_id, const struct rte_flow_attr *attr,
				  const struct rte_flow_item pattern[],
				  const struct rte_flow_action actions[],
				  struct rte_flow_error *error)
{
	return dp_swflow_create_at(__atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE), port_id, attr,
				   pattern, actions, error);
}

struct rte_flow *dp_swflow_create_at(uint32_t epoch, uint16_t port_id,
				     const struct rte_flow_attr *attr,
				     const struct rte_flow_item pattern[],
				     const struct rte_flow_action actions[],
				     struct rte_flow_error *error)
{
	struct swf_rule tmp, *r;
	void *old;
	struct swf_match m;
	uint16_t stack;
	uint32_t idx;
	hash_sig_t sig;
	int t, ret;

	if (!swf_hash) {
		fail(error, ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL, "engine not running");
		goto refused;
	}
	memset(&tmp, 0, sizeof(tmp));
	if (compile(port_id, attr, pattern, actions, &tmp, &m, &stack, error))
		goto refused;
	rte_spinlock_lock(&swf_tmpl_lock); /* the worker's creates and the control thread's */
	t = template_of(&m, stack, attr->priority, error);
	rte_spinlock_unlock(&swf_tmpl_lock);
	if (t < 0)
		goto refused;
	if (!table_add(port_id, (uint8_t)attr->group, (unsigned int)t)) {
		fail(error, ENOSPC, RTE_FLOW_ERROR_TYPE_ITEM, NULL,
		     "too many pattern shapes in this group");
		goto refused;
	}
	key_build(&tmp.key, &swf_tmpls[t], port_id, (uint8_t)attr->group, (uint8_t)t, m.value);
	sig = key_sig(&tmp.key);
	if (rte_hash_lookup_with_hash_data(swf_hash, &tmp.key, sig, &old) >= 0) {
		struct swf_rule *o = old;
		uint32_t idx_old = (uint32_t)(o - swf_rules);

		/* a per-flow rule made before a change of forwarding state gives way to its
		 * flow's new one (the same AGE context) */
		if (!o->age_timeout || o->age_ctx != tmp.age_ctx ||
		    o->epoch == __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE) || !take_out(o)) {
			fail(error, EEXIST, RTE_FLOW_ERROR_TYPE_ITEM, NULL,
			     "a rule has this pattern");
			goto refused;
		}
		rte_ring_mp_enqueue_elem(swf_retire, &idx_old, sizeof(idx_old));
	}
	if (rte_ring_mc_dequeue_elem(swf_free, &idx, sizeof(idx)) != 0) {
		fail(error, ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL, "rule table full");
		goto refused;
	}
	r = &swf_rules[idx];
	tmp.transfer = attr->transfer;
	tmp.priority = attr->priority;
	tmp.created = tmp.last_hit = rte_rdtsc();
	tmp.live = 1;
	tmp.epoch = epoch;
	*r = tmp;
	ret = rte_hash_add_key_with_hash_data(swf_hash, &r->key, sig, r);
	if (ret < 0) {
		r->live = 0;
		rte_ring_mp_enqueue_elem(swf_free, &idx, sizeof(idx));
		fail(error, ENOSPC, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL, "rule table full");
		goto refused;
	}
	if (swf_tmpls[t].match_all)
		__atomic_store_n(&swf_solo[port_id][attr->group], r, __ATOMIC_RELEASE);
	count_shared(&swf_stats.installs, 1);
	return (struct rte_flow *)r;
refused:
	count_shared(&swf_stats.refusals, 1);
	return NULL;
}

static struct swf_rule *rule_of(struct rte_flow *flow)
{
	struct swf_rule *r = (struct swf_rule *)flow;

	if (!swf_rules || r < swf_rules || r >= swf_rules + swf_capacity ||
	    ((uintptr_t)r - (uintptr_t)swf_rules) % sizeof(*r) != 0)
		return NULL;
	return r;
}

/* Free what waits for a grace period. */
static void reclaim(void)
{
	uint32_t idx;

	while (swf_nb_retired < swf_capacity &&
	       rte_ring_sc_dequeue_elem(swf_retire, &idx, sizeof(idx)) == 0)
		swf_retired[swf_nb_retired++] = idx;
	if (!swf_nb_retired)
		return;
	dp_rcu_synchronize();
	for (uint32_t i = 0; i < swf_nb_retired; i++) {
		struct swf_rule *r = &swf_rules[swf_retired[i]];

		nic_release(r); /* taken out by the worker (or twinned as it was) */
		if (r->pos >= 0)
			rte_hash_free_key_with_position(swf_hash, r->pos);
		rte_ring_mp_enqueue_elem(swf_free, &swf_retired[i], sizeof(uint32_t));
	}
	swf_nb_retired = 0;
}

/* Unpublish: no packet finds it from now on; freed by reclaim(). */
static int unpublish(struct swf_rule *r)
{
	if (!take_out(r))
		return -ENOENT;
	if (swf_nb_retired == swf_capacity) /* no room to wait: free those waiting first */
		reclaim();
	swf_retired[swf_nb_retired++] = (uint32_t)(r - swf_rules);
	return 0;
}

bool dp_swflow_retire(struct rte_flow *flow)
{
	struct swf_rule *r = rule_of(flow);
	uint32_t idx;

	if (!r || !take_out(r))
		return false;
	idx = (uint32_t)(r - swf_rules);
	rte_ring_mp_enqueue_elem(swf_retire, &idx, sizeof(idx));
	return true;
}

uint32_t dp_swflow_epoch(const struct rte_flow *flow)
{
	return ((const struct swf_rule *)flow)->epoch;
}

bool dp_swflow_live(const struct rte_flow *flow)
{
	return __atomic_load_n(&((const struct swf_rule *)flow)->live, __ATOMIC_ACQUIRE);
}

void dp_swflow_reclaim(void)
{
	if (swf_hash)
		reclaim();
}

int dp_swflow_destroy(uint16_t port_id, struct rte_flow *flow, struct rte_flow_error *error)
{
	struct swf_rule *r = rule_of(flow);
	int ret;

	DP_CTL_CHECK();
	if (!r || r->key.port != port_id)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE, flow, "no such rule");
	ret = unpublish(r);
	reclaim();
	if (ret)
		return fail(error, -ret, RTE_FLOW_ERROR_TYPE_HANDLE, flow, "no such rule");
	return 0;
}

int dp_swflow_flush(uint16_t port_id, struct rte_flow_error *error)
{
	unsigned int n = 0;

	DP_CTL_CHECK();
	if (!swf_rules)
		return 0;
	for (uint32_t i = 0; i < swf_capacity; i++) {
		struct swf_rule *r = &swf_rules[i];

		if (__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) &&
		    (port_id == DP_PORT_NONE || r->key.port == port_id) && unpublish(r) == 0)
			n++;
		if (swf_nb_retired >= swf_capacity - 1)
			reclaim();
	}
	reclaim();
	(void)error;
	return (int)n;
}

/* What the NIC's twin carried: its hits, and the TSC of its last hit (0 if none). */
static uint64_t nic_usage(const struct swf_rule *r, uint64_t *hits)
{
	struct rte_flow *nic = __atomic_load_n(&r->nic, __ATOMIC_ACQUIRE);
	const struct rte_flow_action count_q = {.type = RTE_FLOW_ACTION_TYPE_COUNT};
	const struct rte_flow_action age_q = {.type = RTE_FLOW_ACTION_TYPE_AGE};
	struct rte_flow_query_count c = {0};
	struct rte_flow_query_age a = {0};
	struct rte_flow_error error;
	uint64_t now, ago;

	if (!nic || !dp_ctl_is_thread()) /* the worker frees twins on the control thread only */
		return 0;
	if (rte_flow_query(r->nic_port, nic, &count_q, &c, &error) == 0 && c.hits_set)
		*hits += c.hits;
	if (rte_flow_query(r->nic_port, nic, &age_q, &a, &error) != 0 ||
	    !a.sec_since_last_hit_valid || !c.hits)
		return 0;
	now = rte_rdtsc();
	ago = (uint64_t)a.sec_since_last_hit * rte_get_tsc_hz();
	return now > ago ? now - ago : 0;
}

uint64_t dp_swflow_usage(const struct rte_flow *flow, uint64_t *hits)
{
	const struct swf_rule *r = (const struct swf_rule *)flow;
	uint64_t last = __atomic_load_n(&r->last_hit, __ATOMIC_RELAXED), nic_last;

	*hits = __atomic_load_n(&r->hits, __ATOMIC_RELAXED);
	nic_last = nic_usage(r, hits);
	return nic_last > last ? nic_last : last;
}

bool dp_swflow_attach_nic(struct rte_flow *flow, uint16_t port_id, struct rte_flow *nic)
{
	struct swf_rule *r = rule_of(flow);
	struct rte_flow_error error;

	/* a rule stale already, or out: its twin would carry what the engine no longer does */
	if (!r || !__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) ||
	    (r->age_timeout && r->epoch != __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE))) {
		rte_flow_destroy(port_id, nic, &error);
		return false;
	}
	r->nic_port = port_id;
	__atomic_fetch_add(&swf_nic_live, 1, __ATOMIC_RELAXED);
	/* taken out from here on: the control thread destroys the twin, at the latest when
	 * reclaim() frees the rule (after this worker's grace period) */
	__atomic_store_n(&r->nic, nic, __ATOMIC_SEQ_CST);
	return true;
}

int dp_swflow_nic_sweep(void)
{
	uint32_t epoch = __atomic_load_n(&dp_fwd_epoch, __ATOMIC_ACQUIRE);
	int n = 0;

	DP_CTL_CHECK();
	if (!swf_rules || !__atomic_load_n(&swf_nic_live, __ATOMIC_RELAXED))
		return 0;
	for (uint32_t i = 0; i < swf_capacity; i++) {
		struct swf_rule *r = &swf_rules[i];

		if (!__atomic_load_n(&r->nic, __ATOMIC_ACQUIRE) || !r->age_timeout ||
		    r->epoch == epoch)
			continue;
		nic_release(r);
		n++;
	}
	return n;
}

static uint32_t secs_since(uint64_t then, uint64_t now)
{
	uint64_t s = now > then ? (now - then) / rte_get_tsc_hz() : 0;

	return s > 0xffffff ? 0xffffff : (uint32_t)s;
}

int dp_swflow_query(uint16_t port_id, struct rte_flow *flow, const struct rte_flow_action *action,
		    void *data, struct rte_flow_error *error)
{
	struct swf_rule *r = rule_of(flow);

	if (!r || !r->live || r->key.port != port_id)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_HANDLE, flow, "no such rule");
	if (!action || !data)
		return fail(error, EINVAL, RTE_FLOW_ERROR_TYPE_ACTION, action, "what to query");
	switch (action->type) {
	case RTE_FLOW_ACTION_TYPE_COUNT: {
		struct rte_flow_query_count *q = data;

		if (!r->counted)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, action,
				    "the rule does not count");
		q->hits_set = q->bytes_set = 1;
		q->hits = __atomic_load_n(&r->hits, __ATOMIC_RELAXED);
		q->bytes = __atomic_load_n(&r->bytes, __ATOMIC_RELAXED);
		return 0;
	}
	case RTE_FLOW_ACTION_TYPE_AGE: {
		struct rte_flow_query_age *q = data;
		uint32_t s =
			secs_since(__atomic_load_n(&r->last_hit, __ATOMIC_RELAXED), rte_rdtsc());

		if (!r->age_timeout)
			return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, action,
				    "the rule does not age");
		memset(q, 0, sizeof(*q));
		q->sec_since_last_hit_valid = 1;
		q->sec_since_last_hit = s;
		q->aged = s >= r->age_timeout;
		return 0;
	}
	default:
		return fail(error, ENOTSUP, RTE_FLOW_ERROR_TYPE_ACTION, action,
			    "COUNT or AGE only");
	}
}

int dp_swflow_get_aged_flows(uint16_t port_id, void **contexts, uint32_t nb_contexts,
			     struct rte_flow_error *error)
{
	uint64_t now = rte_rdtsc();
	uint32_t n = 0;

	if (port_id >= DP_MAX_PORTS)
		return fail(error, ENODEV, RTE_FLOW_ERROR_TYPE_UNSPECIFIED, NULL, "no such port");
	if (!swf_rules)
		return 0;
	for (uint32_t i = 0; i < swf_capacity; i++) {
		struct swf_rule *r = &swf_rules[i];

		if (!__atomic_load_n(&r->live, __ATOMIC_ACQUIRE) || r->key.port != port_id ||
		    !r->age_timeout || r->aged_reported ||
		    secs_since(__atomic_load_n(&r->last_hit, __ATOMIC_RELAXED), now) <
			    r->age_timeout)
			continue;
		/* with no room given, how many there are (rte_flow's convention) */
		if (nb_contexts) {
			if (n == nb_contexts)
				break;
			contexts[n] = r->age_ctx ? r->age_ctx : (void *)r;
			r->aged_reported = 1; /* reported once, as a NIC does */
			count_shared(&swf_stats.aged, 1);
		}
		n++;
	}
	return (int)n;
}
/* -- what operators see ---------------------------------------------------------------------- */

void dp_swflow_stats_get(struct dp_swflow_stats *s)
{
	unsigned int t = 0;

	*s = swf_stats;
	s->nic_rules = __atomic_load_n(&swf_nic_live, __ATOMIC_RELAXED);
	s->capacity = swf_capacity;
	s->rules = swf_hash ? (uint32_t)rte_hash_count(swf_hash) : 0;
	for (unsigned int i = 0; i < SWF_TEMPLATES; i++)
		t += swf_tmpls[i].used;
	s->templates = t;
}
