/* SPDX-License-Identifier: Apache-2.0 */
#include <string.h>

#include "conf.h"
#include "ctl.h"

struct dp_service_conf dp_service_conf = {.dhcp_mtu = 1500, .wcmp = 100};

int dp_service_conf_set(const struct dp_service_conf *conf)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (conf->nb_dns4 > DP_MAX_DNS4 || conf->nb_dns6 > DP_MAX_DNS6 ||
	    conf->dhcp_mtu < 68 || conf->dhcp_mtu > 1500 || conf->wcmp > 100)
		return dp_errno(EINVAL);
	memcpy(&dp_service_conf, conf, sizeof(dp_service_conf));
	return 0;
}
