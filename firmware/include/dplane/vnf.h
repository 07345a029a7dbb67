/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The VNF table: every underlay address this host answers for, and what it stands for.
 * Packets from the underlay are dispatched by their outer destination through it.
 * Control functions: control thread only, 0 or -errno.
 */
#ifndef DPLANE_VNF_H
#define DPLANE_VNF_H

#include <stdint.h>

#include <dplane/enum.h>

/* Entries unless configured: room for a VNI's worth of alias prefixes and every interface */
#define DP_VNF_DEFAULT_SIZE 131072
#define DP_VNF_MAX_SIZE (1u << 24)

/* What an underlay address stands for: dpservice's enum dp_vnf_type, values on the wire of
 * its tools, in this order. */
#define DP_VNF_TYPE_LIST(X)                                                                        \
	X(DP_VNF_UNDEFINED, "undefined")                                                           \
	X(DP_VNF_INTERFACE_IP, "interface_ip")                                                     \
	X(DP_VNF_VIP, "vip")                                                                       \
	X(DP_VNF_NAT, "nat")                                                                       \
	X(DP_VNF_LB, "lb")                                                                         \
	X(DP_VNF_LB_ALIAS_PFX, "lb_alias_pfx")                                                     \
	X(DP_VNF_ALIAS_PFX, "alias_pfx")

enum dp_vnf_type {
	DP_VNF_TYPE_LIST(DP_ENUM_VALUE) DP_VNF_TYPE_COUNT
};

const char *dp_vnf_type_name(enum dp_vnf_type type);

struct dp_vnf {
	uint8_t type;   /* enum dp_vnf_type */
	uint8_t family; /* of the prefix: 4, 6, or 0 when there is none */
	uint8_t prefix_len;
	uint16_t port_id;
	uint32_t vni;
	uint8_t prefix[16]; /* network order */
};

/* Before dp_core_start(): the table's size in entries. -EBUSY: running; -EINVAL: 0 or more
 * than DP_VNF_MAX_SIZE. */
int dp_vnf_conf_set(uint32_t entries);
/* The configured size. */
uint32_t dp_vnf_capacity(void);

/* -EEXIST: the address is taken; -ENOSPC: the table is full */
int dp_vnf_add(const uint8_t underlay[16], const struct dp_vnf *vnf);
/* -ENOENT */
int dp_vnf_del(const uint8_t underlay[16]);
/* -ENOENT */
int dp_vnf_get(const uint8_t underlay[16], struct dp_vnf *vnf);
unsigned int dp_vnf_count(void);
/* Walk the table: *iter starts at 0; 0 with the next entry, -ENOENT at the end (or when the
 * dataplane is not running). */
int dp_vnf_next(uint32_t *iter, uint8_t underlay[16], struct dp_vnf *vnf);

#endif
