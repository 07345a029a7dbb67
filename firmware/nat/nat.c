/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NAT, the control side: each VM's source translation (its VIP, its NAT), the DNAT table,
 * removing translated flows. The port tables are in nat_ports.c, the nodes in snat_node.c
 * and dnat_node.c.
 */
#include <errno.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_malloc.h>

#include <dplane/iface.h>
#include <dplane/nat.h>

#include "ctl.h"
#include "module.h"
#include "nat_dp.h"
#include "port.h"
#include "rcu.h"

struct dp_nat_snat_dp *dp_nat_snat_dp[DP_MAX_PORTS];
struct rte_hash *dp_nat_dnat_hash;
uint32_t dp_nat_dnat_entries;
static unsigned int snat_entries;

static const uint8_t no_ip[4];

int dp_nat_snat_set(uint16_t port_id, const struct dp_nat_snat_conf *conf)
{
	const struct dp_iface_conf *iface;
	struct dp_nat_snat_dp *s, *old;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !(iface = dp_port_iface(port_id)))
		return dp_errno(ENODEV);
	if (memcmp(conf->nat_ip, no_ip, 4) != 0 && conf->min_port >= conf->max_port)
		return dp_errno(EINVAL);
	old = dp_nat_snat_dp[port_id];
	if (!old && snat_entries >= DP_NAT_TABLE_SIZE)
		return dp_errno(ENOSPC);
	/* the port tables before the first translation that needs them is published */
	if (memcmp(conf->nat_ip, no_ip, 4) != 0 && dp_nat_ports_ensure() < 0)
		return dp_errno(ENOMEM);
	s = rte_zmalloc("nat_snat", sizeof(*s), 0);
	if (!s)
		return dp_errno(ENOMEM);
	s->vni = iface->vni;
	memcpy(s->vm_ip, iface->ipv4, 4);
	memcpy(s->vip, conf->vip, 4);
	memcpy(s->nat_ip, conf->nat_ip, 4);
	s->min_port = conf->min_port;
	s->max_port = conf->max_port;
	__atomic_store_n(&dp_nat_snat_dp[port_id], s, __ATOMIC_RELEASE);
	dp_ct_vf_nat[port_id] = memcmp(s->nat_ip, no_ip, 4) != 0;
	if (old)
		dp_rcu_retire(old, NULL, NULL);
	else
		snat_entries++;
	return 0;
}

int dp_nat_snat_clear(uint16_t port_id)
{
	struct dp_nat_snat_dp *old;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_nat_snat_dp[port_id])
		return dp_errno(ENOENT);
	old = dp_nat_snat_dp[port_id];
	__atomic_store_n(&dp_nat_snat_dp[port_id], NULL, __ATOMIC_RELEASE);
	dp_ct_vf_nat[port_id] = 0;
	dp_rcu_retire(old, NULL, NULL);
	snat_entries--;
	return 0;
}

static unsigned int snat_count(void)
{
	return snat_entries;
}

struct flush_arg {
	uint8_t vm_ip[4];
	uint16_t port_id;
	unsigned int which;
};

/* A flow the VM's VIP translated (it is the VM's by its address), or its NAT (by its VF:
 * a NAT64 flow's VM address is IPv6). */
static bool translated(const struct dp_ct_flow *flow, const void *arg)
{
	const struct flush_arg *a = arg;
	const struct dp_nat_flow *nf =
		(const struct dp_nat_flow *)(const void *)&flow->ext[DP_CT_EXT_NAT];

	switch (nf->kind) {
	case DP_NAT_SNAT_VIP:
	case DP_NAT_DNAT_VIP:
		return (a->which & DP_NAT_FLOWS_VIP) && memcmp(nf->vm_ip, a->vm_ip, 4) == 0;
	case DP_NAT_SNAT_NET:
	case DP_NAT_SNAT_NAT64:
		return (a->which & DP_NAT_FLOWS_NAT) && nf->vm_port == a->port_id;
	default:
		return false;
	}
}

int dp_nat_flush(uint16_t port_id, uint32_t vni, const uint8_t vm_ip[4], unsigned int which)
{
	struct flush_arg a = {.port_id = port_id, .which = which};

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS)
		return dp_errno(EINVAL);
	memcpy(a.vm_ip, vm_ip, 4);
	return dp_ct_remove_vni(vni, translated, &a);
}

struct dp_nat_neigh_set *dp_nat_neighs;

int dp_nat_neigh_set(const struct dp_nat_neigh *ranges, unsigned int count)
{
	struct dp_nat_neigh_set *set = NULL, *old;

	DP_CTL_CHECK();
	if (count) {
		set = rte_zmalloc("nat_neighs", sizeof(*set) + count * sizeof(set->ranges[0]), 0);
		if (!set)
			return dp_errno(ENOMEM);
		set->count = count;
		memcpy(set->ranges, ranges, count * sizeof(set->ranges[0]));
	}
	old = dp_nat_neighs;
	__atomic_store_n(&dp_nat_neighs, set, __ATOMIC_RELEASE);
	if (old)
		dp_rcu_retire(old, NULL, NULL);
	return 0;
}

struct relay_arg {
	uint8_t nat_ip[4];
	uint16_t min_port, max_port;
};

static bool relayed(const struct dp_ct_flow *flow, const void *arg)
{
	const struct relay_arg *a = arg;
	const struct dp_nat_flow *nf =
		(const struct dp_nat_flow *)(const void *)&flow->ext[DP_CT_EXT_NAT];
	const struct dp_flow_key *k = &flow->key[0].k;
	uint32_t host, be;

	if (nf->kind != DP_NAT_RELAY || k->dst_is_v6)
		return false;
	memcpy(&host, k->l3_dst, 4);
	be = rte_cpu_to_be_32(host);
	return memcmp(&be, a->nat_ip, 4) == 0 && k->port_dst >= a->min_port &&
	       k->port_dst < a->max_port;
}

