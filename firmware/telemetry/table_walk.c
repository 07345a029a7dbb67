/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Read-only walks over the tables workers read, for dplane-inspect. The tables are found
 * by name, as DPDK registered them, so that the modules owning them need no inspection
 * code of their own.
 */
#include <string.h>

#include <rte_hash.h>

#include <dplane/telemetry.h>
#include <dplane/vnf.h>

#include "ctl.h"

/* The next (key, data) of the table called `name`; -ENOENT at the end. */
static int table_next(const char *name, uint32_t *iter, const void **key, void **data)
{
	struct rte_hash *table;

	DP_CTL_CHECK();
	table = rte_hash_find_existing(name); /* NULL while the dataplane is stopped */
	if (!table || rte_hash_iterate(table, key, data, iter) < 0)
		return dp_errno(ENOENT);
	return 0;
}

int dp_vnf_next(uint32_t *iter, uint8_t underlay[16], struct dp_vnf *vnf)
{
	const void *key;
	void *data;
	int ret;

	ret = table_next("vnf_table", iter, &key, &data);
	if (ret < 0)
		return ret;
	memcpy(underlay, key, 16);
	memcpy(vnf, data, sizeof(*vnf));
	return 0;
}

int dp_vni_next(uint32_t *iter, uint32_t *vni)
{
	const void *key;
	void *data;
	int ret;

	ret = table_next("vni_table", iter, &key, &data);
	if (ret < 0)
		return ret;
	memcpy(vni, key, sizeof(*vni));
	return 0;
}
