/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The conntrack table: creation by the worker, aging and flushing by the control thread.
 *
 * Flows live in one array, sized to the table; the free ones are a ring of their indices
 * (no per-lcore cache, so "full" means full). Beside the array, for the control thread's
 * walks (aging, flushes, listing), a bitmap of the live flows and a small summary of each
 * (VNI, port it came in on): a walk reads the bitmap, a word for 64 flows, and the summary
 * of the live ones, and touches a flow only when its summary can match. Removing a route
 * in a VNI without flows costs a pass over the bitmap (53 kB for 425 000 flows), not over
 * the 82 MB of flows.
 *
 * The bitmap is two, so that neither side needs an atomic read-modify-write (a locked
 * instruction would make the worker wait for every cold store of the new flow before it):
 * the worker flips a flow's bit in `born` when it inserts it, the control thread flips it in
 * `dead` when it has removed it, each the only writer of its map. A flow is live when its
 * two bits differ. (One worker today; with more, each gets a `born` map of its own.)
 */
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_prefetch.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include <dplane/conntrack.h>
#include <dplane/core.h>
#include <dplane/iface.h>
#include <dplane/vnf.h>

#include "ct.h"
#include "ctl.h"
#include "module.h"
#include "port.h"
#include "rcu.h"

/* What a walk reads of a live flow before touching the flow itself. */
struct ct_summary {
	uint32_t vni;
	uint16_t in_port;
	uint16_t pad;
};

struct rte_hash *dp_ct_hash;
static struct dp_ct_flow *ct_flows;     /* nb_flows of them */
static struct ct_summary *ct_summaries; /* one per flow; the worker writes it at insertion */
static uint64_t *ct_born;               /* bit i flipped when flow i enters the table
					 * (the worker, the only writer) */
static uint64_t *ct_dead;               /* bit i flipped when it has left it (control) */
static struct rte_ring *ct_free;        /* indices of the free flows */
static uint32_t nb_flows;
static uint32_t ct_capacity = DP_CT_DEFAULT_CAPACITY;
static uint32_t ct_timeout_s = DP_CT_DEFAULT_TIMEOUT;

static unsigned int ct_key_count(void);
static void ct_fini(void);
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

uint8_t dp_ct_source_mode = DP_CT_SOURCE_AUDIT;
uint64_t dp_ct_spoofed_count[DP_MAX_PORTS];
uint32_t dp_ct_quota; /* 0: none */
uint32_t dp_ct_port_created[DP_MAX_PORTS];
uint32_t dp_ct_port_removed[DP_MAX_PORTS];

int dp_ct_quota_set(uint32_t flows)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	dp_ct_quota = flows;
	return 0;
}

uint32_t dp_ct_port_flows(uint16_t port_id)
{
	if (port_id >= DP_MAX_PORTS)
		return 0;
	return __atomic_load_n(&dp_ct_port_created[port_id], __ATOMIC_RELAXED) -
	       dp_ct_port_removed[port_id];
}

int dp_ct_source_check_set(uint8_t mode)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (mode > DP_CT_SOURCE_ENFORCE)
		return dp_errno(EINVAL);
	dp_ct_source_mode = mode;
	return 0;
}

uint64_t dp_ct_spoofed(uint16_t port_id)
{
	if (port_id >= DP_MAX_PORTS)
		return 0;
	return __atomic_load_n(&dp_ct_spoofed_count[port_id], __ATOMIC_RELAXED);
}

int dp_ct_spoofed_reset(uint16_t port_id)
{
	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS)
		return dp_errno(EINVAL);
	__atomic_store_n(&dp_ct_spoofed_count[port_id], 0, __ATOMIC_RELAXED);
	return 0;
}

#define CT_IDX_BATCH 64

