/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The firewall: per-interface rules (dpservice's semantics, contract 1.1 "Firewall"), a
 * verdict per flow decided on its original direction and kept in the flow, so that the
 * replies of an accepted flow pass and nothing else does.
 *
 *   egress  (a flow from a VM):  accepted when the VM's interface has no egress rule at all,
 *                                otherwise by its first matching egress rule, else denied;
 *   ingress (a flow to a VM):    by the first matching ingress rule of the VM's interface,
 *                                else denied (also with no rules at all).
 *
 * A flow from a VM to a VM on this host needs both. PFs (the underlay) have no rules.
 * The verdict is audited (counted, the packet passes) unless enforcing is on.
 *
 * The control plane keeps the rules (ids, priorities, the API's view) and hands each
 * interface's whole list, in the order rules are to be tried, to dp_fw_rules_set(); the
 * firmware compiles it into a table per direction and IP family and publishes it at once.
 * Flows decided under an older table are decided again at their next packet.
 *
 * Control functions: control thread only, 0 or -errno.
 */
#ifndef DPLANE_FIREWALL_H
#define DPLANE_FIREWALL_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/enum.h>

#define DP_FW_MAX_RULES 16384 /* per interface */

enum dp_fw_direction {
	DP_FW_INGRESS = 0, /* the wire values of TrafficDirection */
	DP_FW_EGRESS = 1,
};

enum dp_fw_action {
	DP_FW_DROP = 0, /* the wire values of FirewallAction */
	DP_FW_ACCEPT = 1,
};

#define DP_FW_ANY -1 /* a port bound, ICMP type or code that matches any */

/* A rule as the matcher sees it. Addresses in network order; a prefix of length 0 matches
 * every address of either family, a longer one only addresses of its family. */
struct dp_fw_rule {
	uint8_t direction; /* enum dp_fw_direction */
	uint8_t action;    /* enum dp_fw_action */
	uint8_t protocol;  /* 0: any, IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMP (also ICMPv6) */
	uint8_t src_family, dst_family; /* 4 or 6 */
	uint8_t src_len, dst_len;
	uint8_t src[16], dst[16];
	/* TCP/UDP: a lower bound of DP_FW_ANY matches any port */
	int32_t src_port_lower, src_port_upper;
	int32_t dst_port_lower, dst_port_upper;
	/* ICMP: DP_FW_ANY matches any */
	int32_t icmp_type, icmp_code;
};

/* What a verdict is decided on: the first packet of a flow, in its original direction. */
struct dp_fw_tuple {
	uint8_t family;              /* 4 or 6 */
	uint8_t proto;               /* IPPROTO_TCP, _UDP, _ICMP, _ICMPV6 */
	uint16_t src_port, dst_port; /* TCP/UDP */
	uint8_t icmp_type, icmp_code;
	uint8_t src[16], dst[16]; /* network order; IPv4 in the first 4 bytes */
};

/* A flow's verdict: accepted, or denied by one or both sides. */
#define DP_FW_VERDICT_LIST(X)                                                                      \
	X(DP_FW_ACCEPTED, "accepted")                                                              \
	X(DP_FW_EGRESS_DENIED, "egress_denied")                                                    \
	X(DP_FW_INGRESS_DENIED, "ingress_denied")

enum dp_fw_verdict {
	DP_FW_VERDICT_LIST(DP_ENUM_VALUE) DP_FW_VERDICT_COUNT
};

const char *dp_fw_verdict_name(enum dp_fw_verdict verdict);

/* Before dp_core_start(): apply verdicts (drop what is denied) or only count them. */
int dp_fw_conf_set(bool enforce);

/* Replace the rules of a VF's interface (n = 0: none). -EINVAL: not a VF, a bad rule or
 * more than DP_FW_MAX_RULES; -ENOMEM. On failure the old rules stay. */
int dp_fw_rules_set(uint16_t port_id, const struct dp_fw_rule *rules, unsigned int n);
/* The number of rules a VF's interface has. */
unsigned int dp_fw_rule_count(uint16_t port_id);

/* Counters of a VF's interface, per direction (index enum dp_fw_direction). */
struct dp_fw_stats {
	uint64_t flows_denied[2]; /* flows decided denied (also when only audited) */
	uint64_t audit_denied[2]; /* packets denied but let through (audit) */
	uint64_t dropped[2];      /* packets denied and dropped (enforcing) */
	uint64_t decisions;       /* verdicts decided on this interface, either side */
};
int dp_fw_stats_get(uint16_t port_id, struct dp_fw_stats *stats);
/* Zero them (a new interface on the port). */
int dp_fw_stats_reset(uint16_t port_id);

/* -- pure functions ------------------------------------------------------------------- */

/* The index of the first rule of rules[0..n) of the given direction that matches t, or -1. */
int dp_fw_match(const struct dp_fw_rule *rules, unsigned int n, uint8_t direction,
		const struct dp_fw_tuple *t);
/* The verdict (enum dp_fw_verdict) for a flow from a VM whose interface has src_rules
 * (from_vf false: from the underlay) to a VM whose interface has dst_rules (to_vf false: to
 * the underlay); -EINVAL for a bad rule or tuple. */
int dp_fw_decide(bool from_vf, const struct dp_fw_rule *src_rules, unsigned int src_n, bool to_vf,
		 const struct dp_fw_rule *dst_rules, unsigned int dst_n,
		 const struct dp_fw_tuple *t);

#endif
