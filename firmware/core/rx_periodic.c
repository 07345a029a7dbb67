/* SPDX-License-Identifier: Apache-2.0 */
/* rx_periodic: source node sending what the control thread queued with dp_inject(), and
 * running the features' worker tasks (worker.h) once per walk. */
#include <string.h>

#include <rte_errno.h>
#include <rte_mbuf.h>
#include <rte_ring.h>

#include "ctl.h"
#include "inject.h"
#include "mbuf.h"
#include "module.h"
#include "node.h"
#include "port.h"
#include "worker.h"

#define INJECT_RING_SIZE 1024
#define INJECT_BURST 32

static struct rte_ring *inject_ring;
static struct rte_mempool *inject_pool;

enum {
	RX_PERIODIC_DROP = 0,
	RX_PERIODIC_BAD_PORT,
	RX_PERIODIC_EDGE_COUNT,
};

DP_TX_EDGES("rx_periodic", rx_periodic_tx);

struct rte_mbuf *dp_pkt_alloc(void)
{
	struct rte_mbuf *m = inject_pool ? rte_pktmbuf_alloc(inject_pool) : NULL;

	/* nothing of an earlier life of the buffer (a flow, what the fast path read) */
	if (m)
		memset(rte_mbuf_to_priv(m), 0, DP_MBUF_PRIV_SIZE);
	return m;
}

struct rte_mbuf *dp_pkt_alloc_len(uint16_t len, uint8_t **data)
{
	struct rte_mbuf *m = dp_pkt_alloc();

	if (!m)
		return NULL;
	*data = (uint8_t *)rte_pktmbuf_append(m, len);
	if (!*data) {
		rte_pktmbuf_free(m);
		return NULL;
	}
	return m;
}

int dp_inject(uint16_t port_id, struct rte_mbuf *m)
{
	if (!inject_ring || port_id >= DP_MAX_PORTS) {
		rte_pktmbuf_free(m);
		return -ENODEV;
	}
	m->port = port_id;
	if (rte_ring_mp_enqueue(inject_ring, m) != 0) {
		rte_pktmbuf_free(m);
		return -ENOBUFS;
	}
	dp_worker_kick();
	return 0;
}

static struct dp_worker_task *worker_tasks;

void dp_worker_task_register(struct dp_worker_task *task)
{
	task->link = worker_tasks;
	worker_tasks = task;
}

static uint16_t rx_periodic_process(struct rte_graph *graph, struct rte_node *node, void **objs,
				    uint16_t nb_objs)
{
	struct rte_mbuf *m;
	unsigned int n;

	for (struct dp_worker_task *t = worker_tasks; t; t = t->link)
		t->run();

	n = rte_ring_sc_dequeue_burst(inject_ring, node->objs, INJECT_BURST, NULL);
	for (unsigned int i = 0; i < n; i++) {
		m = node->objs[i];
		if (unlikely(m->port >= DP_MAX_PORTS || !dp_ports[m->port].configured))
			rte_node_enqueue_x1(graph, node, RX_PERIODIC_BAD_PORT, m);
		else
			rte_node_enqueue_x1(graph, node, rx_periodic_tx[m->port], m);
	}
	dp_worker.rx_packets += n;
	return (uint16_t)n;
}

/* clang-format off */
DP_NODE_SOURCE(rx_periodic_node, "rx_periodic", rx_periodic_process, NULL,
	RX_PERIODIC_EDGE_COUNT, [RX_PERIODIC_DROP] = "drop",
	[RX_PERIODIC_BAD_PORT] = "rx_periodic_bad_port");
/* clang-format on */

DP_DROP_REGISTER(rx_periodic_bad_port);

static int inject_init(void)
{
	inject_ring =
		rte_ring_create("dp_inject", INJECT_RING_SIZE, (int)rte_socket_id(), RING_F_SC_DEQ);
	if (!inject_ring)
		return -rte_errno;
	inject_pool = rte_mempool_lookup("dp_mbufs");
	return inject_pool ? 0 : -ENOENT;
}

static void inject_fini(void)
{
	void *m;

	while (inject_ring && rte_ring_dequeue(inject_ring, &m) == 0)
		rte_pktmbuf_free(m);
	rte_ring_free(inject_ring);
	inject_ring = NULL;
	inject_pool = NULL;
}

static struct dp_module inject_module = {
	.name = "inject",
	.init = inject_init,
	.fini = inject_fini,
};
DP_MODULE_REGISTER(inject_module);
