/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route lookups for the workers. The control plane keeps each VNI's routes in an rte_rib
 * (exact matches, ordered listing) which workers must not read while it changes. After every
 * change the control thread builds an immutable snapshot of the table (struct dp_fib),
 * publishes it with one pointer store and frees the old one after an RCU grace period, so a
 * worker always sees one complete table. Lookups scan the prefix lengths present, longest
 * first, with a binary search in each: a VNI holds a few lengths (/32, /128, a default
 * route, some subnets), so this costs a handful of comparisons per length.
 */
#ifndef DP_VNI_DP_H
#define DP_VNI_DP_H

#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>

struct dp_nexthop {
	uint16_t port_id;   /* a VF, or PF0 for routes to the underlay */
	uint8_t depth;      /* prefix length of the matching route (0: default route) */
	uint8_t pad;
	uint32_t nh_vni;    /* remote routes: next hop's VNI and underlay address */
	uint8_t nh_ipv6[16];
};

struct dp_fib_group {
	uint64_t mask_hi, mask_lo; /* IPv4 uses mask_lo's low 32 bits */
	uint32_t first, count;
};

struct dp_fib_key6 {
	uint64_t hi, lo; /* host order */
};

struct dp_fib {
	uint32_t nb_groups;
	uint32_t nb_routes;
	struct dp_fib_group groups[129]; /* by descending prefix length */
	union {
		uint32_t *keys4;             /* masked prefixes, ascending within a group */
		struct dp_fib_key6 *keys6;
	};
	struct dp_nexthop *nexthops;     /* parallel to the keys */
};

struct dp_vni_dp {
	uint32_t vni;
	const struct dp_fib *fib4; /* RCU-published snapshots; never NULL while in the table */
	const struct dp_fib *fib6;
};

/* The VNI's tables as the worker sees them (lock-free hash lookup); NULL if none. */
const struct dp_vni_dp *dp_vni_lookup(uint32_t vni);

static inline const struct dp_nexthop *dp_fib4_lookup(const struct dp_vni_dp *v, uint32_t ip)
{
	const struct dp_fib *fib = __atomic_load_n(&v->fib4, __ATOMIC_ACQUIRE);

	for (uint32_t g = 0; g < fib->nb_groups; g++) {
		const struct dp_fib_group *grp = &fib->groups[g];
		uint32_t key = ip & (uint32_t)grp->mask_lo;
		uint32_t lo = grp->first, hi = grp->first + grp->count;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (fib->keys4[mid] < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < grp->first + grp->count && fib->keys4[lo] == key)
			return &fib->nexthops[lo];
	}
	return NULL;
}

static inline int dp_fib_key6_cmp(const struct dp_fib_key6 *a, uint64_t hi, uint64_t lo)
{
	if (a->hi != hi)
		return a->hi < hi ? -1 : 1;
	if (a->lo != lo)
		return a->lo < lo ? -1 : 1;
	return 0;
}

/* ip: 16 bytes, network order */
static inline const struct dp_nexthop *dp_fib6_lookup(const struct dp_vni_dp *v,
						       const uint8_t *ip)
{
	const struct dp_fib *fib = __atomic_load_n(&v->fib6, __ATOMIC_ACQUIRE);
	uint64_t hi, lo;

	memcpy(&hi, ip, 8);
	memcpy(&lo, ip + 8, 8);
	hi = rte_be_to_cpu_64(hi);
	lo = rte_be_to_cpu_64(lo);
	for (uint32_t g = 0; g < fib->nb_groups; g++) {
		const struct dp_fib_group *grp = &fib->groups[g];
		uint64_t khi = hi & grp->mask_hi, klo = lo & grp->mask_lo;
		uint32_t l = grp->first, h = grp->first + grp->count;

		while (l < h) {
			uint32_t mid = (l + h) / 2;

			if (dp_fib_key6_cmp(&fib->keys6[mid], khi, klo) < 0)
				l = mid + 1;
			else
				h = mid;
		}
		if (l < grp->first + grp->count && dp_fib_key6_cmp(&fib->keys6[l], khi, klo) == 0)
			return &fib->nexthops[l];
	}
	return NULL;
}

#endif
