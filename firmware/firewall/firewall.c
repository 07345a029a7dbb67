/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firewall's control side: compiling an interface's rules (fw.h), publishing them, the
 * settings and counters; and the pure functions the tests fuzz, built on the same matcher.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <dplane/core.h>
#include <dplane/firewall.h>

#include "ctl.h"
#include "fw.h"
#include "module.h"
#include "port.h"
#include "rcu.h"

DP_ENUM_NAME_FN(dp_fw_verdict_name, enum dp_fw_verdict, DP_FW_VERDICT_LIST, DP_FW_VERDICT_COUNT)

bool dp_fw_enforce;
const struct fw_set *dp_fw_sets[DP_MAX_PORTS];
struct fw_port_stats dp_fw_port_stats[DP_MAX_PORTS];
static uint32_t fw_next_gen = 1;

int dp_fw_conf_set(bool enforce)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	dp_fw_enforce = enforce;
	return 0;
}

/* -- compiling ---------------------------------------------------------------------- */

static bool rule_valid(const struct dp_fw_rule *r)
{
	if (r->direction > DP_FW_EGRESS || r->action > DP_FW_ACCEPT)
		return false;
	if (r->protocol != 0 && r->protocol != IPPROTO_TCP && r->protocol != IPPROTO_UDP &&
	    r->protocol != IPPROTO_ICMP)
		return false;
	if ((r->src_family != 4 && r->src_family != 6) ||
	    (r->dst_family != 4 && r->dst_family != 6))
		return false;
	if (r->src_len > (r->src_family == 4 ? 32 : 128) ||
	    r->dst_len > (r->dst_family == 4 ? 32 : 128))
		return false;
	if (r->protocol == IPPROTO_TCP || r->protocol == IPPROTO_UDP) {
		const int32_t b[2][2] = {{r->src_port_lower, r->src_port_upper},
					 {r->dst_port_lower, r->dst_port_upper}};

		for (int i = 0; i < 2; i++)
			if (b[i][0] != DP_FW_ANY &&
			    (b[i][0] < 0 || b[i][1] < b[i][0] || b[i][1] > UINT16_MAX))
				return false;
	}
	if (r->protocol == IPPROTO_ICMP)
		if ((r->icmp_type != DP_FW_ANY && (r->icmp_type < 0 || r->icmp_type > UINT8_MAX)) ||
		    (r->icmp_code != DP_FW_ANY && (r->icmp_code < 0 || r->icmp_code > UINT8_MAX)))
			return false;
	return true;
}

/* Whether a rule can match packets of a family: each prefix is "any" or of that family. */
static bool rule_takes(const struct dp_fw_rule *r, uint8_t family)
{
	return (r->src_len == 0 || r->src_family == family) &&
	       (r->dst_len == 0 || r->dst_family == family);
}

static void mask_bytes(uint8_t out[16], unsigned int len)
{
	memset(out, 0, 16);
	for (unsigned int i = 0; i < len; i++)
		out[i / 8] |= (uint8_t)(0x80 >> (i % 8));
}

/* The L4 part, common to both entry kinds. */
#define FW_FILL_L4(e, r)                                                                           \
	do {                                                                                       \
		(e)->rule = (uint16_t)idx;                                                         \
		(e)->action = (r)->action;                                                         \
		(e)->sport_lo = (e)->dport_lo = 0;                                                 \
		(e)->sport_hi = (e)->dport_hi = UINT16_MAX;                                        \
		switch ((r)->protocol) {                                                           \
		case IPPROTO_TCP:                                                                  \
		case IPPROTO_UDP:                                                                  \
			(e)->proto_mask = fw_proto_bit((r)->protocol);                             \
			(e)->l4 = FW_L4_PORTS;                                                     \
			if ((r)->src_port_lower != DP_FW_ANY) {                                    \
				(e)->sport_lo = (uint16_t)(r)->src_port_lower;                     \
				(e)->sport_hi = (uint16_t)(r)->src_port_upper;                     \
			}                                                                          \
			if ((r)->dst_port_lower != DP_FW_ANY) {                                    \
				(e)->dport_lo = (uint16_t)(r)->dst_port_lower;                     \
				(e)->dport_hi = (uint16_t)(r)->dst_port_upper;                     \
			}                                                                          \
			break;                                                                     \
		case IPPROTO_ICMP:                                                                 \
			(e)->proto_mask = FW_P_ICMP;                                               \
			(e)->l4 = 0;                                                               \
			if ((r)->icmp_type != DP_FW_ANY) {                                         \
				(e)->l4 |= FW_L4_ICMP_TYPE;                                        \
				(e)->icmp_type = (uint8_t)(r)->icmp_type;                          \
			}                                                                          \
			if ((r)->icmp_code != DP_FW_ANY) {                                         \
				(e)->l4 |= FW_L4_ICMP_CODE;                                        \
				(e)->icmp_code = (uint8_t)(r)->icmp_code;                          \
			}                                                                          \
			break;                                                                     \
		default: /* any protocol: no L4 filter */                                          \
			(e)->proto_mask = FW_P_TCP | FW_P_UDP | FW_P_ICMP;                         \
			(e)->l4 = 0;                                                               \
		}                                                                                  \
	} while (0)

