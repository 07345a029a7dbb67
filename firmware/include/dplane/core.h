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

struct dp_core_conf {
	uint32_t nb_mbufs;
	uint16_t nb_ports;
	struct dp_port_conf ports[DP_MAX_PORTS];
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

/* Service-wide settings the datapath answers with (DHCP, ND); set before dp_core_start. */
#define DP_MAX_DNS4 63
#define DP_MAX_DNS6 15

struct dp_service_conf {
	uint16_t dhcp_mtu;
	uint8_t nb_dns4;
	uint8_t nb_dns6;
	uint8_t dns4[DP_MAX_DNS4][4];   /* network order */
	uint8_t dns6[DP_MAX_DNS6][16];
	bool ipv6_overlay;              /* answer ND/RS and send periodic NA/RA */
	uint8_t wcmp;                   /* % of IPv4 underlay traffic for PF0; 100 = no WCMP */
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
/* How many ethdevs this DPDK build can hold (RTE_MAX_ETHPORTS). */
unsigned int dp_max_ethports(void);
uint16_t dp_ethdev_count(void);
int dp_ethdev_get(uint16_t port_id, struct dp_ethdev_info *info);

/* Configure mempool and ports, build the graph, launch the worker. */
int dp_core_start(const struct dp_core_conf *conf);
/* Stop the worker, stop and close every port, free the graph and the mempool. Idempotent. */
int dp_core_stop(void);
bool dp_core_running(void);

int dp_port_start(uint16_t port_id);
int dp_port_stop(uint16_t port_id);
int dp_port_stats_get(uint16_t port_id, struct dp_port_stats *stats);
/* The underlay router's MAC behind a PF: the destination of encapsulated frames. */
int dp_port_set_neigh_mac(uint16_t port_id, const uint8_t mac[6]);
/* Read the link state into the port's state for the datapath (multipath); 1 up, 0 down. */
int dp_port_link_update(uint16_t port_id);

int dp_service_conf_set(const struct dp_service_conf *conf);

unsigned int dp_table_count(void);
int dp_table_get(unsigned int idx, struct dp_table_info *info);

/* Wait until every worker has passed a quiescent state (RCU QSBR). */
int dp_rcu_synchronize(void);

/* Named drop counters, one per reason ("<node>_<reason>"), summed over all workers. */
unsigned int dp_drop_reason_count(void);
const char *dp_drop_reason_name(unsigned int idx);
int dp_drop_reason_packets(unsigned int idx, uint64_t *packets);

#endif
