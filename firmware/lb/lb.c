/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Load balancers, the control side: loadbalancer_table ({VNI, address} -> the LB as the node
 * reads it, replaced whole on every change and retired after a grace period), dpservice's
 * Maglev table, and removing an LB's flows. The node is lb_node.c.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <dplane/lb.h>

#include "ctl.h"
#include "lb_dp.h"
#include "module.h"
#include "rcu.h"

struct rte_hash *dp_lb_hash;
uint32_t dp_lb_entries;

/* -- Maglev, as dpservice builds it ----------------------------------------------------- */

#define MURMUR_M 0x5bd1e995u
#define DJB2_INIT 5381u

/* MurmurHash2 of 16 bytes, seed 0 (h starts as seed ^ length). */
static uint32_t murmur2_16(const uint8_t *b)
{
	uint32_t h = 16, k;

	for (unsigned int i = 0; i < 16; i += 4) {
		k = (uint32_t)b[i] | (uint32_t)b[i + 1] << 8 | (uint32_t)b[i + 2] << 16 |
		    (uint32_t)b[i + 3] << 24;
		k *= MURMUR_M;
		k ^= k >> 24;
		k *= MURMUR_M;
		h *= MURMUR_M;
		h ^= k;
	}
	h ^= h >> 13;
	h *= MURMUR_M;
	h ^= h >> 15;
	return h;
}

/* djb2 from bytes[0] to the first zero byte, as dpservice reads it (a C string): past the
 * target's 16 bytes into the next ones when it has none; bytes[] ends with a zero. */
static uint32_t djb2_cstr(const uint8_t *bytes, size_t len)
{
	uint32_t h = DJB2_INIT;

	for (size_t i = 0; i < len && bytes[i]; i++)
		h = (h << 5) + h + bytes[i];
	return h & ~(UINT32_C(1) << 31);
}

int dp_lb_maglev(const uint8_t (*targets)[16], unsigned int n, int16_t table[DP_LB_MAGLEV_SIZE])
{
	/* the targets as dpservice stores them: an array of 64, zero after the last */
	uint8_t all[DP_LB_MAX_TARGETS][16];
	uint16_t offset[DP_LB_MAX_TARGETS], skip[DP_LB_MAX_TARGETS], next[DP_LB_MAX_TARGETS];
	unsigned int filled = 0;

	if (n == 0 || n > DP_LB_MAX_TARGETS)
		return -EINVAL;
	memset(all, 0, sizeof(all));
	memcpy(all, targets, (size_t)n * 16);
	for (unsigned int i = 0; i < n; i++) {
		offset[i] = (uint16_t)(murmur2_16(all[i]) % DP_LB_MAGLEV_SIZE);
		skip[i] = (uint16_t)(djb2_cstr(all[i], sizeof(all) - (size_t)i * 16) %
					     (DP_LB_MAGLEV_SIZE - 1) +
				     1);
		next[i] = 0;
	}
	for (unsigned int s = 0; s < DP_LB_MAGLEV_SIZE; s++)
		table[s] = -1;
	/* each target in turn takes the next free slot of its permutation
	 * (offset + j * skip) % 503; 503 is prime, so every permutation covers the table */
	while (filled < DP_LB_MAGLEV_SIZE) {
		for (unsigned int i = 0; i < n && filled < DP_LB_MAGLEV_SIZE; i++) {
			while (next[i] < DP_LB_MAGLEV_SIZE) {
				unsigned int pos = (offset[i] + (unsigned int)next[i] * skip[i]) %
						   DP_LB_MAGLEV_SIZE;

				next[i]++;
				if (table[pos] < 0) {
					table[pos] = (int16_t)i;
					filled++;
					break;
				}
			}
		}
	}
	return 0;
}

unsigned int dp_lb_slot(const struct dp_flow_key *key)
{
	struct dp_ct_key k = {.k = *key};

	return dp_ct_flow_hash(&k) % DP_LB_MAGLEV_SIZE;
}

