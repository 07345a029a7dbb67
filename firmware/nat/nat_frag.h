/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Fragments through a NAT. Conntrack does not track fragments: only the first of a datagram
 * has ports. Its first fragment is translated as its flow's packets are (the flow is found,
 * or made, from its ports) and leaves the translation of the datagram here, keyed by what
 * every fragment carries (addresses, protocol, IP id), for its other fragments, which need
 * only their address changed: the port and the L4 checksum are in the first. A datagram
 * whose first fragment did not come first (or long ago) is dropped. Worker only (one worker:
 * see ct.c), a direct-mapped table: a datagram may push out another's entry.
 */
#ifndef DP_NAT_FRAG_H
#define DP_NAT_FRAG_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_hash_crc.h>

#include "nat_rewrite.h"

#define NAT_FRAG_SLOTS 1024
#define NAT_FRAG_TIMEOUT_S 30

struct nat_frag {
	uint64_t tsc; /* when the first fragment passed; 0: free */
	/* the datagram */
	uint32_t vni;
	uint8_t src[4], dst[4];
	uint16_t id;
	uint8_t proto;
	uint8_t pad;
	/* its translation */
	uint8_t addr[4];  /* the address its fragments get */
	uint16_t vm_port; /* towards a VM: its VF */
	uint8_t relay;    /* relayed to another host instead (neighbour NAT) */
	uint8_t pad2;
	uint8_t underlay[16]; /* relay: that host's underlay address */
};

struct nat_frag_table {
	struct nat_frag slot[NAT_FRAG_SLOTS];
};

/* The datagram of an IPv4 fragment (l3: its header). */
static inline void nat_frag_key(struct nat_frag *k, uint32_t vni, const uint8_t *l3)
{
	memset(k, 0, sizeof(*k));
	k->vni = vni;
	memcpy(k->src, l3 + 12, 4);
	memcpy(k->dst, l3 + 16, 4);
	k->id = nat_rd16(l3 + 4);
	k->proto = l3[9];
}

#define NAT_FRAG_KEY_LEN (offsetof(struct nat_frag, addr) - offsetof(struct nat_frag, vni))

static inline struct nat_frag *nat_frag_slot(struct nat_frag_table *t, const struct nat_frag *k)
{
	return &t->slot[rte_hash_crc(&k->vni, NAT_FRAG_KEY_LEN, 0) & (NAT_FRAG_SLOTS - 1)];
}

static inline void nat_frag_put(struct nat_frag_table *t, const struct nat_frag *k,
				const uint8_t addr[4], uint16_t vm_port)
{
	struct nat_frag *s = nat_frag_slot(t, k);

	*s = *k;
	memcpy(s->addr, addr, 4);
	s->vm_port = vm_port;
	s->tsc = rte_rdtsc();
}

/* The datagram goes to another host, whole: to its underlay address. */
static inline void nat_frag_put_relay(struct nat_frag_table *t, const struct nat_frag *k,
				      const uint8_t underlay[16])
{
	struct nat_frag *s = nat_frag_slot(t, k);

	*s = *k;
	s->relay = 1;
	memcpy(s->underlay, underlay, 16);
	s->tsc = rte_rdtsc();
}

static inline const struct nat_frag *nat_frag_get(struct nat_frag_table *t,
						  const struct nat_frag *k)
{
	const struct nat_frag *s = nat_frag_slot(t, k);

	if (!s->tsc || memcmp(&s->vni, &k->vni, NAT_FRAG_KEY_LEN) != 0 ||
	    rte_rdtsc() - s->tsc > NAT_FRAG_TIMEOUT_S * rte_get_tsc_hz())
		return NULL;
	return s;
}

/* Whether an IPv4 fragment is its datagram's first (it has the L4 header). */
static inline bool nat_frag_first(const uint8_t *l3)
{
	return (nat_rd16(l3 + 6) & 0x1fff) == 0;
}

#endif
