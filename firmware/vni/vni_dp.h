/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route lookups for the workers: the VNI table (a lock-free hash) gives a VNI's two routing
 * tables, each searched as fib.h describes. The control thread keeps them current (vni.c,
 * route.c); a worker reads each table's root once per lookup and sees one consistent table.
 */
#ifndef DP_VNI_DP_H
#define DP_VNI_DP_H

#include <stdbool.h>
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

/* Whether addr (network order: 4 bytes if ipv4, else 16) routes to port in the VNI by a
 * route other than the default one: an address of the VM behind that VF (its own, or in
 * one of its prefixes). */
static inline bool dp_vni_routes_to(uint32_t vni, const uint8_t *addr, bool ipv4, uint16_t port)
{
	const struct dp_vni_dp *v = dp_vni_lookup(vni);
	const struct dp_nexthop *nh;

	if (!v)
		return false;
	if (ipv4)
		nh = dp_fib4_lookup(v, (uint32_t)addr[0] << 24 | (uint32_t)addr[1] << 16 |
					       (uint32_t)addr[2] << 8 | addr[3]);
	else
		nh = dp_fib6_lookup(v, addr);
	return nh && nh->port_id == port && nh->depth > 0;
}

#endif
