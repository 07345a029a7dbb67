/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Connection tracking: every TCP, UDP, ICMP and ICMPv6 flow through the overlay, keyed in
 * both directions (two keys, one flow). Workers create flows and refresh them; the control
 * thread ages them out and removes the flows of deleted objects, with RCU-safe frees, so
 * workers never wait for it.
 *
 * Control functions: control thread only, a count or -errno. The key functions at the end
 * are pure (no state), used by the datapath and exposed for fuzzing.
 */
#ifndef DPLANE_CONNTRACK_H
#define DPLANE_CONNTRACK_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/enum.h>

#include <dplane/parse.h>

#define DP_CT_DEFAULT_CAPACITY 850000 /* keys, as dpservice's conntrack_table */
#define DP_CT_DEFAULT_TIMEOUT 30      /* seconds, for everything but established TCP */
#define DP_CT_TCP_ESTABLISHED_TIMEOUT 86400

#define DP_CT_TCP_STATE_LIST(X)                                                                    \
	X(DP_CT_TCP_NONE, "none")                                                                  \
	X(DP_CT_TCP_NEW_SYN, "new_syn")                                                            \
	X(DP_CT_TCP_NEW_SYNACK, "new_synack")                                                      \
	X(DP_CT_TCP_ESTABLISHED, "established")                                                    \
	X(DP_CT_TCP_FINWAIT, "finwait")                                                            \
	X(DP_CT_TCP_RST_FIN, "rst_fin")

enum dp_ct_tcp_state {
	DP_CT_TCP_STATE_LIST(DP_ENUM_VALUE) DP_CT_TCP_STATE_COUNT
};

const char *dp_ct_tcp_state_name(enum dp_ct_tcp_state state);

enum dp_flow_dir {
	DP_FLOW_DIR_ORIG = 0,
	DP_FLOW_DIR_REPLY = 1,
};

/*
 * dpservice's flow key, byte for byte: addresses are 16 bytes plus a v6 flag (an IPv4
 * address is a host-order uint32 in the first 4 bytes, the rest zero), ports in host order.
 * For ICMP/ICMPv6 echo, port_dst is the identifier and port_src the type.
 */
struct dp_flow_key {
	uint8_t l3_dst[16];
	uint8_t dst_is_v6;
	uint8_t proto;
	uint16_t port_dst;
	uint8_t l3_src[16];
	uint8_t src_is_v6;
	uint8_t vnf_type;
	uint16_t port_src;
	uint32_t vni;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_flow_key) == 44, "dpservice's flow_key is 44 bytes");

/* One flow as the control plane reports it. */
struct dp_ct_info {
	struct dp_flow_key key[2]; /* original direction, reply direction */
	uint16_t in_port;          /* where the first packet came in */
	uint8_t tcp_state;         /* enum dp_ct_tcp_state (TCP only) */
	uint32_t idle_ms;          /* since the last packet */
	uint32_t timeout_s;
	uint64_t packets[2]; /* per direction */
};

/* Which flows dp_ct_flush() removes: those that came in on port (DP_PORT_NONE: any), OR
 * (prefix_len <= 128 and family != 0) those in vni with either end inside the prefix. */
struct dp_ct_filter {
	uint16_t port_id;
	uint8_t family; /* 0: no prefix, 4 or 6 */
	uint8_t prefix_len;
	uint32_t vni;
	uint8_t prefix[16]; /* network order */
};

/* Before dp_core_start(): table size in keys (two per flow) and the idle timeout. */
int dp_ct_conf_set(uint32_t capacity, uint32_t timeout_s);

/* What conntrack does with a VM's packet whose source is not the VM's: neither the
 * interface's address nor one whose route leads back to the VM's own VF (its alias
 * prefixes); IPv6 link-local sources are the VM's. (DHCP from 0.0.0.0 and ND never get
 * here: cls hands them to their nodes.) */
enum dp_ct_source_check {
	DP_CT_SOURCE_OFF = 0,
	DP_CT_SOURCE_AUDIT,   /* count it per interface, let it through */
	DP_CT_SOURCE_ENFORCE, /* count it, drop it before it creates a flow */
};
/* Before dp_core_start(). -EINVAL: not a mode; -EBUSY while running. */
int dp_ct_source_check_set(uint8_t mode);
/* Before dp_core_start(): at most `flows` flows started by the VM of one VF (0: no limit),
 * so that one VM cannot fill the table for every other; beyond, its new flows are dropped
 * as conntrack_quota_exceeded. -EBUSY while running. */
