/* SPDX-License-Identifier: Apache-2.0 */
/* What the snat and dnat nodes share with the NAT's control side (nat.c) and its port
 * tables (nat_ports.c). */
#ifndef DP_NAT_DP_H
#define DP_NAT_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_hash.h>

#include <dplane/core.h>
#include <dplane/nat.h>

#include "ct.h"
#include "flow_key_inline.h"
#include "mbuf.h"
#include "nat_rewrite.h"

/* The translation of a VM's source, per VF: published whole, retired after a grace period. */
struct dp_nat_snat_dp {
	uint32_t vni;
	uint8_t vm_ip[4];
	uint8_t vip[4];    /* 0.0.0.0: none */
	uint8_t nat_ip[4]; /* 0.0.0.0: none */
	uint16_t min_port; /* [min_port, max_port) */
	uint16_t max_port;
};

extern struct dp_nat_snat_dp *dp_nat_snat_dp[DP_MAX_PORTS];

static inline const struct dp_nat_snat_dp *dp_nat_snat_of(uint16_t port)
{
	return __atomic_load_n(&dp_nat_snat_dp[port], __ATOMIC_ACQUIRE);
}

/* What a flow is translated with, decided on its first packet (dnat or snat). */
enum dp_nat_kind {
	DP_NAT_UNDECIDED = 0,
	DP_NAT_NONE,       /* not translated */
	DP_NAT_SNAT_VIP,   /* from a VM: source = its VIP; replies come to the VIP */
	DP_NAT_SNAT_NET,   /* from a VM: source = NAT IP and port; replies come to them */
	DP_NAT_DNAT_VIP,   /* to a VIP (from the underlay, or a VM of the VNI): destination = VM */
	DP_NAT_SNAT_NAT64, /* IPv6 from a VM to 64:ff9b::/96: IPv4 from NAT IP and port */
	DP_NAT_RELAY,      /* to a NAT IP, in another host's range: relayed there (no replies) */
	DP_NAT_ECHO,       /* ICMP echo to a NAT IP: answered here */
};

/* The neighbour ranges, published whole (RCU). */
struct dp_nat_neigh_set {
	unsigned int count;
	struct dp_nat_neigh ranges[];
};

extern struct dp_nat_neigh_set *dp_nat_neighs;

/* Worker: the underlay address of the neighbour whose range holds port of {ip, vni}, or
 * NULL. */
static inline const uint8_t *dp_nat_neigh_lookup(uint32_t vni, const uint8_t ip[4], uint16_t port)
{
	const struct dp_nat_neigh_set *set = __atomic_load_n(&dp_nat_neighs, __ATOMIC_ACQUIRE);

	if (!set)
		return NULL;
	for (unsigned int i = 0; i < set->count; i++) {
		const struct dp_nat_neigh *n = &set->ranges[i];

		if (n->vni == vni && memcmp(n->nat_ip, ip, 4) == 0 && port >= n->min_port &&
		    port < n->max_port)
			return n->underlay;
	}
	return NULL;
}

/* A relayed flow's neighbour: in dp_ct_flow.cold (read on each of its packets, but relayed
 * flows are not the hot path). */
#define DP_NAT_COLD_RELAY 0 /* 16 bytes */
_Static_assert(DP_NAT_COLD_RELAY + 16 <= DP_CT_COLD_SIZE, "cold overflow");

/* The NAT's slice of dp_ct_flow.ext (worker only; the control thread reads it once no
 * worker can see the flow, or to select flows to remove). */
struct dp_nat_flow {
	uint8_t kind;     /* enum dp_nat_kind */
	uint8_t vm_port;  /* the VM's VF */
	uint16_t vm_l4;   /* SNAT_NET: the VM's port / echo identifier (host order) */
	uint16_t nat_l4;  /* SNAT_NET: the NAT port */
	uint8_t has_port; /* SNAT_NET: the flow holds nat_l4 in the port tables */
	uint8_t pad;
	uint8_t vm_ip[4];  /* the VM's address */
	uint8_t nat_ip[4]; /* its public one: the VIP or the NAT IP */
};

