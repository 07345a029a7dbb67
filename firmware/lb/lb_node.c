/* SPDX-License-Identifier: Apache-2.0 */
/*
 * lb: packets from the underlay through a load balancer's underlay address (VNF dispatch).
 *
 * A new flow to one of the LB's ports gets its target from the Maglev table, by the slot of
 * dpservice's hash of the flow's key; the flow keeps it. Every packet of the flow then goes
 *  - to a target on another host: into the tunnel again, to the target, from the LB's
 *    underlay address, out of the PF it came in on (the target's VM answers the client
 *    directly: the flow has no replies here);
 *  - to a local VM's LB prefix: delivered as if it had come from the underlay through the
 *    prefix's own address (back into conntrack, as an LB_ALIAS_PFX packet, then the EGRESS
 *    chain to the VM), unchanged: the VM sees the LB's address as destination.
 * ICMP errors are keyed as the flow they quote, so they follow it to its target. An echo
 * request to the LB's address is answered (packet_relay); other ICMP is dropped, as are
 * fragments (no ports to balance on) and flows to a port the LB does not serve.
 */
#include <netinet/in.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <dplane/vnf.h>

#include "lb_dp.h"
#include "mbuf.h"
#include "node.h"
#include "path.h"
#include "port.h"
#include "vnf_dp.h"

enum {
	LB_DROP = 0,
	LB_IPIP_ENCAP,
	LB_CONNTRACK,
	LB_PACKET_RELAY,
	LB_UNKNOWN_IP,
	LB_NO_TARGET,
	LB_PORT_CLOSED,
	LB_FRAGMENT,
	LB_ICMP,
	LB_NO_FLOW,
	LB_EDGE_COUNT,
};

#define ICMP_ECHO_REQUEST 8
#define ICMP6_ECHO_REQUEST 128

/* The LB key of a flow's destination: the key's address is already dpservice's. */
static inline void key_of(const struct dp_flow_key *k, struct dp_lb_key *key)
{
	key->vni = k->vni;
	memcpy(key->ip, k->l3_dst, 16);
	key->is_v6 = k->dst_is_v6;
}

/* A new flow: its target, or an edge to drop it. */
static inline rte_edge_t decide(struct dp_ct_flow *flow, uint8_t *kind)
{
	const struct dp_flow_key *k = &flow->key[0].k;
	const struct dp_lb_dp *lb;
	const struct dp_vnf *vnf;
	struct dp_lb_key key;
	const uint8_t *target;

	key_of(k, &key);
	lb = dp_lb_lookup(&key);
	if (unlikely(!lb))
		return LB_UNKNOWN_IP;
	if (k->proto == IPPROTO_ICMP || k->proto == IPPROTO_ICMPV6) {
		/* echo: port_src is the type (errors are keyed as the TCP/UDP flow they quote) */
		if (k->port_src ==
		    (k->proto == IPPROTO_ICMP ? ICMP_ECHO_REQUEST : ICMP6_ECHO_REQUEST)) {
			*kind = DP_LB_ECHO;
			return LB_PACKET_RELAY;
		}
		return LB_ICMP;
	}
	if (!dp_lb_port_open(lb, k->proto, k->port_dst))
		return LB_PORT_CLOSED;
	if (unlikely(!lb->nb_targets))
		return LB_NO_TARGET;
	target = lb->targets[lb->maglev[flow->hash % DP_LB_MAGLEV_SIZE]];
	memcpy(&flow->cold[DP_LB_COLD_TARGET], target, 16);
	memcpy(&flow->cold[DP_LB_COLD_UNDERLAY], lb->underlay, 16);
	vnf = dp_vnf_lookup(target);
	*kind = vnf && vnf->type == DP_VNF_LB_ALIAS_PFX ? DP_LB_RECIRC : DP_LB_FORWARD;
	return LB_DROP; /* decided */
}

