/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frame parser behind `cls` (dp_parse_frame() in dplane/parse.h), inline so that the
 * cls node pays no call per packet. Every offset is checked against the bytes actually
 * present before it is read; no length field is believed before it is checked against them.
 * All arithmetic is done in uint32_t on values < 2^17, so nothing wraps.
 *
 * parse.c exports the same code as dp_parse_frame(), which the fuzz tests call.
 */
#ifndef DP_PARSE_INLINE_H
#define DP_PARSE_INLINE_H

#include <stdint.h>

#include <rte_common.h>

#include <dplane/parse.h>

#define DPP_ETHER_HDR 14
#define DPP_VLAN_TAG 4
#define DPP_ARP_LEN 28
#define DPP_IPV4_MIN_HDR 20
#define DPP_IPV6_HDR 40

#define DPP_ETH_P_IPV4 0x0800
#define DPP_ETH_P_ARP 0x0806
#define DPP_ETH_P_IPV6 0x86dd
#define DPP_ETH_P_VLAN 0x8100
#define DPP_ETH_P_QINQ 0x88a8
#define DPP_ETH_P_QINQ_OLD 0x9100

enum {
	DPP_PROTO_HOPOPTS = 0,
	DPP_PROTO_ICMP = 1,
	DPP_PROTO_TCP = 6,
	DPP_PROTO_UDP = 17,
	DPP_PROTO_ROUTING = 43,
	DPP_PROTO_FRAGMENT = 44,
	DPP_PROTO_ESP = 50,
	DPP_PROTO_AH = 51,
	DPP_PROTO_ICMPV6 = 58,
	DPP_PROTO_NONE = 59,
	DPP_PROTO_DSTOPTS = 60,
	DPP_PROTO_MOBILITY = 135,
	DPP_PROTO_HIP = 139,
	DPP_PROTO_SHIM6 = 140,
};

static __rte_always_inline uint32_t rd16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

static __rte_always_inline enum dp_parse_status check_l4(const uint8_t *d, uint32_t off,
							 uint32_t end, struct dp_parse *out)
{
	uint32_t avail = end - off;
	uint32_t hlen;

	switch (out->l4_proto) {
	case DPP_PROTO_TCP:
		if (avail < 20)
			return DP_PARSE_BAD_L4;
		hlen = (uint32_t)(d[off + 12] >> 4) * 4;
		if (hlen < 20 || hlen > avail)
			return DP_PARSE_BAD_L4;
		break;
	case DPP_PROTO_UDP:
		if (avail < 8)
			return DP_PARSE_BAD_L4;
		/* a fragment's UDP length covers the whole datagram, not this piece */
		if (!(out->flags & DP_PARSE_F_FRAGMENT)) {
			hlen = rd16(d + off + 4);
			if (hlen < 8 || hlen > avail)
				return DP_PARSE_BAD_L4;
		}
		break;
	case DPP_PROTO_ICMP:
		if (avail < 8)
			return DP_PARSE_BAD_L4;
		break;
	case DPP_PROTO_ICMPV6:
		if (avail < 4)
			return DP_PARSE_BAD_L4;
		break;
	default:
		break;
	}
	out->l4_off = (uint16_t)off;
	return DP_PARSE_OK;
}

static __rte_always_inline enum dp_parse_status parse_arp(const uint8_t *d, uint32_t off,
							  uint32_t len, struct dp_parse *out)
{
	if (len - off < DPP_ARP_LEN)
		return DP_PARSE_BAD_ARP;
	/* Ethernet hardware addresses, IPv4 protocol addresses: nothing else is ours */
	if (rd16(d + off) != 1 || rd16(d + off + 2) != DPP_ETH_P_IPV4 || d[off + 4] != 6 ||
	    d[off + 5] != 4)
		return DP_PARSE_BAD_ARP;
	out->l3_type = DP_L3_ARP;
	out->l3_len = DPP_ARP_LEN;
	return DP_PARSE_OK;
}

static __rte_always_inline enum dp_parse_status parse_ipv4(const uint8_t *d, uint32_t off,
							   uint32_t len, struct dp_parse *out)
{
	uint32_t ihl, total, frag;

	if (len - off < DPP_IPV4_MIN_HDR)
		return DP_PARSE_BAD_IPV4;
	if ((d[off] >> 4) != 4)
		return DP_PARSE_BAD_IPV4;
	ihl = (uint32_t)(d[off] & 0x0f) * 4;
	total = rd16(d + off + 2);
	if (ihl < DPP_IPV4_MIN_HDR || total < ihl || total > len - off)
		return DP_PARSE_BAD_IPV4;

	out->l3_type = DP_L3_IPV4;
	out->l3_len = (uint16_t)total;
	out->l4_proto = d[off + 9];
	frag = rd16(d + off + 6);
	if (frag & 0x3fff) /* MF or a fragment offset */
		out->flags |= DP_PARSE_F_FRAGMENT;
	if ((frag & 0x1fff) || out->l4_proto == DPP_PROTO_ESP || out->l4_proto == DPP_PROTO_NONE) {
		out->flags |= DP_PARSE_F_NO_L4; /* a later fragment, or nothing to parse */
		return DP_PARSE_OK;
	}
	return check_l4(d, off + ihl, off + total, out);
}

