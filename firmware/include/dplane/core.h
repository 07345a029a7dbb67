/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dplane firmware core: EAL, ports, mempool, graph and worker lifecycle.
 *
 * Every function here is a control function: it must be called from the control thread
 * (the thread that called dp_eal_init()) and returns 0 or a negative errno (errno is set
 * too). Called from another thread they fail with -EPERM and change nothing.
 */
#ifndef DPLANE_CORE_H
#define DPLANE_CORE_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/parse.h>

#define DP_MAX_PORTS 128
#define DP_PORT_NONE UINT16_MAX
#define DP_NAME_LEN 64
#define DP_IFNAME_LEN 16

enum dp_port_role {
	DP_PORT_UNUSED = 0,
	DP_PORT_PF = 1,
	DP_PORT_VF = 2,
};

/* What EAL found: one entry per ethdev. */
struct dp_ethdev_info {
	uint16_t port_id;
	char name[DP_NAME_LEN];     /* DPDK device name, e.g. "net_tap3" */
	char ifname[DP_IFNAME_LEN]; /* kernel interface name, "" if none */
	char driver[DP_NAME_LEN];
	uint8_t mac[6];
	uint32_t if_index; /* 0 if the device has no kernel interface */
};

/* What the control plane decided for a port. */
struct dp_port_conf {
	uint16_t port_id;
	uint8_t role;      /* enum dp_port_role */
	uint8_t pf_index;  /* 0 or 1 for PFs */
	uint16_t xconnect; /* patch every parsed frame to this port (benchmarks); DP_PORT_NONE */
	bool start;        /* start the port now (PFs always; VFs once attached) */
};

/* How the worker waits while its ports have nothing for it (--idle). */
enum dp_idle_mode {
	/* sleep until a port's rx interrupt, a packet the control thread queues, or a timeout;
	 * short pauses instead while a started port cannot interrupt */
	DP_IDLE_INTERRUPT = 0,
	DP_IDLE_PAUSE = 1, /* short pauses (1 us doubling to 200 us) */
	DP_IDLE_BUSY = 2,  /* never sleep: a whole core, as dpservice */
};

struct dp_core_conf {
	uint32_t nb_mbufs;
	uint16_t nb_ports;
	uint8_t idle; /* enum dp_idle_mode */
	struct dp_port_conf ports[DP_MAX_PORTS];
};

/* How the worker spent its idle time, since the dataplane started. */
struct dp_idle_stats {
	uint64_t sleeps;       /* waits on interrupts (rx interrupts armed, then asleep) */
	uint64_t wakeups;      /* ... ended by a packet or by the control thread */
	uint64_t timeouts;     /* ... ended by the timeout */
	uint64_t kicks;        /* wake-ups the control thread asked for (packets it queued) */
	uint64_t pauses;       /* short pauses (pause mode, or a port without rx interrupts) */
	uint64_t asleep_ns;    /* time spent in sleeps and pauses */
	uint32_t intr_ports;   /* started ports the last sleep armed */
	uint32_t nointr_ports; /* started ports that cannot interrupt (the worker pauses) */
};

struct dp_port_stats {
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;
};

/* Table usage, as operators see it. */
struct dp_table_info {
	const char *name;
	unsigned int capacity;
	unsigned int entries;
};

/* EAL. argv is copied; the copy lives as long as the process, as EAL requires. Returns the
 * number of arguments EAL consumed. Records the calling thread as the control thread. */
int dp_eal_init(int argc, char *const argv[]);
/* Release everything EAL holds, and remove EAL's runtime directory unless another process
 * (a secondary) still uses it; after it no other function may be called. */
int dp_eal_cleanup(void);

unsigned int dp_lcore_count(void);
/* How many ethdevs the linked DPDK can hold (its RTE_MAX_ETHPORTS). */
unsigned int dp_max_ethports(void);
uint16_t dp_ethdev_count(void);
int dp_ethdev_get(uint16_t port_id, struct dp_ethdev_info *info);

