/* SPDX-License-Identifier: Apache-2.0 */
/* Deferred frees: a queue of retired memory, each entry with its RCU token (rcu.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <rte_hash.h>
#include <rte_malloc.h>
#include <rte_rcu_qsbr.h>

#include <dplane/core.h>

#include "rcu.h"
#include "worker.h"

#define RETIRED_MAX 65536 /* beyond this, the oldest are waited for */

struct retired {
	uint64_t token;
	void *p;
	void (*free_fn)(void *p, void *arg);
	void *arg;
};

static struct {
	struct retired *q;
	size_t head, len, cap; /* the queue is q[head .. head + len) */
} retired;

static void release(const struct retired *r)
{
	if (r->free_fn)
		r->free_fn(r->p, r->arg);
	else
		rte_free(r->p);
}

void dp_rcu_reclaim(bool wait)
{
	while (retired.len) {
		const struct retired *r = &retired.q[retired.head];

		if (dp_rcu && rte_rcu_qsbr_check(dp_rcu, r->token, wait) != 1)
			break;
		release(r);
		retired.head++;
		retired.len--;
	}
	if (!retired.len)
		retired.head = 0;
}

static bool retired_room(void)
{
	struct retired *bigger;
	size_t cap;

	if (retired.head + retired.len < retired.cap)
		return true;
	if (retired.cap && retired.head >= retired.cap / 2) { /* half of it free: slide down */
		memmove(retired.q, &retired.q[retired.head], retired.len * sizeof(*retired.q));
		retired.head = 0;
		return true;
	}
	cap = retired.cap ? retired.cap * 2 : 256;
	bigger = realloc(retired.q, cap * sizeof(*retired.q));
	if (!bigger)
		return false;
	retired.q = bigger;
	retired.cap = cap;
	return true;
}

void dp_rcu_retire(void *p, void (*free_fn)(void *p, void *arg), void *arg)
{
	struct retired r = {.p = p, .free_fn = free_fn, .arg = arg};

	if (!dp_rcu) { /* no worker runs */
		release(&r);
		return;
	}
	dp_rcu_reclaim(false);
	if (retired.len >= RETIRED_MAX) {
		/* the workers are slower than the changes: let them catch up with the oldest */
		rte_rcu_qsbr_check(dp_rcu, retired.q[retired.head].token, true);
		dp_rcu_reclaim(false);
	}
	r.token = rte_rcu_qsbr_start(dp_rcu);
	if (!retired_room()) {
		rte_rcu_qsbr_check(dp_rcu, r.token, true);
		release(&r);
		return;
	}
	retired.q[retired.head + retired.len++] = r;
}

/* A key slot of a lock-free table goes back once no worker can still compare it. */
static void key_slot_free(void *hash, void *pos)
{
	rte_hash_free_key_with_position(hash, (int32_t)(intptr_t)pos);
}

int dp_rcu_hash_del_key(struct rte_hash *hash, const void *key)
{
	int32_t pos = rte_hash_del_key(hash, key);

	if (pos < 0)
		return -ENOENT;
	dp_rcu_retire(hash, key_slot_free, (void *)(intptr_t)pos);
	return 0;
}

int dp_rcu_hash_del(struct rte_hash *hash, const void *key, void (*free_fn)(void *p, void *arg),
		    void *arg)
{
	void *data;

	if (rte_hash_lookup_data(hash, key, &data) < 0 || dp_rcu_hash_del_key(hash, key) < 0)
		return -ENOENT;
	dp_rcu_retire(data, free_fn, arg);
	return 0;
}
