/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VNI tables: a hash vni -> struct dp_vni, each with an rte_rib (IPv4) and rte_rib6 (IPv6)
 * for the control plane and an immutable lookup snapshot of each for the workers (see
 * vni_dp.h), rebuilt and republished after every change. Created on first use and freed on
 * last use by the control plane; a VNI leaves the hash before its tables are freed, after an
 * RCU grace period, so a worker never sees freed tables.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_malloc.h>
#include <rte_rib.h>
#include <rte_rib6.h>

#include <dplane/core.h>
#include <dplane/vni.h>

#include "ctl.h"
#include "module.h"
#include "rcu.h"
#include "vni_dp.h"

struct dp_route_ext {
	uint32_t nh_vni;
	uint8_t nh_ipv6[16];
};

struct dp_vni {
	struct dp_vni_dp dp; /* what workers read; first, so the hash data serves both */
	struct rte_rib *rib4;
	struct rte_rib6 *rib6;
};

static const struct dp_fib empty_fib; /* the snapshot of an empty table, never freed */

static struct rte_hash *vni_table;

static struct dp_vni *vni_lookup(uint32_t vni)
{
	void *data;

	if (!vni_table || rte_hash_lookup_data(vni_table, &vni, &data) < 0)
		return NULL;
	return data;
}

const struct dp_vni_dp *dp_vni_lookup(uint32_t vni)
{
	void *data;

	if (rte_hash_lookup_data(vni_table, &vni, &data) < 0)
		return NULL;
	return data;
}

/* Walks every route of one of a VNI's ribs: the default route first (get_nxt only walks
 * what the /0 covers, not the /0 itself), then in rib order. */
struct rib_cursor {
	bool v6, started;
	struct rte_rib_node *n4;
	struct rte_rib6_node *n6;
};

static bool rib_is_default(const struct rte_rib_node *n)
{
	uint8_t depth;

	rte_rib_get_depth(n, &depth);
	return depth == 0;
}

static bool rib6_is_default(const struct rte_rib6_node *n)
{
	uint8_t depth;

	rte_rib6_get_depth(n, &depth);
	return depth == 0;
}

static bool rib_next(const struct dp_vni *v, struct rib_cursor *c)
{
	static const uint8_t any6[16];

	if (!c->started) {
		c->started = true;
		if (c->v6)
			c->n6 = rte_rib6_lookup_exact(v->rib6, any6, 0);
		else
			c->n4 = rte_rib_lookup_exact(v->rib4, 0, 0);
		if (c->v6 ? c->n6 != NULL : c->n4 != NULL)
			return true;
	} else if (c->v6 ? c->n6 && rib6_is_default(c->n6) : c->n4 && rib_is_default(c->n4)) {
		/* the walk proper starts from scratch: get_nxt ends at once after the /0 */
		c->n4 = NULL;
		c->n6 = NULL;
	}
	if (c->v6)
		c->n6 = rte_rib6_get_nxt(v->rib6, any6, 0, c->n6, RTE_RIB6_GET_NXT_ALL);
	else
		c->n4 = rte_rib_get_nxt(v->rib4, 0, 0, c->n4, RTE_RIB_GET_NXT_ALL);
	return c->v6 ? c->n6 != NULL : c->n4 != NULL;
}

/* The route under the cursor; the prefix in network order. */
static void rib_route(const struct rib_cursor *c, struct dp_route *r)
{
	const struct dp_route_ext *ext;
	uint64_t nh;
	uint8_t depth;

	memset(r, 0, sizeof(*r));
	if (c->v6) {
		r->family = 6;
		rte_rib6_get_ip(c->n6, r->prefix);
		rte_rib6_get_depth(c->n6, &depth);
		rte_rib6_get_nh(c->n6, &nh);
		ext = rte_rib6_get_ext(c->n6);
	} else {
		uint32_t ip;

		r->family = 4;
		rte_rib_get_ip(c->n4, &ip);
		rte_rib_get_depth(c->n4, &depth);
		rte_rib_get_nh(c->n4, &nh);
		ip = rte_cpu_to_be_32(ip);
		memcpy(r->prefix, &ip, sizeof(ip));
		ext = rte_rib_get_ext(c->n4);
	}
	r->prefix_len = depth;
	r->port_id = (uint16_t)nh;
	r->nh_vni = ext->nh_vni;
	memcpy(r->nh_ipv6, ext->nh_ipv6, sizeof(r->nh_ipv6));
}

