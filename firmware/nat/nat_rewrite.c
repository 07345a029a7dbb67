/* SPDX-License-Identifier: Apache-2.0 */
/* The rewrite and NAT64 functions of nat_rewrite.h and nat64.h, as the fuzz tests call them. */
#include <dplane/nat.h>

#include "nat64.h"
#include "nat_rewrite.h"

int dp_nat_rewrite4(uint8_t *l3, uint32_t len, uint32_t l4_off, bool dst, const uint8_t addr[4],
		    int32_t l4_port)
{
	return dp_nat_rewrite4_inline(l3, len, l4_off, dst, addr, l4_port);
}

int dp_nat64_6to4(const uint8_t *v6, uint32_t len, uint8_t *v4, const uint8_t nat_ip[4],
		  uint16_t port)
{
	return dp_nat64_6to4_inline(v6, len, v4, nat_ip, port);
}

int dp_nat64_4to6(const uint8_t *v4, uint32_t len, uint8_t *v6, const uint8_t src[16],
		  const uint8_t dst[16], uint16_t port)
{
	return dp_nat64_4to6_inline(v4, len, v6, src, dst, port);
}
