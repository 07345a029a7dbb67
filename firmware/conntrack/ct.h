/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conntrack table as the datapath uses it. Keys: rte_hash (lock-free readers; writers
 * — the worker adding, the control thread deleting — serialised by the hash's own writer
 * lock). Flows: a mempool sized to the table, so memory never moves and the control thread
 * can walk every flow without touching the hash. A flow is freed only after an RCU grace
 * period, so a worker may use one until the end of its graph walk.
 */
#ifndef DP_CT_H
#define DP_CT_H

#include <stdint.h>

#include <rte_hash.h>

#include <dplane/conntrack.h>

struct dp_ct_flow {
	struct dp_flow_key key[2];  /* original, reply */
	uint64_t last_seen;         /* TSC of the last packet (worker writes, control reads) */
	uint64_t packets[2];        /* per direction (worker only) */
	uint32_t hash;              /* of key[0]: multipath, hash-addressed choices */
	uint16_t in_port;           /* where the first packet came in */
	uint8_t tcp_state;          /* enum dp_ct_tcp_state */
	uint8_t live;               /* 1 while in the table; the control thread's to clear */
	uint8_t one_key;            /* key[0] == key[1]: inserted once */
} __rte_cache_aligned;

extern struct rte_hash *dp_ct_hash;

/* Worker: a new flow for a key that missed, both keys inserted; NULL when the table is full
 * (or the reply key belongs to another flow). */
struct dp_ct_flow *dp_ct_create(const struct dp_flow_key *key, hash_sig_t sig,
				uint16_t in_port, uint64_t now);

#endif
