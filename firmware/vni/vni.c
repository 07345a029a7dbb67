/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VNI tables: a hash vni -> struct dp_vni, each with an rte_rib (IPv4) and rte_rib6 (IPv6).
 * Created on first use and freed on last use by the control plane; a VNI leaves the hash
 * before its tables are freed, after an RCU grace period, so a worker never sees freed
 * tables.
 */
#include <stdio.h>
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

struct dp_route_ext {
	uint32_t nh_vni;
	uint8_t nh_ipv6[16];
};

struct dp_vni {
	uint32_t vni;
	struct rte_rib *rib4;
	struct rte_rib6 *rib6;
};

static struct rte_hash *vni_table;

static struct dp_vni *vni_lookup(uint32_t vni)
{
	void *data;

	if (!vni_table || rte_hash_lookup_data(vni_table, &vni, &data) < 0)
		return NULL;
	return data;
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
	snprintf(name, sizeof(name), "vni4_%u_%u", v->vni, generation);
	v->rib4 = rte_rib_create(name, (int)rte_socket_id(), &conf4);
	snprintf(name, sizeof(name), "vni6_%u_%u", v->vni, generation);
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
	v->vni = vni;
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
	struct dp_vni *v, *fresh;
	int ret;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENOENT);
	/* build the empty tables first, then swap: a failure leaves the old ones in place */
	fresh = rte_zmalloc("dp_vni", sizeof(*fresh), 0);
	if (!fresh)
		return dp_errno(ENOMEM);
	fresh->vni = vni;
	ret = vni_tables_create(fresh);
	if (ret < 0) {
		rte_free(fresh);
		return dp_errno(-ret);
	}
	ret = rte_hash_add_key_data(vni_table, &vni, fresh); /* replaces the data */
	if (ret < 0) {
		vni_tables_free(fresh);
		rte_free(fresh);
		return dp_errno(-ret);
	}
	dp_rcu_synchronize();
	vni_tables_free(v);
	rte_free(v);
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
	}
	ext->nh_vni = route->nh_vni;
	memcpy(ext->nh_ipv6, route->nh_ipv6, sizeof(ext->nh_ipv6));
	return 0;
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
	}
	return 0;
}

int dp_route_list(uint32_t vni, uint8_t family, struct dp_route *routes, unsigned int max)
{
	struct dp_route_ext *ext;
	struct dp_vni *v;
	unsigned int n = 0;
	uint64_t nh;

	DP_CTL_CHECK();
	v = vni_lookup(vni);
	if (!v)
		return dp_errno(ENODEV);
	if (family == 4) {
		struct rte_rib_node *node = NULL;
		uint32_t ip;
		uint8_t depth;

		while ((node = rte_rib_get_nxt(v->rib4, 0, 0, node, RTE_RIB_GET_NXT_ALL))) {
			if (n < max) {
				struct dp_route *r = &routes[n];

				memset(r, 0, sizeof(*r));
				r->family = 4;
				rte_rib_get_ip(node, &ip);
				rte_rib_get_depth(node, &depth);
				rte_rib_get_nh(node, &nh);
				ip = rte_cpu_to_be_32(ip);
				memcpy(r->prefix, &ip, sizeof(ip));
				r->prefix_len = depth;
				r->port_id = (uint16_t)nh;
				ext = rte_rib_get_ext(node);
				r->nh_vni = ext->nh_vni;
				memcpy(r->nh_ipv6, ext->nh_ipv6, 16);
			}
			n++;
		}
	} else if (family == 6) {
		static const uint8_t any[16];
		struct rte_rib6_node *node = NULL;
		uint8_t depth;

		while ((node = rte_rib6_get_nxt(v->rib6, any, 0, node, RTE_RIB6_GET_NXT_ALL))) {
			if (n < max) {
				struct dp_route *r = &routes[n];

				memset(r, 0, sizeof(*r));
				r->family = 6;
				rte_rib6_get_ip(node, r->prefix);
				rte_rib6_get_depth(node, &depth);
				rte_rib6_get_nh(node, &nh);
				r->prefix_len = depth;
				r->port_id = (uint16_t)nh;
				ext = rte_rib6_get_ext(node);
				r->nh_vni = ext->nh_vni;
				memcpy(r->nh_ipv6, ext->nh_ipv6, 16);
			}
			n++;
		}
	} else {
		return dp_errno(EINVAL);
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
