/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packet trace. Workers (producers) copy the head of each packet entering a selected node
 * into an rte_ring of fixed-size records and never wait: a full ring costs a lost record.
 * The control thread (the single consumer) drains it and turns TSC stamps into wall clock.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_graph.h>
#include <rte_graph_worker.h>
#include <rte_mbuf.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <dplane/core.h>
#include <dplane/trace.h>

#include "ctl.h"
#include "module.h"
#include "trace_dp.h"

#define TRACE_MAX_NODES 1024 /* node ids above are never traced */
#define TRACE_BATCH 16       /* records a worker builds before one enqueue */
#define TRACE_NS_PER_S UINT64_C(1000000000)

_Static_assert(DP_TRACE_NODE_LEN == RTE_NODE_NAMESIZE, "node name length");
_Static_assert(RTE_IS_POWER_OF_2(DP_TRACE_RING_SIZE), "ring size must be a power of two");

/* What travels through the ring: no pointers, so nothing in it can go stale. */
struct trace_rec {
	uint64_t tsc;
	rte_node_t node_id;
	uint32_t pkt_len;
	uint16_t cap_len;
	uint16_t port;
	uint16_t flags;
	uint16_t pad;
	uint8_t data[DP_TRACE_SNAPLEN];
};
_Static_assert(sizeof(struct trace_rec) % 4 == 0, "ring elements are multiples of 4 bytes");

uint8_t dp_trace_on; /* control writes (release), workers read (relaxed) once per burst */

static struct rte_ring *trace_ring;       /* control writes before dp_trace_on, workers read */
static uint8_t node_sel[TRACE_MAX_NODES]; /* control writes, workers read */
static uint64_t traced, lost;             /* workers add, control reads */
static uint64_t base_tsc, base_ns;        /* control only: TSC -> wall clock */

void dp_trace_burst(const struct rte_node *node, void *const *objs, uint16_t nb_objs,
		    uint16_t flags)
{
	struct trace_rec recs[TRACE_BATCH];
	struct rte_ring *ring = __atomic_load_n(&trace_ring, __ATOMIC_ACQUIRE);
	rte_node_t id = node->id;
	uint64_t tsc;
	unsigned int n = 0, done;

	if (!ring || id >= TRACE_MAX_NODES || !__atomic_load_n(&node_sel[id], __ATOMIC_RELAXED))
		return;
	tsc = rte_rdtsc();
	for (uint16_t i = 0; i < nb_objs; i++) {
		const struct rte_mbuf *m = objs[i];
		struct trace_rec *r = &recs[n];
		const void *p;

		r->tsc = tsc;
		r->node_id = id;
		r->pkt_len = m->pkt_len;
		r->cap_len = (uint16_t)RTE_MIN(m->pkt_len, (uint32_t)DP_TRACE_SNAPLEN);
		r->port = m->port;
		r->flags = flags;
		r->pad = 0;
		p = r->cap_len ? rte_pktmbuf_read(m, 0, r->cap_len, r->data) : NULL;
		if (!p)
			r->cap_len = 0;
		else if (p != r->data)
			memcpy(r->data, p, r->cap_len);
		if (++n < TRACE_BATCH && i + 1 < nb_objs)
			continue;
		done = rte_ring_mp_enqueue_burst_elem(ring, recs, sizeof(recs[0]), n, NULL);
		__atomic_fetch_add(&traced, done, __ATOMIC_RELAXED);
		if (done < n)
			__atomic_fetch_add(&lost, n - done, __ATOMIC_RELAXED);
		n = 0;
	}
}

uint16_t dp_trace_process(struct rte_graph *graph, struct rte_node *node, void **objs,
			  uint16_t nb_objs, dp_trace_process_fn process)
{
	dp_trace_burst(node, objs, nb_objs, 0);
	return process(graph, node, objs, nb_objs);
}

int dp_trace_node_set(const char *name, bool on)
{
	rte_node_t id;

	DP_CTL_CHECK();
	id = rte_node_from_name(name);
	if (id == RTE_NODE_ID_INVALID || id >= TRACE_MAX_NODES)
		return dp_errno(ENOENT);
	__atomic_store_n(&node_sel[id], on, __ATOMIC_RELAXED);
	return 0;
}

