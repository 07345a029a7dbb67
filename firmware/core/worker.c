/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker lcore: walks the graph, reports RCU quiescent states, and backs off when idle
 * so that on a small machine the control thread, gRPC and the tests keep a core.
 */
#include <stdbool.h>
#include <time.h>

#include <rte_graph_worker.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ctl.h"
#include "worker.h"

struct rte_rcu_qsbr *dp_rcu;
struct dp_worker dp_worker = {.graph_id = RTE_GRAPH_ID_INVALID};

#define QUIESCENT_EVERY 64 /* walks between quiescent reports */
#define CYCLES_SAMPLE 16   /* walks per timed walk (a power of two) */
_Static_assert((CYCLES_SAMPLE & (CYCLES_SAMPLE - 1)) == 0, "CYCLES_SAMPLE is a power of two");
#define IDLE_WALKS 256       /* empty walks before the first nap */
#define IDLE_NAP_MAX_US 500u /* longest nap: bounds the latency of the first packet */

int dp_rcu_setup(void)
{
	size_t sz = rte_rcu_qsbr_get_memsize(RTE_MAX_LCORE);

	dp_rcu = rte_zmalloc("dp_rcu", sz, RTE_CACHE_LINE_SIZE);
	if (!dp_rcu)
		return -ENOMEM;
	return rte_rcu_qsbr_init(dp_rcu, RTE_MAX_LCORE);
}

void dp_rcu_teardown(void)
{
	rte_free(dp_rcu);
	dp_rcu = NULL;
}

int dp_rcu_synchronize(void)
{
	DP_CTL_CHECK();
	if (dp_rcu)
		rte_rcu_qsbr_synchronize(dp_rcu, RTE_QSBR_THRID_INVALID);
	return 0;
}

static void nap(unsigned int us)
{
	struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)us * 1000};

	/* net_tap signals the process per packet: an early wake-up is fine, it means work */
	nanosleep(&ts, NULL);
}

/*
 * rte_graph_walk, with its node statistics kept more cheaply. Debian builds DPDK with
 * RTE_LIBRTE_GRAPH_STATS, so rte_graph_walk reads the TSC twice around every node call:
 * about 5 ns per packet on the encap path. Here calls and objects are counted on every
 * walk, and cycles on one walk in CYCLES_SAMPLE, counted that many times (one TSC read per
 * node: each node is charged the time since the previous one finished).
 */
static inline void graph_walk(struct rte_graph *graph, bool timed)
{
	const rte_graph_off_t *cir_start = graph->cir_start;
	const rte_node_t mask = graph->cir_mask;
	uint32_t head = graph->head;
	uint64_t last = timed ? rte_rdtsc() : 0;

	/* source nodes first (below cir_start), then the pending streams, circularly */
	while (likely(head != graph->tail)) {
		struct rte_node *node = RTE_PTR_ADD(graph, cir_start[(int32_t)head++]);
		void **objs = node->objs;
		uint16_t rc;

		rte_prefetch0(objs);
		rc = node->process(graph, node, objs, node->idx);
		node->total_calls++;
		node->total_objs += rc;
		if (unlikely(timed)) {
			uint64_t now = rte_rdtsc();

			node->total_cycles += (now - last) * CYCLES_SAMPLE;
			last = now;
		}
		node->idx = 0;
		head = likely((int32_t)head > 0) ? head & mask : head;
	}
	graph->tail = 0;
}

static int worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_graph *graph = rte_graph_lookup(w->graph_name);
	unsigned int thread_id = w->lcore;
	unsigned int walks = 0, sample = 0, idle = 0, nap_us = 0;
	uint64_t seen = 0;

	if (!graph)
		return -ENOENT;
	rte_rcu_qsbr_thread_register(dp_rcu, thread_id);
	rte_rcu_qsbr_thread_online(dp_rcu, thread_id);

	while (!__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		graph_walk(graph, (++sample & (CYCLES_SAMPLE - 1)) == 0);

		if (++walks == QUIESCENT_EVERY) {
			walks = 0;
			rte_rcu_qsbr_quiescent(dp_rcu, thread_id);
		}
		if (w->rx_packets != seen) {
			seen = w->rx_packets;
			idle = 0;
			nap_us = 0;
			continue;
		}
		if (++idle < IDLE_WALKS)
			continue;
		/* offline while asleep: control never waits for a sleeping worker */
		rte_rcu_qsbr_thread_offline(dp_rcu, thread_id);
		nap_us = nap_us ? RTE_MIN(nap_us * 2, IDLE_NAP_MAX_US) : 1;
		nap(nap_us);
		rte_rcu_qsbr_thread_online(dp_rcu, thread_id);
	}

	rte_rcu_qsbr_thread_offline(dp_rcu, thread_id);
	rte_rcu_qsbr_thread_unregister(dp_rcu, thread_id);
	return 0;
}

int dp_worker_launch(struct dp_worker *w)
{
	int ret;

	w->stop = 0;
	ret = rte_eal_remote_launch(worker_main, w, w->lcore);
	if (ret < 0)
		return ret;
	w->launched = true;
	return 0;
}

void dp_worker_join(struct dp_worker *w)
{
	if (!w->launched)
		return;
	__atomic_store_n(&w->stop, 1, __ATOMIC_RELEASE);
	rte_eal_wait_lcore(w->lcore);
	w->launched = false;
}