unsigned int dp_ct_flow_get(struct dp_ct_flow **flows, unsigned int n)
{
	uint32_t idx[CT_IDX_BATCH];
	unsigned int got = 0;

	while (got < n) {
		unsigned int want = RTE_MIN(n - got, (unsigned int)CT_IDX_BATCH);
		unsigned int more =
			rte_ring_mc_dequeue_burst_elem(ct_free, idx, sizeof(idx[0]), want, NULL);

		for (unsigned int i = 0; i < more; i++) {
			struct dp_ct_flow *flow = &ct_flows[idx[i]];

			for (unsigned int line = 0; line < sizeof(*flow);
			     line += RTE_CACHE_LINE_SIZE)
				rte_prefetch0_write((const uint8_t *)flow + line);
			flows[got++] = flow;
		}
		if (more < want) /* fewer left: as many as there are */
			break;
	}
	return got;
}

void dp_ct_flow_put(struct dp_ct_flow **flows, unsigned int n)
{
	uint32_t idx[CT_IDX_BATCH];

	while (n) {
		unsigned int k = RTE_MIN(n, (unsigned int)CT_IDX_BATCH);

		for (unsigned int i = 0; i < k; i++)
			idx[i] = (uint32_t)(flows[i] - ct_flows);
		rte_ring_mp_enqueue_bulk_elem(ct_free, idx, sizeof(idx[0]), k, NULL);
		flows += k;
		n -= k;
	}
}

bool dp_ct_insert(struct dp_ct_flow *flow, const struct dp_ct_key *key, hash_sig_t sig,
		  const struct dp_ct_key *rkey, uint16_t in_port, uint64_t now)
{
	uint32_t idx = (uint32_t)(flow - ct_flows);

	flow->last_seen = now;
	flow->packets[0] = flow->packets[1] = 0;
	flow->hash = dp_ct_flow_hash(key);
	flow->in_port = in_port;
	flow->tcp_state = DP_CT_TCP_NONE;
	memset(flow->ext, 0, sizeof(flow->ext));
	memset(flow->cold, 0, sizeof(flow->cold));
	flow->key[0] = *key;
	flow->key[1] = *rkey;
	/* a flow with one key (to itself) has its reply in the table with it */
	flow->reply_in = memcmp(key, rkey, sizeof(*key)) == 0;
	if (!flow->reply_in)
		flow->key[1].k.vnf_type = DP_CT_VNF_AT_PUBLISH;

	if (rte_hash_add_key_with_hash_data(dp_ct_hash, &flow->key[0], sig,
					    (void *)dp_ct_data(flow, DP_FLOW_DIR_ORIG)) < 0)
		return false;
	__atomic_store_n(&flow->live, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&dp_ct_port_created[in_port], dp_ct_port_created[in_port] + 1,
			 __ATOMIC_RELAXED);
	ct_summaries[idx] = (struct ct_summary){.vni = key->k.vni, .in_port = in_port};
	/* after the summary: a walk that sees the bit reads a summary that goes with it */
	__atomic_store_n(&ct_born[idx / 64],
			 __atomic_load_n(&ct_born[idx / 64], __ATOMIC_RELAXED) ^
				 (UINT64_C(1) << (idx % 64)),
			 __ATOMIC_RELEASE);
	return true;
}

uint8_t dp_ct_vf_nat[DP_MAX_PORTS];

static const uint8_t nat64_prefix[12] = {0x00, 0x64, 0xff, 0x9b};

uint8_t dp_ct_vf_key_vnf(uint16_t port, bool ipv6, const uint8_t *src, const uint8_t *dst)
{
	const struct dp_iface_conf *iface;
	const struct dp_ct_source *e;

	if (ipv6)
		return memcmp(dst, nat64_prefix, sizeof(nat64_prefix)) == 0 ? DP_VNF_NAT
									    : DP_VNF_UNDEFINED;
	if (unlikely(dp_ct_vf_nat[port])) {
		iface = dp_port_iface(port);
		if (iface && memcmp(src, iface->ipv4, 4) == 0)
			return DP_VNF_NAT;
	}
	e = dp_ct_port_source(port, false, src);
	return e && e->prefix_len == 32 ? e->mark_vnf : DP_VNF_UNDEFINED;
}

struct dp_ct_sources *dp_ct_port_sources[DP_MAX_PORTS];
uint8_t dp_ct_one_way_vnf[256];

