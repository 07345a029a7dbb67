/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Rule builders: from a packet as it came in (what the flow engine read of it) and as it
 * leaves (after the graph), the rte_flow rule that does to the flow's next packets what the
 * graph did to this one, in the contract's shapes:
 *
 *   VF -> VF   transfer, group 2: ETH / IP / L4 -> SET_MAC_SRC, SET_MAC_DST, [SET_IPV4_*,
 *              SET_TP_*], COUNT, AGE, PORT_ID
 *   VF -> PF   transfer, group 2: ETH / IP / L4 -> [SET_IPV4_*, SET_TP_*], RAW_DECAP (Ethernet),
 *              RAW_ENCAP (Ethernet, IPv6), COUNT, AGE, PORT_ID
 *   PF -> VF   transfer, group 2: ETH / IPV6 (tunnel) / IP / L4 -> RAW_DECAP (Ethernet, IPv6),
 *              RAW_ENCAP (Ethernet), [SET_IPV4_*, SET_TP_*], COUNT, AGE, PORT_ID
 *
 * Every port's packets start in group 0, whose one rule jumps to group 2 (or, while the port
 * is captured, to group 1, whose rule samples every packet before it jumps to group 2).
 * The match is the whole 5-tuple (dpservice matches only the destination): two flows to one
 * destination never share a rule. TCP rules match only segments without SYN, FIN or RST, so
 * that the graph sees every change of a connection's state. A packet whose change no rule
 * can express is not offloaded (the reason is returned): a change of IP family (NAT64), an
 * ICMP message other than an echo, or one rewritten or relayed (NAT of ICMP), a packet sent back to
 * the underlay changed inside (PF -> PF), a tunnel's inner packet of another family.
 */
#ifndef DP_OFFLOAD_BUILD_H
#define DP_OFFLOAD_BUILD_H

#include <stdint.h>

#include <rte_flow.h>

#include <dplane/offload.h>

#include "swflow.h"

/* The groups (the contract's): 0 a port's default rule, 1 capture, 2 the flows' rules. */
#define DP_OFFLOAD_GROUP_DEFAULT 0
#define DP_OFFLOAD_GROUP_CAPTURE 1
#define DP_OFFLOAD_GROUP_VNET 2

struct dp_offload_spec {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[6];
	struct rte_flow_action actions[14];
	/* what the items and actions point to */
	struct rte_flow_item_eth eth_spec, eth_mask;
	struct rte_flow_item_ipv6 tun_spec, tun_mask;
	struct rte_flow_item_ipv4 ip4_spec, ip4_mask;
	struct rte_flow_item_ipv6 ip6_spec, ip6_mask;
	struct rte_flow_item_tcp tcp_spec, tcp_mask;
	struct rte_flow_item_udp udp_spec, udp_mask;
	struct rte_flow_item_icmp icmp_spec, icmp_mask;
	struct rte_flow_action_set_mac mac_src, mac_dst;
	struct rte_flow_action_set_ipv4 ip4_set[2];
	struct rte_flow_action_set_ipv6 ip6_set[2];
	struct rte_flow_action_set_tp tp_set[2];
	struct rte_flow_action_raw_decap decap;
	struct rte_flow_action_raw_encap encap;
	uint8_t encap_data[54];
	struct rte_flow_action_count count;
	struct rte_flow_action_age age;
	struct rte_flow_action_port_id port;
};

/*
 * Build the rule for packets like `in` (read on a PF's port or a VF's) to leave as the frame
 * out does through out_port (a PF or a VF); age_s and ctx for its AGE. Returns the shape
 * (enum dp_offload_shape) or the negative reason (enum dp_offload_refusal) why there is none.
 */
int dp_offload_build(const struct swf_pkt *in, bool from_pf, const uint8_t *out, uint32_t out_len,
		     uint16_t out_port, bool to_pf, uint32_t age_s, void *ctx,
		     struct dp_offload_spec *spec);

/*
 * Whether a NIC can carry a flow's rule from a port to a port without hairpin queues (which
 * dplane does not set up): both on PF0's e-switch (PF0, whose index is 0, and the VFs'
 * representors), and not from the wire back out to it. pf_index: 0 or 1 for a PF, -1 for a
 * VF.
 */
bool dp_offload_one_eswitch(int in_pf_index, int out_pf_index);

/* A port's rule that sends every packet on to another group (its default rule, group 0
 * -> 2; while captured, 0 -> 1 and 1 -> 2, that one with a SAMPLE first): transfer, ETH. */
struct dp_jump_spec {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[2];
	struct rte_flow_action actions[3];
	struct rte_flow_action_jump jump;
};

void dp_offload_jump_build(uint32_t group, uint32_t to, const struct rte_flow_action_sample *sample,
			   struct dp_jump_spec *spec);

/*
 * A PF's isolation rule (on a NIC that takes rules; in rte_flow_isolate mode nothing else
 * reaches the port's queue): ingress, group 0, priority 1, ETH type IPv6 / IPV6 dst in the
 * underlay's /64 with the 0xd nibble of generated addresses (a /68) -> QUEUE 0.
 */
struct dp_isolation_spec {
	struct rte_flow_attr attr;
	struct rte_flow_item pattern[3];
	struct rte_flow_action actions[2];
	struct rte_flow_item_eth eth_spec, eth_mask;
	struct rte_flow_item_ipv6 ip6_spec, ip6_mask;
	struct rte_flow_action_queue queue;
};

void dp_offload_isolation_build(const uint8_t underlay[16], struct dp_isolation_spec *spec);

#endif
