/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Flow offload: once a flow's packet has crossed the graph, a rule does the same to the
 * flow's next packets without it (rte_flow's shapes, firmware/offload/build.h), run by the
 * software flow engine in front of the graph on ports whose NIC takes no rules. Rules go
 * with their flows (aging, every delete, Initialize) and are stale after any change of
 * forwarding state (dp_fwd_changed()), when the graph decides again and the rule is made anew.
 */
#ifndef DPLANE_OFFLOAD_H
#define DPLANE_OFFLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <dplane/enum.h>

#define DP_OFFLOAD_SHAPE_LIST(X)                                                                   \
	X(DP_OFFLOAD_NONE, "none")                                                                 \
	X(DP_OFFLOAD_VF_VF, "vf_vf")                                                               \
	X(DP_OFFLOAD_VF_PF, "vf_pf")                                                               \
	X(DP_OFFLOAD_PF_VF, "pf_vf")                                                               \
	X(DP_OFFLOAD_PF_PF, "pf_pf")
enum dp_offload_shape {
	DP_OFFLOAD_SHAPE_LIST(DP_ENUM_VALUE) DP_OFFLOAD_SHAPE_COUNT
};
const char *dp_offload_shape_name(enum dp_offload_shape shape);

/* Why a packet's flow gets no rule (counted by name). */
#define DP_OFFLOAD_REFUSAL_LIST(X)                                                                 \
	X(DP_OFFLOAD_OK, "ok")                                                                     \
	X(DP_OFFLOAD_NO_L4, "no_l4")                                                               \
	X(DP_OFFLOAD_OUT_UNREADABLE, "out_unreadable")                                             \
	X(DP_OFFLOAD_FAMILY_CHANGED, "family_changed")                                             \
	X(DP_OFFLOAD_ICMP_NOT_ECHO, "icmp_not_echo")                                               \
	X(DP_OFFLOAD_ICMP_REWRITTEN, "icmp_rewritten")                                             \
	X(DP_OFFLOAD_PF_TO_PF, "pf_to_pf")                                                         \
	X(DP_OFFLOAD_BAD_TUNNEL, "bad_tunnel")                                                     \
	X(DP_OFFLOAD_UNEXPECTED_CHANGE, "unexpected_change")
enum dp_offload_refusal {
	DP_OFFLOAD_REFUSAL_LIST(DP_ENUM_VALUE) DP_OFFLOAD_REFUSAL_COUNT
};
const char *dp_offload_refusal_name(enum dp_offload_refusal refusal);

/* Before the dataplane starts (control thread). max_rules 0: one per conntrack key. */
int dp_offload_conf_set(bool enabled, uint32_t max_rules);
bool dp_offload_enabled(void);
/*
 * Before the dataplane starts: whether the ports' NIC takes rte_flow rules (--nic-type
 * mellanox, bluefield2; not tap), whether only through the template API (async: a multiport
 * e-switch), and the host's underlay address. If it does, the PFs are isolated (only the
 * underlay's tunnels, the rule below, reach dplane; the rest stays with the kernel), with
 * offload on or off; with offload on, a started port's rules are handed to its NIC too, the
 * engine taking whatever the NIC refuses.
 */
int dp_offload_nic_conf_set(bool nic, bool async, const uint8_t underlay[16]);

/* Control thread: forwarding state changed (after a mutating RPC): every flow's rule is stale. */
void dp_offload_invalidate(void);
/* Control thread: remove every flow's rule (Initialize); how many. */
int dp_offload_flush(void);
/* Control thread, periodically: free the rules destroyed or replaced since. */
int dp_offload_maintain(void);

struct dp_offload_stats {
	bool enabled;
	uint64_t hits, misses, unreadable;
	uint64_t installs, refusals, destroys, tx_dropped, rule_drops;
	uint64_t sampled, sample_dropped;
	uint64_t not_offloadable[DP_OFFLOAD_REFUSAL_COUNT];
	uint64_t shapes[DP_OFFLOAD_SHAPE_COUNT];
	uint32_t rules, capacity, templates, epoch;
	/* the NIC's side (dp_offload_nic_conf_set) */
	bool nic;
	uint64_t nic_installs, nic_refusals, nic_needs_hairpin, nic_destroys, nic_destroy_failures;
	uint32_t nic_rules;
};
int dp_offload_stats_get(struct dp_offload_stats *stats);

/* A port as the NIC's side sees it (control thread): whether it is isolated and the NIC
 * carries its flows; if not, why (the PMD's words). */
struct dp_offload_nic_port {
	bool isolated;
	bool carrying; /* its default rule is in the NIC: its flows' rules go there */
	bool captured; /* its packets cross the engine while captured */
	char isolation_error[96];
	char error[96];
};
int dp_offload_nic_port_get(uint16_t port_id, struct dp_offload_nic_port *info);

struct dp_offload_rule_info {
	uint16_t port_id;
	uint8_t group;
	uint8_t transfer;
	uint32_t priority;
	uint64_t hits, bytes;
	uint32_t idle_ms;
	uint32_t age_timeout;
	uint8_t stale;
	uint8_t nic; /* the NIC carries it (its twin there) */
	char pattern[256];
	char actions[384];
};
/* Control thread: up to max rules; how many there are. */
int dp_offload_list(struct dp_offload_rule_info *out, unsigned int max);

/*
 * The rule a packet would get (for the builders' tests, no service needed): `in` as it came
 * in (on a PF: a tunnel), `out` as it left through out_port (a PF's or a VF's). Returns the
 * shape, or the negative refusal; the rule's attributes, pattern and actions as text.
 */
int dp_offload_build_text(const uint8_t *in, uint32_t in_len, bool from_pf, const uint8_t *out,
			  uint32_t out_len, uint16_t out_port, bool to_pf, uint32_t age_s,
			  char *attr, size_t attr_size, char *pattern, size_t pattern_size,
			  char *actions, size_t actions_size);

/* The PFs' isolation rule for the underlay address (its /64 and the 0xd nibble of generated
 * addresses: a /68), as text (for its structural test). */
int dp_offload_isolation_text(const uint8_t underlay[16], char *attr, size_t attr_size,
			      char *pattern, size_t pattern_size, char *actions,
			      size_t actions_size);

/* Whether a NIC would carry a rule from a port to a port (pf_index 0/1, -1 for a VF): 1 or 0. */
int dp_offload_nic_eligible(int in_pf_index, int out_pf_index);

/*
 * Packet capture (control thread): every packet port_id receives is copied, in UDP-in-IPv6
 * from conf's source (the host's underlay address) to its sink and ports, out of PF0 (a SAMPLE rule
 * the port's packets cross before their flows' rules). -ENOTSUP with offload off, -EALREADY /
 * -ENOENT when the port is captured already / is not.
 */
struct dp_offload_capture_conf {
	uint8_t src[16];
	uint8_t sink[16];
	uint16_t udp_src_port;
	uint16_t udp_dst_port;
};
int dp_offload_capture(uint16_t port_id, bool on, const struct dp_offload_capture_conf *conf);
bool dp_offload_captured(uint16_t port_id);

/* What the engine reads of a frame (fuzzed): 1 readable, 0 not; the header stack in *stack. */
int dp_offload_extract(const uint8_t *frame, uint32_t len, bool tunnel_ok, uint16_t *stack,
		       uint16_t *l3_off, uint16_t *l4_off);

#endif
