/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Route operations on a VNI's tables: add, delete, exact match, listing, counting and
 * longest-prefix match, for both families through one path. A route's prefix becomes a key
 * of its family's table (fib.h) here, masked to its length; the tables do the rest.
 */
#include <string.h>

#include <rte_byteorder.h>

#include <dplane/core.h>
#include <dplane/vni.h>

#include "ctl.h"
#include "rcu.h"
#include "vni_ctl.h"

/* The table of a family: 0 for IPv4, 1 for IPv6; -EINVAL for another family. */
static int family_table(uint8_t family)
{
	return family == 4 ? 0 : family == 6 ? 1 : -EINVAL;
}

/* An address (network order) as a key of its family's table, masked to depth. */
static void addr_key(const uint8_t *addr, bool v6, uint8_t depth, struct dp_fib_key *key)
{
	uint64_t mhi, mlo;

	if (v6) {
		dp_fib_key6(addr, &key->hi, &key->lo);
	} else {
		uint32_t ip;

		memcpy(&ip, addr, sizeof(ip));
		key->hi = 0;
		key->lo = rte_be_to_cpu_32(ip);
	}
	dp_fib_masks(depth, v6, &mhi, &mlo);
	key->hi &= mhi;
	key->lo &= mlo;
}

static void key_addr(const struct dp_fib_key *key, bool v6, uint8_t addr[16])
{
	memset(addr, 0, 16);
	if (v6) {
		uint64_t hi = rte_cpu_to_be_64(key->hi), lo = rte_cpu_to_be_64(key->lo);

		memcpy(addr, &hi, 8);
		memcpy(addr + 8, &lo, 8);
	} else {
		uint32_t ip = rte_cpu_to_be_32((uint32_t)key->lo);

		memcpy(addr, &ip, sizeof(ip));
	}
}

/* The VNI's table for the route's family, and the route's key. -ENODEV, -EINVAL */
static int route_place(uint32_t vni, const struct dp_route *r, struct dp_vni_dp **v, bool *v6,
		       struct dp_fib_key *key)
{
	int t = family_table(r->family);

	*v = dp_vni_find(vni);
	if (!*v)
		return -ENODEV;
	if (t < 0 || r->prefix_len > (t ? 128 : 32))
		return -EINVAL;
	*v6 = t;
	addr_key(r->prefix, *v6, r->prefix_len, key);
	return 0;
}

static void route_fill(struct dp_route *r, bool v6, uint8_t depth, const struct dp_fib_key *key,
		       const struct dp_nexthop *nh)
{
	memset(r, 0, sizeof(*r));
	r->family = v6 ? 6 : 4;
	r->prefix_len = depth;
	key_addr(key, v6, r->prefix);
	r->port_id = nh->port_id;
	r->nh_vni = nh->nh_vni;
	memcpy(r->nh_ipv6, nh->nh_ipv6, sizeof(r->nh_ipv6));
}

int dp_route_add(uint32_t vni, const struct dp_route *route)
{
	struct dp_nexthop nh = {.port_id = route->port_id, .nh_vni = route->nh_vni};
	struct dp_fib_key key;
	struct dp_vni_dp *v;
	bool v6;
	int ret;

	DP_CTL_CHECK();
	dp_rcu_reclaim(false);
	ret = route_place(vni, route, &v, &v6, &key);
	if (ret < 0)
		return dp_errno(-ret);
	if (dp_fib_find(v->fib[v6], v6, route->prefix_len, &key))
		return dp_errno(EEXIST);
	if (v->fib[v6]->nb_routes >= dp_vni_route_capacity())
		return dp_errno(ENOSPC);
	memcpy(nh.nh_ipv6, route->nh_ipv6, sizeof(nh.nh_ipv6));
	ret = dp_fib_insert(&v->fib[v6], v6, route->prefix_len, &key, &nh);
	return ret < 0 ? dp_errno(-ret) : 0;
}

int dp_route_del(uint32_t vni, const struct dp_route *route)
{
	const struct dp_nexthop *nh;
	struct dp_fib_key key;
	struct dp_vni_dp *v;
	bool v6;
	int ret;

	DP_CTL_CHECK();
	dp_rcu_reclaim(false);
	ret = route_place(vni, route, &v, &v6, &key);
	if (ret < 0)
		return dp_errno(-ret);
	nh = dp_fib_find(v->fib[v6], v6, route->prefix_len, &key);
	if (!nh)
		return dp_errno(ENOENT);
	if (route->port_id != DP_PORT_NONE && nh->port_id != route->port_id)
		return dp_errno(EXDEV);
	ret = dp_fib_remove(&v->fib[v6], v6, route->prefix_len, &key);
	return ret < 0 ? dp_errno(-ret) : 0;
}

int dp_route_get(uint32_t vni, struct dp_route *route)
{
	const struct dp_nexthop *nh;
	struct dp_fib_key key;
	struct dp_vni_dp *v;
	bool v6;
	int ret;

	DP_CTL_CHECK();
	ret = route_place(vni, route, &v, &v6, &key);
	if (ret < 0)
		return dp_errno(-ret);
	nh = dp_fib_find(v->fib[v6], v6, route->prefix_len, &key);
	if (!nh)
		return dp_errno(ENOENT);
	route_fill(route, v6, route->prefix_len, &key, nh);
	return 0;
}

struct list_arg {
	struct dp_route *out;
	unsigned int max, n;
	bool v6;
};

static bool list_one(uint8_t depth, const struct dp_fib_key *key, const struct dp_nexthop *nh,
		     void *arg)
{
	struct list_arg *l = arg;

	if (l->n < l->max)
		route_fill(&l->out[l->n], l->v6, depth, key, nh);
	l->n++;
	return true;
}

int dp_route_list(uint32_t vni, uint8_t family, struct dp_route *routes, unsigned int max)
{
	int t = family_table(family);
	struct list_arg l = {.out = routes, .max = max, .v6 = t == 1};
	struct dp_vni_dp *v;

	DP_CTL_CHECK();
	v = dp_vni_find(vni);
	if (!v)
		return dp_errno(ENODEV);
	if (t < 0)
		return dp_errno(EINVAL);
	if (max == 0) /* only the count */
		return (int)v->fib[t]->nb_routes;
	dp_fib_walk(v->fib[t], l.v6, list_one, &l);
	return (int)l.n;
}

int dp_route_count(uint32_t vni, uint8_t family)
{
	int t = family_table(family);
	struct dp_vni_dp *v;

	DP_CTL_CHECK();
	v = dp_vni_find(vni);
	if (!v)
		return dp_errno(ENODEV);
	if (t < 0)
		return dp_errno(EINVAL);
	return (int)v->fib[t]->nb_routes;
}

int dp_route_lookup(uint32_t vni, uint8_t family, const uint8_t addr[16], struct dp_route *route)
{
	int t = family_table(family);
	const struct dp_nexthop *nh;
	struct dp_fib_key key;
	struct dp_vni_dp *v;

	DP_CTL_CHECK();
	v = dp_vni_find(vni);
	if (!v)
		return dp_errno(ENODEV);
	if (t < 0)
		return dp_errno(EINVAL);
	addr_key(addr, t, t ? 128 : 32, &key);
	nh = t ? dp_fib6_lookup(v, addr) : dp_fib4_lookup(v, (uint32_t)key.lo);
	if (!nh)
		return dp_errno(ENOENT);
	addr_key(addr, t, nh->depth, &key);
	route_fill(route, t, nh->depth, &key, nh);
	return 0;
}
