/* SPDX-License-Identifier: Apache-2.0 */
/* Rewriting addresses and ports of IPv4 packets with incremental checksums (RFC 1624): pure
 * functions, inlined into the snat and dnat nodes and exported by nat_rewrite.c (for the fuzz
 * tests) as the same code. */
#ifndef DP_NAT_REWRITE_H
#define DP_NAT_REWRITE_H

#include <errno.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cksum.h"

static inline uint16_t nat_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void nat_wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/*
 * An incremental update cannot tell a message whose words are all zero (checksum 0xffff)
 * from one whose words sum to 0xffff (checksum 0 or 0xffff, both verify): it gives 0. An
 * ICMP message (no pseudo-header) can be all zero, an echo reply with identifier 0 and
 * nothing else: then 0xffff it is. len bytes from the ICMP header on.
 */
static inline void nat_icmp_sum_fix(uint8_t *icmp, uint32_t len)
{
	if (nat_rd16(icmp + 2) != 0)
		return;
	for (uint32_t i = 0; i < len; i++)
		if (i != 2 && i != 3 && icmp[i])
			return;
	nat_wr16(icmp + 2, 0xffff);
}

/* Where the L4 checksum of an IPv4 packet is, and whether the address is in it: NULL when
 * the packet carries none (UDP with checksum 0, or no L4 header here). */
static inline uint8_t *nat_l4_sum(uint8_t *l4, uint8_t proto, bool *pseudo)
{
	switch (proto) {
	case IPPROTO_TCP:
		*pseudo = true;
		return l4 + 16;
	case IPPROTO_UDP:
		*pseudo = true;
		return nat_rd16(l4 + 6) ? l4 + 6 : NULL;
	case IPPROTO_ICMP:
		*pseudo = false;
		return l4 + 2;
	default:
		return NULL;
	}
}

/* The L4 header bytes a rewrite needs. */
static inline uint32_t nat_l4_need(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : 8;
}

#define NAT_ICMP_DEST_UNREACH 3
#define NAT_ICMP_TIME_EXCEEDED 11

/* Where the L4 checksum of a quoted TCP/UDP header is, if the quote holds it (and, for UDP,
 * if there is one). */
static inline uint8_t *nat_quoted_sum(uint8_t *q, uint32_t qlen, uint32_t qihl)
{
	if (q[9] == IPPROTO_TCP && qlen >= qihl + 18)
		return q + qihl + 16;
	if (q[9] == IPPROTO_UDP && qlen >= qihl + 8 && nat_rd16(q + qihl + 6))
		return q + qihl + 6;
	return NULL;
}

/*
 * An ICMP error about a translated flow: the outer address as for any packet, and the same
 * endpoint in the packet it quotes, which went the other way: its source (and source port)
 * when the outer destination changes, its destination otherwise. The quoted IP and L4
 * checksums are updated, and the ICMP checksum, which covers the quote, with them. Every
 * field changed lies at an even offset from the ICMP header, so one's complement updates
 * apply word for word.
 */
