/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_dhcp_parse(): the fixed BOOTP header, the magic cookie, then the options as
 * code/length/value triples up to END or the end of the message. Every index is checked
 * against len before it is read; all arithmetic is in uint32_t on values <= len.
 */
#include <stdbool.h>

#include <dplane/dhcp.h>

#include "pxe.h"

#define OPT_PAD 0
#define OPT_VENDOR_CLASS 60
#define OPT_MSG_TYPE 53
#define OPT_USER_CLASS 77
#define OPT_END 255

static inline uint32_t rd32(const uint8_t *p)
{
	return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

enum dp_dhcp_status dp_dhcp_parse(const uint8_t *msg, uint32_t len, struct dp_dhcp_info *out)
{
	bool have_type = false, tftp = false, http = false;
	uint32_t i, code, olen;
	uint8_t type = 0;

	if (len < DP_DHCP_OFF_OPTIONS)
		return DP_DHCP_TRUNCATED;
	if (msg[DP_DHCP_OFF_OP] != DP_BOOTP_REQUEST)
		return DP_DHCP_NOT_REQUEST;
	if (rd32(msg + DP_DHCP_OFF_MAGIC) != DP_DHCP_MAGIC)
		return DP_DHCP_BAD_MAGIC;

	i = DP_DHCP_OFF_OPTIONS;
	while (i < len) {
		code = msg[i++];
		if (code == OPT_PAD)
			continue;
		if (code == OPT_END)
			break;
		if (i == len)
			return DP_DHCP_BAD_OPTION; /* no length byte */
		olen = msg[i++];
		if (olen > len - i)
			return DP_DHCP_BAD_OPTION; /* value runs past the end */
		switch (code) {
		case OPT_MSG_TYPE:
			if (olen != 1)
				return DP_DHCP_BAD_OPTION;
			type = msg[i];
			have_type = true;
			break;
		case OPT_VENDOR_CLASS:
			if (dp_pxe_is_vendor_class(msg + i, olen))
				tftp = true;
			break;
		case OPT_USER_CLASS:
			if (dp_pxe_is_user_class(msg + i, olen))
				http = true;
			break;
		default:
			break;
		}
		i += olen;
	}
	if (!have_type)
		return DP_DHCP_NO_MSG_TYPE;

	out->options_end = i;
	out->msg_type = type;
	/* iPXE announces itself as a PXE client too: its user class decides */
	out->pxe = http ? DP_DHCP_PXE_HTTP : tftp ? DP_DHCP_PXE_TFTP : DP_DHCP_PXE_NONE;
	return DP_DHCP_OK;
}

DP_ENUM_NAME_FN(dp_dhcp_status_name, enum dp_dhcp_status, DP_DHCP_STATUS_LIST, DP_DHCP_STATUS_COUNT)
