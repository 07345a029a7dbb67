/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dnat: what comes to a public address. Two attach points, one node:
 *
 *  - the handler of packets from the underlay through a VIP's or a NAT's underlay address
 *    (VNF dispatch): a new flow to a VIP goes to its VM (destination rewritten, the reply key
 *    made what the VM's answers will carry); replies of a VM's translated flows get the
 *    VM's address (and port) back. A new flow to a NAT IP that is not a reply goes to
 *    packet_relay if its port is in another host's range (relayed there) or if it is an ICMP
 *    echo request (answered); anything else is dropped. Then the EGRESS chain, to the VM.
 *  - a PREROUTE stage for VMs' packets: a new flow to a VIP of the VNI goes to its VM, as
 *    from the underlay; later packets of such flows likewise.
 */
#include <netinet/in.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <dplane/vnf.h>

#include "mbuf.h"
#include "nat64_mbuf.h"
#include "nat_dp.h"
#include "nat_frag.h"
#include "nat_rewrite.h"
#include "node.h"
#include "path.h"
#include "port.h"

enum {
	DNAT_DROP = 0,
	DNAT_PACKET_RELAY,
	DNAT_UNKNOWN_IP,
	DNAT_NO_FLOW,
	DNAT_FRAGMENT,
	DNAT_BAD_PACKET,
	DNAT_NAT64_UNSUPPORTED,
	DNAT_EDGE_COUNT,
	DNAT_OK = DNAT_EDGE_COUNT,
};

DP_STAGE_REGISTER(dnat_stage, DP_CHAIN_PREROUTE, "dnat", 100);
DP_CHAIN_ENTRY(dnat_egress, DP_CHAIN_EGRESS, "dnat");

static inline const uint8_t *l3_of(struct rte_mbuf *m, const struct dp_mbuf_priv *priv)
{
	return rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l3_off;
}

static inline rte_edge_t rewrite(struct rte_mbuf *m, const struct dp_mbuf_priv *priv,
				 const uint8_t addr[4], int32_t port)
{
	return likely(dp_nat_rewrite_mbuf(m, priv, true, addr, port)) ? DNAT_OK : DNAT_BAD_PACKET;
}

/* A new flow to a VIP: to its VM from now on; the VM's answers come from the VM. */
static inline bool to_vip(struct rte_mbuf *m, const struct dp_mbuf_priv *priv,
			  struct dp_ct_flow *flow, struct dp_nat_flow *nf)
{
	const uint8_t *dst = l3_of(m, priv) + 16;
	struct dp_flow_key *rkey = &flow->key[1].k;
	uint8_t target[4];
	uint32_t host, be;

	if (!dp_nat_dnat_lookup(priv->vni, dst, target))
		return false;
	memcpy(&be, target, 4);
	if (!be) /* a NAT IP: nothing to go to */
		return false;
	nf->kind = DP_NAT_DNAT_VIP;
	memcpy(nf->nat_ip, dst, 4);
	memcpy(nf->vm_ip, target, 4);
	host = rte_be_to_cpu_32(be);
	memset(rkey->l3_src, 0, sizeof(rkey->l3_src));
	memcpy(rkey->l3_src, &host, sizeof(host));
	return true;
}

/* PREROUTE: a VM's packet. */
static inline rte_edge_t from_vm(struct rte_mbuf *m, struct dp_mbuf_priv *priv)
{
	struct dp_ct_flow *flow = priv->flow;
	struct dp_nat_flow *nf;

	if (!flow)
		return dp_stage_next(&dnat_stage, m);
	nf = dp_nat_flow(flow);
	if (priv->flow_dir != DP_FLOW_DIR_ORIG) {
		/* relayed and answered flows have no replies */
		if (unlikely(nf->kind == DP_NAT_RELAY || nf->kind == DP_NAT_ECHO))
			return DNAT_NO_FLOW;
		return dp_stage_next(&dnat_stage, m);
	}
	if (unlikely(nf->kind == DP_NAT_UNDECIDED) &&
	    __atomic_load_n(&dp_nat_dnat_entries, __ATOMIC_RELAXED) &&
	    priv->parse.l3_type == DP_L3_IPV4)
		to_vip(m, priv, flow, nf);
	if (nf->kind == DP_NAT_DNAT_VIP) {
		rte_edge_t edge = rewrite(m, priv, nf->vm_ip, -1);

		if (unlikely(edge != DNAT_OK))
			return edge;
	}
	return dp_stage_next(&dnat_stage, m);
}

/* The packet goes to the VM behind port: out of its VF, with its Ethernet header. */
static inline void to_port(struct rte_mbuf *m, struct dp_mbuf_priv *priv, uint16_t port)
{
	struct rte_ether_hdr *eth;

	if (port == priv->out_port)
		return;
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	priv->out_port = port;
	priv->tun_port = port;
	dp_port_vm_mac(port, &eth->dst_addr);
	rte_ether_addr_copy(&dp_ports[port].mac, &eth->src_addr);
}

#define ICMP_ECHO_REQUEST 8

/* A new flow to a NAT IP that no VM here started: another host's, or a ping. */
static inline rte_edge_t unsolicited(struct rte_mbuf *m, struct dp_mbuf_priv *priv,
				     struct dp_ct_flow *flow, struct dp_nat_flow *nf)
{
	const struct dp_flow_key *k = &flow->key[0].k;
	const uint8_t *l3 = l3_of(m, priv), *neigh;
	uint8_t target[4];

	/* a ping of a NAT IP of the VNI (its DNAT marker), not of any address sent here */
	if (k->proto == IPPROTO_ICMP && k->port_src == ICMP_ECHO_REQUEST &&
	    dp_nat_dnat_lookup(priv->vni, l3 + 16, target) &&
	    !(target[0] | target[1] | target[2] | target[3])) {
		nf->kind = DP_NAT_ECHO;
		return DNAT_PACKET_RELAY;
	}
	/* the key's port_dst is the destination port (or an ICMP error's quoted one) */
	neigh = dp_nat_neigh_lookup(priv->vni, l3 + 16, k->port_dst);
	if (neigh) {
		nf->kind = DP_NAT_RELAY;
		memcpy(&flow->cold[DP_NAT_COLD_RELAY], neigh, 16);
		memcpy(priv->nh_ipv6, neigh, 16);
		return DNAT_PACKET_RELAY;
	}
	return DNAT_NO_FLOW;
}

/* The fragments' table (nat_frag.h): the VM (address, VF) their datagram goes to. */
static struct nat_frag_table dnat_frags;

/* A fragment through a NAT's underlay address: the first finds its flow by its ports (a
 * reply of a VM's flow) and leaves the VM for the others. */
static rte_edge_t nat_fragment(struct rte_mbuf *m, struct dp_mbuf_priv *priv)
{
	uint8_t *l3 = rte_pktmbuf_mtod(m, uint8_t *) + priv->parse.l3_off;
	const struct nat_frag *f;
	struct dp_nat_flow *nf;
	struct dp_ct_key key;
	struct dp_ct_flow *flow;
	struct nat_frag k;
	rte_edge_t edge;
	void *data;

	nat_frag_key(&k, priv->vni, l3);
	if (!nat_frag_first(l3) || !priv->parse.l4_off || (priv->parse.flags & DP_PARSE_F_NO_L4)) {
		f = nat_frag_get(&dnat_frags, &k);
		if (!f)
			return DNAT_FRAGMENT;
		if (f->relay) {
			memcpy(priv->nh_ipv6, f->underlay, 16);
			return DNAT_PACKET_RELAY;
		}
		edge = rewrite(m, priv, f->addr, -1);
		if (edge == DNAT_OK)
			to_port(m, priv, f->vm_port);
		return edge;
	}
	if (l3[9] != IPPROTO_TCP && l3[9] != IPPROTO_UDP)
		return DNAT_FRAGMENT;
	/* the reply key of a VM's NAT flow, from the first fragment's ports */
	dp_nat_fragment_key(&key, priv->vni, DP_VNF_NAT, l3,
			    rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l4_off);
	if (rte_hash_lookup_with_hash_data(dp_ct_hash, &key, dp_ct_key_sig(&key), &data) < 0 ||
	    ((uintptr_t)data & 1) != DP_FLOW_DIR_REPLY) {
		/* nobody's here: another host's, if its port is in a neighbour's range */
		const uint8_t *neigh = dp_nat_neigh_lookup(priv->vni, l3 + 16, key.k.port_dst);

		if (!neigh)
			return DNAT_FRAGMENT;
		nat_frag_put_relay(&dnat_frags, &k, neigh);
		memcpy(priv->nh_ipv6, neigh, 16);
		return DNAT_PACKET_RELAY;
	}
	flow = (struct dp_ct_flow *)((uintptr_t)data & ~(uintptr_t)1);
	nf = dp_nat_flow(flow);
	if (nf->kind != DP_NAT_SNAT_NET)
		return DNAT_FRAGMENT;
	__atomic_store_n(&flow->last_seen, rte_rdtsc(), __ATOMIC_RELAXED);
	edge = rewrite(m, priv, nf->vm_ip, nf->vm_l4);
	if (edge != DNAT_OK)
		return edge;
	nat_frag_put(&dnat_frags, &k, nf->vm_ip, nf->vm_port);
	to_port(m, priv, nf->vm_port);
	return DNAT_OK;
}

/* From the underlay, through a VIP's or a NAT's underlay address. */
static inline rte_edge_t from_underlay(struct rte_mbuf *m, struct dp_mbuf_priv *priv)
{
	struct dp_ct_flow *flow = priv->flow;
	struct dp_nat_flow *nf;
	rte_edge_t edge;
	uint8_t target[4];

	if (unlikely(priv->parse.l3_type != DP_L3_IPV4))
		return DNAT_UNKNOWN_IP;
	if (unlikely(!flow)) {
		/* a fragment: to a VIP's VM, stateless; to a NAT IP, see nat_frag.h */
		if (priv->vnf_type == DP_VNF_NAT)
			edge = nat_fragment(m, priv);
		else if (!dp_nat_dnat_lookup(priv->vni, l3_of(m, priv) + 16, target) ||
			 !(target[0] | target[1] | target[2] | target[3]))
			return DNAT_FRAGMENT;
		else
			edge = rewrite(m, priv, target, -1);
		return edge == DNAT_OK ? dp_chain_entry_next(&dnat_egress, m) : edge;
	}
	nf = dp_nat_flow(flow);
	if (priv->flow_dir == DP_FLOW_DIR_ORIG) {
		if (unlikely(nf->kind == DP_NAT_UNDECIDED)) {
			if (priv->vnf_type != DP_VNF_VIP)
				return unsolicited(m, priv, flow, nf);
			if (!to_vip(m, priv, flow, nf))
				return DNAT_UNKNOWN_IP;
			nf->vm_port = (uint8_t)priv->out_port;
		}
		if (nf->kind == DP_NAT_RELAY) {
			memcpy(priv->nh_ipv6, &flow->cold[DP_NAT_COLD_RELAY], 16);
			return DNAT_PACKET_RELAY;
		}
		if (nf->kind == DP_NAT_ECHO)
			return DNAT_PACKET_RELAY;
		if (nf->kind != DP_NAT_DNAT_VIP)
			return DNAT_NO_FLOW;
		edge = rewrite(m, priv, nf->vm_ip, -1);
	} else if (nf->kind == DP_NAT_SNAT_NET) {
		edge = rewrite(m, priv, nf->vm_ip, nf->vm_l4);
	} else if (nf->kind == DP_NAT_SNAT_VIP) {
		edge = rewrite(m, priv, nf->vm_ip, -1);
	} else if (nf->kind == DP_NAT_SNAT_NAT64) {
		/* back to IPv6, to the VM's address (the flow's original source) */
		if (!nat64_mbuf_4to6(m, priv, flow->key[0].k.l3_src, nf->vm_l4))
			return DNAT_NAT64_UNSUPPORTED;
		edge = DNAT_OK;
	} else {
		return DNAT_NO_FLOW;
	}
	if (unlikely(edge != DNAT_OK))
		return edge;
	to_port(m, priv, nf->vm_port);
	return dp_chain_entry_next(&dnat_egress, m);
}

static inline rte_edge_t dnat_next(struct rte_mbuf *m)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);

	rte_edge_t edge;

	if (dp_ports[m->port].role != DP_PORT_PF)
		return from_vm(m, priv);
	edge = from_underlay(m, priv);
	if (edge == DNAT_PACKET_RELAY)
		priv->relay = priv->flow && dp_nat_flow(priv->flow)->kind == DP_NAT_ECHO
				      ? DP_RELAY_ECHO
				      : DP_RELAY_TO_NH;
	return edge;
}

/* clang-format off */
DP_NODE(dnat_node, "dnat", dnat_next, DNAT_EDGE_COUNT,
	[DNAT_DROP] = "drop",
	[DNAT_PACKET_RELAY] = "packet_relay",
	[DNAT_UNKNOWN_IP] = "dnat_unknown_ip",
	[DNAT_NO_FLOW] = "dnat_no_flow",
	[DNAT_FRAGMENT] = "dnat_fragment",
	[DNAT_BAD_PACKET] = "dnat_bad_packet",
	[DNAT_NAT64_UNSUPPORTED] = "dnat_nat64_unsupported");
/* clang-format on */

DP_DROP_REGISTER(dnat_unknown_ip);
DP_DROP_REGISTER(dnat_no_flow);
DP_DROP_REGISTER(dnat_fragment);
DP_DROP_REGISTER(dnat_bad_packet);
DP_DROP_REGISTER(dnat_nat64_unsupported);

RTE_INIT(dnat_dispatch_register)
{
	dp_vnf_dispatch_node(DP_VNF_VIP, "dnat");
	dp_vnf_dispatch_node(DP_VNF_NAT, "dnat");
}