static void fill4(struct fw_entry4 *e, const struct dp_fw_rule *r, unsigned int idx)
{
	uint8_t m[16];

	memset(e, 0, sizeof(*e));
	mask_bytes(m, r->src_len);
	e->src_mask = r->src_len ? fw_load32_be(m) : 0;
	e->src = r->src_len ? fw_load32_be(r->src) & e->src_mask : 0;
	mask_bytes(m, r->dst_len);
	e->dst_mask = r->dst_len ? fw_load32_be(m) : 0;
	e->dst = r->dst_len ? fw_load32_be(r->dst) & e->dst_mask : 0;
	FW_FILL_L4(e, r);
}

static void fill6(struct fw_entry6 *e, const struct dp_fw_rule *r, unsigned int idx)
{
	uint8_t m[16];

	memset(e, 0, sizeof(*e));
	for (int side = 0; side < 2; side++) {
		uint8_t len = side ? r->dst_len : r->src_len;
		const uint8_t *a = side ? r->dst : r->src;
		uint64_t *addr = side ? e->dst : e->src, *mask = side ? e->dst_mask : e->src_mask;

		mask_bytes(m, len);
		for (int h = 0; h < 2; h++) {
			mask[h] = fw_load64(m + 8 * h);
			addr[h] = len ? fw_load64(a + 8 * h) & mask[h] : 0;
		}
	}
	FW_FILL_L4(e, r);
}

void fw_set_free(struct fw_set *set)
{
	if (!set)
		return;
	for (int d = 0; d < 2; d++) {
		free(set->v4[d]);
		free(set->v6[d]);
	}
	free(set);
}

struct fw_set *fw_set_compile(const struct dp_fw_rule *rules, unsigned int n, uint32_t gen)
{
	struct fw_set *set;

	if (n > DP_FW_MAX_RULES) {
		errno = EINVAL;
		return NULL;
	}
	for (unsigned int i = 0; i < n; i++)
		if (!rule_valid(&rules[i])) {
			errno = EINVAL;
			return NULL;
		}
	set = calloc(1, sizeof(*set));
	if (!set)
		goto nomem;
	set->gen = gen;
	set->n_rules = n;
	for (int d = 0; d < 2; d++) {
		/* one more than needed: an empty table is not a NULL one */
		set->v4[d] = calloc(n + 1, sizeof(*set->v4[d]));
		set->v6[d] = calloc(n + 1, sizeof(*set->v6[d]));
		if (!set->v4[d] || !set->v6[d])
			goto nomem;
	}
	for (unsigned int i = 0; i < n; i++) {
		const struct dp_fw_rule *r = &rules[i];
		uint8_t d = r->direction;

		set->n_dir[d]++;
		if (rule_takes(r, 4))
			fill4(&set->v4[d][set->n4[d]++], r, i);
		if (rule_takes(r, 6))
			fill6(&set->v6[d][set->n6[d]++], r, i);
	}
	return set;
nomem:
	fw_set_free(set);
	errno = ENOMEM;
	return NULL;
}

/* -- control ------------------------------------------------------------------------- */