int dp_ct_port_sources_set(uint16_t port_id, const struct dp_ct_source *sources, unsigned int count)
{
	struct dp_ct_sources *s = NULL, *old;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS)
		return dp_errno(ENODEV);
	if (count > DP_CT_PORT_SOURCES_MAX)
		return dp_errno(EINVAL);
	for (unsigned int i = 0; i < count; i++)
		if ((sources[i].family != 4 && sources[i].family != 6) ||
		    sources[i].prefix_len > (sources[i].family == 4 ? 32 : 128))
			return dp_errno(EINVAL);
	if (count) {
		s = rte_zmalloc("ct_sources", sizeof(*s) + count * sizeof(s->entries[0]), 0);
		if (!s)
			return dp_errno(ENOMEM);
		s->count = count;
		memcpy(s->entries, sources, count * sizeof(s->entries[0]));
	}
	old = dp_ct_port_sources[port_id];
	__atomic_store_n(&dp_ct_port_sources[port_id], s, __ATOMIC_RELEASE);
	if (old)
		dp_rcu_retire(old, NULL, NULL);
	return 0;
}

/* A key's address as it is on the wire (network order). */
static const uint8_t *key_addr(const uint8_t *addr, bool v6, uint8_t out[16])
{
	uint32_t host;

	if (v6)
		return addr;
	memcpy(&host, addr, sizeof(host));
	host = rte_cpu_to_be_32(host);
	memcpy(out, &host, sizeof(host));
	return out;
}

bool dp_ct_reply_publish(struct dp_ct_flow *flow, uint16_t out_port)
{
	struct dp_ct_key *rkey = &flow->key[1];
	hash_sig_t sig;
	void *data;

	if (rkey->k.vnf_type == DP_CT_VNF_AT_PUBLISH) {
		uint8_t src[16], dst[16];

		/* a reply from a VM is marked as its packets are; one from the underlay is not */
		rkey->k.vnf_type =
			dp_ports[out_port].role == DP_PORT_PF
				? DP_VNF_UNDEFINED
				: dp_ct_vf_key_vnf(
					  out_port, rkey->k.src_is_v6,
					  key_addr(rkey->k.l3_src, rkey->k.src_is_v6, src),
					  key_addr(rkey->k.l3_dst, rkey->k.dst_is_v6, dst));
	}
	sig = dp_ct_key_sig(rkey);
	if (rte_hash_lookup_with_hash_data(dp_ct_hash, rkey, sig, &data) >= 0)
		return (struct dp_ct_flow *)((uintptr_t)data & ~(uintptr_t)1) == flow;
	if (rte_hash_add_key_with_hash_data(dp_ct_hash, rkey, sig,
					    (void *)dp_ct_data(flow, DP_FLOW_DIR_REPLY)) < 0)
		return false;
	__atomic_store_n(&flow->reply_in, 1, __ATOMIC_RELEASE);
	return true;
}

/* -- control side: removing flows ---------------------------------------------------- */

#define CT_BATCH 256

struct ct_batch {
	struct dp_ct_flow *flows[CT_BATCH];
	bool reply_was_in[CT_BATCH];
	int32_t pos[CT_BATCH * 2];
	unsigned int nb_flows, nb_pos;
	unsigned int removed;
};

static struct dp_ct_release_hook *release_hooks;
static struct dp_ct_remove_hook *remove_hooks;
uint64_t (*dp_ct_carried)(const struct dp_ct_flow *flow, uint64_t packets[2]);

void dp_ct_release_hook_register(struct dp_ct_release_hook *hook)
{
	hook->link = release_hooks;
	release_hooks = hook;
}

void dp_ct_remove_hook_register(struct dp_ct_remove_hook *hook)
{
	hook->link = remove_hooks;
	remove_hooks = hook;
}

uint32_t dp_ct_flow_index(const struct dp_ct_flow *flow)
{
	return (uint32_t)(flow - ct_flows);
}

uint32_t dp_ct_nb_flows(void)
{
	return nb_flows;
}

