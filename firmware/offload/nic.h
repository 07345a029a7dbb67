/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The NIC's side of offload, on ports whose NIC takes rte_flow rules (--nic-type mellanox,
 * bluefield2): the rules the software engine runs are handed to the port's PMD as well,
 * with the very same arrays, and the NIC carries the flows' packets; the engine keeps each
 * rule's place (dp_swflow_attach_nic) and runs whatever the NIC refused, so that a refusal
 * costs speed, never a packet.
 *
 * - Isolation (with offload on or off, as dpservice): before a PF starts it enters
 *   rte_flow_isolate mode, and once started its one ingress rule lets the underlay's tunnels
 *   in (dp_offload_isolation_build); the rest of its traffic stays with the kernel. A PF
 *   whose NIC refuses either leaves isolation again (it runs, and gets all its traffic).
 *   On a multiport e-switch (offload off there, as dpservice) the rule goes through the
 *   template API: rte_flow_configure() before the start, a one-rule table after it.
 * - A started port gets its default rule in the NIC (group 0: jump to group 2, behind which
 *   its flows' rules go). A port whose NIC refuses it has its flows' rules in the engine
 *   only; so has a captured port while it is captured (the engine's SAMPLE rule copies its
 *   packets).
 * - A flow's rule goes to the NIC when both its ports are on the e-switch of PF0 (PF0 and
 *   its VFs' representors): one that leaves by PF1, or comes in by it, or goes from a PF
 *   back out to one, needs hairpin queues, which dplane does not set up; the engine runs it.
 *
 * The control thread configures ports; the worker creates flows' rules (as dpservice's tx
 * node does); twins are destroyed by the control thread (swflow.c).
 */
#ifndef DP_OFFLOAD_NIC_H
#define DP_OFFLOAD_NIC_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_flow.h>

#include <dplane/offload.h>

#include "build.h"

/* Control thread, before the ports start (they are configured). async: the NIC takes rules
 * through the template API only (a multiport e-switch, mlx5's HW steering). */
int dp_nic_init(bool offload, bool async, const uint8_t underlay[16]);
void dp_nic_fini(void);
bool dp_nic_enabled(void);

/* Control thread, from the core's port hooks (fastpath.h). */
void dp_nic_port_started(uint16_t port_id);
void dp_nic_port_stopping(uint16_t port_id);

/* Control thread: while a port is captured the engine sees its packets (no default rule in
 * the NIC). */
void dp_nic_port_capture(uint16_t port_id, bool captured);

/* Worker: rule (the engine's, just made from spec) for packets of in_port leaving through
 * out_port: to the NIC too, where it can go. */
void dp_nic_offload(struct rte_flow *rule, uint16_t in_port, uint16_t out_port,
		    struct dp_offload_spec *spec);

void dp_nic_stats_get(struct dp_offload_stats *st);
int dp_nic_port_get(uint16_t port_id, struct dp_offload_nic_port *info);

#endif
