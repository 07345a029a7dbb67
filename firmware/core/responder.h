/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The answers a VM can draw from the host (ARP, DHCPv4, DHCPv6, NA and RA): at most
 * dp_responder_limit_set()'s rate per VF, with a burst, so that one VM flooding requests
 * costs the worker no more than that and cannot crowd out the others. A responder asks
 * dp_responder_allow() once it knows it would answer, and drops the request as
 * `<node>_rate_limited` when not.
 *
 * The generic cell rate algorithm: each port has a theoretical arrival time (TAT); an answer
 * is allowed while the TAT is no more than (burst - 1) intervals ahead of now, and moves it
 * one interval on. One worker writes it (with more workers: one array each).
 */
#ifndef DP_RESPONDER_H
#define DP_RESPONDER_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_common.h>
#include <rte_cycles.h>

#include <dplane/core.h>

struct dp_responder_limit {
	uint64_t interval;  /* TSC cycles per answer; 0: no limit */
	uint64_t tolerance; /* (burst - 1) intervals */
};

extern struct dp_responder_limit dp_responder_limit;
extern uint64_t dp_responder_tat[DP_MAX_PORTS];

static inline bool dp_responder_allow(uint16_t port_id)
{
	uint64_t interval = dp_responder_limit.interval, now, tat;

	if (interval == 0)
		return true;
	now = rte_get_tsc_cycles();
	tat = RTE_MAX(dp_responder_tat[port_id], now);
	if (tat - now > dp_responder_limit.tolerance)
		return false;
	dp_responder_tat[port_id] = tat + interval;
	return true;
}

#endif