int dp_ct_quota_set(uint32_t flows);
/*
 * Addresses besides its own that the VM behind a VF may send from (its LB prefixes: a load
 * balancer delivers to it with the LB's address as destination, and it answers from that
 * address). Its packets from one pass the source check; one that is an IPv4 /32 also marks
 * the flow key with mark_vnf, as dpservice marks a VM's flows from an LB prefix. Replaces
 * the port's list (count 0: none). -ENODEV: not a port; -EINVAL: more than
 * DP_CT_PORT_SOURCES_MAX entries, or a bad family or length.
 */
#define DP_CT_PORT_SOURCES_MAX 64
struct dp_ct_source {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix_len;
	uint8_t mark_vnf;   /* enum dp_vnf_type for the key, when an IPv4 /32 */
	uint8_t prefix[16]; /* network order */
};
int dp_ct_port_sources_set(uint16_t port_id, const struct dp_ct_source *sources,
			   unsigned int count);
/* Live flows started on a port (by its VM, or for a PF from the underlay). */
uint32_t dp_ct_port_flows(uint16_t port_id);
/* Packets of a VF with a source that was not the VM's, since its last reset. */
uint64_t dp_ct_spoofed(uint16_t port_id);
/* Zero them (a new interface on the port). */
int dp_ct_spoofed_reset(uint16_t port_id);
/* Remove flows idle for longer than their timeout; returns how many. */
int dp_ct_age(void);
/* Remove the flows the filter selects; returns how many. */
int dp_ct_flush(const struct dp_ct_filter *filter);
/* Remove every flow; returns how many. */
int dp_ct_flush_all(void);
/* Live flows (not keys). */
unsigned int dp_ct_count(void);
/* Up to max flows (fills out[]); returns how many there are. */
int dp_ct_list(struct dp_ct_info *out, unsigned int max);
/* New flows refused because the table was full (also a drop counter). */

/* -- pure functions ------------------------------------------------------------------- */

#define DP_FLOW_KEY_STATUS_LIST(X)                                                                 \
	X(DP_FLOW_KEY_OK, "ok")                                                                    \
	/* not IPv4/IPv6 */                                                                        \
	X(DP_FLOW_KEY_NOT_IP, "not_ip")                                                            \
	/* an L4 protocol conntrack does not track */                                              \
	X(DP_FLOW_KEY_UNSUPPORTED, "unsupported")                                                  \
	/* no L4 header to key on */                                                               \
	X(DP_FLOW_KEY_FRAGMENT, "fragment")                                                        \
	/* an ICMP type that is neither echo nor a known error */                                  \
	X(DP_FLOW_KEY_ICMP_UNTRACKED, "icmp_untracked")                                            \
	/* an ICMP error whose quoted header is unusable */                                        \
	X(DP_FLOW_KEY_BAD_ICMP_ERROR, "bad_icmp_error")

enum dp_flow_key_status {
	DP_FLOW_KEY_STATUS_LIST(DP_ENUM_VALUE) DP_FLOW_KEY_STATUS_COUNT
};

const char *dp_flow_key_status_name(enum dp_flow_key_status status);

/* Key of a parsed frame (p from dp_parse_frame()). ICMP errors (destination unreachable:
 * protocol, port, fragmentation needed; time exceeded) are keyed as the reply of the flow
 * they quote. */
enum dp_flow_key_status dp_flow_key_build(const uint8_t *data, uint32_t len,
					  const struct dp_parse *p, uint32_t vni, uint8_t vnf_type,
					  struct dp_flow_key *key);
/* The key of the other direction. An involution: reverse(reverse(k)) == k. */
void dp_flow_key_reverse(const struct dp_flow_key *key, struct dp_flow_key *out);
/* TCP state after a packet with these flags in this direction. */
uint8_t dp_ct_tcp_next(uint8_t state, uint8_t dir, uint8_t tcp_flags);

#endif
