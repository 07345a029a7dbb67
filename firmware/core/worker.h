/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DP_WORKER_H
#define DP_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_graph.h>
#include <rte_per_lcore.h>
#include <rte_rcu_qsbr.h>

#include <dplane/core.h>

struct dp_worker {
	uint64_t rx_packets; /* written by the rx nodes; the loop naps when it stops moving */
	unsigned int lcore;
	rte_graph_t graph_id;
	char graph_name[RTE_GRAPH_NAMESIZE];
	uint8_t stop;     /* written by control, read by the worker */
	uint8_t sleeping; /* written by the worker: it waits for an interrupt or a kick */
	bool launched;
};

/*
 * Wake the worker if it sleeps waiting for interrupts (--idle=interrupt): for whoever queues
 * packets or work for it outside its ports' rx queues (dp_inject, worker tasks' rings), after
 * queueing. Any thread; costs a fence and a load while the worker is awake.
 */
void dp_worker_kick(void);

/*
 * Work a feature does on the worker once per graph walk (rx_periodic runs it), such as
 * draining a ring the control thread fills for it; it must cost next to nothing when there
 * is nothing to do. Registered from a constructor.
 */
struct dp_worker_task {
	void (*run)(void);
	struct dp_worker_task *link;
};
void dp_worker_task_register(struct dp_worker_task *task);
#define DP_WORKER_TASK(var, FN)                                                                    \
	static struct dp_worker_task var = {.run = FN};                                            \
	RTE_INIT(dp_worker_task_register_##var)                                                    \
	{                                                                                          \
		dp_worker_task_register(&var);                                                     \
	}

extern struct rte_rcu_qsbr *dp_rcu;
extern struct dp_worker dp_worker;

int dp_rcu_setup(void);
void dp_rcu_teardown(void);

int dp_graph_setup(const struct dp_core_conf *conf, struct dp_worker *w);
void dp_graph_teardown(struct dp_worker *w);

int dp_worker_launch(struct dp_worker *w);
void dp_worker_join(struct dp_worker *w);

#endif
