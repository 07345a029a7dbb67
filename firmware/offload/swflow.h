/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The software flow engine: what a ConnectX/BlueField e-switch does with rte_flow rules, done
 * by the worker in front of the graph, for ports whose NIC takes no rules (net_tap, the sim
 * board). Its API is rte_flow's, over the same attribute, item and action arrays
 * (dp_swflow_create() takes what rte_flow_create() takes), and it refuses what the NIC would.
 *
 * A packet is matched against its in-port's rules of group 0, then of the group a JUMP names,
 * and so on: per (port, group) a short list of templates (a pattern's item sequence and
 * masks, and a priority), each a set of exact keys in one hash table shared by all (tuple
 * space search). A rule whose fate is a port rewrites the packet with its actions and sends
 * it there; a packet no rule takes goes to the graph.
 *
 * Items: ETH, IPV4, IPV6, TCP, UDP, ICMP, VOID, END (an IPV6 with an IPV4 or IPV6 after it is
 * the tunnel's outer header). Actions: SET_MAC_SRC/DST, SET_IPV4_SRC/DST, SET_IPV6_SRC/DST,
 * SET_TP_SRC/DST, RAW_DECAP, RAW_ENCAP, COUNT, AGE, JUMP, PORT_ID, REPRESENTED_PORT, DROP,
 * SAMPLE (ratio 1, RAW_ENCAP and PORT_ID: packet capture), VOID, END.
 *
 * Writers: the worker creates rules (conntrack's offload, on a flow's packet leaving), the
 * control thread destroys them; rules are freed after an RCU grace period.
 */
#ifndef DP_SWFLOW_H
#define DP_SWFLOW_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_flow.h>
#include <rte_mbuf.h>

#include <dplane/offload.h>

#define SWF_GROUPS 4 /* 0 default, 1 capture, 2 VNET, and one spare */

/*
 * The fields of a packet the engine matches on, network order, zero where the packet has
 * none; laid out in 8-byte words so that a template's key is the words its masks touch.
 */
struct swf_fields {
	/* word 0 */
	uint16_t stack;    /* the header sequence: SWF_L_* per 4 bits, outermost lowest */
	uint16_t eth_type; /* after any VLAN: VLAN-tagged frames are SWF_L_ETH alone */
	uint8_t ip_proto;
	uint8_t tcp_flags;
	uint16_t ip_frag; /* IPv4 flags and fragment offset */
	/* word 1 */
	uint16_t sport; /* ICMP: type and code */
	uint16_t dport; /* ICMP: identifier */
	uint8_t tun_proto;
	uint8_t pad1[3];
	/* words 2-5: the (inner) IP header's addresses, IPv4 in the first 4 bytes */
	uint8_t ip_src[16];
	uint8_t ip_dst[16];
	/* words 6-9: a tunnel's outer IPv6 header */
	uint8_t tun_dst[16];
	uint8_t tun_src[16];
	/* words 10-11 */
	uint8_t eth_dst[6];
	uint8_t pad2[2];
	uint8_t eth_src[6];
	uint8_t pad3[2];
} __attribute__((aligned(8))); /* read a word at a time */
#define SWF_WORDS 12
_Static_assert(sizeof(struct swf_fields) == SWF_WORDS * 8, "fields are 12 words");

enum swf_layer {
	SWF_L_NONE = 0,
	SWF_L_ETH,
	SWF_L_IPV4,
	SWF_L_IPV6,
	SWF_L_TCP,
	SWF_L_UDP,
	SWF_L_ICMP,
};

/* Where the packet's headers are, from the extraction. */
struct swf_pkt {
	struct swf_fields f;
	uint16_t l3_off; /* the (inner) IP header */
	uint16_t l4_off; /* its L4 header, 0 if none */
	uint16_t l3_len; /* from the (inner) IP header: total length, or 40 + payload length */
	uint8_t l3_v6;
	uint8_t tunnel; /* an outer IPv6 header at 14 */
	uint32_t epoch; /* dp_fwd_epoch when the packet came in (dp_swflow_rx) */
};

/*
 * The fields of the frame (data, len) as the engine sees them; false when it is not one the
 * engine takes (truncated, bad lengths or IPv4 header checksum, an inner header of another
 * version than the tunnel says): such a packet always goes to the graph, which will see what
 * is wrong with it. tunnel_ok: whether an IPv6 header carrying IPv4/IPv6 is a tunnel (on a
 * PF) or a VM's own packet.
 */
bool swf_extract(const uint8_t *data, uint32_t len, bool tunnel_ok, struct swf_pkt *p);
/* The same, with the NIC's verdict on the outermost IPv4 header's checksum when it gave one
 * (RTE_MBUF_F_RX_IP_CKSUM_GOOD): that header is not summed again. */
bool swf_extract_rx(const uint8_t *data, uint32_t len, bool tunnel_ok, bool l3_cksum_good,
		    struct swf_pkt *p);

/* Engine-wide settings and state (control thread, before the worker runs). */
int dp_swflow_init(uint32_t max_rules);
void dp_swflow_fini(void);
bool dp_swflow_ready(void);

/* rte_flow's calls, on the engine (worker or control thread as above). */
struct rte_flow *dp_swflow_create(uint16_t port_id, const struct rte_flow_attr *attr,
				  const struct rte_flow_item pattern[],
				  const struct rte_flow_action actions[],
				  struct rte_flow_error *error);
/* The same, for a rule built from a packet that came in at the given dp_fwd_epoch: a rule
 * that ages (a flow's) is stale, and matches nothing, once the epoch has moved on. */
struct rte_flow *dp_swflow_create_at(uint32_t epoch, uint16_t port_id,
				     const struct rte_flow_attr *attr,
				     const struct rte_flow_item pattern[],
				     const struct rte_flow_action actions[],
				     struct rte_flow_error *error);
int dp_swflow_validate(uint16_t port_id, const struct rte_flow_attr *attr,
		       const struct rte_flow_item pattern[], const struct rte_flow_action actions[],
		       struct rte_flow_error *error);
/* Control thread: the rule no longer matches (at once) and is freed after a grace period
 * (dp_swflow_reclaim(), or the next destroy that synchronises). */
int dp_swflow_destroy(uint16_t port_id, struct rte_flow *flow, struct rte_flow_error *error);
/* Any thread: take the rule out at once; the control thread's next dp_swflow_reclaim() frees
 * it. False if it was out already. */
bool dp_swflow_retire(struct rte_flow *flow);
/* The epoch the rule was made at, and whether it is still in the table. */
uint32_t dp_swflow_epoch(const struct rte_flow *flow);
bool dp_swflow_live(const struct rte_flow *flow);
/* Control thread: free what was destroyed or replaced, after a grace period. */
void dp_swflow_reclaim(void);
int dp_swflow_query(uint16_t port_id, struct rte_flow *flow, const struct rte_flow_action *action,
		    void *data, struct rte_flow_error *error);
int dp_swflow_get_aged_flows(uint16_t port_id, void **contexts, uint32_t nb_contexts,
			     struct rte_flow_error *error);
/* Control thread: destroy every rule of the port (DP_PORT_NONE: of every port). */
int dp_swflow_flush(uint16_t port_id, struct rte_flow_error *error);

/* Any thread: the TSC of the rule's last hit (its creation before any), and its hits, for
 * conntrack's aging and listing; a NIC's twin's (below) are counted in. */
uint64_t dp_swflow_usage(const struct rte_flow *flow, uint64_t *hits);

/*
 * A rule's twin in the port's NIC (rte_flow_create() on the port took the same arrays): the
 * NIC carries the packets, the engine keeps the rule's place (its flow, epoch, listing) and
 * takes the packets that reach it still. The twin is destroyed with the rule, whoever takes
 * it out (the engine owns it from here), or when the rule is stale (dp_swflow_nic_sweep).
 * Worker: false (and the twin destroyed) if the rule was taken out meanwhile.
 */
bool dp_swflow_attach_nic(struct rte_flow *flow, uint16_t port_id, struct rte_flow *nic);
/* Control thread: destroy the NIC twins of the rules made before the current dp_fwd_epoch
 * (the engine no longer runs them, the NIC must not either); how many. */
int dp_swflow_nic_sweep(void);

/*
 * Worker, from the rx node: run the rules over a burst of port_id. Packets a rule took are
 * sent (or dropped) here; the others are moved to the front of pkts, in order, and their
 * count returned, for the graph; what the engine read of each is in its private area
 * (dp_mbuf_priv.fastpath, a struct swf_pkt, when .fastpath_read), for the offload of its
 * flow. dp_rx_fastpath (fastpath.h).
 */
uint16_t dp_swflow_rx(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n, uint64_t now);

/* Engine-wide counters. */
struct dp_swflow_stats {
	uint64_t hits, misses, unreadable;           /* worker */
	uint64_t installs, refusals, destroys;       /* whoever creates / destroys */
	uint64_t tx_dropped, rule_drops, aged;       /* worker; aged: get_aged_flows reports */
	uint64_t sampled, sample_dropped;            /* worker: SAMPLE copies sent, and not */
	uint64_t nic_destroys, nic_destroy_failures; /* twins destroyed, and refused by the NIC */
	uint32_t rules, capacity, templates;         /* now */
	uint32_t nic_rules;                          /* rules with a twin in the NIC, now */
};
void dp_swflow_stats_get(struct dp_swflow_stats *s);

int dp_swflow_list(struct dp_offload_rule_info *out, unsigned int max);

/* Text of a pattern and of actions as inspect prints them (for the builders' tests too). */
int dp_swflow_pattern_str(const struct rte_flow_item pattern[], char *buf, size_t size);
int dp_swflow_actions_str(const struct rte_flow_attr *attr, const struct rte_flow_action actions[],
			  char *buf, size_t size);

#endif