/* As ipip_decap would have left a packet that came through the LB prefix's own address. */
static inline bool recirculate(struct rte_mbuf *m, struct dp_mbuf_priv *priv, const uint8_t *target)
{
	const struct dp_vnf *vnf = dp_vnf_lookup(target);
	struct rte_ether_hdr *eth;

	if (unlikely(!vnf || vnf->type != DP_VNF_LB_ALIAS_PFX || vnf->port_id >= DP_MAX_PORTS ||
		     !dp_port_iface(vnf->port_id)))
		return false;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	dp_port_vm_mac(vnf->port_id, &eth->dst_addr);
	rte_ether_addr_copy(&dp_ports[vnf->port_id].mac, &eth->src_addr);
	priv->vni = vnf->vni;
	priv->vnf_type = DP_VNF_LB_ALIAS_PFX;
	priv->out_port = vnf->port_id;
	priv->tun_port = vnf->port_id;
	priv->flow = NULL;
	return true;
}

static inline rte_edge_t lb_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	struct dp_ct_flow *flow = priv->flow;
	uint8_t *kind;
	rte_edge_t edge;

	if (unlikely(!flow))
		return LB_FRAGMENT;
	if (unlikely(priv->flow_dir != DP_FLOW_DIR_ORIG))
		return LB_NO_FLOW; /* LB flows have no replies; nothing else comes here */
	kind = dp_lb_flow_kind(flow);
	if (unlikely(*kind == DP_LB_UNDECIDED)) {
		edge = decide(flow, kind);
		if (edge != LB_DROP && edge != LB_PACKET_RELAY)
			return edge;
	}
	switch (*kind) {
	case DP_LB_RECIRC:
		if (likely(recirculate(m, priv, &flow->cold[DP_LB_COLD_TARGET])))
			return LB_CONNTRACK;
		/* the prefix went: to the target through the underlay, like a remote one */
		/* fall through */
	case DP_LB_FORWARD:
		memcpy(priv->nh_ipv6, &flow->cold[DP_LB_COLD_TARGET], 16);
		memcpy(priv->ul_src, &flow->cold[DP_LB_COLD_UNDERLAY], 16);
		priv->out_port = m->port;
		priv->tun_port = DP_TUN_PORT_UL_SRC;
		return LB_IPIP_ENCAP;
	case DP_LB_ECHO:
		priv->relay = DP_RELAY_ECHO;
		return LB_PACKET_RELAY;
	default:
		return LB_NO_FLOW;
	}
}

/* clang-format off */
DP_NODE(lb_node, "lb", lb_next, LB_EDGE_COUNT,
	[LB_DROP] = "drop",
	[LB_IPIP_ENCAP] = "ipip_encap",
	[LB_CONNTRACK] = "conntrack",
	[LB_PACKET_RELAY] = "packet_relay",
	[LB_UNKNOWN_IP] = "lb_unknown_ip",
	[LB_NO_TARGET] = "lb_no_target",
	[LB_PORT_CLOSED] = "lb_port_closed",
	[LB_FRAGMENT] = "lb_fragment",
	[LB_ICMP] = "lb_icmp",
	[LB_NO_FLOW] = "lb_no_flow");
/* clang-format on */

DP_DROP_REGISTER(lb_unknown_ip);
DP_DROP_REGISTER(lb_no_target);
DP_DROP_REGISTER(lb_port_closed);
DP_DROP_REGISTER(lb_fragment);
DP_DROP_REGISTER(lb_icmp);
DP_DROP_REGISTER(lb_no_flow);

RTE_INIT(lb_dispatch_register)
{
	dp_vnf_dispatch_node(DP_VNF_LB, "lb");
	/* the targets answer the clients themselves: an LB's flows take no reply key, which
	 * the flow of a local target's VM may hold (its answers) */
	dp_ct_one_way_vnf[DP_VNF_LB] = 1;
	/* an LB prefix's packets, from here (recirculated) or another host's LB: to the VM */
	dp_vnf_dispatch_chain(DP_VNF_LB_ALIAS_PFX, DP_CHAIN_EGRESS);
}
