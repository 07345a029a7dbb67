/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VNF table: underlay IPv6 address -> struct dp_vnf, lock-free for workers, sized by
 * configuration. An entry is freed after an RCU grace period.
 */
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>

#include <dplane/core.h>
#include <dplane/vnf.h>

#include "ctl.h"
#include "module.h"
#include "rcu.h"
#include "vnf_dp.h"

static struct rte_hash *vnf_table;
static uint32_t vnf_capacity = DP_VNF_DEFAULT_SIZE;

static struct dp_table_usage vnf_usage = {
	.name = "vnf_table",
	.capacity = DP_VNF_DEFAULT_SIZE,
	.count = dp_vnf_count,
};

int dp_vnf_conf_set(uint32_t entries)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (entries == 0 || entries > DP_VNF_MAX_SIZE)
		return dp_errno(EINVAL);
	vnf_capacity = entries;
	vnf_usage.capacity = entries;
	return 0;
}

uint32_t dp_vnf_capacity(void)
{
	return vnf_capacity;
}

DP_ENUM_NAME_FN(dp_vnf_type_name, enum dp_vnf_type, DP_VNF_TYPE_LIST, DP_VNF_TYPE_COUNT)

/* Entries in the table: rte_hash_count() also counts the slots of deleted entries until
 * their grace period is over (dp_rcu_hash_del()), which an operator must not see. */
static unsigned int vnf_live;

int dp_vnf_add(const uint8_t underlay[16], const struct dp_vnf *vnf)
{
	struct dp_vnf *copy;
	int ret;

	DP_CTL_CHECK();
	if (!vnf_table)
		return dp_errno(ENODEV);
	if (rte_hash_lookup(vnf_table, underlay) >= 0)
		return dp_errno(EEXIST);
	if (rte_hash_count(vnf_table) >= (int32_t)vnf_capacity)
		return dp_errno(ENOSPC);
	copy = rte_malloc("dp_vnf", sizeof(*copy), 0);
	if (!copy)
		return dp_errno(ENOMEM);
	memcpy(copy, vnf, sizeof(*copy));
	ret = rte_hash_add_key_data(vnf_table, underlay, copy);
	if (ret < 0) {
		rte_free(copy);
		return dp_errno(ret == -ENOSPC ? ENOSPC : -ret);
	}
	vnf_live++;
	return 0;
}

int dp_vnf_del(const uint8_t underlay[16])
{
	DP_CTL_CHECK();
	if (!vnf_table)
		return dp_errno(ENODEV);
	if (dp_rcu_hash_del(vnf_table, underlay, NULL, NULL) < 0)
		return dp_errno(ENOENT);
	vnf_live--;
	return 0;
}

int dp_vnf_get(const uint8_t underlay[16], struct dp_vnf *vnf)
{
	void *data;

	DP_CTL_CHECK();
	if (!vnf_table || rte_hash_lookup_data(vnf_table, underlay, &data) < 0)
		return dp_errno(ENOENT);
	memcpy(vnf, data, sizeof(*vnf));
	return 0;
}

unsigned int dp_vnf_count(void)
{
	return vnf_table ? vnf_live : 0;
}

int dp_vnf_next(uint32_t *iter, uint8_t underlay[16], struct dp_vnf *vnf)
{
	const void *key;
	void *data;

	DP_CTL_CHECK();
	if (!vnf_table || rte_hash_iterate(vnf_table, &key, &data, iter) < 0)
		return dp_errno(ENOENT);
	memcpy(underlay, key, 16);
	memcpy(vnf, data, sizeof(*vnf));
	return 0;
}

/* rte_jhash() reads the key by words: from an aligned copy, so that callers may pass an
 * address wherever it is (a packet, a flow). */
static uint32_t vnf_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	uint32_t words[4];

	memcpy(words, key, sizeof(words));
	return rte_jhash(words, len, init);
}

static int vnf_init(void)
{
	struct rte_hash_parameters params = {
		.name = "vnf_table",
		.entries = RTE_MAX(vnf_capacity + vnf_capacity / 4, 64u), /* rte_hash's least */
		.key_len = 16,
		.hash_func = vnf_hash_fn,
		.hash_func_init_val = 0xfee1900d,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	vnf_table = rte_hash_create(&params);
	if (!vnf_table) {
		DP_LOG(ERR, "vnf: no memory for a table of %u entries (--vnf-table-size)",
		       vnf_capacity);
		return -ENOMEM;
	}
	return 0;
}

static void vnf_fini(void)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!vnf_table)
		return;
	while (rte_hash_iterate(vnf_table, &key, &data, &iter) >= 0)
		rte_free(data);
	rte_hash_free(vnf_table);
	vnf_table = NULL;
	vnf_live = 0;
}

static struct dp_module vnf_module = {.name = "vnf", .init = vnf_init, .fini = vnf_fini};
DP_MODULE_REGISTER(vnf_module);

DP_TABLE_USAGE_REGISTER(vnf_usage);

const struct dp_vnf *dp_vnf_lookup(const uint8_t underlay[16])
{
	void *data;

	if (rte_hash_lookup_data(vnf_table, underlay, &data) < 0)
		return NULL;
	return data;
}