static inline int nat_rewrite_icmp_error(uint8_t *l3, uint32_t len, uint32_t l4_off, bool dst,
					 const uint8_t addr[4], int32_t l4_port)
{
	uint8_t *icmp = l3 + l4_off, *q = icmp + 8, *qa, *qsum, *qport = NULL, *a;
	uint8_t old[4], old_qip_sum[2], old_qsum[2], new_port[2];
	uint32_t qlen, qihl;

	if (len - l4_off < 8 + 20 || (q[0] >> 4) != 4)
		return -EINVAL;
	qlen = len - l4_off - 8;
	qihl = (uint32_t)(q[0] & 0x0f) * 4;
	if (qihl < 20 || qihl > qlen)
		return -EINVAL;
	if (l4_port >= 0) {
		if (l4_port > 0xffff || qlen < qihl + 4 ||
		    (q[9] != IPPROTO_TCP && q[9] != IPPROTO_UDP))
			return -EINVAL;
		qport = q + qihl + (dst ? 0 : 2);
	}
	qsum = nat_quoted_sum(q, qlen, qihl);

	/* the outer header */
	a = l3 + (dst ? 16 : 12);
	memcpy(old, a, sizeof(old));
	dp_cksum_replace(l3 + 10, old, addr, 4);
	memcpy(a, addr, 4);

	/* the quoted header, and the ICMP checksum over it */
	qa = q + (dst ? 12 : 16);
	memcpy(old, qa, sizeof(old));
	memcpy(old_qip_sum, q + 10, 2);
	dp_cksum_replace(q + 10, old, addr, 4);
	dp_cksum_replace(icmp + 2, old, addr, 4);
	dp_cksum_replace(icmp + 2, old_qip_sum, q + 10, 2);
	memcpy(qa, addr, 4);
	if (qsum) {
		memcpy(old_qsum, qsum, 2);
		dp_cksum_replace(qsum, old, addr, 4);
	}
	if (qport) {
		nat_wr16(new_port, (uint16_t)l4_port);
		if (qsum)
			dp_cksum_replace(qsum, qport, new_port, 2);
		dp_cksum_replace(icmp + 2, qport, new_port, 2);
		memcpy(qport, new_port, 2);
	}
	if (qsum) {
		if (q[9] == IPPROTO_UDP && nat_rd16(qsum) == 0)
			nat_wr16(qsum, 0xffff);
		dp_cksum_replace(icmp + 2, old_qsum, qsum, 2);
	}
	return 0;
}

/* See dp_nat_rewrite4() (dplane/nat.h). */
static inline int dp_nat_rewrite4_inline(uint8_t *l3, uint32_t len, uint32_t l4_off, bool dst,
					 const uint8_t addr[4], int32_t l4_port)
{
	uint8_t *a = l3 + (dst ? 16 : 12), *l4 = NULL, *sum = NULL, *port = NULL;
	uint8_t proto, old[4], new_port[2];
	bool pseudo = false;

	if (len < 20)
		return -EINVAL;
	proto = l3[9];
	if (l4_off) {
		if (l4_off < 20 || l4_off > len || len - l4_off < nat_l4_need(proto))
			return -EINVAL;
		l4 = l3 + l4_off;
		if (proto == IPPROTO_ICMP &&
		    (l4[0] == NAT_ICMP_DEST_UNREACH || l4[0] == NAT_ICMP_TIME_EXCEEDED))
			return nat_rewrite_icmp_error(l3, len, l4_off, dst, addr, l4_port);
		sum = nat_l4_sum(l4, proto, &pseudo);
	}
	if (l4_port >= 0) {
		if (!l4 || l4_port > 0xffff)
			return -EINVAL;
		switch (proto) {
		case IPPROTO_TCP:
		case IPPROTO_UDP:
			port = l4 + (dst ? 2 : 0);
			break;
		case IPPROTO_ICMP:
			port = l4 + 4; /* the echo identifier */
			break;
		default:
			return -EINVAL;
		}
	}

	memcpy(old, a, sizeof(old));
	dp_cksum_replace(l3 + 10, old, addr, 4);
	memcpy(a, addr, 4);
	if (sum && pseudo)
		dp_cksum_replace(sum, old, addr, 4);
	if (port) {
		nat_wr16(new_port, (uint16_t)l4_port);
		if (sum)
			dp_cksum_replace(sum, port, new_port, 2);
		memcpy(port, new_port, 2);
	}
	/* a UDP checksum that comes out 0 is sent as its other form: 0 means "none" */
	if (sum && proto == IPPROTO_UDP && nat_rd16(sum) == 0)
		nat_wr16(sum, 0xffff);
	/* a first fragment shows only part of the message: the fix needs all of it (the one
	 * case left wrong, a fragmented message of nothing but zeros, is not worth a guess) */
	if (sum && proto == IPPROTO_ICMP && !(l3[6] & 0x20))
		nat_icmp_sum_fix(l4, len - l4_off);
	return 0;
}

#endif
