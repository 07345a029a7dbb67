/* SPDX-License-Identifier: Apache-2.0 */
/* IP-in-IPv6 encapsulation and decapsulation on frames in memory. */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include <dplane/overlay.h>

#define ETHER_TYPE_IPV4 0x0800
#define ETHER_TYPE_IPV6 0x86dd

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void dp_encap_hdr_build(struct dp_encap_hdr *hdr, const struct dp_encap_params *e)
{
	uint8_t *eth = hdr->bytes, *ip6 = eth + DP_ETHER_LEN;

	memcpy(eth, e->dst_mac, 6);
	memcpy(eth + 6, e->src_mac, 6);
	wr16(eth + 12, ETHER_TYPE_IPV6);
	ip6[0] = 0x60; /* version 6, traffic class 0, flow label 0 */
	ip6[1] = ip6[2] = ip6[3] = 0;
	wr16(ip6 + 4, 0); /* payload length: per packet */
	ip6[6] = 0;       /* next header: per packet */
	ip6[7] = DP_TUNNEL_HOP_LIMIT;
	memcpy(ip6 + 8, e->src_ip, 16);
	memcpy(ip6 + 24, e->dst_ip, 16);
}

int dp_encap_hdr_apply(uint8_t *frame, uint32_t len, const struct dp_encap_hdr *hdr)
{
	uint8_t *eth = frame - DP_IPV6_LEN, *ip6 = eth + DP_ETHER_LEN;
	uint32_t payload;
	uint8_t next;

	if (len <= DP_ETHER_LEN)
		return -EINVAL;
	switch (rd16(frame + 12)) {
	case ETHER_TYPE_IPV4:
		next = IPPROTO_IPIP;
		break;
	case ETHER_TYPE_IPV6:
		next = IPPROTO_IPV6;
		break;
	default:
		return -EINVAL;
	}
	payload = len - DP_ETHER_LEN;
	if (payload > UINT16_MAX)
		return -EINVAL;
	/* the new headers overlap the old Ethernet header, whose type was read above */
	memcpy(eth, hdr->bytes, sizeof(hdr->bytes));
	wr16(ip6 + 4, (uint16_t)payload);
	ip6[6] = next;
	return 0;
}

int dp_ipip_encap(uint8_t *frame, uint32_t len, const struct dp_encap_params *e)
{
	struct dp_encap_hdr hdr;

	dp_encap_hdr_build(&hdr, e);
	return dp_encap_hdr_apply(frame, len, &hdr);
}

enum dp_decap_status dp_ipip_decap(uint8_t *frame, uint32_t len, const uint8_t dst_mac[6],
				   const uint8_t src_mac[6], uint32_t *out_len)
{
	const uint8_t *ip6 = frame + DP_ETHER_LEN;
	uint8_t *inner_eth = frame + DP_IPV6_LEN;
	uint32_t payload;
	uint16_t type;

	if (len < DP_ETHER_LEN + DP_IPV6_LEN + 1)
		return DP_DECAP_TRUNCATED;
	if (rd16(frame + 12) != ETHER_TYPE_IPV6 || (ip6[0] >> 4) != 6)
		return DP_DECAP_NOT_TUNNEL;
	payload = rd16(ip6 + 4);
	if (payload > len - DP_ETHER_LEN - DP_IPV6_LEN)
		return DP_DECAP_BAD_LENGTH;
	if (payload == 0)
		return DP_DECAP_TRUNCATED;
	switch (ip6[6]) {
	case IPPROTO_IPIP:
		type = ETHER_TYPE_IPV4;
		break;
	case IPPROTO_IPV6:
		type = ETHER_TYPE_IPV6;
		break;
	default:
		return DP_DECAP_NOT_TUNNEL;
	}
	if ((ip6[DP_IPV6_LEN] >> 4) != (type == ETHER_TYPE_IPV4 ? 4 : 6))
		return DP_DECAP_INNER_MISMATCH;
	/* the new Ethernet header takes the last 14 bytes of the outer IPv6 header */
	memcpy(inner_eth, dst_mac, 6);
	memcpy(inner_eth + 6, src_mac, 6);
	wr16(inner_eth + 12, type);
	*out_len = DP_ETHER_LEN + payload;
	return DP_DECAP_OK;
}

DP_ENUM_NAME_FN(dp_decap_status_name, enum dp_decap_status, DP_DECAP_STATUS_LIST,
		DP_DECAP_STATUS_COUNT)
