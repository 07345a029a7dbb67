/* SPDX-License-Identifier: Apache-2.0 */
/* The overlay's settings as the datapath reads them (set before the graph runs, overlay.c),
 * and what its nodes count outside the drop counters. */
#ifndef DP_OVERLAY_DP_H
#define DP_OVERLAY_DP_H

#include <stdbool.h>
#include <stdint.h>

/* --wcmp: the share of IPv4 underlay traffic for PF0, in %; 100 = no WCMP. */
extern uint8_t dp_overlay_wcmp;
/* --underlay-check: drop tunnels whose inner destination does not belong (true), or count
 * them (dp_overlay_underlay_audit_count, written by the worker) and deliver them. */
extern bool dp_overlay_underlay_enforce;
extern uint64_t dp_overlay_underlay_audit_count;
/* --ipv6: the host's underlay address; ipip_encap's source for a packet whose tunnel port
 * (dp_mbuf_priv.tun_port) is a PF, i.e. sent by the host itself. */
extern uint8_t dp_overlay_host_ipv6[16];

#endif