int dp_trace_nodes_clear(void)
{
	DP_CTL_CHECK();
	for (unsigned int i = 0; i < TRACE_MAX_NODES; i++)
		__atomic_store_n(&node_sel[i], 0, __ATOMIC_RELAXED);
	return 0;
}

int dp_trace_start(void)
{
	struct trace_rec rec;
	struct timespec ts;

	DP_CTL_CHECK();
	if (!dp_core_running())
		return dp_errno(ENODEV);
	if (!trace_ring) {
		struct rte_ring *r =
			rte_ring_create_elem("dp_trace", sizeof(struct trace_rec),
					     DP_TRACE_RING_SIZE, SOCKET_ID_ANY, RING_F_SC_DEQ);
		if (!r)
			return dp_errno(ENOMEM);
		__atomic_store_n(&trace_ring, r, __ATOMIC_RELEASE);
	}
	/* what an earlier session left behind is not part of this one */
	while (rte_ring_sc_dequeue_elem(trace_ring, &rec, sizeof(rec)) == 0)
		;
	__atomic_store_n(&traced, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&lost, 0, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_REALTIME, &ts);
	base_tsc = rte_rdtsc();
	base_ns = (uint64_t)ts.tv_sec * TRACE_NS_PER_S + (uint64_t)ts.tv_nsec;
	__atomic_store_n(&dp_trace_on, 1, __ATOMIC_RELEASE);
	return 0;
}

int dp_trace_stop(void)
{
	DP_CTL_CHECK();
	__atomic_store_n(&dp_trace_on, 0, __ATOMIC_RELEASE);
	return dp_trace_nodes_clear();
}

bool dp_trace_active(void)
{
	return __atomic_load_n(&dp_trace_on, __ATOMIC_RELAXED) != 0;
}

static uint64_t tsc_to_ns(uint64_t tsc)
{
	uint64_t hz = rte_get_tsc_hz();
	uint64_t delta = tsc > base_tsc ? tsc - base_tsc : 0;

	if (!hz)
		return base_ns;
	return base_ns + delta / hz * TRACE_NS_PER_S + delta % hz * TRACE_NS_PER_S / hz;
}

int dp_trace_read(struct dp_trace_pkt *out, unsigned int max)
{
	static struct trace_rec recs[32]; /* control thread only */
	unsigned int n = 0;

	DP_CTL_CHECK();
	if (!trace_ring)
		return 0;
	while (n < max) {
		unsigned int got = rte_ring_sc_dequeue_burst_elem(
			trace_ring, recs, sizeof(recs[0]),
			RTE_MIN(max - n, (unsigned int)RTE_DIM(recs)), NULL);

		if (got == 0)
			break;
		for (unsigned int i = 0; i < got; i++, n++) {
			const struct trace_rec *r = &recs[i];
			struct dp_trace_pkt *p = &out[n];
			const char *name = rte_node_id_to_name(r->node_id);

			p->ts_ns = tsc_to_ns(r->tsc);
			snprintf(p->node, sizeof(p->node), "%s", name ? name : "?");
			p->pkt_len = r->pkt_len;
			p->cap_len = r->cap_len;
			p->port = r->port;
			p->flags = r->flags;
			memcpy(p->data, r->data, r->cap_len);
		}
	}
	return (int)n;
}

int dp_trace_stats_get(struct dp_trace_stats *stats)
{
	DP_CTL_CHECK();
	stats->traced = __atomic_load_n(&traced, __ATOMIC_RELAXED);
	stats->lost = __atomic_load_n(&lost, __ATOMIC_RELAXED);
	return 0;
}

/* The worker has stopped when this runs: nobody reads the ring any more. */
static void trace_fini(void)
{
	struct rte_ring *r = trace_ring;

	__atomic_store_n(&dp_trace_on, 0, __ATOMIC_RELEASE);
	for (unsigned int i = 0; i < TRACE_MAX_NODES; i++)
		node_sel[i] = 0;
	__atomic_store_n(&trace_ring, NULL, __ATOMIC_RELEASE);
	rte_ring_free(r);
}

static struct dp_module trace_module = {.name = "trace", .fini = trace_fini};
DP_MODULE_REGISTER(trace_module);