/* Remove key from the table if it is the flow's, returning its slot (or -1). */
static int32_t unpublish(const struct dp_ct_flow *flow, const struct dp_ct_key *key)
{
	void *data;

	if (rte_hash_lookup_data(dp_ct_hash, key, &data) < 0 ||
	    (const struct dp_ct_flow *)((uintptr_t)data & ~(uintptr_t)1) != flow)
		return -1;
	return rte_hash_del_key(dp_ct_hash, key);
}

/* Grace period, then give the key slots and the flows back. */
static void batch_release(struct ct_batch *b)
{
	int32_t late[CT_BATCH];
	unsigned int nb_late = 0;

	if (!b->nb_flows)
		return;
	dp_rcu_synchronize();
	for (unsigned int i = 0; i < b->nb_pos; i++)
		rte_hash_free_key_with_position(dp_ct_hash, b->pos[i]);
	/* a worker that had the flow may have published its reply key meanwhile */
	for (unsigned int i = 0; i < b->nb_flows; i++) {
		struct dp_ct_flow *flow = b->flows[i];

		if (!b->reply_was_in[i] && __atomic_load_n(&flow->reply_in, __ATOMIC_ACQUIRE)) {
			int32_t pos = unpublish(flow, &flow->key[1]);

			if (pos >= 0)
				late[nb_late++] = pos;
		}
	}
	if (nb_late) {
		dp_rcu_synchronize();
		for (unsigned int i = 0; i < nb_late; i++)
			rte_hash_free_key_with_position(dp_ct_hash, late[i]);
	}
	for (unsigned int i = 0; i < b->nb_flows; i++) {
		struct dp_ct_flow *flow = b->flows[i];
		uint32_t idx = (uint32_t)(flow - ct_flows);
		uint16_t port = flow->in_port;
		bool kept = false;

		__atomic_store_n(&dp_ct_port_removed[port], dp_ct_port_removed[port] + 1,
				 __ATOMIC_RELAXED);
		__atomic_store_n(&flow->live, 0, __ATOMIC_RELEASE);
		ct_dead[idx / 64] ^= UINT64_C(1) << (idx % 64); /* before the index is free again */
		for (struct dp_ct_release_hook *h = release_hooks; h; h = h->link)
			kept |= h->fn(flow);
		if (kept) /* its hook gives it back */
			b->flows[i] = NULL;
	}
	for (unsigned int i = 0; i < b->nb_flows; i++)
		if (b->flows[i])
			dp_ct_flow_put(&b->flows[i], 1);
	b->removed += b->nb_flows;
	b->nb_flows = b->nb_pos = 0;
}

/* Unpublish the flow's keys: from now on no new packet finds it. */
static void batch_add(struct ct_batch *b, struct dp_ct_flow *flow)
{
	bool reply_in = __atomic_load_n(&flow->reply_in, __ATOMIC_ACQUIRE);
	bool one_key = memcmp(&flow->key[0], &flow->key[1], sizeof(flow->key[0])) == 0;
	int32_t pos;

	pos = rte_hash_del_key(dp_ct_hash, &flow->key[0]);
	if (pos >= 0)
		b->pos[b->nb_pos++] = pos;
	if (reply_in && !one_key) {
		pos = unpublish(flow, &flow->key[1]);
		if (pos >= 0)
			b->pos[b->nb_pos++] = pos;
	}
	/* a second removal of the same flow must not happen before the release */
	__atomic_store_n(&flow->live, 2, __ATOMIC_RELAXED);
	for (struct dp_ct_remove_hook *h = remove_hooks; h; h = h->link)
		h->fn(flow);
	b->reply_was_in[b->nb_flows] = reply_in;
	b->flows[b->nb_flows++] = flow;
	if (b->nb_flows == CT_BATCH)
		batch_release(b);
}

typedef bool (*ct_pred)(const struct dp_ct_flow *flow, const void *arg, uint64_t now);

/* Which flows a walk may select, by their summary: any, or those of a port or a VNI. */
struct ct_sieve {
	bool any;
	uint16_t port_id; /* DP_PORT_NONE: none by port */
	bool by_vni;
	uint32_t vni;
};

static inline bool sieve_pass(const struct ct_sieve *sv, const struct ct_summary *sum)
{
	return sv->any || sum->in_port == sv->port_id || (sv->by_vni && sum->vni == sv->vni);
}

