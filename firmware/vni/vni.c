/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VNI table: a lock-free hash vni -> struct dp_vni_dp, the VNI's two routing tables
 * (vni_dp.h). A VNI is created on first use and freed on last use by the control plane;
 * it leaves the hash first and its memory (tables, entry, key slot) is freed after an RCU
 * grace period, so a worker never sees freed memory, and the control thread never waits
 * for the workers. An empty VNI holds no table memory at all: both tables are the shared
 * empty table until a route arrives.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include <dplane/core.h>
#include <dplane/vni.h>

#include "ctl.h"
#include "module.h"
#include "rcu.h"
#include "vni_ctl.h"

static struct rte_hash *vni_table;
static unsigned int nb_vnis; /* in the table: its count also has the slots still retiring */
static uint32_t route_capacity = DP_VNI_DEFAULT_ROUTES;

int dp_vni_conf_set(uint32_t routes_per_table)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (routes_per_table == 0 || routes_per_table > DP_VNI_MAX_ROUTES)
		return dp_errno(EINVAL);
	route_capacity = routes_per_table;
	return 0;
}

uint32_t dp_vni_route_capacity(void)
{
	return route_capacity;
}

struct dp_vni_dp *dp_vni_find(uint32_t vni)
{
	void *data;

	if (!vni_table || rte_hash_lookup_data(vni_table, &vni, &data) < 0)
		return NULL;
	return data;
}

const struct dp_vni_dp *dp_vni_lookup(uint32_t vni)
{
	void *data;

	if (rte_hash_lookup_data(vni_table, &vni, &data) < 0)
		return NULL;
	return data;
}

static void vni_free(struct dp_vni_dp *v)
{
	dp_fib_clear(&v->fib[0], false);
	dp_fib_clear(&v->fib[1], true);
	dp_rcu_retire(v, NULL, NULL);
}

int dp_vni_create(uint32_t vni)
{
	struct dp_vni_dp *v;
	int ret;

	DP_CTL_CHECK();
	dp_rcu_reclaim(false);
	if (!vni_table)
		return dp_errno(ENODEV);
	if (vni > DP_VNI_MAX)
		return dp_errno(EINVAL);
	if (dp_vni_find(vni))
		return dp_errno(EEXIST);
	if (nb_vnis >= DP_VNI_TABLE_SIZE)
		return dp_errno(ENOSPC);
	v = rte_zmalloc("dp_vni", sizeof(*v), 0);
	if (!v)
		return dp_errno(ENOMEM);
	v->vni = vni;
	v->fib[0] = v->fib[1] = &dp_fib_empty;
	ret = rte_hash_add_key_data(vni_table, &vni, v);
	if (ret < 0) {
		rte_free(v);
		return dp_errno(ret == -ENOSPC ? ENOSPC : -ret);
	}
	nb_vnis++;
	return 0;
}

int dp_vni_destroy(uint32_t vni)
{
	struct dp_vni_dp *v;

	DP_CTL_CHECK();
	dp_rcu_reclaim(false);
	v = dp_vni_find(vni);
	if (!v || dp_rcu_hash_del_key(vni_table, &vni) < 0)
		return dp_errno(ENOENT);
	vni_free(v);
	nb_vnis--;
	return 0;
}

int dp_vni_exists(uint32_t vni)
{
	DP_CTL_CHECK();
	return dp_vni_find(vni) != NULL;
}

int dp_vni_reset(uint32_t vni)
{
	struct dp_vni_dp *v;

	DP_CTL_CHECK();
	dp_rcu_reclaim(false);
	v = dp_vni_find(vni);
	if (!v)
		return dp_errno(ENOENT);
	dp_fib_clear(&v->fib[0], false);
	dp_fib_clear(&v->fib[1], true);
	return 0;
}

unsigned int dp_vni_count(void)
{
	return vni_table ? nb_vnis : 0;
}

int dp_vni_next(uint32_t *iter, uint32_t *vni)
{
	const void *key;
	void *data;

	DP_CTL_CHECK();
	if (!vni_table || rte_hash_iterate(vni_table, &key, &data, iter) < 0)
		return dp_errno(ENOENT);
	memcpy(vni, key, sizeof(*vni));
	return 0;
}

static int vni_init(void)
{
	struct rte_hash_parameters params = {
		.name = "vni_table",
		.entries = DP_VNI_TABLE_SIZE + DP_VNI_TABLE_SIZE / 4,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_jhash,
		.hash_func_init_val = 0xfee1900d,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	vni_table = rte_hash_create(&params);
	return vni_table ? 0 : -rte_errno;
}

static void vni_fini(void)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!vni_table)
		return;
	while (rte_hash_iterate(vni_table, &key, &data, &iter) >= 0)
		vni_free(data);
	dp_rcu_reclaim(true); /* the worker has stopped: everything is due */
	rte_hash_free(vni_table);
	vni_table = NULL;
	nb_vnis = 0;
}

static struct dp_module vni_module = {.name = "vni", .init = vni_init, .fini = vni_fini};
DP_MODULE_REGISTER(vni_module);

static struct dp_table_usage vni_usage = {
	.name = "vni_table",
	.capacity = DP_VNI_TABLE_SIZE,
	.count = dp_vni_count,
};
DP_TABLE_USAGE_REGISTER(vni_usage);