/* One route while a snapshot is built. */
struct fib_entry {
	uint8_t depth;
	uint64_t hi, lo; /* masked prefix, host order; IPv4 in lo */
	struct dp_nexthop nh;
};

static int fib_entry_cmp(const void *a, const void *b)
{
	const struct fib_entry *x = a, *y = b;

	if (x->depth != y->depth)
		return x->depth > y->depth ? -1 : 1; /* longest prefix first */
	if (x->hi != y->hi)
		return x->hi < y->hi ? -1 : 1;
	if (x->lo != y->lo)
		return x->lo < y->lo ? -1 : 1;
	return 0;
}

static void fib_masks(uint8_t depth, bool v6, uint64_t *hi, uint64_t *lo)
{
	if (!v6) {
		*hi = 0;
		*lo = depth ? (UINT32_MAX << (32 - depth)) & UINT32_MAX : 0;
		return;
	}
	*hi = depth == 0 ? 0 : depth >= 64 ? UINT64_MAX : UINT64_MAX << (64 - depth);
	*lo = depth <= 64 ? 0 : depth == 128 ? UINT64_MAX : UINT64_MAX << (128 - depth);
}

/* Collect every route of the VNI's table of one family; returns the count or -ENOMEM. */
static int fib_collect(const struct dp_vni *v, bool v6, struct fib_entry **out)
{
	struct rib_cursor c = {.v6 = v6};
	struct fib_entry *e = NULL;
	unsigned int n = 0, cap = 0;
	struct dp_route r;

	while (rib_next(v, &c)) {
		uint64_t hi, lo, mhi, mlo;

		if (n == cap) {
			struct fib_entry *bigger;

			cap = cap ? cap * 2 : 64;
			bigger = realloc(e, cap * sizeof(*e));
			if (!bigger) {
				free(e);
				return -ENOMEM;
			}
			e = bigger;
		}
		rib_route(&c, &r);
		fib_masks(r.prefix_len, v6, &mhi, &mlo);
		if (v6) {
			memcpy(&hi, r.prefix, 8);
			memcpy(&lo, r.prefix + 8, 8);
			hi = rte_be_to_cpu_64(hi);
			lo = rte_be_to_cpu_64(lo);
		} else {
			uint32_t ip;

			memcpy(&ip, r.prefix, 4);
			hi = 0;
			lo = rte_be_to_cpu_32(ip);
		}
		memset(&e[n], 0, sizeof(e[n]));
		e[n].depth = r.prefix_len;
		e[n].hi = hi & mhi;
		e[n].lo = lo & mlo;
		e[n].nh.port_id = r.port_id;
		e[n].nh.depth = r.prefix_len;
		e[n].nh.nh_vni = r.nh_vni;
		memcpy(e[n].nh.nh_ipv6, r.nh_ipv6, sizeof(e[n].nh.nh_ipv6));
		n++;
	}
	*out = e;
	return (int)n;
}

/* An immutable snapshot of one of the VNI's tables; &empty_fib when it is empty. */
static const struct dp_fib *fib_build(const struct dp_vni *v, bool v6)
{
	struct fib_entry *e = NULL;
	struct dp_fib *fib;
	size_t key_sz = v6 ? sizeof(struct dp_fib_key6) : sizeof(uint32_t);
	int n = fib_collect(v, v6, &e);
	uint8_t *mem;

	if (n <= 0) {
		free(e);
		return n == 0 ? &empty_fib : NULL;
	}
	qsort(e, (size_t)n, sizeof(*e), fib_entry_cmp);
	fib = rte_zmalloc("dp_fib", sizeof(*fib) + (size_t)n * (key_sz + sizeof(struct dp_nexthop)),
			  RTE_CACHE_LINE_SIZE);
	if (!fib) {
		free(e);
		return NULL;
	}
	mem = (uint8_t *)(fib + 1);
	fib->nexthops = (struct dp_nexthop *)mem;
	fib->keys4 = (uint32_t *)(mem + (size_t)n * sizeof(struct dp_nexthop));
	fib->nb_routes = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		struct dp_fib_group *grp = &fib->groups[fib->nb_groups ? fib->nb_groups - 1 : 0];

		if (i == 0 || e[i].depth != e[i - 1].depth) {
			grp = &fib->groups[fib->nb_groups++];
			fib_masks(e[i].depth, v6, &grp->mask_hi, &grp->mask_lo);
			grp->first = (uint32_t)i;
		}
		grp->count++;
		if (v6) {
			fib->keys6[i].hi = e[i].hi;
			fib->keys6[i].lo = e[i].lo;
		} else {
			fib->keys4[i] = (uint32_t)e[i].lo;
		}
		fib->nexthops[i] = e[i].nh;
	}
	free(e);
	return fib;
}