/* Call fn for every live flow whose summary passes the sieve. */
static void ct_walk(const struct ct_sieve *sv, void (*fn)(struct dp_ct_flow *flow, void *arg),
		    void *arg)
{
	for (uint32_t w = 0; w < (nb_flows + 63) / 64; w++) {
		uint64_t bits = __atomic_load_n(&ct_born[w], __ATOMIC_ACQUIRE) ^ ct_dead[w];

		while (bits) {
			uint32_t i = w * 64 + (uint32_t)__builtin_ctzll(bits);
			struct dp_ct_flow *flow = &ct_flows[i];

			bits &= bits - 1;
			if (!sieve_pass(sv, &ct_summaries[i]) ||
			    __atomic_load_n(&flow->live, __ATOMIC_ACQUIRE) != 1)
				continue;
			fn(flow, arg);
		}
	}
}

struct ct_removal {
	struct ct_batch batch;
	ct_pred pred;
	const void *arg;
	uint64_t now;
};

static void remove_one(struct dp_ct_flow *flow, void *arg)
{
	struct ct_removal *r = arg;

	if (r->pred(flow, r->arg, r->now))
		batch_add(&r->batch, flow);
}

static int ct_remove_if(const struct ct_sieve *sv, ct_pred pred, const void *arg)
{
	struct ct_removal *r;
	int removed;

	if (!ct_flows)
		return 0;
	r = calloc(1, sizeof(*r));
	if (!r)
		return dp_errno(ENOMEM);
	r->pred = pred;
	r->arg = arg;
	r->now = rte_rdtsc();
	ct_walk(sv, remove_one, r);
	batch_release(&r->batch);
	removed = (int)r->batch.removed;
	free(r);
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

	if (dp_ct_carried) {
		uint64_t packets[2] = {0, 0};
		uint64_t carried = dp_ct_carried(flow, packets);

		if (carried > seen)
			seen = carried;
	}

	return now > seen ? now - seen : 0;
}

static bool expired(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	return idle_cycles(flow, now) > flow_timeout(flow) * rte_get_tsc_hz();
}

static const struct ct_sieve every_flow = {.any = true};

int dp_ct_age(void)
{
	DP_CTL_CHECK();
	return ct_remove_if(&every_flow, expired, NULL);
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
	struct ct_sieve sv = {
		.port_id = filter->port_id, .by_vni = filter->family != 0, .vni = filter->vni};

	DP_CTL_CHECK();
	if ((filter->family != 0 && filter->family != 4 && filter->family != 6) ||
	    filter->prefix_len > (filter->family == 4 ? 32 : 128))
		return dp_errno(EINVAL);
	return ct_remove_if(&sv, filtered, filter);
}

struct ct_feature_pred {
	bool (*pred)(const struct dp_ct_flow *flow, const void *arg);
	const void *arg;
	uint32_t vni;
};

static bool feature_selected(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	const struct ct_feature_pred *fp = arg;

	return flow->key[0].k.vni == fp->vni && fp->pred(flow, fp->arg);
}

int dp_ct_remove_vni(uint32_t vni, bool (*pred)(const struct dp_ct_flow *flow, const void *arg),
		     const void *arg)
{
	struct ct_sieve sv = {.port_id = DP_PORT_NONE, .by_vni = true, .vni = vni};
	struct ct_feature_pred fp = {.pred = pred, .arg = arg, .vni = vni};

	DP_CTL_CHECK();
	return ct_remove_if(&sv, feature_selected, &fp);
}

uint32_t dp_ct_timeout(void)
{
	return ct_timeout_s;
}

uint32_t dp_ct_capacity(void)
{
	return ct_capacity;
}

static bool everything(const struct dp_ct_flow *flow, const void *arg, uint64_t now)
{
	return true;
}

int dp_ct_flush_all(void)
{
	DP_CTL_CHECK();
	return ct_remove_if(&every_flow, everything, NULL);
}

struct ct_list {
	struct dp_ct_info *out;
	unsigned int max, n;
	uint64_t now;
};

