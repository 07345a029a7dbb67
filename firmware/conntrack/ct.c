/* SPDX-License-Identifier: Apache-2.0 */
/* The conntrack table: creation by the worker, aging and flushing by the control thread. */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_mempool.h>
#include <rte_prefetch.h>

#include <dplane/conntrack.h>
#include <dplane/core.h>

#include "ct.h"
#include "ctl.h"
#include "module.h"

struct rte_hash *dp_ct_hash;
static struct rte_mempool *ct_pool;
static uint32_t ct_capacity = DP_CT_DEFAULT_CAPACITY;
static uint32_t ct_timeout_s = DP_CT_DEFAULT_TIMEOUT;

static unsigned int ct_key_count(void);
static struct dp_table_usage ct_usage = {
	.name = "conntrack_table",
	.capacity = DP_CT_DEFAULT_CAPACITY,
	.count = ct_key_count,
};

/* The table's hash (dp_ct_key_sig()), for the table's own use */
static uint32_t ct_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	return rte_hash_crc(key, len, init);
}

/* The words are read in place: a table key is 4-byte aligned, unlike dpservice's packed key. */
uint32_t dp_ct_flow_hash(const struct dp_ct_key *key)
{
	const void *words = key;

	return rte_jhash_32b(words, sizeof(key->k) / 4, DP_CT_HASH_INIT);
}

int dp_ct_conf_set(uint32_t capacity, uint32_t timeout_s)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (capacity < 16 || timeout_s == 0)
		return dp_errno(EINVAL);
	ct_capacity = capacity;
	ct_timeout_s = timeout_s;
	return 0;
}

unsigned int dp_ct_flow_get(struct dp_ct_flow **flows, unsigned int n)
{
	unsigned int got = 0;

	if (likely(rte_mempool_get_bulk(ct_pool, (void **)flows, n) == 0))
		got = n;
	else /* fewer than n left: as many as there are */
		while (got < n && rte_mempool_get(ct_pool, (void **)&flows[got]) == 0)
			got++;
	for (unsigned int i = 0; i < got; i++) {
		rte_prefetch0_write(flows[i]);
		rte_prefetch0_write((const uint8_t *)flows[i] + RTE_CACHE_LINE_SIZE);
	}
	return got;
}

void dp_ct_flow_put(struct dp_ct_flow **flows, unsigned int n)
{
	if (n)
		rte_mempool_put_bulk(ct_pool, (void **)flows, n);
}

bool dp_ct_insert(struct dp_ct_flow *flow, const struct dp_ct_key *key, hash_sig_t sig,
		  const struct dp_ct_key *rkey, hash_sig_t rsig, uint16_t in_port, uint64_t now)
{
	bool one_key = memcmp(key, rkey, sizeof(*key)) == 0;
	int ret;

	flow->last_seen = now;
	flow->packets[0] = flow->packets[1] = 0;
	flow->hash = dp_ct_flow_hash(key);
	flow->in_port = in_port;
	flow->tcp_state = DP_CT_TCP_NONE;
	flow->key[0] = *key;
	flow->key[1] = *rkey;

	ret = rte_hash_add_key_with_hash_data(dp_ct_hash, &flow->key[0], sig,
					      (void *)dp_ct_data(flow, DP_FLOW_DIR_ORIG));
	if (ret < 0)
		return false;
	if (!one_key && rte_hash_add_key_with_hash_data(dp_ct_hash, &flow->key[1], rsig,
							 (void *)dp_ct_data(flow, DP_FLOW_DIR_REPLY)) < 0) {
		ret = rte_hash_del_key_with_hash(dp_ct_hash, &flow->key[0], sig);
		/* nobody has seen the key: its slot can go back at once */
		if (ret >= 0)
			rte_hash_free_key_with_position(dp_ct_hash, ret);
		return false;
	}
	__atomic_store_n(&flow->live, 1, __ATOMIC_RELEASE);
	return true;
}

/* -- control side: removing flows ---------------------------------------------------- */

#define CT_BATCH 256

struct ct_batch {
	struct dp_ct_flow *flows[CT_BATCH];
	int32_t pos[CT_BATCH * 2];
	unsigned int nb_flows, nb_pos;
	unsigned int removed;
};