static void fib_free(const struct dp_fib *fib)
{
	if (fib && fib != &empty_fib)
		rte_free((void *)(uintptr_t)fib);
}

/* Rebuild the workers' snapshot of one table after a change, publish it, free the old one
 * once no worker can hold it. On allocation failure the old snapshot stays (and -ENOMEM):
 * the caller undoes its change to the rib. */
static int fib_publish(struct dp_vni *v, bool v6)
{
	const struct dp_fib **slot = v6 ? &v->dp.fib6 : &v->dp.fib4;
	const struct dp_fib *fresh = fib_build(v, v6), *old = *slot;

	if (!fresh)
		return -ENOMEM;
	__atomic_store_n(slot, fresh, __ATOMIC_RELEASE);
	dp_rcu_synchronize();
	fib_free(old);
	return 0;
}

static int vni_tables_create(struct dp_vni *v)
{
	struct rte_rib_conf conf4 = {.ext_sz = sizeof(struct dp_route_ext),
				     .max_nodes = DP_VNI_RIB_NODES};
	struct rte_rib6_conf conf6 = {.ext_sz = sizeof(struct dp_route_ext),
				      .max_nodes = DP_VNI_RIB_NODES};
	char name[32];
	static unsigned int generation; /* names stay unique across reset and re-create */

	generation++;
	snprintf(name, sizeof(name), "vni4_%u_%u", v->dp.vni, generation);
	v->rib4 = rte_rib_create(name, (int)rte_socket_id(), &conf4);
	snprintf(name, sizeof(name), "vni6_%u_%u", v->dp.vni, generation);
	v->rib6 = rte_rib6_create(name, (int)rte_socket_id(), &conf6);
	if (!v->rib4 || !v->rib6) {
		rte_rib_free(v->rib4);
		rte_rib6_free(v->rib6);
		v->rib4 = NULL;
		v->rib6 = NULL;
		return -ENOMEM;
	}
	return 0;
}

static void vni_tables_free(struct dp_vni *v)
{
	rte_rib_free(v->rib4);
	rte_rib6_free(v->rib6);
	v->rib4 = NULL;
	v->rib6 = NULL;
	fib_free(v->dp.fib4);
	fib_free(v->dp.fib6);
	v->dp.fib4 = &empty_fib;
	v->dp.fib6 = &empty_fib;
}

int dp_vni_create(uint32_t vni)
{
	struct dp_vni *v;
	int ret;

	DP_CTL_CHECK();
	if (!vni_table)
		return dp_errno(ENODEV);
	if (vni > DP_VNI_MAX)
		return dp_errno(EINVAL);
	if (vni_lookup(vni))
		return dp_errno(EEXIST);
	if (rte_hash_count(vni_table) >= DP_VNI_TABLE_SIZE)
		return dp_errno(ENOSPC);
	v = rte_zmalloc("dp_vni", sizeof(*v), 0);
	if (!v)
		return dp_errno(ENOMEM);
	v->dp.vni = vni;
	v->dp.fib4 = &empty_fib;
	v->dp.fib6 = &empty_fib;
	ret = vni_tables_create(v);
	if (ret < 0) {
		rte_free(v);
		return dp_errno(-ret);
	}
	ret = rte_hash_add_key_data(vni_table, &vni, v);
	if (ret < 0) {
		vni_tables_free(v);
		rte_free(v);
		return dp_errno(ret == -ENOSPC ? ENOSPC : -ret);
	}
	return 0;
}

