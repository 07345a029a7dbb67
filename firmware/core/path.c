/* SPDX-License-Identifier: Apache-2.0 */
/* The attach points of path.h, resolved into graph edges when the graph is built. */
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "module.h"
#include "node.h"
#include "path.h"

static const char *const chain_names[DP_CHAIN_COUNT] = {
	[DP_CHAIN_PREROUTE] = "preroute",
	[DP_CHAIN_EGRESS] = "egress",
};

static struct {
	struct dp_stage *stages; /* registration order; sorted by priority when resolved */
	const char *terminal[DP_FAMILIES];
} chains[DP_CHAIN_COUNT];

static struct dp_chain_entry *entries;
static struct dp_vnf_dispatch *dispatchers;

/* What packets of a VNF type are handed to: a node, or a chain (node NULL). */
static struct {
	const char *node;
	int chain; /* -1: none */
	unsigned int registrations;
} vnf_targets[DP_VNF_TYPES] = {[0 ... DP_VNF_TYPES - 1] = {.chain = -1}};

void dp_stage_register(struct dp_stage *stage)
{
	struct dp_stage **tail;

	RTE_VERIFY(stage->chain < DP_CHAIN_COUNT);
	tail = &chains[stage->chain].stages;
	while (*tail)
		tail = &(*tail)->link;
	stage->link = NULL;
	*tail = stage;
}

void dp_chain_entry_register(struct dp_chain_entry *entry)
{
	RTE_VERIFY(entry->chain < DP_CHAIN_COUNT);
	entry->link = entries;
	entries = entry;
}

void dp_chain_terminal(enum dp_chain_id chain, const char *ipv4_node, const char *ipv6_node)
{
	RTE_VERIFY(chain < DP_CHAIN_COUNT);
	chains[chain].terminal[0] = ipv4_node;
	chains[chain].terminal[1] = ipv6_node;
}

void dp_vnf_dispatch_node(uint8_t vnf_type, const char *node)
{
	RTE_VERIFY(vnf_type < DP_VNF_TYPES);
	vnf_targets[vnf_type].node = node;
	vnf_targets[vnf_type].registrations++;
}

void dp_vnf_dispatch_chain(uint8_t vnf_type, enum dp_chain_id chain)
{
	RTE_VERIFY(vnf_type < DP_VNF_TYPES && chain < DP_CHAIN_COUNT);
	vnf_targets[vnf_type].chain = (int)chain;
	vnf_targets[vnf_type].registrations++;
}

void dp_vnf_dispatch_register(struct dp_vnf_dispatch *dispatch)
{
	dispatch->link = dispatchers;
	dispatchers = dispatch;
}

/* Stable sort of a chain's stages by priority (insertion sort: chains are short). */
static void chain_sort(struct dp_stage **head)
{
	struct dp_stage *sorted = NULL, *s = *head;

	while (s) {
		struct dp_stage *next = s->link, **pos = &sorted;

		while (*pos && (*pos)->priority <= s->priority)
			pos = &(*pos)->link;
		s->link = *pos;
		*pos = s;
		s = next;
	}
	*head = sorted;
}

static int edge(const char *from, const char *to, rte_edge_t *out)
{
	int ret = dp_node_edge_by_name(from, to);

	if (ret < 0) {
		DP_LOG(ERR, "graph: no edge from %s to %s: %s", from, to, rte_strerror(-ret));
		return ret;
	}
	*out = (rte_edge_t)ret;
	return 0;
}

/* The edges from node `from` into chain c: to its first stage, or its terminal. */
static int chain_edges(const char *from, enum dp_chain_id c, rte_edge_t out[DP_FAMILIES])
{
	struct dp_stage *first = chains[c].stages;
	int ret;

	if (!chains[c].terminal[0] || !chains[c].terminal[1]) {
		DP_LOG(ERR, "graph: %s enters chain %s, which has no terminal", from,
		       chain_names[c]);
		return -ENOENT;
	}
	for (unsigned int f = 0; f < DP_FAMILIES; f++) {
		ret = edge(from, first ? first->node : chains[c].terminal[f], &out[f]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int chains_resolve(void)
{
	int ret;

	for (unsigned int c = 0; c < DP_CHAIN_COUNT; c++) {
		if (!chains[c].terminal[0] || !chains[c].terminal[1]) {
			if (!chains[c].stages)
				continue; /* nobody uses it */
			DP_LOG(ERR, "graph: chain %s has stages but no terminal", chain_names[c]);
			return -ENOENT;
		}
		chain_sort(&chains[c].stages);
		for (struct dp_stage *s = chains[c].stages; s; s = s->link)
			for (unsigned int f = 0; f < DP_FAMILIES; f++) {
				ret = edge(s->node, s->link ? s->link->node : chains[c].terminal[f],
					   &s->next[f]);
				if (ret < 0)
					return ret;
			}
	}
	for (struct dp_chain_entry *e = entries; e; e = e->link) {
		ret = chain_edges(e->from, e->chain, e->edge);
		if (ret < 0)
			return ret;
	}
	return 0;
}

static int dispatch_resolve(void)
{
	int ret;

	for (unsigned int t = 0; t < DP_VNF_TYPES; t++)
		if (vnf_targets[t].registrations > 1) {
			DP_LOG(ERR, "graph: VNF type %u has %u handlers", t,
			       vnf_targets[t].registrations);
			return -EEXIST;
		}
	for (struct dp_vnf_dispatch *d = dispatchers; d; d = d->link) {
		for (unsigned int t = 0; t < DP_VNF_TYPES; t++) {
			rte_edge_t *out = d->edge[t];

			if (vnf_targets[t].node) {
				ret = edge(d->from, vnf_targets[t].node, &out[0]);
				out[1] = out[0];
			} else if (vnf_targets[t].chain >= 0) {
				ret = chain_edges(d->from, (enum dp_chain_id)vnf_targets[t].chain,
						  out);
			} else {
				out[0] = out[1] = d->none;
				ret = 0;
			}
			if (ret < 0)
				return ret;
		}
	}
	return 0;
}

static int path_edges(const struct dp_core_conf *conf)
{
	int ret = chains_resolve();

	return ret < 0 ? ret : dispatch_resolve();
}

static struct dp_module path_module = {.name = "path", .edges = path_edges};
DP_MODULE_REGISTER(path_module);
