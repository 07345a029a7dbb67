/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conntrack table as the datapath uses it. Keys: rte_hash (lock-free readers; writers
 * — the worker adding, the control thread deleting — serialised by the hash's own writer
 * lock). Flows: an array sized to the table, so memory never moves and the control thread
 * can walk every flow without touching the hash. A flow is freed only after an RCU grace
 * period, so a worker may use one until the end of its graph walk.
 */
#ifndef DP_CT_H
#define DP_CT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <dplane/conntrack.h>
#include <dplane/core.h>

/*
 * A key as the table stores it: dpservice's 44 bytes and 4 zero bytes. 48 bytes compare
 * with rte_hash's vector compare instead of memcmp. The table's own hash is CRC32, which
 * nobody sees; the flow's jhash (dpservice's, for multipath) is computed once, at creation.
 */
struct dp_ct_key {
	struct dp_flow_key k;
	uint32_t zero;
};
_Static_assert(sizeof(struct dp_ct_key) == 48, "table keys are 48 bytes");

/* Per-flow state of the stages after conntrack, zero when the flow is created: each
 * feature owns a slice of dp_ct_flow.ext (the firewall's verdict, ...). */
#define DP_CT_EXT_SIZE 32
#define DP_CT_EXT_FIREWALL 0 /* 12 bytes */

/* The first line is all a packet of an existing flow touches; the keys follow. */
struct dp_ct_flow {
	uint64_t last_seen;          /* TSC of the last packet (worker writes, control reads) */
	uint64_t packets[2];         /* per direction (worker only) */
	uint32_t hash;               /* dpservice's jhash of key[0]: multipath, hashed choices */
	uint16_t in_port;            /* where the first packet came in */
	uint8_t tcp_state;           /* enum dp_ct_tcp_state */
	uint8_t live;                /* 1 while in the table; the control thread's to clear */
	uint8_t ext[DP_CT_EXT_SIZE]; /* the stages' (worker only) */
	struct dp_ct_key key[2];     /* original, reply (equal: inserted once) */
} __rte_cache_aligned;

_Static_assert(offsetof(struct dp_ct_flow, key) == RTE_CACHE_LINE_MIN_SIZE,
	       "a packet of an existing flow touches one cache line");

/* The table's data for a key: the flow, and in bit 0 which of its keys it is. */
static inline uintptr_t dp_ct_data(const struct dp_ct_flow *flow, unsigned int dir)
{
	return (uintptr_t)flow | dir;
}

extern struct rte_hash *dp_ct_hash;

/* The source check (enum dp_ct_source_check), and per VF the packets it found spoofed
 * (written by the worker). */
extern uint8_t dp_ct_source_mode;
extern uint64_t dp_ct_spoofed_count[DP_MAX_PORTS];

/*
 * Flows per port where their first packet came in, for the quota: the worker counts the
 * ones it creates, the control thread the ones it removes, each the only writer of its
 * array (no locked instruction on the worker's side); the difference is the port's live
 * flows.
 */
extern uint32_t dp_ct_quota;
extern uint32_t dp_ct_port_created[DP_MAX_PORTS];
extern uint32_t dp_ct_port_removed[DP_MAX_PORTS];

/* Worker: whether the port may start one more flow. */
static inline bool dp_ct_quota_ok(uint16_t port)
{
	return dp_ct_port_created[port] -
		       __atomic_load_n(&dp_ct_port_removed[port], __ATOMIC_RELAXED) <
	       dp_ct_quota;
}

#define DP_CT_HASH_INIT 0xfee1900d /* dpservice's */

/* The table's hash of a key: CRC32 of the 48 bytes, a few instructions. */
static inline uint32_t dp_ct_key_sig(const struct dp_ct_key *key)
{
	return rte_hash_crc(key, sizeof(*key), DP_CT_HASH_INIT);
}

/* dpservice's hash of a flow key (jhash of its 44 bytes as 11 words): multipath, hashed
 * choices. */
uint32_t dp_ct_flow_hash(const struct dp_ct_key *key);

/* Worker: up to n free flows (fewer when the table is nearly full), already on their way
 * into the cache; dp_ct_flow_put() gives back those not used. */
unsigned int dp_ct_flow_get(struct dp_ct_flow **flows, unsigned int n);
void dp_ct_flow_put(struct dp_ct_flow **flows, unsigned int n);
/* Worker: makes flow the flow of a key and its reverse, neither of which is in the table
 * (the caller checked); false when the table is full, and the flow is still the caller's. */
bool dp_ct_insert(struct dp_ct_flow *flow, const struct dp_ct_key *key, hash_sig_t sig,
		  const struct dp_ct_key *rkey, hash_sig_t rsig, uint16_t in_port, uint64_t now);

#endif