int dp_vni_destroy(uint32_t vni)
{
	struct dp_vni *v;

	DP_CTL_CHECK();
	v = dp_rcu_hash_del(vni_table, &vni);
	if (!v)
		return dp_errno(ENOENT);
	vni_tables_free(v);
	rte_free(v);
	return 0;
}

int dp_vni_exists(uint32_t vni)
{
	DP_CTL_CHECK();
	return vni_lookup(vni) != NULL;
}

int dp_vni_reset(uint32_t vni)
{
	struct dp_vni fresh = {.dp.vni = vni};
	const struct dp_fib *old4, *old6;
	struct dp_vni *v;
	int ret;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENOENT);
	/* new empty ribs first: a failure leaves the old tables in place */
	ret = vni_tables_create(&fresh);
	if (ret < 0)
		return dp_errno(-ret);
	rte_rib_free(v->rib4);
	rte_rib6_free(v->rib6);
	v->rib4 = fresh.rib4;
	v->rib6 = fresh.rib6;
	old4 = v->dp.fib4;
	old6 = v->dp.fib6;
	__atomic_store_n(&v->dp.fib4, &empty_fib, __ATOMIC_RELEASE);
	__atomic_store_n(&v->dp.fib6, &empty_fib, __ATOMIC_RELEASE);
	dp_rcu_synchronize();
	fib_free(old4);
	fib_free(old6);
	return 0;
}

unsigned int dp_vni_count(void)
{
	return vni_table ? (unsigned int)rte_hash_count(vni_table) : 0;
}

static int check_route(const struct dp_route *r)
{
	if (r->family == 4)
		return r->prefix_len <= 32 ? 0 : -EINVAL;
	if (r->family == 6)
		return r->prefix_len <= 128 ? 0 : -EINVAL;
	return -EINVAL;
}

/* the address with the bits beyond the prefix length cleared */
static uint32_t ipv4_masked(const struct dp_route *r)
{
	uint32_t ip;

	memcpy(&ip, r->prefix, sizeof(ip));
	ip = rte_be_to_cpu_32(ip);
	return r->prefix_len ? ip & (UINT32_MAX << (32 - r->prefix_len)) : 0;
}

static void ipv6_masked(const struct dp_route *r, uint8_t out[16])
{
	memcpy(out, r->prefix, 16);
	for (unsigned int bit = r->prefix_len; bit < 128; bit++)
		out[bit / 8] &= (uint8_t)~(0x80u >> (bit % 8));
}

int dp_route_add(uint32_t vni, const struct dp_route *route)
{
	struct dp_route_ext *ext;
	struct dp_vni *v;
	uint8_t ip6[16];
	int ret;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENODEV);
	ret = check_route(route);
	if (ret < 0)
		return dp_errno(-ret);

	if (route->family == 4) {
		uint32_t ip = ipv4_masked(route);
		struct rte_rib_node *node;

		if (rte_rib_lookup_exact(v->rib4, ip, route->prefix_len))
			return dp_errno(EEXIST);
		node = rte_rib_insert(v->rib4, ip, route->prefix_len);
		if (!node)
			return dp_errno(rte_errno == EEXIST ? EEXIST : ENOSPC);
		rte_rib_set_nh(node, route->port_id);
		ext = rte_rib_get_ext(node);
		ext->nh_vni = route->nh_vni;
		memcpy(ext->nh_ipv6, route->nh_ipv6, sizeof(ext->nh_ipv6));
		if (fib_publish(v, false) < 0) {
			rte_rib_remove(v->rib4, ip, route->prefix_len);
			return dp_errno(ENOMEM);
		}
	} else {
		struct rte_rib6_node *node;

		ipv6_masked(route, ip6);
		if (rte_rib6_lookup_exact(v->rib6, ip6, route->prefix_len))
			return dp_errno(EEXIST);
		node = rte_rib6_insert(v->rib6, ip6, route->prefix_len);
		if (!node)
			return dp_errno(rte_errno == EEXIST ? EEXIST : ENOSPC);
		rte_rib6_set_nh(node, route->port_id);
		ext = rte_rib6_get_ext(node);
		ext->nh_vni = route->nh_vni;
		memcpy(ext->nh_ipv6, route->nh_ipv6, sizeof(ext->nh_ipv6));
		if (fib_publish(v, true) < 0) {
			rte_rib6_remove(v->rib6, ip6, route->prefix_len);
			return dp_errno(ENOMEM);
		}
	}
	return 0;
}

