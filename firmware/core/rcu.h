/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deleting what workers read, written once: unpublish, then free once every worker has
 * passed a quiescent state (RCU QSBR). Either wait for that (dp_rcu_synchronize(), when the
 * caller must know that no worker still uses the thing, e.g. before stopping a port), or
 * retire it: it waits in a queue with the RCU token of its retirement and is freed once the
 * token has passed, while the control thread goes on (dp_rcu_retire()). Control thread only.
 */
#ifndef DP_RCU_H
#define DP_RCU_H

#include <stdbool.h>

struct rte_hash;

/* Free p once no worker can still hold it: free_fn(p, arg), or rte_free(p) when free_fn is
 * NULL. Nobody waits: what is due is freed by the next dp_rcu_retire() or
 * dp_rcu_reclaim(). At once when no worker runs. */
void dp_rcu_retire(void *p, void (*free_fn)(void *p, void *arg), void *arg);
/* Free the retired memory that is due; wait = true: all of it, after a grace period. */
void dp_rcu_reclaim(bool wait);

/* Delete key from a lock-free hash (RW_CONCURRENCY_LF) and retire its key slot (such hashes
 * keep it on delete); the data are the caller's to retire. -ENOENT if the key is absent. */
int dp_rcu_hash_del_key(struct rte_hash *hash, const void *key);
/* The same for a hash whose data are pointers: the data are retired too (free_fn as in
 * dp_rcu_retire(), or rte_free). */
int dp_rcu_hash_del(struct rte_hash *hash, const void *key, void (*free_fn)(void *p, void *arg),
		    void *arg);

#endif
