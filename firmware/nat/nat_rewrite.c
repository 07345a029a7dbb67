/* SPDX-License-Identifier: Apache-2.0 */
/* The rewrite functions of nat_rewrite.h, as the fuzz tests call them. */
#include <dplane/nat.h>

#include "nat_rewrite.h"

int dp_nat_rewrite4(uint8_t *l3, uint32_t len, uint32_t l4_off, bool dst, const uint8_t addr[4],
		    int32_t l4_port)
{
	return dp_nat_rewrite4_inline(l3, len, l4_off, dst, addr, l4_port);
}