/* After a removal the old snapshot must go whatever it costs: without memory for a new one,
 * publish the empty table (the worker drops that VNI's traffic, and the next change
 * rebuilds it) rather than keep routing by a route that is gone. */
static int fib_republish(struct dp_vni *v, bool v6)
{
	const struct dp_fib **slot = v6 ? &v->dp.fib6 : &v->dp.fib4;
	const struct dp_fib *old;

	if (fib_publish(v, v6) == 0)
		return 0;
	old = *slot;
	__atomic_store_n(slot, &empty_fib, __ATOMIC_RELEASE);
	dp_rcu_synchronize();
	fib_free(old);
	return dp_errno(ENOMEM);
}

int dp_route_del(uint32_t vni, const struct dp_route *route)
{
	struct dp_vni *v;
	uint64_t nh;
	int ret;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENODEV);
	ret = check_route(route);
	if (ret < 0)
		return dp_errno(-ret);

	if (route->family == 4) {
		uint32_t ip = ipv4_masked(route);
		struct rte_rib_node *node = rte_rib_lookup_exact(v->rib4, ip, route->prefix_len);

		if (!node)
			return dp_errno(ENOENT);
		rte_rib_get_nh(node, &nh);
		if (route->port_id != DP_PORT_NONE && nh != route->port_id)
			return dp_errno(EXDEV);
		rte_rib_remove(v->rib4, ip, route->prefix_len);
		return fib_republish(v, false);
	} else {
		uint8_t ip6[16];
		struct rte_rib6_node *node;

		ipv6_masked(route, ip6);
		node = rte_rib6_lookup_exact(v->rib6, ip6, route->prefix_len);
		if (!node)
			return dp_errno(ENOENT);
		rte_rib6_get_nh(node, &nh);
		if (route->port_id != DP_PORT_NONE && nh != route->port_id)
			return dp_errno(EXDEV);
		rte_rib6_remove(v->rib6, ip6, route->prefix_len);
		return fib_republish(v, true);
	}
}

int dp_route_list(uint32_t vni, uint8_t family, struct dp_route *routes, unsigned int max)
{
	struct rib_cursor c = {.v6 = family == 6};
	struct dp_vni *v;
	unsigned int n = 0;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENODEV);
	if (family != 4 && family != 6)
		return dp_errno(EINVAL);
	while (rib_next(v, &c)) {
		if (n < max)
			rib_route(&c, &routes[n]);
		n++;
	}
	return (int)n;
}

static int vni_init(void)
{
	struct rte_hash_parameters params = {
		.name = "vni_table",
		.entries = DP_VNI_TABLE_SIZE + DP_VNI_TABLE_SIZE / 4,
		.key_len = sizeof(uint32_t),
		.hash_func = rte_jhash,
		.hash_func_init_val = 0xfee1900d,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	vni_table = rte_hash_create(&params);
	return vni_table ? 0 : -rte_errno;
}

static void vni_fini(void)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!vni_table)
		return;
	while (rte_hash_iterate(vni_table, &key, &data, &iter) >= 0) {
		vni_tables_free(data);
		rte_free(data);
	}
	rte_hash_free(vni_table);
	vni_table = NULL;
}

static struct dp_module vni_module = {.name = "vni", .init = vni_init, .fini = vni_fini};
DP_MODULE_REGISTER(vni_module);

static struct dp_table_usage vni_usage = {
	.name = "vni_table",
	.capacity = DP_VNI_TABLE_SIZE,
	.count = dp_vni_count,
};
DP_TABLE_USAGE_REGISTER(vni_usage);
