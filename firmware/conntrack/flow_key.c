/* SPDX-License-Identifier: Apache-2.0 */
/* The flow key functions for callers outside the datapath (the fuzz tests): the very code
 * the conntrack node inlines. */
#include <dplane/conntrack.h>

#include "flow_key_inline.h"

enum dp_flow_key_status dp_flow_key_build(const uint8_t *d, uint32_t len, const struct dp_parse *p,
					  uint32_t vni, uint8_t vnf_type, struct dp_flow_key *key)
{
	return dp_flow_key_build_inline(d, len, p, vni, vnf_type, key);
}

void dp_flow_key_reverse(const struct dp_flow_key *key, struct dp_flow_key *out)
{
	dp_flow_key_reverse_inline(key, out);
}

uint8_t dp_ct_tcp_next(uint8_t state, uint8_t dir, uint8_t flags)
{
	return dp_ct_tcp_next_inline(state, dir, flags);
}

DP_ENUM_NAME_FN(dp_flow_key_status_name, enum dp_flow_key_status, DP_FLOW_KEY_STATUS_LIST,
		DP_FLOW_KEY_STATUS_COUNT)
DP_ENUM_NAME_FN(dp_ct_tcp_state_name, enum dp_ct_tcp_state, DP_CT_TCP_STATE_LIST,
		DP_CT_TCP_STATE_COUNT)
