/* SPDX-License-Identifier: Apache-2.0 */
#include <rte_hash.h>

#include <dplane/core.h>

#include "rcu.h"

void *dp_rcu_hash_del(struct rte_hash *hash, const void *key)
{
	void *data;
	int32_t pos;

	if (rte_hash_lookup_data(hash, key, &data) < 0)
		return NULL;
	pos = rte_hash_del_key(hash, key);
	if (pos < 0)
		return NULL;
	dp_rcu_synchronize();
	rte_hash_free_key_with_position(hash, pos);
	return data;
}