/* Grace period, then give the key slots and the flows back. */
static void batch_release(struct ct_batch *b)
{
	if (!b->nb_flows)
		return;
	dp_rcu_synchronize();
	for (unsigned int i = 0; i < b->nb_pos; i++)
		rte_hash_free_key_with_position(dp_ct_hash, b->pos[i]);
	for (unsigned int i = 0; i < b->nb_flows; i++) {
		__atomic_store_n(&b->flows[i]->live, 0, __ATOMIC_RELEASE);
		rte_mempool_put(ct_pool, b->flows[i]);
	}
	b->removed += b->nb_flows;
	b->nb_flows = b->nb_pos = 0;
}

/* Unpublish the flow's keys: from now on no new packet finds it. */
static void batch_add(struct ct_batch *b, struct dp_ct_flow *flow)
{
	bool one_key = memcmp(&flow->key[0], &flow->key[1], sizeof(flow->key[0])) == 0;

	for (unsigned int k = 0; k < (one_key ? 1u : 2u); k++) {
		int32_t pos = rte_hash_del_key(dp_ct_hash, &flow->key[k]);

		if (pos >= 0)
			b->pos[b->nb_pos++] = pos;
	}
	/* a second removal of the same flow must not happen before the release */
	__atomic_store_n(&flow->live, 2, __ATOMIC_RELAXED);
	b->flows[b->nb_flows++] = flow;
	if (b->nb_flows == CT_BATCH)
		batch_release(b);
}

typedef bool (*ct_pred)(const struct dp_ct_flow *flow, const void *arg, uint64_t now);

struct ct_walk {
	struct ct_batch batch;
	ct_pred pred;
	const void *arg;
	uint64_t now;
};

static void walk_one(struct rte_mempool *mp, void *opaque, void *obj, unsigned int idx)
{
	struct ct_walk *w = opaque;
	struct dp_ct_flow *flow = obj;

	if (__atomic_load_n(&flow->live, __ATOMIC_ACQUIRE) != 1)
		return;
	if (w->pred(flow, w->arg, w->now))
		batch_add(&w->batch, flow);
}

static int ct_remove_if(ct_pred pred, const void *arg)
{
	struct ct_walk *w;
	int removed;

	if (!ct_pool)
		return 0;
	w = calloc(1, sizeof(*w));
	if (!w)
		return dp_errno(ENOMEM);
	w->pred = pred;
	w->arg = arg;
	w->now = rte_rdtsc();
	rte_mempool_obj_iter(ct_pool, walk_one, w);
	batch_release(&w->batch);
	removed = (int)w->batch.removed;
	free(w);
	return removed;
}

static uint32_t flow_timeout(const struct dp_ct_flow *flow)
{
	if (flow->key[0].k.proto == IPPROTO_TCP && flow->tcp_state == DP_CT_TCP_ESTABLISHED)
		return DP_CT_TCP_ESTABLISHED_TIMEOUT;
	return ct_timeout_s;
}

static uint64_t idle_cycles(const struct dp_ct_flow *flow, uint64_t now)
{
	uint64_t seen = __atomic_load_n(&flow->last_seen, __ATOMIC_RELAXED);

	return now > seen ? now - seen : 0;
}

static bool expired(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	return idle_cycles(flow, now) > flow_timeout(flow) * rte_get_tsc_hz();
}

int dp_ct_age(void)
{
	DP_CTL_CHECK();
	return ct_remove_if(expired, NULL);
}

static bool addr_in_prefix(const struct dp_flow_key *key, const uint8_t *addr_key,
			   const struct dp_ct_filter *f)
{
	uint8_t addr[16];
	unsigned int full, rest;

	if (f->family == 4) {
		uint32_t host;

		if (key->dst_is_v6)
			return false;
		memcpy(&host, addr_key, 4);
		host = rte_cpu_to_be_32(host);
		memcpy(addr, &host, 4);
	} else {
		if (!key->dst_is_v6)
			return false;
		memcpy(addr, addr_key, 16);
	}
	full = f->prefix_len / 8;
	rest = f->prefix_len % 8;
	if (memcmp(addr, f->prefix, full) != 0)
		return false;
	return !rest || ((addr[full] ^ f->prefix[full]) & (uint8_t)(0xff00 >> rest)) == 0;
}

