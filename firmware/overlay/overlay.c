/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The overlay's place on the path (path.h) and its settings. It ends both chains: PREROUTE in
 * the route lookup of the packet's family, EGRESS in `output`; and it takes the packets the
 * underlay sends to an interface's or an alias prefix's address into the EGRESS chain.
 */
#include <string.h>

#include <dplane/core.h>
#include <dplane/overlay.h>
#include <dplane/vnf.h>

#include "ctl.h"
#include "module.h"
#include "overlay_dp.h"
#include "path.h"
#include "route.h"

uint8_t dp_overlay_wcmp = 100;
bool dp_overlay_underlay_enforce = true;
uint64_t dp_overlay_underlay_audit_count;
uint8_t dp_overlay_host_ipv6[16];

int dp_overlay_host_set(const uint8_t ipv6[16])
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	memcpy(dp_overlay_host_ipv6, ipv6, sizeof(dp_overlay_host_ipv6));
	return 0;
}

int dp_overlay_conf_set(uint8_t wcmp)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (wcmp > 100)
		return dp_errno(EINVAL);
	dp_overlay_wcmp = wcmp;
	return 0;
}

int dp_overlay_underlay_check_set(bool enforce)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	dp_overlay_underlay_enforce = enforce;
	return 0;
}

uint64_t dp_overlay_underlay_audited(void)
{
	return __atomic_load_n(&dp_overlay_underlay_audit_count, __ATOMIC_RELAXED);
}

RTE_INIT(overlay_attach)
{
	dp_chain_terminal(DP_CHAIN_PREROUTE, "ipv4_lookup", "ipv6_lookup");
	dp_chain_terminal(DP_CHAIN_EGRESS, "output", "output");
	dp_vnf_dispatch_chain(DP_VNF_INTERFACE_IP, DP_CHAIN_EGRESS);
	dp_vnf_dispatch_chain(DP_VNF_ALIAS_PFX, DP_CHAIN_EGRESS);
}

/* Routes live in VNI tables, flows in conntrack: both must exist when packets flow. */
static struct dp_module overlay_module = {
	.name = "overlay",
	.depends = {"vni", "vnf", "conntrack"},
};
DP_MODULE_REGISTER(overlay_module);
