/* SPDX-License-Identifier: Apache-2.0 */
/*
 * NAT64 (RFC 7915's IP/ICMP translation, as dpservice does it): a VM's IPv6 packet to
 * 64:ff9b::/96 becomes an IPv4 packet from its NAT IP and port to the embedded address, and
 * the replies IPv6 again. TCP and UDP keep their header (ports, checksums over the new
 * pseudo-header); ICMPv6 echo becomes ICMP echo and back, with the identifier as the port.
 * Pure functions, inlined into the snat and dnat nodes and exported by nat_rewrite.c.
 */
#ifndef DP_NAT64_H
#define DP_NAT64_H

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

#include "nat_rewrite.h"

#define NAT64_ICMP_ECHO_REQUEST 8
#define NAT64_ICMP_ECHO_REPLY 0
#define NAT64_ICMPV6_ECHO_REQUEST 128
#define NAT64_ICMPV6_ECHO_REPLY 129

static const uint8_t dp_nat64_prefix[12] = {0x00, 0x64, 0xff, 0x9b};

/* The one's complement sum of len bytes (big-endian words) added to sum. */
static inline uint32_t nat_sum(const uint8_t *p, uint32_t len, uint32_t sum)
{
	for (uint32_t i = 0; i + 1 < len; i += 2)
		sum += nat_rd16(p + i);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

static inline uint16_t nat_fold(uint32_t sum)
{
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Where the checksum of an L4 header is, and what a translation does with its type. */
static inline int nat64_l4_sum_off(uint8_t proto)
{
	switch (proto) {
	case IPPROTO_TCP:
		return 16;
	case IPPROTO_UDP:
		return 6;
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		return 2;
	default:
		return -1;
	}
}

/* The L4 header's port (TCP/UDP: source if src, else destination; ICMP: the identifier)
 * set, and its checksum computed over pseudo (a partial sum) and the len bytes at l4. */
static inline void nat64_l4_finish(uint8_t *l4, uint32_t len, uint8_t proto, bool src,
				   uint16_t port, uint32_t pseudo)
{
	int off = nat64_l4_sum_off(proto);

	if (proto == IPPROTO_TCP || proto == IPPROTO_UDP)
		nat_wr16(l4 + (src ? 0 : 2), port);
	else
		nat_wr16(l4 + 4, port);
	nat_wr16(l4 + off, 0);
	nat_wr16(l4 + off, nat_fold(nat_sum(l4, len, pseudo)));
	if (proto == IPPROTO_UDP && nat_rd16(l4 + off) == 0)
		nat_wr16(l4 + off, 0xffff);
}

static inline uint32_t nat64_l4_need(uint8_t proto)
{
	return proto == IPPROTO_TCP ? 20 : 8;
}

/*
 * An IPv6 packet (len bytes at v6: a 40-byte header, no extension headers, then TCP, UDP or
 * ICMPv6 echo request) as IPv4 from nat_ip and source port (echo identifier) port to the
 * address embedded in its destination: len - 20 bytes at v4 (which may be v6 + 20: the L4
 * part then stays where it is). TTL from the hop limit, TOS from the traffic class. 0, or
 * -EINVAL (-ENOTSUP for another next header or ICMPv6 type).
 */
static inline int dp_nat64_6to4_inline(const uint8_t *v6, uint32_t len, uint8_t *v4,
				       const uint8_t nat_ip[4], uint16_t port)
{
	uint8_t h[40], proto;
	uint32_t plen, pseudo;

	if (len < 40 || (v6[0] >> 4) != 6)
		return -EINVAL;
	memcpy(h, v6, sizeof(h));
	plen = nat_rd16(h + 4);
	if (plen != len - 40)
		return -EINVAL;
	proto = h[6];
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMPV6)
		return -ENOTSUP;
	if (plen < nat64_l4_need(proto) || plen > 0xffff - 20)
		return -EINVAL;
	if (proto == IPPROTO_ICMPV6 && v6[40] != NAT64_ICMPV6_ECHO_REQUEST)
		return -ENOTSUP;
	if (v4 + 20 != v6 + 40)
		memmove(v4 + 20, v6 + 40, plen);
	v4[0] = 0x45;
	v4[1] = (uint8_t)((h[0] << 4) | (h[1] >> 4)); /* the traffic class */
	nat_wr16(v4 + 2, (uint16_t)(plen + 20));
	nat_wr16(v4 + 4, 0);
	nat_wr16(v4 + 6, 0);
	v4[8] = h[7];
	v4[9] = proto == IPPROTO_ICMPV6 ? IPPROTO_ICMP : proto;
	nat_wr16(v4 + 10, 0);
	memcpy(v4 + 12, nat_ip, 4);
	memcpy(v4 + 16, h + 24 + 12, 4);
	nat_wr16(v4 + 10, nat_fold(nat_sum(v4, 20, 0)));
	if (proto == IPPROTO_ICMPV6) {
		v4[20] = NAT64_ICMP_ECHO_REQUEST;
		pseudo = 0; /* ICMP has no pseudo-header */
	} else {
		pseudo = nat_sum(v4 + 12, 8, proto + plen);
	}
	nat64_l4_finish(v4 + 20, plen, v4[9], true, port, pseudo);
	return 0;
}

/*
 * The other way: an IPv4 packet (len bytes at v4, a 20-byte header, then TCP, UDP or ICMP
 * echo reply) as IPv6 from src to dst with destination port (echo identifier) port: len + 20
 * bytes at v6 (which may be v4 - 20). 0, or -EINVAL (-ENOTSUP: options, fragments, another
 * protocol or ICMP type).
 */
static inline int dp_nat64_4to6_inline(const uint8_t *v4, uint32_t len, uint8_t *v6,
				       const uint8_t src[16], const uint8_t dst[16], uint16_t port)
{
	uint8_t h[20], proto, next;
	uint32_t plen, pseudo;

	if (len < 20 || (v4[0] >> 4) != 4)
		return -EINVAL;
	if ((v4[0] & 0x0f) != 5 || (nat_rd16(v4 + 6) & 0x3fff))
		return -ENOTSUP; /* options; a fragment */
	memcpy(h, v4, sizeof(h));
	if (nat_rd16(h + 2) != len)
		return -EINVAL;
	plen = len - 20;
	proto = h[9];
	if (proto != IPPROTO_TCP && proto != IPPROTO_UDP && proto != IPPROTO_ICMP)
		return -ENOTSUP;
	if (plen < nat64_l4_need(proto))
		return -EINVAL;
	if (proto == IPPROTO_ICMP && v4[20] != NAT64_ICMP_ECHO_REPLY)
		return -ENOTSUP;
	if (v6 + 40 != v4 + 20)
		memmove(v6 + 40, v4 + 20, plen);
	next = proto == IPPROTO_ICMP ? IPPROTO_ICMPV6 : proto;
	v6[0] = (uint8_t)(0x60 | (h[1] >> 4));
	v6[1] = (uint8_t)(h[1] << 4);
	v6[2] = v6[3] = 0;
	nat_wr16(v6 + 4, (uint16_t)plen);
	v6[6] = next;
	v6[7] = h[8];
	memcpy(v6 + 8, src, 16);
	memcpy(v6 + 24, dst, 16);
	if (proto == IPPROTO_ICMP)
		v6[40] = NAT64_ICMPV6_ECHO_REPLY;
	pseudo = nat_sum(v6 + 8, 32, next + plen);
	nat64_l4_finish(v6 + 40, plen, next, false, port, pseudo);
	return 0;
}

#endif