static bool filtered(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	const struct dp_ct_filter *f = arg;
	const struct dp_flow_key *k = &flow->key[0].k;

	if (f->port_id != DP_PORT_NONE && flow->in_port == f->port_id)
		return true;
	if (!f->family || k->vni != f->vni)
		return false;
	return addr_in_prefix(k, k->l3_src, f) || addr_in_prefix(k, k->l3_dst, f);
}

int dp_ct_flush(const struct dp_ct_filter *filter)
{
	DP_CTL_CHECK();
	if ((filter->family != 0 && filter->family != 4 && filter->family != 6) ||
	    filter->prefix_len > (filter->family == 4 ? 32 : 128))
		return dp_errno(EINVAL);
	return ct_remove_if(filtered, filter);
}

static bool everything(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	return true;
}

int dp_ct_flush_all(void)
{
	DP_CTL_CHECK();
	return ct_remove_if(everything, NULL);
}

struct ct_list {
	struct dp_ct_info *out;
	unsigned int max, n;
	uint64_t now;
};

static void list_one(struct rte_mempool *mp, void *opaque, void *obj, unsigned int idx)
{
	struct ct_list *l = opaque;
	const struct dp_ct_flow *flow = obj;

	if (__atomic_load_n(&flow->live, __ATOMIC_ACQUIRE) != 1)
		return;
	if (l->n < l->max) {
		struct dp_ct_info *info = &l->out[l->n];

		memset(info, 0, sizeof(*info));
		info->key[0] = flow->key[0].k;
		info->key[1] = flow->key[1].k;
		info->in_port = flow->in_port;
		info->tcp_state = flow->tcp_state;
		info->idle_ms = (uint32_t)(idle_cycles(flow, l->now) * 1000 / rte_get_tsc_hz());
		info->timeout_s = flow_timeout(flow);
		info->packets[0] = flow->packets[0];
		info->packets[1] = flow->packets[1];
	}
	l->n++;
}

int dp_ct_list(struct dp_ct_info *out, unsigned int max)
{
	struct ct_list l = {.out = out, .max = max, .now = rte_rdtsc()};

	DP_CTL_CHECK();
	if (ct_pool)
		rte_mempool_obj_iter(ct_pool, list_one, &l);
	return (int)l.n;
}

unsigned int dp_ct_count(void)
{
	return ct_pool ? rte_mempool_in_use_count(ct_pool) : 0;
}

static unsigned int ct_key_count(void)
{
	return dp_ct_hash ? (unsigned int)rte_hash_count(dp_ct_hash) : 0;
}

/* every flow starts out zeroed, i.e. not live, so walks can tell */
static void flow_obj_init(struct rte_mempool *mp, void *arg, void *obj, unsigned int idx)
{
	memset(obj, 0, sizeof(struct dp_ct_flow));
}

static int ct_init(void)
{
	struct rte_hash_parameters params = {
		.name = "conntrack_table",
		.entries = ct_capacity + ct_capacity / 5,
		.key_len = sizeof(struct dp_ct_key),
		.hash_func = ct_hash_fn,
		.hash_func_init_val = DP_CT_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF |
			      RTE_HASH_EXTRA_FLAGS_MULTI_WRITER_ADD,
	};

	dp_ct_hash = rte_hash_create(&params);
	if (!dp_ct_hash) {
		DP_LOG(ERR, "conntrack: no memory for a table of %u keys (--flow-table-size)",
		       ct_capacity);
		return -ENOMEM;
	}
	/* one flow per two keys; no per-lcore cache, so "full" means full */
	ct_pool = rte_mempool_create("conntrack_flows", ct_capacity / 2,
				     sizeof(struct dp_ct_flow), 0, 0, NULL, NULL, flow_obj_init, NULL,
				     (int)rte_socket_id(), 0);
	if (!ct_pool) {
		DP_LOG(ERR, "conntrack: no memory for %u flows (--flow-table-size)",
		       ct_capacity / 2);
		rte_hash_free(dp_ct_hash);
		dp_ct_hash = NULL;
		return -ENOMEM;
	}
	ct_usage.capacity = ct_capacity;
	return 0;
}

static void ct_fini(void)
{
	rte_mempool_free(ct_pool);
	ct_pool = NULL;
	rte_hash_free(dp_ct_hash);
	dp_ct_hash = NULL;
}

static struct dp_module ct_module = {.name = "conntrack", .init = ct_init, .fini = ct_fini};
DP_MODULE_REGISTER(ct_module);

DP_TABLE_USAGE_REGISTER(ct_usage);
