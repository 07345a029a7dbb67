/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firewall's compiled rules and their matcher, shared by the node, the control functions
 * and the pure functions the tests fuzz (so that what is fuzzed is what runs).
 *
 * An interface's rules are compiled into one table per direction and IP family, in the order
 * they are to be tried: a rule whose prefixes both allow a family is in that family's table
 * (a prefix of length 0 allows both). Entries are flat and small (IPv4 32 bytes, IPv6 80), a
 * first match is a linear scan of one table; the scan happens once per flow (the verdict
 * lives in the flow), not per packet.
 */
#ifndef DP_FW_H
#define DP_FW_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_common.h>

#include <dplane/core.h>
#include <dplane/firewall.h>

/* proto_mask bits: which L4 protocols a rule takes */
#define FW_P_TCP 0x01
#define FW_P_UDP 0x02
#define FW_P_ICMP 0x04 /* ICMP and ICMPv6 */
/* l4 bits: which filters apply */
#define FW_L4_PORTS 0x01
#define FW_L4_ICMP_TYPE 0x02
#define FW_L4_ICMP_CODE 0x04

struct fw_entry4 {
	uint32_t src, src_mask; /* host order */
	uint32_t dst, dst_mask;
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto_mask, l4, icmp_type, icmp_code;
	uint16_t rule;  /* index in the list as given */
	uint8_t action; /* enum dp_fw_action */
	uint8_t pad;
};

struct fw_entry6 {
	uint64_t src[2], src_mask[2]; /* as loaded from network-order bytes */
	uint64_t dst[2], dst_mask[2];
	uint16_t sport_lo, sport_hi, dport_lo, dport_hi;
	uint8_t proto_mask, l4, icmp_type, icmp_code;
	uint16_t rule;
	uint8_t action;
	uint8_t pad;
};

/* One interface's rules, immutable once published (replaced whole, RCU). */
struct fw_set {
	uint32_t gen;     /* unique among the sets ever published, never 0 */
	uint32_t n_rules; /* as given */
	uint32_t n_dir[2];
	uint32_t n4[2], n6[2];
	struct fw_entry4 *v4[2];
	struct fw_entry6 *v6[2];
};

/* Per VF, written by the worker, read by control. */
struct fw_port_stats {
	uint64_t flows_denied[2]; /* index enum dp_fw_direction */
	uint64_t audit_denied[2];
	uint64_t dropped[2];
	uint64_t decisions;
};

extern bool dp_fw_enforce;
extern const struct fw_set *dp_fw_sets[DP_MAX_PORTS]; /* NULL: no rules (RCU) */
extern struct fw_port_stats dp_fw_port_stats[DP_MAX_PORTS];

/* Compile n rules (calloc'ed; fw_set_free()). NULL with errno EINVAL or ENOMEM. */
struct fw_set *fw_set_compile(const struct dp_fw_rule *rules, unsigned int n, uint32_t gen);
void fw_set_free(struct fw_set *set);

static inline uint64_t fw_load64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, sizeof(v));
	return v;
}

static inline uint32_t fw_load32_be(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, sizeof(v));
	return rte_be_to_cpu_32(v);
}

static __rte_always_inline uint8_t fw_proto_bit(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return FW_P_TCP;
	case IPPROTO_UDP:
		return FW_P_UDP;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return FW_P_ICMP;
	default:
		return 0;
	}
}

#define FW_L4_MATCH(e, t)                                                                          \
	(!((e)->l4 & FW_L4_PORTS) ||                                                               \
	 ((t)->src_port >= (e)->sport_lo && (t)->src_port <= (e)->sport_hi &&                      \
	  (t)->dst_port >= (e)->dport_lo && (t)->dst_port <= (e)->dport_hi)) &&                    \
		(!((e)->l4 & FW_L4_ICMP_TYPE) || (t)->icmp_type == (e)->icmp_type) &&              \
		(!((e)->l4 & FW_L4_ICMP_CODE) || (t)->icmp_code == (e)->icmp_code)

/* The first entry of a direction that matches t: its action, or -1. */
static __rte_always_inline int fw_set_match(const struct fw_set *set, uint8_t dir,
					    const struct dp_fw_tuple *t, int *rule)
{
	uint8_t pbit = fw_proto_bit(t->proto);

	if (t->family == 4) {
		uint32_t src = fw_load32_be(t->src), dst = fw_load32_be(t->dst);
		const struct fw_entry4 *e = set->v4[dir];

		for (uint32_t i = 0; i < set->n4[dir]; i++, e++)
			if ((e->proto_mask & pbit) && ((src & e->src_mask) == e->src) &&
			    ((dst & e->dst_mask) == e->dst) && FW_L4_MATCH(e, t)) {
				*rule = e->rule;
				return e->action;
			}
	} else {
		uint64_t s0 = fw_load64(t->src), s1 = fw_load64(t->src + 8);
		uint64_t d0 = fw_load64(t->dst), d1 = fw_load64(t->dst + 8);
		const struct fw_entry6 *e = set->v6[dir];

		for (uint32_t i = 0; i < set->n6[dir]; i++, e++)
			if ((e->proto_mask & pbit) && ((s0 & e->src_mask[0]) == e->src[0]) &&
			    ((s1 & e->src_mask[1]) == e->src[1]) &&
			    ((d0 & e->dst_mask[0]) == e->dst[0]) &&
			    ((d1 & e->dst_mask[1]) == e->dst[1]) && FW_L4_MATCH(e, t)) {
				*rule = e->rule;
				return e->action;
			}
	}
	*rule = -1;
	return -1;
}

/*
 * The verdict for a flow from port `from` to port `to`, given their sets: from_vf / to_vf
 * say whether each end is a VM (a PF has no rules; a VM without rules has a NULL set).
 */
static __rte_always_inline enum dp_fw_verdict fw_decide(bool from_vf, const struct fw_set *from,
							bool to_vf, const struct fw_set *to,
							const struct dp_fw_tuple *t)
{
	int rule;

	if (from_vf && from && from->n_dir[DP_FW_EGRESS] &&
	    fw_set_match(from, DP_FW_EGRESS, t, &rule) != DP_FW_ACCEPT)
		return DP_FW_EGRESS_DENIED;
	if (to_vf && (!to || fw_set_match(to, DP_FW_INGRESS, t, &rule) != DP_FW_ACCEPT))
		return DP_FW_INGRESS_DENIED;
	return DP_FW_ACCEPTED;
}

#endif
