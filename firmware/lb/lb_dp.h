/* SPDX-License-Identifier: Apache-2.0 */
/* The load balancers as the lb node reads them, and the LB's slice of a flow. */
#ifndef DP_LB_DP_H
#define DP_LB_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_hash.h>

#include <dplane/lb.h>

#include "ct.h"

/* loadbalancer_table's key, dpservice's byte for byte: the VNI, then the address as in a flow
 * key (IPv4 a host-order uint32 in the first 4 bytes), then its v6 flag. 21 bytes. */
struct dp_lb_key {
	uint32_t vni;
	uint8_t ip[16];
	uint8_t is_v6;
} __attribute__((packed));

_Static_assert(sizeof(struct dp_lb_key) == 21, "dpservice's lb_key is 21 bytes");

/* One load balancer, immutable once published: a change publishes a new one. */
struct dp_lb_dp {
	uint8_t underlay[16];
	uint8_t nb_ports;
	uint8_t nb_targets;
	struct dp_lb_port ports[DP_LB_MAX_PORTS];
	uint8_t targets[DP_LB_MAX_TARGETS][16];
	int16_t maglev[DP_LB_MAGLEV_SIZE];
};

extern struct rte_hash *dp_lb_hash;
extern uint32_t dp_lb_entries; /* live entries (rte_hash_count() counts retired slots too) */

/* The LB behind key, or NULL (worker, within its graph walk). */
static inline const struct dp_lb_dp *dp_lb_lookup(const struct dp_lb_key *key)
{
	void *data;

	if (rte_hash_lookup_data(dp_lb_hash, key, &data) < 0)
		return NULL;
	return data;
}

/* What a flow that came to an LB's address is. */
enum dp_lb_kind {
	DP_LB_UNDECIDED = 0,
	DP_LB_FORWARD, /* to a target on another host: re-encapsulated, out of the PF */
	DP_LB_RECIRC,  /* to a local VM's LB prefix: delivered as from the underlay */
	DP_LB_ECHO,    /* an echo request to the LB's address: answered */
};

/* The LB's slice of dp_ct_flow: the kind in ext, the target's and the LB's underlay
 * addresses in cold (a flow that came to an LB's address is never a NAT's: they share it). */
#define DP_LB_COLD_TARGET 0    /* 16 bytes */
#define DP_LB_COLD_UNDERLAY 16 /* 16 bytes */
_Static_assert(DP_LB_COLD_UNDERLAY + 16 <= DP_CT_COLD_SIZE, "cold overflow");

static inline uint8_t *dp_lb_flow_kind(struct dp_ct_flow *flow)
{
	return &flow->ext[DP_CT_EXT_LB];
}

static inline bool dp_lb_port_open(const struct dp_lb_dp *lb, uint8_t proto, uint16_t port)
{
	for (unsigned int i = 0; i < lb->nb_ports; i++)
		if (lb->ports[i].port == port && lb->ports[i].proto == proto)
			return true;
	return false;
}

#endif
