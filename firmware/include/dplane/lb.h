/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network load balancers. A load balancer is an address {VNI, IPv4 or IPv6} with up to 15
 * {protocol, port} pairs and up to 64 targets: underlay IPv6 addresses of the VMs that serve
 * it (their LB prefixes), here or on other hosts. It has an underlay address of its own (VNF
 * type LB): a new flow that comes to it from the underlay, to one of its ports, is given a
 * target by dpservice's Maglev table — the same target for the same flow on every host — and
 * every packet of the flow goes there: back into the underlay to another host's target, or
 * straight to the VM behind a local LB prefix (which sees the LB's address as destination).
 * ICMP and ICMPv6 echo requests to the LB's address are answered.
 *
 * Control functions: control thread only, 0 or -errno. Addresses in network order.
 */
#ifndef DPLANE_LB_H
#define DPLANE_LB_H

#include <stdint.h>

#include <dplane/conntrack.h>

#define DP_LB_TABLE_SIZE 256  /* loadbalancer_table, as dpservice sizes it */
#define DP_LB_MAX_TARGETS 64  /* dpservice's DP_LB_MAX_IPS_PER_VIP */
#define DP_LB_MAX_PORTS 15    /* dpservice keeps 16 and refuses the 16th over gRPC */
#define DP_LB_MAGLEV_SIZE 503 /* a prime at least twice the targets */

struct dp_lb_port {
	uint8_t proto; /* IPPROTO_TCP or IPPROTO_UDP */
	uint16_t port; /* host order; 0 ends the list, as in dpservice */
};

struct dp_lb_conf {
	uint8_t underlay[16]; /* the LB's own underlay address (its VNF) */
	struct dp_lb_port ports[DP_LB_MAX_PORTS];
	uint8_t nb_ports;
	uint8_t nb_targets;
	uint8_t targets[DP_LB_MAX_TARGETS][16]; /* sorted ascending, as dpservice keeps them */
};

/* Create the LB {vni, family (4 or 6), ip}, or replace its configuration: the Maglev table
 * is rebuilt from the targets. -EINVAL: a bad family, too many ports or targets, or
 * targets not sorted and distinct; -ENOSPC: the table is full. */
int dp_lb_set(uint32_t vni, uint8_t family, const uint8_t ip[16], const struct dp_lb_conf *conf);
/* -ENOENT */
int dp_lb_del(uint32_t vni, uint8_t family, const uint8_t ip[16]);
unsigned int dp_lb_count(void);
/* Walk loadbalancer_table in its order (dpservice lists LBs so): *iter starts at 0; 0 with
 * the next LB, -ENOENT at the end. */
int dp_lb_next(uint32_t *iter, uint32_t *vni, uint8_t *family, uint8_t ip[16]);

/* Remove the LB's flows: all of them (target NULL), or those sent to one target; how many. */
int dp_lb_flush(uint32_t vni, uint8_t family, const uint8_t ip[16], const uint8_t *target);

/* -- pure functions ------------------------------------------------------------------- */

/*
 * dpservice's Maglev table for n sorted targets: table[slot] = index of the target. Per
 * target, offset = MurmurHash2(its 16 bytes) % 503 and skip = djb2 % 502 + 1, where djb2 —
 * as dpservice computes it — reads from the target's first byte up to the first zero byte,
 * running on into the next targets (the array is zero after the last). The targets fill
 * their preferred free slots in turn. -EINVAL: n is 0 or more than DP_LB_MAX_TARGETS.
 */
int dp_lb_maglev(const uint8_t (*targets)[16], unsigned int n, int16_t table[DP_LB_MAGLEV_SIZE]);

/* The slot of a flow: dpservice's conntrack hash of its original key, modulo 503. */
unsigned int dp_lb_slot(const struct dp_flow_key *key);

#endif
