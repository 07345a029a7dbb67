/* SPDX-License-Identifier: Apache-2.0 */
/* dp_core_start / dp_core_stop: everything between EAL init and EAL cleanup. */
#include <rte_lcore.h>
#include <rte_mbuf.h>

#include "ctl.h"
#include "idle.h"
#include "mbuf.h"
#include "module.h"
#include "port.h"
#include "rcu.h"
#include "worker.h"

#define DP_MBUF_DATA_ROOM (1558 + RTE_PKTMBUF_HEADROOM)
#define DP_MBUF_CACHE 256

static struct rte_mempool *dp_pool;
static bool running;

bool dp_core_running(void)
{
	return running;
}

int dp_core_start(const struct dp_core_conf *conf)
{
	unsigned int worker;
	int ret;

	DP_CTL_CHECK();
	if (running)
		return dp_errno(EALREADY);
	if (conf->nb_ports > DP_MAX_PORTS || conf->nb_mbufs < 1024)
		return dp_errno(EINVAL);
	worker = rte_get_next_lcore(-1, 1, 0);
	if (worker >= RTE_MAX_LCORE)
		return dp_errno(ECHILD); /* no worker lcore */

	dp_pool =
		rte_pktmbuf_pool_create("dp_mbufs", conf->nb_mbufs, DP_MBUF_CACHE,
					DP_MBUF_PRIV_SIZE, DP_MBUF_DATA_ROOM, (int)rte_socket_id());
	if (!dp_pool) {
		DP_LOG(ERR, "cannot allocate %u mbufs: %s", conf->nb_mbufs,
		       rte_strerror(rte_errno));
		return dp_errno(ENOMEM);
	}
	running = true; /* from here on, dp_core_stop() undoes whatever was done */

	ret = dp_rcu_setup();
	if (ret < 0)
		goto fail;
	ret = dp_idle_setup(conf->idle);
	if (ret < 0)
		goto fail;
	ret = dp_ports_setup(conf, dp_pool);
	if (ret < 0)
		goto fail;
	ret = dp_modules_init();
	if (ret < 0)
		goto fail;
	dp_worker.lcore = worker;
	ret = dp_graph_setup(conf, &dp_worker);
	if (ret < 0)
		goto fail;
	for (uint16_t i = 0; i < conf->nb_ports; i++) {
		if (!conf->ports[i].start)
			continue;
		ret = dp_port_start(conf->ports[i].port_id);
		if (ret < 0)
			goto fail;
	}
	ret = dp_worker_launch(&dp_worker);
	if (ret < 0)
		goto fail;
	return 0;

fail:
	dp_core_stop();
	return dp_errno(ret < 0 ? -ret : EIO);
}

int dp_core_stop(void)
{
	DP_CTL_CHECK();
	if (!running)
		return 0;
	dp_worker_join(&dp_worker);
	dp_ports_teardown();
	dp_idle_teardown();
	dp_modules_fini();
	dp_graph_teardown(&dp_worker);
	dp_rcu_reclaim(true); /* the worker has stopped: everything retired is due */
	dp_rcu_teardown();
	rte_mempool_free(dp_pool);
	dp_pool = NULL;
	running = false;
	return 0;
}
