/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The frame parser behind `cls`. Every offset is checked against the bytes actually present
 * before it is read; no length field is believed before it is checked against them. All
 * arithmetic is done in uint32_t on values < 2^17, so nothing wraps.
 */
#include <string.h>

#include <dplane/parse.h>

#define ETHER_HDR 14
#define VLAN_TAG 4
#define ARP_LEN 28
#define IPV4_MIN_HDR 20
#define IPV6_HDR 40

#define ETH_P_IPV4 0x0800
#define ETH_P_ARP 0x0806
#define ETH_P_IPV6 0x86dd
#define ETH_P_VLAN 0x8100
#define ETH_P_QINQ 0x88a8
#define ETH_P_QINQ_OLD 0x9100

enum {
	PROTO_HOPOPTS = 0,
	PROTO_ICMP = 1,
	PROTO_TCP = 6,
	PROTO_UDP = 17,
	PROTO_ROUTING = 43,
	PROTO_FRAGMENT = 44,
	PROTO_ESP = 50,
	PROTO_AH = 51,
	PROTO_ICMPV6 = 58,
	PROTO_NONE = 59,
	PROTO_DSTOPTS = 60,
	PROTO_MOBILITY = 135,
	PROTO_HIP = 139,
	PROTO_SHIM6 = 140,
};

static inline uint32_t rd16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

static enum dp_parse_status check_l4(const uint8_t *d, uint32_t off, uint32_t end,
				     struct dp_parse *out)
{
	uint32_t avail = end - off;
	uint32_t hlen;

	switch (out->l4_proto) {
	case PROTO_TCP:
		if (avail < 20)
			return DP_PARSE_BAD_L4;
		hlen = (uint32_t)(d[off + 12] >> 4) * 4;
		if (hlen < 20 || hlen > avail)
			return DP_PARSE_BAD_L4;
		break;
	case PROTO_UDP:
		if (avail < 8)
			return DP_PARSE_BAD_L4;
		/* a fragment's UDP length covers the whole datagram, not this piece */
		if (!(out->flags & DP_PARSE_F_FRAGMENT)) {
			hlen = rd16(d + off + 4);
			if (hlen < 8 || hlen > avail)
				return DP_PARSE_BAD_L4;
		}
		break;
	case PROTO_ICMP:
		if (avail < 8)
			return DP_PARSE_BAD_L4;
		break;
	case PROTO_ICMPV6:
		if (avail < 4)
			return DP_PARSE_BAD_L4;
		break;
	default:
		break;
	}
	out->l4_off = (uint16_t)off;
	return DP_PARSE_OK;
}

static enum dp_parse_status parse_arp(const uint8_t *d, uint32_t off, uint32_t len,
				      struct dp_parse *out)
{
	if (len - off < ARP_LEN)
		return DP_PARSE_BAD_ARP;
	/* Ethernet hardware addresses, IPv4 protocol addresses: nothing else is ours */
	if (rd16(d + off) != 1 || rd16(d + off + 2) != ETH_P_IPV4 || d[off + 4] != 6 ||
	    d[off + 5] != 4)
		return DP_PARSE_BAD_ARP;
	out->l3_type = DP_L3_ARP;
	out->l3_len = ARP_LEN;
	return DP_PARSE_OK;
}

static enum dp_parse_status parse_ipv4(const uint8_t *d, uint32_t off, uint32_t len,
				       struct dp_parse *out)
{
	uint32_t ihl, total, frag;

	if (len - off < IPV4_MIN_HDR)
		return DP_PARSE_BAD_IPV4;
	if ((d[off] >> 4) != 4)
		return DP_PARSE_BAD_IPV4;
	ihl = (uint32_t)(d[off] & 0x0f) * 4;
	total = rd16(d + off + 2);
	if (ihl < IPV4_MIN_HDR || total < ihl || total > len - off)
		return DP_PARSE_BAD_IPV4;

	out->l3_type = DP_L3_IPV4;
	out->l3_len = (uint16_t)total;
	out->l4_proto = d[off + 9];
	frag = rd16(d + off + 6);
	if (frag & 0x3fff) /* MF or a fragment offset */
		out->flags |= DP_PARSE_F_FRAGMENT;
	if (frag & 0x1fff) {
		out->flags |= DP_PARSE_F_NO_L4;
		return DP_PARSE_OK;
	}
	return check_l4(d, off + ihl, off + total, out);
}

