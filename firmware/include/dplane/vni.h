/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VNIs and their routing tables: one IPv4 and one IPv6 table per VNI, each holding up to the
 * configured number of routes. Control functions: control thread only, 0 or -errno.
 */
#ifndef DPLANE_VNI_H
#define DPLANE_VNI_H

#include <stdint.h>

#define DP_VNI_MAX 0xffffffu         /* VNIs are 24 bits */
#define DP_VNI_TABLE_SIZE 512        /* VNIs with tables at once */
#define DP_VNI_DEFAULT_ROUTES 100000 /* routes per VNI and family unless configured */
#define DP_VNI_MAX_ROUTES (1u << 24) /* the most dp_vni_conf_set() accepts */

struct dp_route {
	uint8_t family; /* 4 or 6 */
	uint8_t prefix_len;
	uint16_t port_id;   /* where matching packets go (a VF, or the PF for remote routes) */
	uint8_t prefix[16]; /* network order; an IPv4 prefix uses the first 4 bytes */
	uint32_t nh_vni;    /* remote routes: next hop's VNI and underlay address */
	uint8_t nh_ipv6[16];
};

/* Before dp_core_start(): how many routes each table (a VNI's IPv4 or IPv6 routes) holds.
 * Memory follows the routes a table holds, not this limit. -EBUSY: running; -EINVAL: 0 or
 * more than DP_VNI_MAX_ROUTES. */
int dp_vni_conf_set(uint32_t routes_per_table);

/* -EEXIST: the VNI has tables; -ENOSPC: DP_VNI_TABLE_SIZE reached; -EINVAL: > 24 bits */
int dp_vni_create(uint32_t vni);
/* -ENOENT: no tables */
int dp_vni_destroy(uint32_t vni);
/* 1 if the VNI has tables, 0 if not */
int dp_vni_exists(uint32_t vni);
/* Empty both tables of the VNI. -ENOENT: no tables */
int dp_vni_reset(uint32_t vni);
unsigned int dp_vni_count(void);
/* Walk the VNI table: *iter starts at 0; 0 with the next VNI, -ENOENT at the end (or when
 * the dataplane is not running). */
int dp_vni_next(uint32_t *iter, uint32_t *vni);

/* -ENODEV: no such VNI; -EEXIST: the same prefix exists; -ENOSPC: the table holds its
 * configured number of routes; -ENOMEM; -EINVAL: a length beyond the family's */
int dp_route_add(uint32_t vni, const struct dp_route *route);
/* -ENODEV: no such VNI; -ENOENT: no such prefix; -EXDEV: it routes to another port
 * (route->port_id is compared unless it is DP_PORT_NONE) */
int dp_route_del(uint32_t vni, const struct dp_route *route);
/* The route of exactly route->prefix/prefix_len (host bits ignored): fills the rest of
 * *route. -ENODEV: no such VNI; -ENOENT: no such route; -EINVAL */
int dp_route_get(uint32_t vni, struct dp_route *route);
/* Routes of one family: the default route first, then in address order with a covering
 * route after the routes it covers (the order of a trie walked depth first, as rte_rib
 * walks). Returns how many there are (fills at most max). */
int dp_route_list(uint32_t vni, uint8_t family, struct dp_route *routes, unsigned int max);
/* Routes of one family of the VNI, or -ENODEV. */
int dp_route_count(uint32_t vni, uint8_t family);
/* Longest-prefix match of an address (16 bytes, network order; IPv4 in the first 4) in
 * the same tables the workers read: fills *route with the matching route (prefix masked).
 * -ENODEV: no such VNI; -ENOENT: no route matches; -EINVAL: family. */
int dp_route_lookup(uint32_t vni, uint8_t family, const uint8_t addr[16], struct dp_route *route);

#endif
