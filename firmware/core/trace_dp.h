/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The datapath half of the packet trace: the hook that DP_NODE_REGISTER puts in front of
 * every node's process function and that the drop sinks call. Off, it costs one relaxed
 * load of a byte and a branch predicted not taken, once per burst: the node's wrapper is
 * "load, test, jump to the traced path if set, else tail-jump to the process function".
 */
#ifndef DP_TRACE_DP_H
#define DP_TRACE_DP_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_branch_prediction.h>
#include <rte_common.h>
#include <rte_graph.h>

/* Non-zero while a session runs: written by the control thread, read by the workers. */
extern uint8_t dp_trace_on;

/* Copies the packets of a burst into the trace ring if node is selected. */
void dp_trace_burst(const struct rte_node *node, void *const *objs, uint16_t nb_objs,
		    uint16_t flags) __rte_cold;

typedef uint16_t (*dp_trace_process_fn)(struct rte_graph *graph, struct rte_node *node, void **objs,
					uint16_t nb_objs);

/* Traces the burst, then hands it to process: the traced path of DP_NODE_REGISTER. */
uint16_t dp_trace_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			  uint16_t nb_objs, dp_trace_process_fn process) __rte_cold;

static __rte_always_inline bool dp_trace_enabled(void)
{
	return unlikely(__atomic_load_n(&dp_trace_on, __ATOMIC_RELAXED));
}

static __rte_always_inline void dp_trace_hook(const struct rte_node *node, void *const *objs,
					      uint16_t nb_objs, uint16_t flags)
{
	if (dp_trace_enabled())
		dp_trace_burst(node, objs, nb_objs, flags);
}

#endif
