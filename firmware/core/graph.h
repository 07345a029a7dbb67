/* SPDX-License-Identifier: Apache-2.0 */
/* The graph builder's lookups by name, for the node test (node_test.c). */
#ifndef DP_GRAPH_H
#define DP_GRAPH_H

#include <stddef.h>

#include "node.h"

/* The classification of a processing node; NULL for sources, sinks and unknown names. */
dp_node_classify_fn dp_node_classifier(const char *name);
/* The name of the node that edge leads to from node. 0 or -ENOENT. */
int dp_node_edge_name(const char *node, rte_edge_t edge, char *name, size_t size);

#endif
