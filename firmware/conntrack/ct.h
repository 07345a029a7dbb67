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
#include <string.h>

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
 * feature owns a slice of dp_ct_flow.ext (the firewall's verdict, ...), in the flow's hot
 * line, and may keep what only a flow's first packets or its removal need in `cold`. */
#define DP_CT_EXT_SIZE 31
#define DP_CT_EXT_FIREWALL 0 /* 12 bytes */
#define DP_CT_EXT_NAT 12     /* 16 bytes */
#define DP_CT_EXT_LB 28      /* 1 byte */
#define DP_CT_COLD_SIZE 32

/*
 * A reply key's vnf_type until the flow's first packet leaves: the stages may rewrite the
 * reply key (NAT), and what the reply will carry depends on where it comes from, which only
 * the route knows (dp_ct_reply_publish()).
 */
#define DP_CT_VNF_AT_PUBLISH 0xff

/* The first line is all a packet of an existing flow touches; the keys follow. */
struct dp_ct_flow {
	uint64_t last_seen;            /* TSC of the last packet (worker writes, control reads) */
	uint64_t packets[2];           /* per direction (worker only) */
	uint32_t hash;                 /* dpservice's jhash of key[0]: multipath, hashed choices */
	uint16_t in_port;              /* where the first packet came in */
	uint8_t tcp_state;             /* enum dp_ct_tcp_state */
	uint8_t live;                  /* 1 while in the table; the control thread's to clear */
	uint8_t ext[DP_CT_EXT_SIZE];   /* the stages' (worker only) */
	uint8_t reply_in;              /* 1 once key[1] is in the table (the worker sets it) */
	struct dp_ct_key key[2];       /* original, reply (equal: inserted once) */
	uint8_t cold[DP_CT_COLD_SIZE]; /* the stages' (worker only), zero at creation */
} __rte_cache_aligned;

_Static_assert(offsetof(struct dp_ct_flow, key) == RTE_CACHE_LINE_MIN_SIZE,
	       "a packet of an existing flow touches one cache line");
_Static_assert(offsetof(struct dp_ct_flow, ext) % 4 == 0, "the stages' slices are aligned");
_Static_assert(offsetof(struct dp_ct_flow, cold) + DP_CT_COLD_SIZE == 3 * RTE_CACHE_LINE_MIN_SIZE,
	       "a flow's state is 192 bytes");

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
/*
 * Worker: makes flow the flow of key, neither it nor rkey being in the table (the caller
 * checked). Only key goes into the table now; rkey is the flow's reply key, which the stages
 * may still rewrite (NAT) and which dp_ct_reply_publish() puts into the table when the first
 * packet leaves. False when the table is full, and the flow is still the caller's.
 */
bool dp_ct_insert(struct dp_ct_flow *flow, const struct dp_ct_key *key, hash_sig_t sig,
		  const struct dp_ct_key *rkey, uint16_t in_port, uint64_t now);

/*
 * Worker: the vnf_type conntrack gives the key of a packet from a VM (dpservice's marking):
 * NAT for the IPv4 packets of a VM that has a NAT, sent from its own address, and for IPv6
 * packets to the NAT64 prefix; otherwise none. dp_ct_vf_nat[port] is set by the NAT feature.
 */
extern uint8_t dp_ct_vf_nat[DP_MAX_PORTS];
uint8_t dp_ct_vf_key_vnf(uint16_t port, bool ipv6, const uint8_t *src, const uint8_t *dst);

/*
 * Flows of packets that came from the underlay through an underlay address of these VNF
 * types have no replies (a load balancer's: the targets answer the clients themselves): only
 * their original key goes into the table, and a reply key another flow owns does not stop
 * them. Set by the feature, at start-up (RTE_INIT).
 */
extern uint8_t dp_ct_one_way_vnf[256];

/* A VF's extra sources (dp_ct_port_sources_set()), published whole, read by the worker. */
struct dp_ct_sources {
	unsigned int count;
	struct dp_ct_source entries[];
};
extern struct dp_ct_sources *dp_ct_port_sources[DP_MAX_PORTS];

/* Worker: the port's extra source that src (network order) is in, or NULL. */
static inline const struct dp_ct_source *dp_ct_port_source(uint16_t port, bool ipv6,
							   const uint8_t *src)
{
	const struct dp_ct_sources *s =
		__atomic_load_n(&dp_ct_port_sources[port], __ATOMIC_ACQUIRE);
	uint8_t family = ipv6 ? 6 : 4;

	if (likely(!s))
		return NULL;
	for (unsigned int i = 0; i < s->count; i++) {
		const struct dp_ct_source *e = &s->entries[i];
		unsigned int full = e->prefix_len / 8, rest = e->prefix_len % 8;

		if (e->family == family && memcmp(src, e->prefix, full) == 0 &&
		    (!rest || ((src[full] ^ e->prefix[full]) & (uint8_t)(0xff00 >> rest)) == 0))
			return e;
	}
	return NULL;
}

/*
 * Worker: put the flow's reply key into the table, as the stages left it, when its first
 * packet leaves through out_port (a reply vnf_type still DP_CT_VNF_AT_PUBLISH becomes what a
 * reply from there carries). False if another flow has the key (or the table is full): the
 * packet must not leave, it would draw a reply that is not its flow's.
 */
bool dp_ct_reply_publish(struct dp_ct_flow *flow, uint16_t out_port);

/*
 * Features' hooks on flows leaving the table (control thread): called for each removed flow
 * once no worker can see it, before it is reused. A hook that returns true keeps the flow:
 * it gives it back itself with dp_ct_flow_put() (from the worker, e.g. after releasing what
 * the flow held in tables only the worker writes).
 */
struct dp_ct_release_hook {
	bool (*fn)(struct dp_ct_flow *flow);
	struct dp_ct_release_hook *link;
};
void dp_ct_release_hook_register(struct dp_ct_release_hook *hook);
#define DP_CT_RELEASE_HOOK(var, FN)                                                                \
	static struct dp_ct_release_hook var = {.fn = FN};                                         \
	RTE_INIT(dp_ct_release_hook_register_##var)                                                \
	{                                                                                          \
		dp_ct_release_hook_register(&var);                                                 \
	}

/*
 * Features' hooks on flows being removed (control thread): called for each as its keys leave
 * the table, before the grace period, so that whatever else leads packets to the flow (an
 * offloaded rule) goes with them.
 */
struct dp_ct_remove_hook {
	void (*fn)(struct dp_ct_flow *flow);
	struct dp_ct_remove_hook *link;
};
void dp_ct_remove_hook_register(struct dp_ct_remove_hook *hook);
#define DP_CT_REMOVE_HOOK(var, FN)                                                                 \
	static struct dp_ct_remove_hook var = {.fn = FN};                                          \
	RTE_INIT(dp_ct_remove_hook_register_##var)                                                 \
	{                                                                                          \
		dp_ct_remove_hook_register(&var);                                                  \
	}

/*
 * The packets of a flow that did not cross conntrack (those an offloaded rule carried): the
 * TSC of the last one (0: none) is returned, and their number per direction added to
 * packets[]. Set by the feature that carries them (before the worker starts). A flow's idle
 * time, for aging and listing, counts from the later of that and its own last_seen.
 */
extern uint64_t (*dp_ct_carried)(const struct dp_ct_flow *flow, uint64_t packets[2]);

/* A flow's index in the table (0 to dp_ct_nb_flows() - 1), for features' per-flow arrays. */
uint32_t dp_ct_flow_index(const struct dp_ct_flow *flow);
uint32_t dp_ct_nb_flows(void);

/* Control: remove the flows of VNI vni (key[0]) that pred selects; how many. */
int dp_ct_remove_vni(uint32_t vni, bool (*pred)(const struct dp_ct_flow *flow, const void *arg),
		     const void *arg);
/* The table's size in keys; the idle timeout of all but established TCP flows (seconds). */
uint32_t dp_ct_capacity(void);
uint32_t dp_ct_timeout(void);

#endif
