/* SPDX-License-Identifier: Apache-2.0 */
/*
 * VNIs and their routing tables: one IPv4 and one IPv6 table per VNI. Control functions:
 * control thread only, 0 or -errno.
 */
#ifndef DPLANE_VNI_H
#define DPLANE_VNI_H

#include <stdint.h>

#define DP_VNI_MAX 0xffffffu   /* VNIs are 24 bits */
#define DP_VNI_TABLE_SIZE 512  /* VNIs with tables at once */
#define DP_VNI_RIB_NODES 4096  /* per table: room for well over 1024 routes */

struct dp_route {
	uint8_t family;     /* 4 or 6 */
	uint8_t prefix_len;
	uint16_t port_id;   /* where matching packets go (a VF, or the PF for remote routes) */
	uint8_t prefix[16]; /* network order; an IPv4 prefix uses the first 4 bytes */
	uint32_t nh_vni;    /* remote routes: next hop's VNI and underlay address */
	uint8_t nh_ipv6[16];
};

/* -EEXIST: the VNI has tables; -ENOSPC: DP_VNI_TABLE_SIZE reached; -EINVAL: > 24 bits */
int dp_vni_create(uint32_t vni);
/* -ENOENT: no tables */
int dp_vni_destroy(uint32_t vni);
/* 1 if the VNI has tables, 0 if not */
int dp_vni_exists(uint32_t vni);
/* Empty both tables of the VNI. -ENOENT: no tables */
int dp_vni_reset(uint32_t vni);
unsigned int dp_vni_count(void);

/* -ENODEV: no such VNI; -EEXIST: the same prefix exists; -ENOSPC: table full; -EINVAL */
int dp_route_add(uint32_t vni, const struct dp_route *route);
/* -ENODEV: no such VNI; -ENOENT: no such prefix; -EXDEV: it routes to another port
 * (route->port_id is compared unless it is DP_PORT_NONE) */
int dp_route_del(uint32_t vni, const struct dp_route *route);
/* Routes of one family in table order; returns how many there are (fills at most max). */
int dp_route_list(uint32_t vni, uint8_t family, struct dp_route *routes, unsigned int max);

#endif
