/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Deleting what workers read, written once: unpublish -> wait for every worker to pass a
 * quiescent state -> free.
 */
#ifndef DP_RCU_H
#define DP_RCU_H

struct rte_hash;

/* Delete key from a lock-free hash (RW_CONCURRENCY_LF) whose data are pointers, and return
 * the data once no worker can still see it (NULL if the key was absent). The key slot is
 * released too (such hashes do not release it on delete). */
void *dp_rcu_hash_del(struct rte_hash *hash, const void *key);

#endif
