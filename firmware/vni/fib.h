/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One routing table (a VNI's IPv4 or IPv6 routes) as workers read it, lock-free, while the
 * control thread, its only writer, changes it in place at the cost of one small copy.
 *
 * Routes are grouped by prefix length, longest first. A lookup masks the address for each
 * length present and looks for an exact match in that group, so the first hit is the
 * longest match. A group's routes are sorted by prefix and cut into chunks of at most
 * DP_FIB_CHUNK. A group of one chunk (every group of a VNI with a few host routes and a
 * default route) refers to it directly; a larger one to an index that holds the chunks
 * and, for every chunk but the first, a lower bound of its keys (a key belongs to the last
 * chunk whose bound it reaches).
 *
 *   struct dp_fib (root) --groups[g].ref--> struct dp_fib_chunk: count, keys (ascending),
 *                                  or --> struct dp_fib_index --chunks[c]-->  next hops
 *
 * What a worker reads is immutable once published, except two kinds of pointer, each
 * changed by one atomic store: a group's reference (a chunk copied, split or dropped) and
 * a chunk slot of an index (a route added to or removed from that chunk: a new copy of
 * the chunk). A prefix length that appears or goes takes a new root, stored in the VNI.
 * Bounds never move while an index is published, so a worker that reads a slot before or
 * after its store finds every route that existed before and after the change. Old copies
 * are freed after an RCU grace period (fib.c), without the control thread waiting for it.
 *
 * Keys are host-order integers: an IPv4 table stores the 32-bit address, an IPv6 table a
 * (hi, lo) pair of 64-bit halves. Both families share this code; `v6` is a constant in
 * every inlined caller.
 */
#ifndef DP_VNI_FIB_H
#define DP_VNI_FIB_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_branch_prediction.h>
#include <rte_common.h>

#define DP_FIB_CHUNK 256 /* routes per chunk: a copy on every change, a split when full */

struct dp_nexthop {
	uint16_t port_id; /* a VF, or PF0 for routes to the underlay */
	uint8_t depth;    /* prefix length of the matching route (0: default route) */
	uint8_t pad;
	uint32_t nh_vni; /* remote routes: next hop's VNI and underlay address */
	uint8_t nh_ipv6[16];
};
_Static_assert(sizeof(struct dp_nexthop) == 24, "next hops are packed in chunks");

/* A masked prefix, host order; IPv4 in lo (hi = 0). */
struct dp_fib_key {
	uint64_t hi, lo;
};

/* Up to DP_FIB_CHUNK routes of one group: count keys (uint32_t or struct dp_fib_key,
 * ascending), then count next hops. Immutable once published. */
struct dp_fib_chunk {
	uint32_t count;
	uint32_t pad;
	uint8_t data[] __rte_aligned(8); /* keys, then next hops (8-byte aligned) */
};

/* The chunks of a group of more than one: chunks[nb_chunks], then nb_chunks - 1 lower
 * bounds (keys) of chunks 1..nb_chunks-1. Only the chunk slots change once published. */
struct dp_fib_index {
	uint32_t nb_chunks;
	uint32_t pad;
	struct dp_fib_chunk *chunks[]; /* RCU: each replaced by one store */
};

#define DP_FIB_REF_INDEX 1 /* a group's ref with this bit set is an index, else a chunk */

struct dp_fib_group {
	uintptr_t ref;             /* RCU: a chunk, or an index | DP_FIB_REF_INDEX; one store */
	uint64_t mask_hi, mask_lo; /* IPv4: mask_lo */
	uint8_t depth;
};

/* A table: its prefix lengths, longest first. Immutable once published. */
struct dp_fib {
	uint32_t nb_groups;
	uint32_t nb_routes; /* control thread only */
	struct dp_fib_group groups[];
};

/* The table without routes: what a VNI starts with. */
extern const struct dp_fib dp_fib_empty;

static __rte_always_inline size_t dp_fib_key_size(bool v6)
{
	return v6 ? sizeof(struct dp_fib_key) : sizeof(uint32_t);
}

static __rte_always_inline const void *dp_fib_chunk_keys(const struct dp_fib_chunk *ch)
{
	return ch->data;
}

static __rte_always_inline const struct dp_nexthop *
dp_fib_chunk_nexthops(const struct dp_fib_chunk *ch, bool v6)
{
	return (const struct dp_nexthop *)RTE_PTR_ADD(
		ch->data, RTE_ALIGN_CEIL(ch->count * dp_fib_key_size(v6), 8));
}

static __rte_always_inline const void *dp_fib_index_bounds(const struct dp_fib_index *idx)
{
	return &idx->chunks[idx->nb_chunks];
}

/* keys[i] <= (hi, lo) */
static __rte_always_inline bool dp_fib_key_le(const void *keys, uint32_t i, uint64_t hi,
					      uint64_t lo, bool v6)
{
	const struct dp_fib_key *k;

	if (!v6)
		return ((const uint32_t *)keys)[i] <= (uint32_t)lo;
	k = &((const struct dp_fib_key *)keys)[i];
	return k->hi < hi || (k->hi == hi && k->lo <= lo);
}

/* How many of the n ascending keys at `keys` are <= (hi, lo). Branch-free steps: their
 * number depends on n only. */
static __rte_always_inline uint32_t dp_fib_count_le(const void *keys, uint32_t n, uint64_t hi,
						    uint64_t lo, bool v6)
{
	uint32_t base = 0;

	if (n == 0)
		return 0;
	while (n > 1) {
		uint32_t half = n / 2;

		base = dp_fib_key_le(keys, base + half, hi, lo, v6) ? base + half : base;
		n -= half;
	}
	return base + dp_fib_key_le(keys, base, hi, lo, v6);
}

static __rte_always_inline bool dp_fib_key_eq(const void *keys, uint32_t i, uint64_t hi,
					      uint64_t lo, bool v6)
{
	if (!v6)
		return ((const uint32_t *)keys)[i] == (uint32_t)lo;
	return ((const struct dp_fib_key *)keys)[i].hi == hi &&
	       ((const struct dp_fib_key *)keys)[i].lo == lo;
}

/* The chunk of the group that holds (hi, lo) if any route does. */
static __rte_always_inline const struct dp_fib_chunk *
dp_fib_group_chunk(const struct dp_fib_group *grp, uint64_t hi, uint64_t lo, bool v6)
{
	uintptr_t ref = __atomic_load_n(&grp->ref, __ATOMIC_ACQUIRE);
	const struct dp_fib_index *idx;
	uint32_t c;

	if (likely(!(ref & DP_FIB_REF_INDEX)))
		return (const struct dp_fib_chunk *)ref;
	idx = (const struct dp_fib_index *)(ref - DP_FIB_REF_INDEX);
	c = dp_fib_count_le(dp_fib_index_bounds(idx), idx->nb_chunks - 1, hi, lo, v6);
	return __atomic_load_n(&idx->chunks[c], __ATOMIC_ACQUIRE);
}

/* Longest-prefix match in a table; workers and the control thread alike. */
static __rte_always_inline const struct dp_nexthop *dp_fib_lookup(const struct dp_fib *const *slot,
								  uint64_t hi, uint64_t lo, bool v6)
{
	const struct dp_fib *fib = __atomic_load_n(slot, __ATOMIC_ACQUIRE);

	for (uint32_t g = 0; g < fib->nb_groups; g++) {
		const struct dp_fib_group *grp = &fib->groups[g];
		uint64_t khi = hi & grp->mask_hi, klo = lo & grp->mask_lo;
		const struct dp_fib_chunk *ch = dp_fib_group_chunk(grp, khi, klo, v6);
		const void *keys = dp_fib_chunk_keys(ch);
		uint32_t n = ch->count, pos;

		/* one route (a VM's host route, the default route): no search */
		if (likely(n == 1))
			pos = dp_fib_key_le(keys, 0, khi, klo, v6);
		else
			pos = dp_fib_count_le(keys, n, khi, klo, v6);

		if (pos && dp_fib_key_eq(keys, pos - 1, khi, klo, v6))
			return &dp_fib_chunk_nexthops(ch, v6)[pos - 1];
	}
	return NULL;
}

/* An IPv6 address (network order) as a key. */
static __rte_always_inline void dp_fib_key6(const uint8_t *ip, uint64_t *hi, uint64_t *lo)
{
	memcpy(hi, ip, 8);
	memcpy(lo, ip + 8, 8);
	*hi = rte_be_to_cpu_64(*hi);
	*lo = rte_be_to_cpu_64(*lo);
}

/* -- control thread (fib.c) ------------------------------------------------------------ */

/* The masks of a prefix length, for keys of the family. */
void dp_fib_masks(uint8_t depth, bool v6, uint64_t *hi, uint64_t *lo);
/* The route of exactly (depth, key) (key masked), or NULL. */
const struct dp_nexthop *dp_fib_find(const struct dp_fib *fib, bool v6, uint8_t depth,
				     const struct dp_fib_key *key);
/* Add a route (key masked; nh->depth is set here). 0, -EEXIST or -ENOMEM (unchanged). */
int dp_fib_insert(const struct dp_fib **slot, bool v6, uint8_t depth, const struct dp_fib_key *key,
		  const struct dp_nexthop *nh);
/* Remove a route. 0, -ENOENT, or -ENOMEM: the route stays (a copy could not be made). */
int dp_fib_remove(const struct dp_fib **slot, bool v6, uint8_t depth, const struct dp_fib_key *key);
/* Empty the table: unpublished now, its memory freed after a grace period. */
void dp_fib_clear(const struct dp_fib **slot, bool v6);
/* Every route in dp_route_list() order: the default route first, then by the last address
 * each prefix covers, a longer prefix before a shorter one that ends with it. fn returns
 * false to stop. */
typedef bool (*dp_fib_walk_fn)(uint8_t depth, const struct dp_fib_key *key,
			       const struct dp_nexthop *nh, void *arg);
int dp_fib_walk(const struct dp_fib *fib, bool v6, dp_fib_walk_fn fn, void *arg);

#endif
