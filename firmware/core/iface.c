/* SPDX-License-Identifier: Apache-2.0 */
/* Binding interfaces to VF ports: publish for the workers, RCU before freeing. */
#include <string.h>

#include <rte_malloc.h>

#include <dplane/iface.h>

#include "ctl.h"
#include "port.h"
#include "rcu.h"

static int vf_port(uint16_t port_id)
{
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return -ENODEV;
	if (dp_ports[port_id].role != DP_PORT_VF)
		return -EINVAL;
	return 0;
}

int dp_iface_attach(uint16_t port_id, const struct dp_iface_conf *conf)
{
	struct dp_iface_conf *copy;
	int ret;

	DP_CTL_CHECK();
	ret = vf_port(port_id);
	if (ret < 0)
		return dp_errno(-ret);
	if (dp_ports[port_id].iface)
		return dp_errno(EBUSY);
	copy = rte_malloc("dp_iface", sizeof(*copy), 0);
	if (!copy)
		return dp_errno(ENOMEM);
	memcpy(copy, conf, sizeof(*copy));
	copy->hostname[DP_HOSTNAME_LEN - 1] = '\0';
	copy->boot_file[DP_BOOT_FILE_LEN - 1] = '\0';
	__atomic_store_n(&dp_ports[port_id].arp_pending, 1, __ATOMIC_RELAXED);
	__atomic_store_n(&dp_ports[port_id].iface, copy, __ATOMIC_RELEASE);
	return 0;
}

int dp_iface_detach(uint16_t port_id)
{
	const struct dp_iface_conf *old;
	int ret;

	DP_CTL_CHECK();
	ret = vf_port(port_id);
	if (ret < 0)
		return dp_errno(-ret);
	old = dp_ports[port_id].iface;
	if (!old)
		return dp_errno(ENOENT);
	__atomic_store_n(&dp_ports[port_id].iface, NULL, __ATOMIC_RELEASE);
	dp_rcu_retire((void *)(uintptr_t)old, NULL, NULL);
	return 0;
}

int dp_iface_vm_mac(uint16_t port_id, uint8_t mac[6])
{
	struct rte_ether_addr addr;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	dp_port_vm_mac(port_id, &addr);
	memcpy(mac, addr.addr_bytes, sizeof(addr.addr_bytes));
	return 0;
}
