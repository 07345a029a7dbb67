/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Observability: statistics of the graph nodes and EAL's runtime directory (where the
 * telemetry socket lives). The walks over tables for operators' inspection belong to the
 * modules that own the tables (dp_vni_next(), dp_vnf_next()).
 *
 * Control functions: control thread only, 0 or a negative errno (errno set too).
 */
#ifndef DPLANE_TELEMETRY_H
#define DPLANE_TELEMETRY_H

#include <stdint.h>

#define DP_NODE_NAME_LEN 64 /* RTE_NODE_NAMESIZE */

/* What a graph node did since the graph was built, summed over the workers. */
struct dp_node_stats {
	char name[DP_NODE_NAME_LEN]; /* the node's name in the graph: "rx-0-0", "cls", ... */
	uint64_t objs;               /* objects (packets) the node processed */
	uint64_t calls;              /* calls of its process function */
	uint64_t cycles;             /* TSC cycles spent in it (sampled, see worker.c) */
	uint64_t realloc_count;      /* times its object array grew */
};

/* Statistics of the nodes in the worker graph, in graph order: fills at most max entries
 * and returns the number of nodes (call again with a larger array when it is > max).
 * -ENODEV: the dataplane is not running. */
int dp_graph_stats_get(struct dp_node_stats *stats, unsigned int max);

/* EAL's runtime directory, e.g. /var/run/dpdk/<file-prefix>; "" before EAL init. */
const char *dp_runtime_dir(void);

#endif
