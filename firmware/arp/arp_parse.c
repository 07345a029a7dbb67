/* SPDX-License-Identifier: Apache-2.0 */
/* The ARP parser: a pure function, fuzzed through pyext. */
#include <string.h>

#include <dplane/arp.h>

#define ARP_HW_ETHER 1
#define ARP_PROTO_IPV4 0x0800

static inline uint16_t rd16(const uint8_t *p)
{
	return (uint16_t)((p[0] << 8) | p[1]);
}

enum dp_arp_status dp_arp_parse(const uint8_t *arp, uint32_t len, struct dp_arp_info *out)
{
	memset(out, 0, sizeof(*out));
	if (len < DP_ARP_LEN)
		return DP_ARP_TRUNCATED;
	if (rd16(arp) != ARP_HW_ETHER || arp[4] != 6)
		return DP_ARP_BAD_HARDWARE;
	if (rd16(arp + 2) != ARP_PROTO_IPV4 || arp[5] != 4)
		return DP_ARP_BAD_PROTOCOL;
	out->op = rd16(arp + 6);
	memcpy(out->sha, arp + 8, 6);
	memcpy(out->sip, arp + 14, 4);
	memcpy(out->tha, arp + 18, 6);
	memcpy(out->tip, arp + 24, 4);
	return DP_ARP_OK;
}

DP_ENUM_NAME_FN(dp_arp_status_name, enum dp_arp_status, DP_ARP_STATUS_LIST, DP_ARP_STATUS_COUNT)
