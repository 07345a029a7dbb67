/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The worker lcore: walks the graph, reports RCU quiescent states, and when its ports have
 * had nothing for a while, waits without taking a core (--idle): asleep until a port's rx
 * interrupt or a kick from the control thread (interrupt), or in short pauses (pause, and
 * interrupt while a started port cannot interrupt); busy never waits. Asleep or paused, it
 * is offline for RCU, so the control thread never waits for it.
 */
#include <stdbool.h>
#include <sys/prctl.h>
#include <time.h>

#include <rte_graph_worker.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>

#include "ctl.h"
#include "idle.h"
#include "worker.h"

struct rte_rcu_qsbr *dp_rcu;
struct dp_worker dp_worker = {.graph_id = RTE_GRAPH_ID_INVALID};

#define QUIESCENT_EVERY 64 /* walks between quiescent reports */
#define CYCLES_SAMPLE 16   /* walks per timed walk (a power of two) */
_Static_assert((CYCLES_SAMPLE & (CYCLES_SAMPLE - 1)) == 0, "CYCLES_SAMPLE is a power of two");
#define IDLE_WALKS 256      /* empty walks before the worker waits */
#define PAUSE_MAX_US 200u   /* longest pause: bounds the wait of a packet that comes during it */
#define SLEEP_MAX_MS 100    /* longest sleep, should a driver's interrupt get lost */
#define TIMER_SLACK_NS 1000 /* the kernel's default (50 us) would stretch every short pause */

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

static void count(uint64_t *counter, uint64_t n)
{
	__atomic_store_n(counter, *counter + n, __ATOMIC_RELAXED); /* one writer: this worker */
}

/* A short pause, doubling from 1 us to PAUSE_MAX_US while nothing comes. */
static void idle_pause(unsigned int thread_id, unsigned int *pause_us)
{
	struct timespec ts = {.tv_sec = 0};
	uint64_t start;

	*pause_us = *pause_us ? RTE_MIN(*pause_us * 2, PAUSE_MAX_US) : 1;
	ts.tv_nsec = (long)*pause_us * 1000;
	rte_rcu_qsbr_thread_offline(dp_rcu, thread_id);
	start = rte_rdtsc();
	nanosleep(&ts, NULL); /* net_tap's per-packet signal (idle.h) ends it early: work */
	count(&dp_idle_asleep_cycles, rte_rdtsc() - start);
	rte_rcu_qsbr_thread_online(dp_rcu, thread_id);
	count(&dp_idle_stats.pauses, 1);
}

/* Asleep until a started port's rx interrupt, a kick, or SLEEP_MAX_MS. */
static void idle_sleep(struct dp_worker *w, struct rte_graph *graph, struct dp_idle_ports *ports,
		       unsigned int thread_id)
{
	uint64_t before = w->rx_packets, start;
	int ret;

	dp_idle_intr_arm(ports);
	__atomic_store_n(&w->sleeping, 1, __ATOMIC_RELAXED);
	/* pairs with dp_worker_kick(): either the last look below finds what the control
	 * thread queued, or the control thread sees the worker asleep and kicks it */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* the last look: what came before the interrupts were armed raises none */
	graph_walk(graph, false);
	if (w->rx_packets == before && !dp_idle_ports_stale(ports) &&
	    !__atomic_load_n(&w->stop, __ATOMIC_ACQUIRE)) {
		rte_rcu_qsbr_thread_offline(dp_rcu, thread_id);
		start = rte_rdtsc();
		ret = dp_idle_wait(ports, SLEEP_MAX_MS);
		count(&dp_idle_asleep_cycles, rte_rdtsc() - start);
		rte_rcu_qsbr_thread_online(dp_rcu, thread_id);
		count(&dp_idle_stats.sleeps, 1);
		count(ret > 0 ? &dp_idle_stats.wakeups : &dp_idle_stats.timeouts, 1);
	}
	__atomic_store_n(&w->sleeping, 0, __ATOMIC_RELAXED);
	dp_idle_intr_disarm(ports);
}

static int worker_main(void *arg)
{
	struct dp_worker *w = arg;
	struct rte_graph *graph = rte_graph_lookup(w->graph_name);
	unsigned int thread_id = w->lcore;
	unsigned int walks = 0, sample = 0, idle = 0, pause_us = 0;
	struct dp_idle_ports ports;
	uint64_t seen = 0;

	if (!graph)
		return -ENOENT;
	dp_idle_worker_init(&ports);
	dp_idle_signals_take();
	if (dp_idle_mode != DP_IDLE_BUSY)
		prctl(PR_SET_TIMERSLACK, TIMER_SLACK_NS, 0, 0, 0);
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
			pause_us = 0;
			continue;
		}
		if (dp_idle_mode == DP_IDLE_BUSY || ++idle < IDLE_WALKS)
			continue;
		if (dp_idle_mode == DP_IDLE_INTERRUPT && dp_idle_ports_refresh(&ports)) {
			idle_sleep(w, graph, &ports, thread_id);
			idle = 0; /* poll a while before the next sleep */
			continue;
		}
		idle_pause(thread_id, &pause_us);
	}

	rte_rcu_qsbr_thread_offline(dp_rcu, thread_id);
	rte_rcu_qsbr_thread_unregister(dp_rcu, thread_id);
	dp_idle_worker_fini(&ports);
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
	dp_worker_kick();
	rte_eal_wait_lcore(w->lcore);
	w->launched = false;
}
