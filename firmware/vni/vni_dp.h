/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route lookups for the workers: the VNI table (a lock-free hash) gives a VNI's two routing
 * tables, each searched as fib.h describes. The control thread keeps them current (vni.c,
 * route.c); a worker reads each table's root once per lookup and sees one consistent table.
 */
#ifndef DP_VNI_DP_H
#define DP_VNI_DP_H

#include <stdint.h>

#include "fib.h"

struct dp_vni_dp {
	uint32_t vni;
	const struct dp_fib *fib[2]; /* IPv4, IPv6; RCU-published, never NULL while in the table */
};

/* The VNI's tables as the worker sees them (lock-free hash lookup); NULL if none. */
const struct dp_vni_dp *dp_vni_lookup(uint32_t vni);

/* ip: host order */
static inline const struct dp_nexthop *dp_fib4_lookup(const struct dp_vni_dp *v, uint32_t ip)
{
	return dp_fib_lookup(&v->fib[0], 0, ip, false);
}

/* ip: 16 bytes, network order */
static inline const struct dp_nexthop *dp_fib6_lookup(const struct dp_vni_dp *v, const uint8_t *ip)
{
	uint64_t hi, lo;

	dp_fib_key6(ip, &hi, &lo);
	return dp_fib_lookup(&v->fib[1], hi, lo, true);
}

#endif
