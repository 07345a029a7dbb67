/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NAT gateway's ports, allocated exactly as dpservice allocates them, so that the same
 * flows get the same NAT ports after a migration:
 *
 *   nat_portmap_table       {vni, source address, source port} -> {NAT port, flows}
 *   nat_portoverload_table  {NAT IP, NAT port, destination, destination port, protocol}
 *
 * A source keeps its NAT port for every destination (endpoint-independent mapping) unless
 * exactly that destination is taken on it, then its packet is dropped. A new source tries
 * min + (hash(portmap key) + p) % (max - min) for p = 0, 1, ... and takes the first port free
 * for the destination. For ICMP echo the identifier is the port, on both sides.
 *
 * Only the worker reads and writes these tables: allocation happens on a flow's first
 * packet. A flow that holds a port and leaves the conntrack table (aging, flushes: the
 * control thread) is handed to the worker through a ring; the worker releases its port and
 * then gives the flow back to conntrack, so the flow and its keys stay as they were until
 * then. The ring holds every flow there is, so it cannot overflow.
 *
 * The tables are as large as the conntrack table (dpservice's size), so they are made when
 * the first NAT is: a host without NATs does not pay their memory.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_jhash.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <dplane/conntrack.h>

#include "ctl.h"
#include "module.h"
#include "nat_dp.h"
#include "worker.h"

struct nat_portmap_key {
	uint32_t vni;
	uint8_t src[16]; /* as in a flow key: IPv4 a host-order word, then zeros */
	uint8_t src_is_v6;
	uint16_t src_port;
} __attribute__((packed));

_Static_assert(sizeof(struct nat_portmap_key) == 23, "dpservice's netnat_portmap_key");

struct nat_portoverload_key {
	uint32_t nat_ip; /* host order */
	uint16_t nat_port;
	uint32_t dst_ip; /* host order */
	uint16_t dst_port;
	uint8_t proto;
} __attribute__((packed));

_Static_assert(sizeof(struct nat_portoverload_key) == 13, "dpservice's portoverload key");

/*
 * The keys as they are hashed: jhash reads a key's last partial word whole (masking what it
 * does not use), so a key lives in a buffer rounded up to words, its tail zero.
 */
union pm_buf {
	struct nat_portmap_key k;
	uint32_t words[6];
};

union ol_buf {
	struct nat_portoverload_key k;
	uint32_t words[4];
};

/* A portmap entry's data: its NAT port and how many flows use it. */
#define PM_DATA(port, flows) ((void *)(uintptr_t)((uint64_t)(flows) << 16 | (port)))
#define PM_PORT(data) ((uint16_t)(uintptr_t)(data))
#define PM_FLOWS(data) ((uint32_t)((uintptr_t)(data) >> 16))

static struct rte_hash *portmap, *portoverload;
static struct rte_ring *release_ring;
uint32_t dp_nat_used[DP_MAX_PORTS];

unsigned int dp_nat_portmap_count(void)
{
	return portmap ? (unsigned int)rte_hash_count(portmap) : 0;
}

unsigned int dp_nat_portoverload_count(void)
{
	return portoverload ? (unsigned int)rte_hash_count(portoverload) : 0;
}

static struct dp_table_usage portmap_usage = {.name = "nat_portmap_table",
					      .count = dp_nat_portmap_count};
static struct dp_table_usage portoverload_usage = {.name = "nat_portoverload_table",
						   .count = dp_nat_portoverload_count};

uint32_t dp_nat_used_ports(uint16_t port_id)
{
	return port_id < DP_MAX_PORTS ? __atomic_load_n(&dp_nat_used[port_id], __ATOMIC_RELAXED)
				      : 0;
}

static uint32_t host_word(const uint8_t *key_addr)
{
	uint32_t w;

	memcpy(&w, key_addr, sizeof(w));
	return w;
}

static bool is_icmp(uint8_t proto)
{
	return proto == IPPROTO_ICMP || proto == IPPROTO_ICMPV6;
}

/* The tables' keys for the flow whose original key is k (dpservice's, field by field). */
static void port_keys(const struct dp_flow_key *k, const uint8_t nat_ip[4], union pm_buf *pmb,
		      union ol_buf *olb)
{
	struct nat_portmap_key *pm = &pmb->k;
	struct nat_portoverload_key *ol = &olb->k;
	uint32_t be;

	memset(pmb, 0, sizeof(*pmb));
	memset(olb, 0, sizeof(*olb));
	pm->vni = k->vni;
	memcpy(pm->src, k->l3_src, sizeof(pm->src));
	pm->src_is_v6 = k->src_is_v6;
	/* for ICMP echo, the key's port_dst is the identifier */
	pm->src_port = is_icmp(k->proto) ? k->port_dst : k->port_src;

	memcpy(&be, nat_ip, 4);
	ol->nat_ip = rte_be_to_cpu_32(be);
	if (k->dst_is_v6) { /* NAT64: the IPv4 address in the last 4 bytes */
		memcpy(&be, k->l3_dst + 12, 4);
		ol->dst_ip = rte_be_to_cpu_32(be);
	} else {
		ol->dst_ip = host_word(k->l3_dst);
	}
	ol->dst_port = k->port_dst;
	ol->proto = k->proto;
}

static uint32_t portmap_hash(const union pm_buf *pm)
{
	return rte_jhash(pm, sizeof(pm->k), DP_NAT_HASH_INIT);
}

uint32_t dp_nat_portmap_hash(uint32_t vni, const uint8_t *src, bool is_v6, uint16_t src_port)
{
	union pm_buf pm = {.k = {.vni = vni, .src_is_v6 = is_v6, .src_port = src_port}};

	if (is_v6) {
		memcpy(pm.k.src, src, 16);
	} else {
		uint32_t be, host;

		memcpy(&be, src, 4);
		host = rte_be_to_cpu_32(be);
		memcpy(pm.k.src, &host, 4);
	}
	return portmap_hash(&pm);
}

int dp_nat_port_alloc(const struct dp_nat_snat_dp *s, uint16_t vm_port, const struct dp_flow_key *k,
		      uint16_t *port)
{
	union pm_buf pm;
	union ol_buf ol;
	uint32_t range, hash;
	void *data;

	port_keys(k, s->nat_ip, &pm, &ol);
	if (rte_hash_lookup_data(portmap, &pm, &data) >= 0) {
		/* the source's port, unless exactly this destination is taken on it */
		ol.k.nat_port = PM_PORT(data);
		if (rte_hash_lookup(portoverload, &ol) >= 0)
			return -EEXIST;
		if (rte_hash_add_key(portoverload, &ol) < 0)
			return -ENOSPC;
		rte_hash_add_key_data(portmap, &pm, PM_DATA(ol.k.nat_port, PM_FLOWS(data) + 1));
		goto done;
	}
	range = (uint32_t)(s->max_port - s->min_port);
	if (!range || s->max_port <= s->min_port)
		return -ENOSPC;
	hash = portmap_hash(&pm);
	for (uint32_t p = 0; p < range; p++) {
		ol.k.nat_port = (uint16_t)(s->min_port + (uint16_t)((uint32_t)(hash + p) % range));
		if (rte_hash_lookup(portoverload, &ol) < 0)
			goto found;
	}
	return -ENOSPC;
found:
	if (rte_hash_add_key(portoverload, &ol) < 0)
		return -ENOSPC;
	if (rte_hash_add_key_data(portmap, &pm, PM_DATA(ol.k.nat_port, 1)) < 0) {
		rte_hash_del_key(portoverload, &ol);
		return -ENOSPC;
	}
done:
	__atomic_store_n(&dp_nat_used[vm_port], dp_nat_used[vm_port] + 1, __ATOMIC_RELAXED);
	*port = ol.k.nat_port;
	return 0;
}

void dp_nat_port_release(struct dp_ct_flow *flow)
{
	struct dp_nat_flow *nf = dp_nat_flow(flow);
	union pm_buf pm;
	union ol_buf ol;
	void *data;

	if (!nf->has_port)
		return;
	port_keys(&flow->key[0].k, nf->nat_ip, &pm, &ol);
	ol.k.nat_port = nf->nat_l4;
	rte_hash_del_key(portoverload, &ol);
	if (rte_hash_lookup_data(portmap, &pm, &data) >= 0 && PM_PORT(data) == nf->nat_l4) {
		if (PM_FLOWS(data) <= 1)
			rte_hash_del_key(portmap, &pm);
		else
			rte_hash_add_key_data(portmap, &pm,
					      PM_DATA(nf->nat_l4, PM_FLOWS(data) - 1));
	}
	__atomic_store_n(&dp_nat_used[nf->vm_port], dp_nat_used[nf->vm_port] - 1, __ATOMIC_RELAXED);
	nf->has_port = 0;
}

bool dp_nat_port_release_later(struct dp_ct_flow *flow)
{
	if (!dp_nat_flow(flow)->has_port || !release_ring)
		return false;
	if (rte_ring_mp_enqueue(release_ring, flow) != 0)
		return false;
	dp_worker_kick();
	return true;
}

#define RELEASE_BURST 64

static void release_task(void)
{
	struct rte_ring *ring = __atomic_load_n(&release_ring, __ATOMIC_ACQUIRE);
	void *flows[RELEASE_BURST];
	unsigned int n;

	if (likely(!ring || rte_ring_empty(ring)))
		return;
	n = rte_ring_sc_dequeue_burst(ring, flows, RELEASE_BURST, NULL);
	for (unsigned int i = 0; i < n; i++) {
		struct dp_ct_flow *flow = flows[i];

		dp_nat_port_release(flow);
		dp_ct_flow_put(&flow, 1);
	}
}
DP_WORKER_TASK(nat_release_worker, release_task);

DP_CT_RELEASE_HOOK(nat_release_hook, dp_nat_port_release_later);

static struct rte_hash *table(const char *name, uint32_t key_len, uint32_t entries)
{
	struct rte_hash_parameters params = {
		.name = name,
		.entries = entries + entries / 5,
		.key_len = key_len,
		.hash_func = rte_jhash,
		.hash_func_init_val = DP_NAT_HASH_INIT,
		.socket_id = (int)rte_socket_id(),
	};

	return rte_hash_create(&params);
}

int dp_nat_ports_init(void)
{
	portmap_usage.capacity = portoverload_usage.capacity = dp_ct_capacity();
	memset(dp_nat_used, 0, sizeof(dp_nat_used));
	return 0;
}

int dp_nat_ports_ensure(void)
{
	uint32_t entries = dp_ct_capacity();
	struct rte_ring *ring;

	if (release_ring)
		return 0;
	portmap = table("nat_portmap_table", sizeof(struct nat_portmap_key), entries);
	portoverload =
		table("nat_portoverload_table", sizeof(struct nat_portoverload_key), entries);
	ring = rte_ring_create("nat_release", entries / 2 + 1, (int)rte_socket_id(),
			       RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (!portmap || !portoverload || !ring) {
		DP_LOG(ERR, "nat: no memory for port tables of %u entries", entries);
		rte_ring_free(ring);
		dp_nat_ports_fini();
		return -ENOMEM;
	}
	/* the tables before the ring: a worker that sees the ring sees them */
	__atomic_store_n(&release_ring, ring, __ATOMIC_RELEASE);
	return 0;
}

void dp_nat_ports_fini(void)
{
	rte_ring_free(release_ring);
	release_ring = NULL;
	rte_hash_free(portoverload);
	portoverload = NULL;
	rte_hash_free(portmap);
	portmap = NULL;
}

static void key_addr_be(const uint8_t *key_addr, bool v6, uint8_t out[16])
{
	uint32_t host, be;

	memset(out, 0, 16);
	if (v6) {
		memcpy(out, key_addr, 16);
		return;
	}
	memcpy(&host, key_addr, 4);
	be = rte_cpu_to_be_32(host);
	memcpy(out, &be, 4);
}

int dp_nat_portmap_next(uint32_t *iter, struct dp_nat_portmap_entry *e)
{
	const union pm_buf *pm;
	const void *key;
	void *data;

	DP_CTL_CHECK();
	if (!portmap || rte_hash_iterate(portmap, &key, &data, iter) < 0)
		return -ENOENT;
	pm = key;
	e->vni = pm->k.vni;
	key_addr_be(pm->k.src, pm->k.src_is_v6, e->src);
	e->src_is_v6 = pm->k.src_is_v6;
	e->src_port = pm->k.src_port;
	e->nat_port = PM_PORT(data);
	e->flows = PM_FLOWS(data);
	return 0;
}

int dp_nat_portoverload_next(uint32_t *iter, struct dp_nat_portoverload_entry *e)
{
	const union ol_buf *ol;
	const void *key;
	void *data;
	uint32_t be;

	DP_CTL_CHECK();
	if (!portoverload || rte_hash_iterate(portoverload, &key, &data, iter) < 0)
		return -ENOENT;
	ol = key;
	be = rte_cpu_to_be_32(ol->k.nat_ip);
	memcpy(e->nat_ip, &be, 4);
	e->nat_port = ol->k.nat_port;
	be = rte_cpu_to_be_32(ol->k.dst_ip);
	memcpy(e->dst, &be, 4);
	e->dst_port = ol->k.dst_port;
	e->proto = ol->k.proto;
	return 0;
}

DP_TABLE_USAGE_REGISTER(portmap_usage);
DP_TABLE_USAGE_REGISTER(portoverload_usage);
