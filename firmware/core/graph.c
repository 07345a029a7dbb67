/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Builds the worker graph: one rx/tx clone per port, then every module's edges (attach
 * points, per-port edges), then the graph itself. Also the registry of node classifications
 * that dp_node_test() runs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_graph.h>
#include <rte_lcore.h>

#include "ctl.h"
#include "graph.h"
#include "module.h"
#include "node.h"
#include "port.h"
#include "worker.h"

static struct dp_port_edges *port_edges;

#define DP_MAX_CLASSIFIERS 128

static struct {
	const char *name;
	dp_node_classify_fn classify;
} classifiers[DP_MAX_CLASSIFIERS];
static unsigned int nb_classifiers;

void dp_node_register(struct rte_node_register *reg, dp_node_classify_fn classify)
{
	for (rte_edge_t i = 0; i < reg->nb_edges; i++) {
		if (!reg->next_nodes[i]) {
			fprintf(stderr, "node %s: edge %u has no next node\n", reg->name, i);
			abort();
		}
	}
	reg->parent_id = RTE_NODE_ID_INVALID;
	reg->id = __rte_node_register(reg);
	if (reg->id == RTE_NODE_ID_INVALID) {
		fprintf(stderr, "node %s: registration failed\n", reg->name);
		abort();
	}
	if (!classify)
		return;
	if (nb_classifiers == DP_MAX_CLASSIFIERS) {
		fprintf(stderr, "node %s: too many nodes\n", reg->name);
		abort();
	}
	classifiers[nb_classifiers].name = reg->name;
	classifiers[nb_classifiers].classify = classify;
	nb_classifiers++;
}

dp_node_classify_fn dp_node_classifier(const char *name)
{
	for (unsigned int i = 0; i < nb_classifiers; i++)
		if (strcmp(classifiers[i].name, name) == 0)
			return classifiers[i].classify;
	return NULL;
}

void dp_port_edges_register(struct dp_port_edges *reg)
{
	reg->next = port_edges;
	port_edges = reg;
}

/* Index of the edge from node `from` to the node called `to`, added if missing. */
static int node_edge(rte_node_t from, const char *to)
{
	rte_edge_t count = rte_node_edge_count(from);
	char **names;
	int found = -1;

	if (count == RTE_EDGE_ID_INVALID)
		return -ENOENT;
	names = calloc(count ? count : 1, sizeof(char *));
	if (!names)
		return -ENOMEM;
	rte_node_edge_get(from, names);
	for (rte_edge_t i = 0; i < count; i++) {
		if (names[i] && strcmp(names[i], to) == 0) {
			found = i;
			break;
		}
	}
	free(names);
	if (found >= 0)
		return found;
	if (rte_node_from_name(to) == RTE_NODE_ID_INVALID)
		return -ENOENT;
	if (rte_node_edge_update(from, RTE_EDGE_ID_INVALID, &to, 1) == 0)
		return -ENOMEM;
	return count;
}

int dp_node_edge_by_name(const char *from, const char *to)
{
	rte_node_t id = rte_node_from_name(from);

	if (id == RTE_NODE_ID_INVALID)
		return -ENOENT;
	return node_edge(id, to);
}

int dp_node_edge_name(const char *node, rte_edge_t edge, char *name, size_t size)
{
	rte_node_t id = rte_node_from_name(node);
	rte_edge_t count;
	char **names;

	if (id == RTE_NODE_ID_INVALID)
		return -ENOENT;
	count = rte_node_edge_count(id);
	if (count == RTE_EDGE_ID_INVALID || edge >= count)
		return -ENOENT;
	names = calloc(count, sizeof(char *));
	if (!names)
		return -ENOMEM;
	rte_node_edge_get(id, names);
	snprintf(name, size, "%s", names[edge]);
	free(names);
	return 0;
}

/* Clone `parent` as "<parent>-<suffix>" unless it exists (clones outlive graphs). */
static int node_clone(const char *parent, const char *suffix)
{
	char name[RTE_NODE_NAMESIZE];
	rte_node_t id;

	snprintf(name, sizeof(name), "%s-%s", parent, suffix);
	if (rte_node_from_name(name) != RTE_NODE_ID_INVALID)
		return 0;
	id = rte_node_from_name(parent);
	if (id == RTE_NODE_ID_INVALID)
		return -ENOENT;
	if (rte_node_clone(id, suffix) == RTE_NODE_ID_INVALID)
		return -ENOMEM;
	return 0;
}

/* Every node that transmits gets one edge per configured port. */
static int tx_edges(const struct dp_core_conf *conf)
{
	char tx_name[RTE_NODE_NAMESIZE];
	int ret;

	for (struct dp_port_edges *pe = port_edges; pe; pe = pe->next) {
		rte_node_t id = rte_node_from_name(pe->node);

		if (id == RTE_NODE_ID_INVALID)
			return -ENOENT;
		for (uint16_t p = 0; p < DP_MAX_PORTS; p++)
			pe->edges[p] = 0; /* drop */
		for (uint16_t i = 0; i < conf->nb_ports; i++) {
			uint16_t port_id = conf->ports[i].port_id;

			snprintf(tx_name, sizeof(tx_name), "tx-%u", port_id);
			ret = node_edge(id, tx_name);
			if (ret < 0)
				return ret;
			pe->edges[port_id] = (rte_edge_t)ret;
		}
	}
	return 0;
}

static struct dp_module tx_edges_module = {.name = "tx_edges", .edges = tx_edges};
DP_MODULE_REGISTER(tx_edges_module);

int dp_graph_setup(const struct dp_core_conf *conf, struct dp_worker *w)
{
	const char *patterns[DP_MAX_PORTS + 1];
	char rx_names[DP_MAX_PORTS][RTE_NODE_NAMESIZE];
	char suffix[16];
	struct rte_graph_param prm = {0};
	int ret;

	for (uint16_t i = 0; i < conf->nb_ports; i++) {
		uint16_t port_id = conf->ports[i].port_id;

		snprintf(suffix, sizeof(suffix), "%u-0", port_id);
		ret = node_clone("rx", suffix);
		if (ret < 0)
			return ret;
		snprintf(rx_names[i], sizeof(rx_names[i]), "rx-%u-0", port_id);
		patterns[i] = rx_names[i];

		snprintf(suffix, sizeof(suffix), "%u", port_id);
		ret = node_clone("tx", suffix);
		if (ret < 0)
			return ret;
	}

	ret = dp_modules_edges(conf);
	if (ret < 0)
		return ret;

	snprintf(w->graph_name, sizeof(w->graph_name), "dp_graph_%u", w->lcore);
	prm.socket_id = (int)rte_lcore_to_socket_id(w->lcore);
	patterns[conf->nb_ports] = "rx_periodic";
	prm.nb_node_patterns = conf->nb_ports + 1;
	prm.node_patterns = patterns;
	w->graph_id = rte_graph_create(w->graph_name, &prm);
	if (w->graph_id == RTE_GRAPH_ID_INVALID) {
		DP_LOG(ERR, "cannot create graph %s: %s", w->graph_name, rte_strerror(rte_errno));
		return -rte_errno ? -rte_errno : -EINVAL;
	}
	return 0;
}

void dp_graph_teardown(struct dp_worker *w)
{
	if (w->graph_id != RTE_GRAPH_ID_INVALID)
		rte_graph_destroy(w->graph_id);
	w->graph_id = RTE_GRAPH_ID_INVALID;
}