int dp_nat_flush_relayed(uint32_t vni, const uint8_t nat_ip[4], uint16_t min_port,
			 uint16_t max_port)
{
	struct relay_arg a = {.min_port = min_port, .max_port = max_port};

	DP_CTL_CHECK();
	memcpy(a.nat_ip, nat_ip, 4);
	return dp_ct_remove_vni(vni, relayed, &a);
}

static struct dp_nat_key dnat_key(uint32_t vni, const uint8_t ip[4])
{
	struct dp_nat_key key = {.vni = vni};
	uint32_t be;

	memcpy(&be, ip, 4);
	key.ip = rte_be_to_cpu_32(be);
	return key;
}

int dp_nat_dnat_add(uint32_t vni, const uint8_t ip[4], const uint8_t target[4])
{
	struct dp_nat_key key = dnat_key(vni, ip);
	uint32_t be;
	int ret;

	DP_CTL_CHECK();
	if (!dp_nat_dnat_hash)
		return dp_errno(ENODEV);
	if (rte_hash_lookup(dp_nat_dnat_hash, &key) >= 0)
		return dp_errno(EEXIST);
	memcpy(&be, target, 4);
	ret = rte_hash_add_key_data(dp_nat_dnat_hash, &key,
				    (void *)(uintptr_t)(DP_NAT_DNAT_PRESENT | be));
	if (ret < 0)
		return ret == -ENOSPC ? dp_errno(ENOSPC) : ret;
	__atomic_store_n(&dp_nat_dnat_entries, dp_nat_dnat_entries + 1, __ATOMIC_RELEASE);
	return 0;
}

int dp_nat_dnat_del(uint32_t vni, const uint8_t ip[4])
{
	struct dp_nat_key key = dnat_key(vni, ip);
	int ret;

	DP_CTL_CHECK();
	if (!dp_nat_dnat_hash)
		return dp_errno(ENOENT);
	ret = dp_rcu_hash_del_key(dp_nat_dnat_hash, &key);
	if (ret < 0)
		return ret;
	__atomic_store_n(&dp_nat_dnat_entries, dp_nat_dnat_entries - 1, __ATOMIC_RELEASE);
	return 0;
}

int dp_nat_dnat_get(uint32_t vni, const uint8_t ip[4], uint8_t target[4])
{
	DP_CTL_CHECK();
	if (!dp_nat_dnat_hash || !dp_nat_dnat_lookup(vni, ip, target))
		return dp_errno(ENOENT);
	return 0;
}

/* The live entries: a deleted key's slot is counted by the hash until its grace period
 * has passed. */
unsigned int dp_nat_dnat_count(void)
{
	return dp_nat_dnat_entries;
}

static uint32_t dnat_hash_fn(const void *key, uint32_t len, uint32_t init)
{
	const struct dp_nat_key *k = key;

	return rte_jhash_2words(k->ip, k->vni, init); /* dpservice's, for an 8-byte key */
}

static struct dp_table_usage snat_usage = {
	.name = "snat_table", .capacity = DP_NAT_TABLE_SIZE, .count = snat_count};
static struct dp_table_usage dnat_usage = {
	.name = "dnat_table", .capacity = DP_NAT_TABLE_SIZE, .count = dp_nat_dnat_count};

static void nat_fini(void);

static int nat_init(void)
{
	struct rte_hash_parameters params = {
		.name = "dnat_table",
		.entries = DP_NAT_TABLE_SIZE + DP_NAT_TABLE_SIZE / 5,
		.key_len = sizeof(struct dp_nat_key),
		.hash_func = dnat_hash_fn,
		.hash_func_init_val = DP_NAT_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF,
	};
	int ret;

	dp_nat_dnat_hash = rte_hash_create(&params);
	if (!dp_nat_dnat_hash) {
		DP_LOG(ERR, "nat: no memory for the DNAT table");
		return -ENOMEM;
	}
	dp_nat_dnat_entries = 0;
	snat_entries = 0;
	memset(dp_nat_snat_dp, 0, sizeof(dp_nat_snat_dp));
	memset(dp_ct_vf_nat, 0, sizeof(dp_ct_vf_nat));
	dp_nat_neighs = NULL;
	ret = dp_nat_ports_init();
	if (ret < 0)
		nat_fini();
	return ret;
}

static void nat_fini(void)
{
	dp_rcu_reclaim(true); /* the worker has stopped: retired DNAT keys are due */
	dp_nat_ports_fini();
	for (unsigned int p = 0; p < DP_MAX_PORTS; p++) {
		rte_free(dp_nat_snat_dp[p]);
		dp_nat_snat_dp[p] = NULL;
		dp_ct_vf_nat[p] = 0;
	}
	snat_entries = 0;
	rte_free(dp_nat_neighs);
	dp_nat_neighs = NULL;
	rte_hash_free(dp_nat_dnat_hash);
	dp_nat_dnat_hash = NULL;
	dp_nat_dnat_entries = 0;
}

static struct dp_module nat_module = {
	.name = "nat",
	.depends = {"conntrack"},
	.init = nat_init,
	.fini = nat_fini,
};
DP_MODULE_REGISTER(nat_module);

DP_TABLE_USAGE_REGISTER(snat_usage);
DP_TABLE_USAGE_REGISTER(dnat_usage);