static void set_retire(void *p, void *arg)
{
	RTE_SET_USED(arg);
	fw_set_free(p);
}

int dp_fw_rules_set(uint16_t port_id, const struct dp_fw_rule *rules, unsigned int n)
{
	struct fw_set *set = NULL;
	const struct fw_set *old;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured ||
	    dp_ports[port_id].role == DP_PORT_PF)
		return dp_errno(EINVAL);
	if (n) {
		set = fw_set_compile(rules, n, fw_next_gen);
		if (!set)
			return dp_errno(errno);
		if (++fw_next_gen == 0)
			fw_next_gen = 1;
	}
	old = dp_fw_sets[port_id];
	__atomic_store_n(&dp_fw_sets[port_id], set, __ATOMIC_RELEASE);
	if (old)
		dp_rcu_retire((void *)(uintptr_t)old, set_retire, NULL);
	return 0;
}

unsigned int dp_fw_rule_count(uint16_t port_id)
{
	const struct fw_set *set;

	if (port_id >= DP_MAX_PORTS)
		return 0;
	set = __atomic_load_n(&dp_fw_sets[port_id], __ATOMIC_ACQUIRE);
	return set ? set->n_rules : 0;
}

int dp_fw_stats_get(uint16_t port_id, struct dp_fw_stats *stats)
{
	const struct fw_port_stats *s;

	if (port_id >= DP_MAX_PORTS)
		return dp_errno(EINVAL);
	s = &dp_fw_port_stats[port_id];
	for (int d = 0; d < 2; d++) {
		stats->flows_denied[d] = __atomic_load_n(&s->flows_denied[d], __ATOMIC_RELAXED);
		stats->audit_denied[d] = __atomic_load_n(&s->audit_denied[d], __ATOMIC_RELAXED);
		stats->dropped[d] = __atomic_load_n(&s->dropped[d], __ATOMIC_RELAXED);
	}
	stats->decisions = __atomic_load_n(&s->decisions, __ATOMIC_RELAXED);
	return 0;
}

int dp_fw_stats_reset(uint16_t port_id)
{
	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS)
		return dp_errno(EINVAL);
	memset(&dp_fw_port_stats[port_id], 0, sizeof(dp_fw_port_stats[port_id]));
	return 0;
}

static void fw_fini(void)
{
	for (unsigned int p = 0; p < DP_MAX_PORTS; p++) {
		fw_set_free((struct fw_set *)(uintptr_t)dp_fw_sets[p]);
		dp_fw_sets[p] = NULL;
	}
	memset(dp_fw_port_stats, 0, sizeof(dp_fw_port_stats));
}

/* The verdicts live in the flows. */
static struct dp_module fw_module = {
	.name = "firewall",
	.depends = {"conntrack"},
	.fini = fw_fini,
};
DP_MODULE_REGISTER(fw_module);

/* -- pure functions ------------------------------------------------------------------ */

int dp_fw_match(const struct dp_fw_rule *rules, unsigned int n, uint8_t direction,
		const struct dp_fw_tuple *t)
{
	struct fw_set *set;
	int rule = -1;

	if (direction > DP_FW_EGRESS || (t->family != 4 && t->family != 6))
		return -EINVAL;
	set = fw_set_compile(rules, n, 1);
	if (!set)
		return -errno;
	fw_set_match(set, direction, t, &rule);
	fw_set_free(set);
	return rule;
}

int dp_fw_decide(bool from_vf, const struct dp_fw_rule *src_rules, unsigned int src_n, bool to_vf,
		 const struct dp_fw_rule *dst_rules, unsigned int dst_n,
		 const struct dp_fw_tuple *t)
{
	struct fw_set *from = src_n ? fw_set_compile(src_rules, src_n, 1) : NULL;
	struct fw_set *to = dst_n ? fw_set_compile(dst_rules, dst_n, 2) : NULL;
	enum dp_fw_verdict v;

	if ((src_n && !from) || (dst_n && !to) || (t->family != 4 && t->family != 6)) {
		fw_set_free(from);
		fw_set_free(to);
		return -EINVAL;
	}
	v = fw_decide(from_vf, from, to_vf, to, t);
	fw_set_free(from);
	fw_set_free(to);
	return v;
}
