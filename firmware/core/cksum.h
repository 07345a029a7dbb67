/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 header checksums of received packets: the NIC's verdict when it gives one (rx
 * offload), the header summed in software otherwise. */
#ifndef DP_CKSUM_H
#define DP_CKSUM_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ip.h>
#include <rte_mbuf.h>

/* hdr: an IPv4 header whose IHL the parser has checked against the packet. */
static inline bool dp_ipv4_hdr_cksum_ok(const uint8_t *hdr)
{
	return rte_raw_cksum(hdr, (size_t)(hdr[0] & 0x0f) * 4) == 0xffff;
}

/* The same for the outermost header of a received packet. */
static inline bool dp_rx_ipv4_cksum_ok(const struct rte_mbuf *m, const uint8_t *hdr)
{
	switch (m->ol_flags & RTE_MBUF_F_RX_IP_CKSUM_MASK) {
	case RTE_MBUF_F_RX_IP_CKSUM_GOOD:
		return true;
	case RTE_MBUF_F_RX_IP_CKSUM_BAD:
		return false;
	default:
		return dp_ipv4_hdr_cksum_ok(hdr);
	}
}

#endif
