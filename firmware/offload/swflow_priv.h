/* SPDX-License-Identifier: Apache-2.0 */
/* The software flow engine's own (swflow.h): its rules, templates and tables, shared by the
 * engine (swflow.c), its datapath (swflow_rx.c) and its text (swflow_text.c). */
#ifndef DP_SWFLOW_PRIV_H
#define DP_SWFLOW_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_flow.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>

#include <dplane/core.h>

#include "swflow.h"

#define SWF_TEMPLATES 64  /* distinct shapes in the whole engine */
#define SWF_TABLE_TMPLS 7 /* templates per (port, group), as a NIC's tables are few */
#define SWF_KEY_WORDS 9   /* a key holds at most this many words of the fields */
#define SWF_MAX_OPS 8
#define SWF_DATA 96 /* the actions' values and the encap header */
#define SWF_ENCAP_MAX 64
#define SWF_SAMPLE_HDR 62 /* Ethernet, IPv6, UDP */

struct swf_key {
	uint16_t port;
	uint8_t group;
	uint8_t tmpl;
	uint8_t nwords;
	uint8_t pad[3];
	uint64_t w[SWF_KEY_WORDS];
};
_Static_assert(sizeof(struct swf_key) == 80, "keys are 80 bytes");

struct swf_template {
	uint64_t mask[SWF_WORDS]; /* word 0's stack part: the pattern's items as a prefix */
	uint16_t stack;           /* the items, masked */
	uint8_t nwords;
	uint8_t word[SWF_KEY_WORDS]; /* which words of the fields the key holds */
	uint32_t priority;
	uint8_t used;
	uint8_t match_all; /* no field but the header stack: its rule per table in swf_solo */
};

enum swf_op_type {
	OP_SET_MAC_SRC = 1,
	OP_SET_MAC_DST,
	OP_SET_IPV4_SRC,
	OP_SET_IPV4_DST,
	OP_SET_IPV6_SRC,
	OP_SET_IPV6_DST,
	OP_SET_TP_SRC,
	OP_SET_TP_DST,
	OP_DECAP,
	OP_ENCAP,
};

struct swf_op {
	uint8_t type;
	uint8_t len; /* of the value at data[off] */
	uint8_t off;
	uint8_t pad;
};

enum swf_fate {
	FATE_NONE = 0,
	FATE_PORT,
	FATE_JUMP,
	FATE_DROP,
};

/* What a packet's hit touches comes first: its counters, what the rule does and the values
 * it writes (an encapsulation's header included) fill the first two cache lines. */
struct swf_rule {
	/* the worker's */
	uint64_t hits, bytes, last_hit;
	/* what it does */
	uint8_t fate;
	uint8_t jump_group;
	uint16_t out_port;
	uint8_t nb_ops;
	uint8_t live; /* 1 while its key is in the table */
	uint8_t counted;
	uint8_t sampled;      /* SAMPLE (ratio 1): sample_hdr, then each packet, to sample_port */
	uint32_t epoch;       /* dp_fwd_epoch when made: a rule that ages is stale after a change */
	uint32_t age_timeout; /* seconds, 0: no AGE */
	struct swf_op ops[SWF_MAX_OPS];
	uint8_t data[SWF_DATA];
	/* the rest: creation, removal, listing, and sampling (the copies' path) */
	struct swf_key key;
	uint32_t priority;
	uint8_t transfer;
	uint8_t aged_reported;
	uint8_t sample_len;
	uint16_t sample_port;
	int32_t pos; /* of its key in the hash, once deleted from it */
	void *age_ctx;
	struct rte_flow *nic; /* the same rule in the port's NIC (dp_swflow_attach_nic) */
	uint16_t nic_port;
	uint64_t created;
	uint8_t sample_hdr[SWF_SAMPLE_HDR];
} __rte_cache_aligned;
_Static_assert(offsetof(struct swf_rule, data) + 54 <= 2 * RTE_CACHE_LINE_MIN_SIZE,
	       "a hit's fields and a tunnel's header in two cache lines");

/* A pattern compiled: the fields' values and masks. */
struct swf_match {
	uint64_t value[SWF_WORDS];
	uint64_t mask[SWF_WORDS];
};

extern struct rte_hash *swf_hash;
extern struct swf_rule *swf_rules;
extern uint32_t swf_capacity;
extern struct swf_template swf_tmpls[SWF_TEMPLATES];
extern uint64_t swf_tables[DP_MAX_PORTS][SWF_GROUPS]; /* n, then ids, a byte each */
extern struct dp_swflow_stats swf_stats;
/* A table's rule of a match-all template (a port's default jump, a capture), found without
 * hashing: a key of nothing but the stack would be every packet's. */
extern struct swf_rule *swf_solo[DP_MAX_PORTS][SWF_GROUPS];

#define SWF_HASH_INIT 0x5f10f10f

static inline void count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);
}

static inline void count_shared(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline hash_sig_t key_sig(const struct swf_key *k)
{
	return rte_hash_crc(k, 8 + 8u * k->nwords, SWF_HASH_INIT);
}

static inline unsigned int table_n(uint64_t t)
{
	return (unsigned int)(t & 0xff);
}

static inline unsigned int table_id(uint64_t t, unsigned int i)
{
	return (unsigned int)((t >> (8 * (i + 1))) & 0xff);
}

static inline void key_build(struct swf_key *k, const struct swf_template *tp, uint16_t port,
			     uint8_t group, uint8_t t, const uint64_t *fields)
{
	k->port = port;
	k->group = group;
	k->tmpl = t;
	k->nwords = tp->nwords;
	k->pad[0] = k->pad[1] = k->pad[2] = 0;
	for (unsigned int i = 0; i < SWF_KEY_WORDS; i++)
		k->w[i] = i < tp->nwords ? fields[tp->word[i]] & tp->mask[tp->word[i]] : 0;
}

/* Big-endian 16-bit fields of headers. */
static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int swf_compile_pattern(const struct rte_flow_item pattern[], struct swf_match *m,
			uint16_t *stack_out, struct rte_flow_error *error);
/* port_id < 0: only the text of the rule is wanted */
int swf_compile_actions(int port_id, const struct rte_flow_attr *attr,
			const struct rte_flow_action actions[], struct swf_rule *r,
			struct rte_flow_error *error);

#endif
