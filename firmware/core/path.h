/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Where features attach to the overlay path, besides cls's classes (cls.h):
 *
 *   from a VM:      cls -> conntrack -> PREROUTE stages -> ipv4_lookup | ipv6_lookup
 *                       -> EGRESS stages -> output (the VM's VF, or ipip_encap -> a PF)
 *   from underlay:  cls -> ipip_decap -> conntrack -> VNF dispatch by the type of the
 *                       underlay address the packet came to: a node, or into a chain
 *
 * A chain is an ordered list of stages. A stage is a graph node that registers itself into a
 * chain with a priority (lower runs first); when it is done with a packet it hands it to
 * dp_stage_next(), the next stage, or the chain's terminal after the last one. A chain's
 * terminal is a pair of nodes, one per IP family of the packet (a stage may change the family,
 * as NAT64 does), set by the feature that provides it (the overlay: the route lookups for
 * PREROUTE, `output` for EGRESS). Nodes that feed a chain without being in it declare an
 * entry (DP_CHAIN_ENTRY). Priorities used so far, for orientation: PREROUTE DNAT 100, EGRESS
 * firewall 100, source NAT 200.
 *
 * The VNF dispatch is a table indexed by VNF type (enum dp_vnf_type) that features fill: the
 * node that handles packets arriving through an underlay address of that type, or a chain to
 * enter. A type nobody handles takes the dispatching node's own drop edge.
 *
 * All of it is resolved into graph edges when the graph is built; on the packet path a stage
 * or entry costs one load of a pre-computed edge.
 */
#ifndef DP_PATH_H
#define DP_PATH_H

#include <stdint.h>

#include <rte_common.h>
#include <rte_graph.h>
#include <rte_mbuf.h>

#include <dplane/parse.h>
#include <dplane/vnf.h>

#include "mbuf.h"

enum dp_chain_id {
	DP_CHAIN_PREROUTE, /* VM packets after conntrack, before the route lookup */
	DP_CHAIN_EGRESS,   /* after the route lookup (and for the underlay's packets to VMs) */
	DP_CHAIN_COUNT,
};

/* Packets travel the chains per IP family: index 0 IPv4, 1 IPv6. */
#define DP_FAMILIES 2

static __rte_always_inline unsigned int dp_pkt_family(const struct rte_mbuf *m)
{
	return dp_mbuf_priv((struct rte_mbuf *)(uintptr_t)m)->parse.l3_type == DP_L3_IPV6;
}

struct dp_stage {
	enum dp_chain_id chain;
	const char *node;
	unsigned int priority;
	rte_edge_t next[DP_FAMILIES]; /* set by the graph builder, read by workers */
	struct dp_stage *link;
};

void dp_stage_register(struct dp_stage *stage);

/* Register NODE as a stage of CHAIN; its packets go on with dp_stage_next(&var, m). */
#define DP_STAGE_REGISTER(var, CHAIN, NODE, PRIORITY)                                              \
	static struct dp_stage var = {.chain = CHAIN, .node = NODE, .priority = PRIORITY};         \
	RTE_INIT(dp_stage_register_##var)                                                          \
	{                                                                                          \
		dp_stage_register(&var);                                                           \
	}

static __rte_always_inline rte_edge_t dp_stage_next(const struct dp_stage *stage,
						    const struct rte_mbuf *m)
{
	return stage->next[dp_pkt_family(m)];
}

struct dp_chain_entry {
	enum dp_chain_id chain;
	const char *from;
	rte_edge_t edge[DP_FAMILIES]; /* to the chain's first stage (or its terminal) */
	struct dp_chain_entry *link;
};

void dp_chain_entry_register(struct dp_chain_entry *entry);

/* Node FROM hands packets into CHAIN with dp_chain_entry_next(&var, m). */
#define DP_CHAIN_ENTRY(var, CHAIN, FROM)                                                           \
	static struct dp_chain_entry var = {.chain = CHAIN, .from = FROM};                         \
	RTE_INIT(dp_chain_entry_register_##var)                                                    \
	{                                                                                          \
		dp_chain_entry_register(&var);                                                     \
	}

static __rte_always_inline rte_edge_t dp_chain_entry_next(const struct dp_chain_entry *entry,
							  const struct rte_mbuf *m)
{
	return entry->edge[dp_pkt_family(m)];
}

/* The nodes a chain ends in, per family (the provider's constructor calls this). */
void dp_chain_terminal(enum dp_chain_id chain, const char *ipv4_node, const char *ipv6_node);

#define DP_VNF_TYPES 8
_Static_assert(DP_VNF_TYPE_COUNT <= DP_VNF_TYPES, "VNF dispatch table too small");

/* Packets that came through an underlay address of vnf_type go to node ... */
void dp_vnf_dispatch_node(uint8_t vnf_type, const char *node);
/* ... or into a chain. One handler per type: a second registration is a start-up error. */
void dp_vnf_dispatch_chain(uint8_t vnf_type, enum dp_chain_id chain);

struct dp_vnf_dispatch {
	const char *from;
	rte_edge_t none; /* the dispatching node's edge for a type nobody handles */
	rte_edge_t edge[DP_VNF_TYPES][DP_FAMILIES];
	struct dp_vnf_dispatch *link;
};

void dp_vnf_dispatch_register(struct dp_vnf_dispatch *dispatch);

/* Node FROM dispatches by VNF type with dp_vnf_dispatch_next(&var, type, m); NONE is its
 * edge for a type without a handler. */
#define DP_VNF_DISPATCH(var, FROM, NONE)                                                           \
	static struct dp_vnf_dispatch var = {.from = FROM, .none = NONE};                          \
	RTE_INIT(dp_vnf_dispatch_register_##var)                                                   \
	{                                                                                          \
		dp_vnf_dispatch_register(&var);                                                    \
	}

static __rte_always_inline rte_edge_t dp_vnf_dispatch_next(const struct dp_vnf_dispatch *d,
							   uint8_t vnf_type,
							   const struct rte_mbuf *m)
{
	if (unlikely(vnf_type >= DP_VNF_TYPES))
		return d->none;
	return d->edge[vnf_type][dp_pkt_family(m)];
}

#endif
