/* SPDX-License-Identifier: Apache-2.0 */
/* The responders' rate limit per VF (responder.h). */
#include <errno.h>
#include <string.h>

#include "ctl.h"
#include "responder.h"

struct dp_responder_limit dp_responder_limit;
uint64_t dp_responder_tat[DP_MAX_PORTS];

int dp_responder_limit_set(uint32_t rate, uint32_t burst)
{
	uint64_t hz = rte_get_tsc_hz();

	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (rate > 0 && (burst == 0 || hz == 0))
		return dp_errno(EINVAL);
	memset(dp_responder_tat, 0, sizeof(dp_responder_tat));
	dp_responder_limit.interval = rate ? RTE_MAX(hz / rate, (uint64_t)1) : 0;
	dp_responder_limit.tolerance =
		(uint64_t)(burst ? burst - 1 : 0) * dp_responder_limit.interval;
	return 0;
}