/* -- the table ------------------------------------------------------------------------ */

static int lb_key(uint32_t vni, uint8_t family, const uint8_t ip[16], struct dp_lb_key *key)
{
	uint32_t be;

	memset(key, 0, sizeof(*key));
	key->vni = vni;
	if (family == 4) {
		uint32_t host;

		memcpy(&be, ip, 4);
		host = rte_be_to_cpu_32(be);
		memcpy(key->ip, &host, 4);
	} else if (family == 6) {
		memcpy(key->ip, ip, 16);
		key->is_v6 = 1;
	} else {
		return -EINVAL;
	}
	return 0;
}

static bool conf_ok(const struct dp_lb_conf *conf)
{
	if (conf->nb_ports > DP_LB_MAX_PORTS || conf->nb_targets > DP_LB_MAX_TARGETS)
		return false;
	for (unsigned int i = 1; i < conf->nb_targets; i++)
		if (memcmp(conf->targets[i - 1], conf->targets[i], 16) >= 0)
			return false;
	return true;
}

int dp_lb_set(uint32_t vni, uint8_t family, const uint8_t ip[16], const struct dp_lb_conf *conf)
{
	struct dp_lb_key key;
	struct dp_lb_dp *lb;
	void *old = NULL;
	int ret;

	DP_CTL_CHECK();
	if (!dp_lb_hash)
		return dp_errno(ENODEV);
	if (lb_key(vni, family, ip, &key) < 0 || !conf_ok(conf))
		return dp_errno(EINVAL);
	if (rte_hash_lookup_data(dp_lb_hash, &key, &old) < 0) {
		old = NULL;
		if (dp_lb_entries >= DP_LB_TABLE_SIZE)
			return dp_errno(ENOSPC);
	}
	lb = rte_zmalloc("dp_lb", sizeof(*lb), 0);
	if (!lb)
		return dp_errno(ENOMEM);
	memcpy(lb->underlay, conf->underlay, 16);
	lb->nb_ports = 0;
	/* dpservice's list ends at a port 0 */
	for (unsigned int i = 0; i < conf->nb_ports && conf->ports[i].port; i++)
		lb->ports[lb->nb_ports++] = conf->ports[i];
	lb->nb_targets = conf->nb_targets;
	memcpy(lb->targets, conf->targets, (size_t)conf->nb_targets * 16);
	if (conf->nb_targets)
		dp_lb_maglev((const uint8_t(*)[16])lb->targets, lb->nb_targets, lb->maglev);
	/* an existing key's data is replaced atomically: readers see the old or the new one */
	ret = rte_hash_add_key_data(dp_lb_hash, &key, lb);
	if (ret < 0) {
		rte_free(lb);
		return dp_errno(ret == -ENOSPC ? ENOSPC : -ret);
	}
	if (old)
		dp_rcu_retire(old, NULL, NULL);
	else
		__atomic_store_n(&dp_lb_entries, dp_lb_entries + 1, __ATOMIC_RELEASE);
	return 0;
}

int dp_lb_del(uint32_t vni, uint8_t family, const uint8_t ip[16])
{
	struct dp_lb_key key;

	DP_CTL_CHECK();
	if (!dp_lb_hash || lb_key(vni, family, ip, &key) < 0)
		return dp_errno(ENOENT);
	if (dp_rcu_hash_del(dp_lb_hash, &key, NULL, NULL) < 0)
		return dp_errno(ENOENT);
	__atomic_store_n(&dp_lb_entries, dp_lb_entries - 1, __ATOMIC_RELEASE);
	return 0;
}

unsigned int dp_lb_count(void)
{
	return dp_lb_entries;
}