static enum dp_parse_status parse_ipv6(const uint8_t *d, uint32_t off, uint32_t len,
				       struct dp_parse *out)
{
	uint32_t end, p, hlen;
	unsigned int nexts = 0;
	uint8_t nh;

	if (len - off < IPV6_HDR)
		return DP_PARSE_BAD_IPV6;
	if ((d[off] >> 4) != 6)
		return DP_PARSE_BAD_IPV6;
	end = off + IPV6_HDR + rd16(d + off + 4);
	if (end > len)
		return DP_PARSE_BAD_IPV6;

	out->l3_type = DP_L3_IPV6;
	out->l3_len = (uint16_t)(end - off);
	nh = d[off + 6];
	p = off + IPV6_HDR;

	for (;;) {
		switch (nh) {
		case PROTO_HOPOPTS:
			if (nexts != 0) /* only allowed right after the IPv6 header */
				return DP_PARSE_BAD_IPV6_EXT;
			/* fall through */
		case PROTO_ROUTING:
		case PROTO_DSTOPTS:
		case PROTO_MOBILITY:
		case PROTO_HIP:
		case PROTO_SHIM6:
			if (end - p < 2)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = ((uint32_t)d[p + 1] + 1) * 8;
			break;
		case PROTO_AH:
			if (end - p < 2)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = ((uint32_t)d[p + 1] + 2) * 4;
			break;
		case PROTO_FRAGMENT:
			if (end - p < 8)
				return DP_PARSE_BAD_IPV6_EXT;
			hlen = 8;
			out->flags |= DP_PARSE_F_FRAGMENT;
			if (rd16(d + p + 2) & 0xfff8) /* not the first fragment */
				out->flags |= DP_PARSE_F_NO_L4;
			break;
		case PROTO_ESP:
		case PROTO_NONE:
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

enum dp_parse_status dp_parse_frame(const uint8_t *data, uint32_t len, struct dp_parse *out)
{
	uint32_t off = ETHER_HDR;
	uint32_t type;

	memset(out, 0, sizeof(*out));
	if (len > UINT16_MAX) /* no frame is that long; offsets are 16 bits */
		len = UINT16_MAX;
	if (len < ETHER_HDR)
		return DP_PARSE_BAD_ETHER;

	type = rd16(data + 12);
	while (type == ETH_P_VLAN || type == ETH_P_QINQ || type == ETH_P_QINQ_OLD) {
		if (out->vlans == DP_PARSE_MAX_VLANS || len - off < VLAN_TAG)
			return DP_PARSE_BAD_VLAN;
		type = rd16(data + off + 2);
		off += VLAN_TAG;
		out->vlans++;
	}
	out->ethertype = (uint16_t)type;
	out->l3_off = (uint16_t)off;

	switch (type) {
	case ETH_P_ARP:
		return parse_arp(data, off, len, out);
	case ETH_P_IPV4:
		return parse_ipv4(data, off, len, out);
	case ETH_P_IPV6:
		return parse_ipv6(data, off, len, out);
	default:
		out->l3_type = DP_L3_OTHER;
		return DP_PARSE_OK;
	}
}

const char *dp_parse_status_name(enum dp_parse_status status)
{
	static const char *const names[DP_PARSE_STATUS_COUNT] = {
		[DP_PARSE_OK] = "ok",
		[DP_PARSE_BAD_ETHER] = "bad_ether",
		[DP_PARSE_BAD_VLAN] = "bad_vlan",
		[DP_PARSE_BAD_ARP] = "bad_arp",
		[DP_PARSE_BAD_IPV4] = "bad_ipv4",
		[DP_PARSE_BAD_IPV6] = "bad_ipv6",
		[DP_PARSE_BAD_IPV6_EXT] = "bad_ipv6_ext",
		[DP_PARSE_BAD_L4] = "bad_l4",
	};

	if ((unsigned int)status >= DP_PARSE_STATUS_COUNT)
		return "unknown";
	return names[status];
}
