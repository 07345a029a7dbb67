/* SPDX-License-Identifier: Apache-2.0 */
/* The exported face of the cls parser (the code itself is in parse_inline.h). */
#include <dplane/parse.h>

#include "parse_inline.h"

enum dp_parse_status dp_parse_frame(const uint8_t *data, uint32_t len, struct dp_parse *out)
{
	return dp_parse_frame_inline(data, len, out);
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
