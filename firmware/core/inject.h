/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Packets made by the control thread (periodic ARP/NA/RA, ...) travel to the worker through
 * one ring and leave through the `rx_periodic` source node, which sends each to tx of the
 * port in its mbuf->port.
 */
#ifndef DP_INJECT_H
#define DP_INJECT_H

#include <rte_mbuf.h>

/* An empty packet from the datapath's pool (control thread), or NULL. */
struct rte_mbuf *dp_pkt_alloc(void);
/* A packet of len bytes (uninitialised, at *data), or NULL. */
struct rte_mbuf *dp_pkt_alloc_len(uint16_t len, uint8_t **data);
/* Queue m to be sent out of port_id. Takes m in every case; -ENOBUFS if the ring is full. */
int dp_inject(uint16_t port_id, struct rte_mbuf *m);

#endif