_Static_assert(sizeof(struct dp_nat_flow) <= 16, "the NAT's slice of dp_ct_flow.ext");
_Static_assert(DP_CT_EXT_NAT + sizeof(struct dp_nat_flow) <= DP_CT_EXT_SIZE, "ext overflow");
_Static_assert(DP_MAX_PORTS <= 256, "a port fits in dp_nat_flow.vm_port");

static inline struct dp_nat_flow *dp_nat_flow(struct dp_ct_flow *flow)
{
	return (struct dp_nat_flow *)(void *)&flow->ext[DP_CT_EXT_NAT];
}

/* The DNAT table, {address, VNI} (dpservice's nat_key); its data the target, marked. */
struct dp_nat_key {
	uint32_t ip; /* host order */
	uint32_t vni;
};

extern struct rte_hash *dp_nat_dnat_hash;
extern uint32_t dp_nat_dnat_entries; /* control writes; 0: no lookups needed */

#define DP_NAT_DNAT_PRESENT (UINT64_C(1) << 32)

/* Worker: whether {ip, vni} is in the DNAT table, and its target (0.0.0.0 for a NAT IP). */
static inline bool dp_nat_dnat_lookup(uint32_t vni, const uint8_t ip[4], uint8_t target[4])
{
	struct dp_nat_key key = {.vni = vni};
	uint32_t be;
	void *data;

	memcpy(&be, ip, 4);
	key.ip = rte_be_to_cpu_32(be);
	if (rte_hash_lookup_data(dp_nat_dnat_hash, &key, &data) < 0)
		return false;
	be = (uint32_t)(uintptr_t)data;
	memcpy(target, &be, 4);
	return true;
}

/* Worker: a NAT port for the flow whose original key is k, from the VM behind vm_port with
 * translation s. 0 and *port, -ENOSPC when the range is full for this destination, -EEXIST
 * when the source's port is taken for exactly this destination. */
int dp_nat_port_alloc(const struct dp_nat_snat_dp *s, uint16_t vm_port, const struct dp_flow_key *k,
		      uint16_t *port);
/* Worker: give back the port a flow holds. */
void dp_nat_port_release(struct dp_ct_flow *flow);
/* Control: hand a removed flow that holds a port to the worker (true), which releases the
 * port and gives the flow back to conntrack. */
bool dp_nat_port_release_later(struct dp_ct_flow *flow);

int dp_nat_ports_init(void);
/* Control: the port tables, made on first use (a NAT). 0 or -ENOMEM. */
int dp_nat_ports_ensure(void);
void dp_nat_ports_fini(void);

/* Per VF, the ports its VM holds (the worker writes). */
extern uint32_t dp_nat_used[DP_MAX_PORTS];

/* Rewrite the packet's IPv4 source or destination (and port), as dp_nat_rewrite4() does:
 * false when it is too short for that. */
static inline bool dp_nat_rewrite_mbuf(struct rte_mbuf *m, const struct dp_mbuf_priv *priv,
				       bool dst, const uint8_t addr[4], int32_t port)
{
	uint8_t *l3 = rte_pktmbuf_mtod(m, uint8_t *) + priv->parse.l3_off;
	uint32_t l4_off = priv->parse.l4_off ? priv->parse.l4_off - priv->parse.l3_off : 0;

	return dp_nat_rewrite4_inline(l3, rte_pktmbuf_data_len(m) - priv->parse.l3_off, l4_off, dst,
				      addr, port) == 0;
}

/* The conntrack key of an IPv4 TCP/UDP first fragment (conntrack keys no fragment): l3 and
 * l4 its headers, in the direction it travels. */
static inline void dp_nat_fragment_key(struct dp_ct_key *key, uint32_t vni, uint8_t vnf_type,
				       const uint8_t *l3, const uint8_t *l4)
{
	memset(key, 0, sizeof(*key));
	key->k.vni = vni;
	key->k.proto = l3[9];
	key->k.vnf_type = vnf_type;
	fk_put_ipv4(key->k.l3_src, l3 + 12);
	fk_put_ipv4(key->k.l3_dst, l3 + 16);
	key->k.port_src = fk_rd16(l4);
	key->k.port_dst = fk_rd16(l4 + 2);
}

#endif
