/* SPDX-License-Identifier: Apache-2.0 */
/* IPv4 header checksums of received packets: the NIC's verdict when it gives one (rx
 * offload), the header summed in software otherwise. */
#ifndef DP_CKSUM_H
#define DP_CKSUM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_branch_prediction.h>
#include <rte_mbuf.h>

/* hdr: an IPv4 header whose IHL the parser has checked against the packet. The one's
 * complement sum of a correct header (its checksum included) is 0xffff, in either byte
 * order: summed 32 bits at a time (RFC 1071), then folded. */
static inline bool dp_ipv4_hdr_cksum_ok(const uint8_t *hdr)
{
	unsigned int words = hdr[0] & 0x0f;
	uint32_t w[5];
	uint64_t sum;

	memcpy(w, hdr, sizeof(w)); /* the 20 bytes every header has: no loop */
	sum = (uint64_t)w[0] + w[1] + w[2] + w[3] + w[4];
	for (unsigned int i = 5; unlikely(i < words); i++) { /* options */
		uint32_t opt;

		memcpy(&opt, hdr + 4 * i, sizeof(opt));
		sum += opt;
	}
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffffffff) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* RFC 1624, eq. 3: the checksum at sum, covering len bytes (even) that changed from old to
 * new: HC' = ~(~HC + ~m + m'). What NAT and the offload engine rewrite. */
static inline void dp_cksum_replace(uint8_t *sum, const uint8_t *old, const uint8_t *new,
				    unsigned int len)
{
	uint32_t s = (uint16_t) ~(sum[0] << 8 | sum[1]);

	for (unsigned int i = 0; i < len; i += 2)
		s += (uint16_t) ~(old[i] << 8 | old[i + 1]) + (uint32_t)(new[i] << 8 | new[i + 1]);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	sum[0] = (uint8_t)(~s >> 8);
	sum[1] = (uint8_t)~s;
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