int dp_lb_next(uint32_t *iter, uint32_t *vni, uint8_t *family, uint8_t ip[16])
{
	const struct dp_lb_key *key;
	const void *k;
	void *data;

	DP_CTL_CHECK();
	if (!dp_lb_hash || rte_hash_iterate(dp_lb_hash, &k, &data, iter) < 0)
		return dp_errno(ENOENT);
	key = k;
	*vni = key->vni;
	*family = key->is_v6 ? 6 : 4;
	memset(ip, 0, 16);
	if (key->is_v6) {
		memcpy(ip, key->ip, 16);
	} else {
		uint32_t host, be;

		memcpy(&host, key->ip, 4);
		be = rte_cpu_to_be_32(host);
		memcpy(ip, &be, 4);
	}
	return 0;
}

/* -- removing flows ------------------------------------------------------------------- */

struct flush_arg {
	uint8_t dst[16]; /* as in a flow key */
	uint8_t is_v6;
	const uint8_t *target;
};

static bool lb_flow(const struct dp_ct_flow *flow, const void *arg)
{
	const struct flush_arg *a = arg;
	const struct dp_flow_key *k = &flow->key[0].k;
	uint8_t kind = flow->ext[DP_CT_EXT_LB];

	if (kind == DP_LB_UNDECIDED || k->dst_is_v6 != a->is_v6 || memcmp(k->l3_dst, a->dst, 16))
		return false;
	if (!a->target)
		return true;
	return kind != DP_LB_ECHO && memcmp(&flow->cold[DP_LB_COLD_TARGET], a->target, 16) == 0;
}

int dp_lb_flush(uint32_t vni, uint8_t family, const uint8_t ip[16], const uint8_t *target)
{
	struct dp_lb_key key;
	struct flush_arg a;

	DP_CTL_CHECK();
	if (lb_key(vni, family, ip, &key) < 0)
		return dp_errno(EINVAL);
	memcpy(a.dst, key.ip, 16);
	a.is_v6 = key.is_v6;
	a.target = target;
	return dp_ct_remove_vni(vni, lb_flow, &a);
}

/* -- module ---------------------------------------------------------------------------- */

static uint32_t lb_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	/* dpservice's hash of a 21-byte key. rte_jhash() reads a length's last partial word
	 * whole (and masks it): from a copy padded to whole words, not past the key. */
	uint32_t words[(sizeof(struct dp_lb_key) + 3) / 4] = {0};

	memcpy(words, key, sizeof(struct dp_lb_key));
	return rte_jhash(words, len, init);
}

static struct dp_table_usage lb_usage = {
	.name = "loadbalancer_table", .capacity = DP_LB_TABLE_SIZE, .count = dp_lb_count};

static int lb_init(void)
{
	struct rte_hash_parameters params = {
		.name = "loadbalancer_table",
		/* dpservice's real size, capacity * 1.2: the same buckets, so the same order
		 * (ListLoadBalancers), and room for keys whose slots wait for a grace period */
		.entries = DP_LB_TABLE_SIZE + DP_LB_TABLE_SIZE / 5,
		.key_len = sizeof(struct dp_lb_key),
		.hash_func = lb_hash_fn,
		.hash_func_init_val = DP_CT_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};

	dp_lb_hash = rte_hash_create(&params);
	if (!dp_lb_hash) {
		DP_LOG(ERR, "lb: no memory for the load balancer table");
		return -ENOMEM;
	}
	dp_lb_entries = 0;
	return 0;
}

static void lb_fini(void)
{
	const void *key;
	void *data;
	uint32_t iter = 0;

	if (!dp_lb_hash)
		return;
	dp_rcu_reclaim(true); /* the worker has stopped: what was retired is due */
	while (rte_hash_iterate(dp_lb_hash, &key, &data, &iter) >= 0)
		rte_free(data);
	rte_hash_free(dp_lb_hash);
	dp_lb_hash = NULL;
	dp_lb_entries = 0;
}

static struct dp_module lb_module = {
	.name = "lb",
	.depends = {"conntrack"},
	.init = lb_init,
	.fini = lb_fini,
};
DP_MODULE_REGISTER(lb_module);

DP_TABLE_USAGE_REGISTER(lb_usage);