/* Configure mempool and ports, build the graph, launch the worker. */
int dp_core_start(const struct dp_core_conf *conf);
/* Stop the worker, stop and close every port, free the graph and the mempool. Idempotent. */
int dp_core_stop(void);
bool dp_core_running(void);

/* Before dp_core_start(): the answers (ARP, DHCPv4, DHCPv6, NA, RA) one VF's VM may draw, per
 * second, with a burst of `burst` answers at once; rate 0: no limit. */
int dp_responder_limit_set(uint32_t rate, uint32_t burst);

/* The worker's idle time so far (zeros while the dataplane is not running). */
int dp_idle_stats_get(struct dp_idle_stats *stats);

int dp_port_start(uint16_t port_id);
int dp_port_stop(uint16_t port_id);
int dp_port_stats_get(uint16_t port_id, struct dp_port_stats *stats);
/* The underlay router's MAC behind a PF: the destination of encapsulated frames. */
int dp_port_set_neigh_mac(uint16_t port_id, const uint8_t mac[6]);
/* Read the link state into the port's state for the datapath (multipath); 1 up, 0 down. */
int dp_port_link_update(uint16_t port_id);

unsigned int dp_table_count(void);
int dp_table_get(unsigned int idx, struct dp_table_info *info);

/* Wait until every worker has passed a quiescent state (RCU QSBR). */
int dp_rcu_synchronize(void);

/* Named drop counters, one per reason ("<node>_<reason>"), summed over all workers. */
unsigned int dp_drop_reason_count(void);
const char *dp_drop_reason_name(unsigned int idx);
int dp_drop_reason_packets(unsigned int idx, uint64_t *packets);

/*
 * Node test: a node's decisions on a crafted packet, as the worker makes them. The packet is
 * put into an mbuf of the dataplane's pool with the metadata given, the node's classification
 * runs (dp_core_start() must have built the graph), and the packet is reported as the node
 * left it, with the node its edge leads to. Given max_steps > 1 the packet follows its edges
 * from node to node (its conntrack flow travels with it) until it reaches a node that does not
 * classify (tx-<port>, a drop reason) or max_steps nodes ran.
 */

/* What the nodes know about a packet besides its bytes (the mbuf's private area). */
struct dp_pkt_meta {
	struct dp_parse parse; /* the frame as cls parsed it */
	uint32_t vni;
	uint16_t out_port;
	uint16_t tun_port;
	uint8_t vnf_type;
	uint8_t flow_dir;
	uint8_t route_depth;
	uint8_t has_flow; /* out only: a conntrack flow is attached */
	uint32_t flow_hash;
	uint8_t nh_ipv6[16];
};

#define DP_NODE_TEST_ROOM 1536     /* the longest frame in */
#define DP_NODE_TEST_OUT_ROOM 2048 /* the longest frame out: nodes grow frames (ipip_encap) */
#define DP_NODE_TEST_MAX_STEPS 32

struct dp_node_test_pkt {
	uint16_t port; /* in: where the packet came in */
	uint16_t len;  /* in/out: bytes in data */
	uint8_t parse; /* in: 1 = fill meta.parse from the frame first, as cls does */
	uint8_t data[DP_NODE_TEST_OUT_ROOM];
	struct dp_pkt_meta meta; /* in/out */
	/* out: the node each step sent the packet to */
	char path[DP_NODE_TEST_MAX_STEPS][DP_NAME_LEN];
};

/* Runs up to max_steps nodes from `node` on the packet; returns how many ran. -ENOENT: `node`
 * does not classify (or does not exist), -ENODEV: the dataplane is not running, -EINVAL: len or
 * max_steps out of range, or port, meta.out_port or meta.tun_port not a configured port,
 * -ENOBUFS: no mbuf. */
int dp_node_test(const char *node, struct dp_node_test_pkt *pkt, unsigned int max_steps);

#endif
