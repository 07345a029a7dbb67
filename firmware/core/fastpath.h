/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Attach points for a fast path in front of the graph (the offload feature's flow engine,
 * and the NIC's rules), set before the worker starts and left alone while it runs. Two on the
 * packet path:
 *
 * - dp_rx_fastpath sees every burst a port received, before cls. It sends on or frees the
 *   packets it takes, moves the others to the front of pkts (in order) and returns how many
 *   they are; for each of them it sets dp_mbuf_priv.fastpath_read (and .flow to NULL).
 * - dp_tx_observer sees every burst a tx node is about to send, unchanged, to learn from the
 *   packets that crossed the graph (a flow's rule is built from its packet).
 *
 * NULL (the default): no fast path.
 */
#ifndef DP_FASTPATH_H
#define DP_FASTPATH_H

#include <stdint.h>

#include <rte_mbuf.h>

typedef uint16_t (*dp_rx_fastpath_fn)(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n,
				      uint64_t now);
typedef void (*dp_tx_observer_fn)(uint16_t port_id, struct rte_mbuf **pkts, uint16_t n);

extern dp_rx_fastpath_fn dp_rx_fastpath;
extern dp_tx_observer_fn dp_tx_observer;

/*
 * And two on the control thread, around a port's start and stop (dp_port_start/stop): a
 * NIC takes rules for a port only while it is started. dp_port_started runs once the device
 * has started, before the worker polls it; dp_port_stopping before the device stops.
 */
typedef void (*dp_port_hook_fn)(uint16_t port_id);

extern dp_port_hook_fn dp_port_started;
extern dp_port_hook_fn dp_port_stopping;

/*
 * Moves on whenever forwarding state changes (a mutating RPC, a neighbour's or a VM's MAC, a
 * link): what a fast path learnt from packets before is stale then.
 */
extern uint32_t dp_fwd_epoch;
static inline void dp_fwd_changed(void)
{
	__atomic_fetch_add(&dp_fwd_epoch, 1, __ATOMIC_RELEASE);
}

#endif