static inline enum dp_parse_status parse_ipv6(const uint8_t *d, uint32_t off, uint32_t len,
					      struct dp_parse *out)
{
	uint32_t end, p, hlen;
	unsigned int nexts = 0;
	uint8_t nh;

	if (len - off < DPP_IPV6_HDR)
		return DP_PARSE_BAD_IPV6;
	if ((d[off] >> 4) != 6)
		return DP_PARSE_BAD_IPV6;
	end = off + DPP_IPV6_HDR + rd16(d + off + 4);
	if (end > len)
		return DP_PARSE_BAD_IPV6;

	out->l3_type = DP_L3_IPV6;
	out->l3_len = (uint16_t)(end - off);
	nh = d[off + 6];
	p = off + DPP_IPV6_HDR;

	for (;;) {
		switch (nh) {
		case DPP_PROTO_HOPOPTS:
			if (nexts != 0) /* only allowed right after the IPv6 header */
				return DP_PARSE_BAD_IPV6_EXT;
			/* fall through */
		case DPP_PROTO_ROUTING:
		case DPP_PROTO_DSTOPTS:
		case DPP_PROTO_MOBILITY:
		case DPP_PROTO_HIP:
		case DPP_PROTO_SHIM6:
			if (end - p < 2)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = ((uint32_t)d[p + 1] + 1) * 8;
			break;
		case DPP_PROTO_AH:
			if (end - p < 2)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = ((uint32_t)d[p + 1] + 2) * 4;
			break;
		case DPP_PROTO_FRAGMENT:
			if (end - p < 8)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = 8;
			/* offset 0 without M is an atomic fragment: a whole datagram (RFC 6946) */
			if (rd16(d + p + 2) & 0xfff9)
				out->flags |= DP_PARSE_F_FRAGMENT;
			if (rd16(d + p + 2) & 0xfff8) /* not the first fragment */
				out->flags |= DP_PARSE_F_NO_L4;
			break;
		case DPP_PROTO_ESP:
		case DPP_PROTO_NONE:
			out->flags |= DP_PARSE_F_NO_L4;
			/* fall through */
		default:
			out->l4_proto = nh;
			if (out->flags & DP_PARSE_F_NO_L4)
				return DP_PARSE_OK;
			return check_l4(d, p, end, out);
		}
		if (hlen > end - p || ++nexts > DP_PARSE_MAX_IPV6_EXT)
			return DP_PARSE_BAD_IPV6_EXT;
		out->flags |= DP_PARSE_F_IPV6_EXT;
		nh = d[p];
		p += hlen;
		if (out->flags & DP_PARSE_F_NO_L4) {
			out->l4_proto = nh;
			return DP_PARSE_OK;
		}
	}
}

static __rte_always_inline enum dp_parse_status
dp_parse_frame_inline(const uint8_t *data, uint32_t len, struct dp_parse *out)
{
	uint32_t off = DPP_ETHER_HDR;
	uint32_t type;

	*out = (struct dp_parse){0};
	if (len > UINT16_MAX) /* no frame is that long; offsets are 16 bits */
		len = UINT16_MAX;
	if (len < DPP_ETHER_HDR)
		return DP_PARSE_BAD_ETHER;

	type = rd16(data + 12);
	while (type == DPP_ETH_P_VLAN || type == DPP_ETH_P_QINQ || type == DPP_ETH_P_QINQ_OLD) {
		if (out->vlans == DP_PARSE_MAX_VLANS || len - off < DPP_VLAN_TAG)
			return DP_PARSE_BAD_VLAN;
		type = rd16(data + off + 2);
		off += DPP_VLAN_TAG;
		out->vlans++;
	}
	out->ethertype = (uint16_t)type;
	out->l3_off = (uint16_t)off;

	switch (type) {
	case DPP_ETH_P_ARP:
		return parse_arp(data, off, len, out);
	case DPP_ETH_P_IPV4:
		return parse_ipv4(data, off, len, out);
	case DPP_ETH_P_IPV6:
		return parse_ipv6(data, off, len, out);
	default:
		out->l3_type = DP_L3_OTHER;
		return DP_PARSE_OK;
	}
}

#endif
