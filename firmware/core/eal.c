/* SPDX-License-Identifier: Apache-2.0 */
/* EAL start and stop, and what EAL found. */
#include <limits.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_lcore.h>

#include <dplane/core.h>

#include "ctl.h"

static char **eal_argv; /* EAL keeps pointers into it: lives as long as the process */
static bool eal_ready;

int dp_eal_init(int argc, char *const argv[])
{
	int ret, i;

	if (eal_ready || eal_argv)
		return dp_errno(EALREADY);
	if (argc < 1)
		return dp_errno(EINVAL);

	eal_argv = calloc((size_t)argc + 1, sizeof(char *));
	if (!eal_argv)
		return dp_errno(ENOMEM);
	for (i = 0; i < argc; i++) {
		eal_argv[i] = strdup(argv[i]);
		if (!eal_argv[i])
			return dp_errno(ENOMEM);
	}

	ret = rte_eal_init(argc, eal_argv);
	if (ret < 0)
		return dp_errno(rte_errno ? rte_errno : EINVAL);
	dp_ctl_set_thread();
	eal_ready = true;
	return ret;
}

int dp_eal_cleanup(void)
{
	char runtime_dir[PATH_MAX];
	int ret;

	DP_CTL_CHECK();
	if (!eal_ready)
		return 0;
	dp_core_stop();
	snprintf(runtime_dir, sizeof(runtime_dir), "%s", rte_eal_get_runtime_dir());
	eal_ready = false;
	ret = rte_eal_cleanup();
	/* EAL leaves its runtime directory behind even when it put nothing there; remove it
	 * and its parent when empty (rmdir fails harmlessly if another process uses them) */
	if (runtime_dir[0] && rmdir(runtime_dir) == 0) {
		char *slash = strrchr(runtime_dir, '/');

		if (slash && slash != runtime_dir) {
			*slash = '\0';
			rmdir(runtime_dir);
		}
	}
	if (ret < 0)
		return dp_errno(rte_errno ? rte_errno : EIO);
	return 0;
}

unsigned int dp_lcore_count(void)
{
	return eal_ready ? rte_lcore_count() : 0;
}

unsigned int dp_max_ethports(void)
{
	return RTE_MAX_ETHPORTS;
}

uint16_t dp_ethdev_count(void)
{
	return eal_ready ? rte_eth_dev_count_avail() : 0;
}

int dp_ethdev_get(uint16_t port_id, struct dp_ethdev_info *info)
{
	struct rte_eth_dev_info dev_info;
	struct rte_ether_addr mac;
	char ifname[IF_NAMESIZE];
	int ret;

	DP_CTL_CHECK();
	if (!rte_eth_dev_is_valid_port(port_id))
		return dp_errno(ENODEV);

	memset(info, 0, sizeof(*info));
	info->port_id = port_id;
	ret = rte_eth_dev_info_get(port_id, &dev_info);
	if (ret < 0)
		return dp_errno(-ret);
	ret = rte_eth_dev_get_name_by_port(port_id, info->name);
	if (ret < 0)
		return dp_errno(-ret);
	if (dev_info.driver_name)
		snprintf(info->driver, sizeof(info->driver), "%s", dev_info.driver_name);
	info->if_index = dev_info.if_index;
	if (dev_info.if_index && if_indextoname(dev_info.if_index, ifname))
		snprintf(info->ifname, sizeof(info->ifname), "%s", ifname);
	ret = rte_eth_macaddr_get(port_id, &mac);
	if (ret < 0)
		return dp_errno(-ret);
	memcpy(info->mac, mac.addr_bytes, sizeof(info->mac));
	return 0;
}
