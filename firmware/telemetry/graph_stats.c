/* SPDX-License-Identifier: Apache-2.0 */
/* Node statistics read from the worker graph, for telemetry and the periodic stats print. */
#include <stdio.h>

#include <rte_eal.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>

#include <dplane/core.h>
#include <dplane/telemetry.h>

#include "ctl.h"
#include "worker.h"

_Static_assert(DP_NODE_NAME_LEN == RTE_NODE_NAMESIZE, "node name length");

/*
 * The counters are plain 64-bit fields the worker increments (rte_graph's stats feature):
 * aligned 64-bit loads never tear on the targets we build for, so a reader sees each value
 * as it was at some instant, never a mix. The graph itself only changes on this thread.
 */
int dp_graph_stats_get(struct dp_node_stats *stats, unsigned int max)
{
	struct rte_graph *graph;
	struct rte_node *node;
	rte_graph_off_t off;
	rte_node_t count;
	unsigned int n = 0;

	DP_CTL_CHECK();
	if (!dp_core_running() || dp_worker.graph_id == RTE_GRAPH_ID_INVALID)
		return dp_errno(ENODEV);
	graph = rte_graph_lookup(dp_worker.graph_name);
	if (!graph)
		return dp_errno(ENODEV);
	rte_graph_foreach_node (count, off, graph, node) {
		if (n < max) {
			struct dp_node_stats *st = &stats[n];

			snprintf(st->name, sizeof(st->name), "%s", node->name);
			st->objs = __atomic_load_n(&node->total_objs, __ATOMIC_RELAXED);
			st->calls = __atomic_load_n(&node->total_calls, __ATOMIC_RELAXED);
			st->cycles = __atomic_load_n(&node->total_cycles, __ATOMIC_RELAXED);
			st->realloc_count = __atomic_load_n(&node->realloc_count, __ATOMIC_RELAXED);
		}
		n++;
	}
	return (int)n;
}

const char *dp_runtime_dir(void)
{
	return rte_eal_get_runtime_dir();
}
