/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dp_dhcpv6_parse(): message type, transaction id, then options as 16-bit code/length/value
 * up to the end of the message. Every index is checked against len before it is read; all
 * arithmetic is in uint32_t on values <= len.
 */
#include <string.h>

#include <dplane/dhcpv6.h>

#include "../dhcp/pxe.h"

static inline uint32_t rd16(const uint8_t *p)
{
	return ((uint32_t)p[0] << 8) | p[1];
}

/* RFC 8415 21.15: user-class-data is a list of (16-bit length, opaque data); malformed
 * entries just do not match. */
static bool user_class_is_ipxe(const uint8_t *data, uint32_t len)
{
	uint32_t i = 0, n;

	while (len - i >= 2) {
		n = rd16(data + i);
		i += 2;
		if (n > len - i)
			return false;
		if (dp_pxe_is_user_class(data + i, n))
			return true;
		i += n;
	}
	return false;
}

enum dp_dhcpv6_status dp_dhcpv6_parse(const uint8_t *msg, uint32_t len, struct dp_dhcpv6_info *out)
{
	bool tftp = false, http = false;
	uint32_t i, code, olen;

	if (len < DP_DHCPV6_HDR_LEN)
		return DP_DHCPV6_TRUNCATED;
	memset(out, 0, sizeof(*out));
	out->msg_type = msg[0];
	if (out->msg_type == DP_DHCPV6_RELAY_FORW || out->msg_type == DP_DHCPV6_RELAY_REPL)
		return DP_DHCPV6_OK; /* laid out differently, and not ours to answer */

	for (i = DP_DHCPV6_HDR_LEN; i < len; i += olen) {
		if (len - i < 4)
			return DP_DHCPV6_BAD_OPTION; /* a piece of an option header */
		code = rd16(msg + i);
		olen = rd16(msg + i + 2);
		i += 4;
		if (olen > len - i)
			return DP_DHCPV6_BAD_OPTION; /* value runs past the end */
		switch (code) {
		case DP_DHCPV6_OPT_CLIENTID:
			if (olen > DP_DHCPV6_MAX_DUID)
				return DP_DHCPV6_BAD_CLIENT_ID;
			out->client_id_off = i;
			out->client_id_len = olen;
			out->flags |= DP_DHCPV6_F_CLIENT_ID;
			break;
		case DP_DHCPV6_OPT_IA_NA:
			if (olen < DP_DHCPV6_IA_NA_FIXED)
				return DP_DHCPV6_BAD_IA_NA;
			memcpy(out->iaid, msg + i, sizeof(out->iaid));
			out->flags |= DP_DHCPV6_F_IA_NA;
			break;
		case DP_DHCPV6_OPT_RAPID_COMMIT:
			if (olen != 0)
				return DP_DHCPV6_BAD_RAPID_COMMIT;
			out->flags |= DP_DHCPV6_F_RAPID_COMMIT;
			break;
		case DP_DHCPV6_OPT_VENDOR_CLASS:
			/* enterprise number, then the vendor-class-data */
			if (olen > 4 && dp_pxe_is_vendor_class(msg + i + 4, olen - 4))
				tftp = true;
			break;
		case DP_DHCPV6_OPT_USER_CLASS:
			if (user_class_is_ipxe(msg + i, olen))
				http = true;
			break;
		default:
			break;
		}
	}
	/* iPXE announces itself as a PXE client too: its user class decides */
	out->pxe = http ? DP_DHCP_PXE_HTTP : tftp ? DP_DHCP_PXE_TFTP : DP_DHCP_PXE_NONE;
	return DP_DHCPV6_OK;
}

DP_ENUM_NAME_FN(dp_dhcpv6_status_name, enum dp_dhcpv6_status, DP_DHCPV6_STATUS_LIST,
		DP_DHCPV6_STATUS_COUNT)
