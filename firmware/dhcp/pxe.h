/* SPDX-License-Identifier: Apache-2.0 */
/* PXE boot-request matching shared by the DHCPv4 and DHCPv6 parsers (bounded, pure). */
#ifndef DP_DHCP_PXE_H
#define DP_DHCP_PXE_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <dplane/dhcp.h>

/* Does [data, data + len) contain the `n` bytes of `needle`? */
static inline bool dp_pxe_contains(const uint8_t *data, uint32_t len, const char *needle,
				   uint32_t n)
{
	if (n == 0)
		return true;
	for (uint32_t i = 0; len >= n && i <= len - n; i++)
		if (data[i] == (uint8_t)needle[0] && memcmp(data + i, needle, n) == 0)
			return true;
	return false;
}

static inline bool dp_pxe_is_vendor_class(const uint8_t *data, uint32_t len)
{
	return dp_pxe_contains(data, len, DP_PXE_VENDOR_CLASS, sizeof(DP_PXE_VENDOR_CLASS) - 1);
}

static inline bool dp_pxe_is_user_class(const uint8_t *data, uint32_t len)
{
	return len == sizeof(DP_PXE_USER_CLASS) - 1 &&
	       memcmp(data, DP_PXE_USER_CLASS, sizeof(DP_PXE_USER_CLASS) - 1) == 0;
}

#endif