static void list_one(struct dp_ct_flow *flow, void *arg)
{
	struct ct_list *l = arg;

	if (l->n < l->max) {
		struct dp_ct_info *info = &l->out[l->n];

		memset(info, 0, sizeof(*info));
		info->key[0] = flow->key[0].k;
		info->key[1] = flow->key[1].k;
		if (info->key[1].vnf_type == DP_CT_VNF_AT_PUBLISH) /* not decided yet */
			info->key[1].vnf_type = DP_VNF_UNDEFINED;
		info->in_port = flow->in_port;
		info->tcp_state = flow->tcp_state;
		info->idle_ms = (uint32_t)(idle_cycles(flow, l->now) * 1000 / rte_get_tsc_hz());
		info->timeout_s = flow_timeout(flow);
		info->packets[0] = flow->packets[0];
		info->packets[1] = flow->packets[1];
		if (dp_ct_carried)
			dp_ct_carried(flow, info->packets);
	}
	l->n++;
}

int dp_ct_list(struct dp_ct_info *out, unsigned int max)
{
	struct ct_list l = {.out = out, .max = max, .now = rte_rdtsc()};

	DP_CTL_CHECK();
	if (ct_flows)
		ct_walk(&every_flow, list_one, &l);
	return (int)l.n;
}

unsigned int dp_ct_count(void)
{
	return ct_free ? nb_flows - rte_ring_count(ct_free) : 0;
}

static unsigned int ct_key_count(void)
{
	return dp_ct_hash ? (unsigned int)rte_hash_count(dp_ct_hash) : 0;
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
	/* one flow per two keys, all free (and zeroed: not live) */
	nb_flows = ct_capacity / 2;
	ct_flows = rte_zmalloc("conntrack_flows", (size_t)nb_flows * sizeof(*ct_flows),
			       RTE_CACHE_LINE_SIZE);
	ct_summaries = rte_zmalloc("conntrack_summaries", (size_t)nb_flows * sizeof(*ct_summaries),
				   RTE_CACHE_LINE_SIZE);
	ct_born = rte_zmalloc("conntrack_born", (nb_flows + 63) / 64 * sizeof(*ct_born),
			      RTE_CACHE_LINE_SIZE);
	ct_dead = rte_zmalloc("conntrack_dead", (nb_flows + 63) / 64 * sizeof(*ct_dead),
			      RTE_CACHE_LINE_SIZE);
	ct_free = rte_ring_create_elem("conntrack_free", sizeof(uint32_t), nb_flows,
				       (int)rte_socket_id(), RING_F_EXACT_SZ);
	if (!ct_flows || !ct_summaries || !ct_born || !ct_dead || !ct_free) {
		DP_LOG(ERR, "conntrack: no memory for %u flows (--flow-table-size)", nb_flows);
		ct_fini();
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < nb_flows; i++)
		rte_ring_sp_enqueue_elem(ct_free, &i, sizeof(i));
	memset(dp_ct_port_created, 0, sizeof(dp_ct_port_created));
	memset(dp_ct_port_removed, 0, sizeof(dp_ct_port_removed));
	ct_usage.capacity = ct_capacity;
	return 0;
}

static void ct_fini(void)
{
	for (unsigned int p = 0; p < DP_MAX_PORTS; p++) {
		rte_free(dp_ct_port_sources[p]); /* the worker has stopped */
		dp_ct_port_sources[p] = NULL;
	}
	rte_ring_free(ct_free);
	ct_free = NULL;
	rte_free(ct_born);
	ct_born = NULL;
	rte_free(ct_dead);
	ct_dead = NULL;
	rte_free(ct_summaries);
	ct_summaries = NULL;
	rte_free(ct_flows);
	ct_flows = NULL;
	rte_hash_free(dp_ct_hash);
	dp_ct_hash = NULL;
}

/* The source check looks up routes in the VMs' VNIs. */
static struct dp_module ct_module = {
	.name = "conntrack",
	.depends = {"vni"},
	.init = ct_init,
	.fini = ct_fini,
};
DP_MODULE_REGISTER(ct_module);

DP_TABLE_USAGE_REGISTER(ct_usage);
