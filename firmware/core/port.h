/* SPDX-License-Identifier: Apache-2.0 */
/* Port state shared between the control thread (only writer) and the workers. */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>

#include <dplane/core.h>
#include <dplane/iface.h>

#include "fastpath.h"

struct rte_mempool;

#define DP_RX_BURST 32
#define DP_RX_RING (4 * DP_RX_BURST) /* as dpservice: 128 mbufs parked per port */
#define DP_TX_RING 1024

struct dp_port {
	uint8_t role; /* enum dp_port_role; fixed while the graph runs */
	uint8_t pf_index;
	uint16_t xconnect; /* DP_PORT_NONE, or patch target (benchmarks) */
	bool configured;
	bool started; /* control only */
	bool rx_intr; /* queue 0 delivers rx interrupts the worker sleeps on (idle.c); fixed */
	/* read by workers, written by control; cleared + RCU-synchronised before a stop */
	uint8_t rx_enabled;
	uint8_t tx_enabled;
	/* set by control when an interface is attached, cleared by the worker once the VM
	 * answered the ARP request for its address (its MAC is learned) */
	uint8_t arp_pending;
	struct rte_ether_addr mac; /* the port's own MAC; fixed while the graph runs */
	/* the VM's MAC: starts as the port's own, learned by the worker from ARP/DHCP/NS;
	 * it belongs to the port and outlives interfaces. 48 bits in an atomic word. */
	uint64_t vm_mac;
	/* PFs: the underlay router's MAC (from the kernel's neighbour table; 0 = unknown) and
	 * the link state, both set by control, read by workers (atomics) */
	uint64_t neigh_mac;
	uint8_t link_up;
	/* the interface bound to this VF (RCU: published by control, NULL = none) */
	const struct dp_iface_conf *iface;
};

extern struct dp_port dp_ports[DP_MAX_PORTS];
/* port ids of PF0 and PF1 (DP_PORT_NONE if absent); fixed while the graph runs */
extern uint16_t dp_pf_ports[2];

static inline bool dp_port_rx_enabled(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].rx_enabled, __ATOMIC_ACQUIRE);
}

static inline const struct dp_iface_conf *dp_port_iface(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].iface, __ATOMIC_ACQUIRE);
}

static inline uint64_t dp_mac_to_u64(const struct rte_ether_addr *mac)
{
	uint64_t v = 0;

	for (int i = 0; i < RTE_ETHER_ADDR_LEN; i++)
		v = (v << 8) | mac->addr_bytes[i];
	return v;
}

static inline void dp_u64_to_mac(uint64_t v, struct rte_ether_addr *mac)
{
	for (int i = RTE_ETHER_ADDR_LEN - 1; i >= 0; i--, v >>= 8)
		mac->addr_bytes[i] = (uint8_t)v;
}

static inline void dp_port_vm_mac(uint16_t port_id, struct rte_ether_addr *mac)
{
	dp_u64_to_mac(__atomic_load_n(&dp_ports[port_id].vm_mac, __ATOMIC_RELAXED), mac);
}

/* Worker side: remember the VM's MAC (from ARP replies, DHCP requests, neighbour
 * solicitations). */
static inline void dp_port_learn_vm_mac(uint16_t port_id, const struct rte_ether_addr *mac)
{
	uint64_t v = dp_mac_to_u64(mac);

	if (dp_ports[port_id].vm_mac != v) {
		__atomic_store_n(&dp_ports[port_id].vm_mac, v, __ATOMIC_RELAXED);
		dp_fwd_changed(); /* frames for the VM went to its old MAC */
	}
}

static inline void dp_port_neigh_mac(uint16_t port_id, struct rte_ether_addr *mac)
{
	dp_u64_to_mac(__atomic_load_n(&dp_ports[port_id].neigh_mac, __ATOMIC_RELAXED), mac);
}

static inline bool dp_port_link_up(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].link_up, __ATOMIC_RELAXED);
}

static inline bool dp_port_tx_enabled(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].tx_enabled, __ATOMIC_ACQUIRE);
}

int dp_ports_setup(const struct dp_core_conf *conf, struct rte_mempool *pool);
void dp_ports_teardown(void);

#endif
