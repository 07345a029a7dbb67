/* SPDX-License-Identifier: Apache-2.0 */
/* Port state shared between the control thread (only writer) and the workers. */
#ifndef DP_PORT_H
#define DP_PORT_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/core.h>

struct rte_mempool;

#define DP_RX_BURST 32
#define DP_RX_RING 1024
#define DP_TX_RING 1024

struct dp_port {
	uint8_t role;      /* enum dp_port_role; fixed while the graph runs */
	uint8_t pf_index;
	uint16_t xconnect; /* DP_PORT_NONE, or patch target (benchmarks) */
	bool configured;
	bool started;      /* control only */
	/* read by workers, written by control; cleared + RCU-synchronised before a stop */
	uint8_t rx_enabled;
	uint8_t tx_enabled;
	uint8_t attached; /* a VF bound to an interface: its traffic is classified */
};

extern struct dp_port dp_ports[DP_MAX_PORTS];

static inline bool dp_port_rx_enabled(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].rx_enabled, __ATOMIC_ACQUIRE);
}

static inline bool dp_port_attached(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].attached, __ATOMIC_ACQUIRE);
}

static inline bool dp_port_tx_enabled(uint16_t port_id)
{
	return __atomic_load_n(&dp_ports[port_id].tx_enabled, __ATOMIC_ACQUIRE);
}

int dp_ports_setup(const struct dp_core_conf *conf, struct rte_mempool *pool);
void dp_ports_teardown(void);

#endif
