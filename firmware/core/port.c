/* SPDX-License-Identifier: Apache-2.0 */
/* Ports: one RX and one TX queue each, started and stopped by the control thread. */
#include <string.h>

#include <rte_ethdev.h>
#include <rte_malloc.h>
#include <rte_mempool.h>

#include "ctl.h"
#include "fastpath.h"
#include "idle.h"
#include "port.h"
#include "worker.h"

struct dp_port dp_ports[DP_MAX_PORTS];
uint16_t dp_pf_ports[2] = {DP_PORT_NONE, DP_PORT_NONE};

/* Uplinks carry the VMs' 1500-byte packets inside a 40-byte IPv6 tunnel header. */
#define DP_OVERLAY_MTU 1500
#define DP_PF_MTU (DP_OVERLAY_MTU + 40)

static int port_configure(uint16_t port_id, struct rte_mempool *pool, bool pf)
{
	struct dp_port *port = &dp_ports[port_id];
	struct rte_eth_conf conf = {0};
	struct rte_eth_dev_info info;
	uint16_t nb_rxd = DP_RX_RING, nb_txd = DP_TX_RING;
	uint64_t tx_offloads = RTE_ETH_TX_OFFLOAD_IPV4_CKSUM | RTE_ETH_TX_OFFLOAD_UDP_CKSUM |
			       RTE_ETH_TX_OFFLOAD_TCP_CKSUM;
	int socket, ret;

	ret = rte_eth_dev_info_get(port_id, &info);
	if (ret < 0)
		return ret;
	conf.txmode.offloads = tx_offloads & info.tx_offload_capa;
	/* the NIC's verdict on IPv4 header checksums, where it gives one (cksum.h) */
	conf.rxmode.offloads = RTE_ETH_RX_OFFLOAD_IPV4_CKSUM & info.rx_offload_capa;
	/* the worker sleeps on them (idle.c); with a port without, it pauses instead */
	conf.intr_conf.rxq =
		dp_idle_mode == DP_IDLE_INTERRUPT && dp_idle_driver_interrupts(info.driver_name);

	ret = rte_eth_dev_configure(port_id, 1, 1, &conf);
	if (ret < 0 && conf.intr_conf.rxq) {
		DP_LOG(WARNING, "port %u: no rx interrupts (%s): the worker will pause when idle",
		       port_id, rte_strerror(-ret));
		conf.intr_conf.rxq = 0;
		ret = rte_eth_dev_configure(port_id, 1, 1, &conf);
	}
	port->rx_intr = conf.intr_conf.rxq;
	if (ret < 0) {
		DP_LOG(ERR, "port %u: configure failed: %s", port_id, rte_strerror(-ret));
		return ret;
	}
	if (pf) {
		ret = rte_eth_dev_set_mtu(port_id, DP_PF_MTU);
		if (ret < 0) /* full-size packets will not fit the tunnel: say so, run anyway */
			DP_LOG(WARNING, "port %u: cannot set MTU %u for tunnels: %s", port_id,
			       DP_PF_MTU, rte_strerror(-ret));
	}
	ret = rte_eth_dev_adjust_nb_rx_tx_desc(port_id, &nb_rxd, &nb_txd);
	if (ret < 0)
		return ret;
	socket = rte_eth_dev_socket_id(port_id);
	if (socket < 0)
		socket = (int)rte_socket_id();
	ret = rte_eth_rx_queue_setup(port_id, 0, nb_rxd, (unsigned int)socket, NULL, pool);
	if (ret < 0) {
		DP_LOG(ERR, "port %u: rx queue setup failed: %s", port_id, rte_strerror(-ret));
		return ret;
	}
	ret = rte_eth_tx_queue_setup(port_id, 0, nb_txd, (unsigned int)socket, NULL);
	if (ret < 0) {
		DP_LOG(ERR, "port %u: tx queue setup failed: %s", port_id, rte_strerror(-ret));
		return ret;
	}
	return 0;
}

int dp_ports_setup(const struct dp_core_conf *conf, struct rte_mempool *pool)
{
	const struct dp_port_conf *pc;
	struct dp_port *port;
	int ret;

	memset(dp_ports, 0, sizeof(dp_ports));
	dp_pf_ports[0] = dp_pf_ports[1] = DP_PORT_NONE;
	for (uint16_t i = 0; i < conf->nb_ports; i++) {
		pc = &conf->ports[i];
		if (pc->port_id >= DP_MAX_PORTS || !rte_eth_dev_is_valid_port(pc->port_id))
			return -ENODEV;
		if (pc->role != DP_PORT_PF && pc->role != DP_PORT_VF)
			return -EINVAL;
		if (pc->xconnect != DP_PORT_NONE && pc->xconnect >= DP_MAX_PORTS)
			return -EINVAL;
		port = &dp_ports[pc->port_id];
		if (port->configured)
			return -EEXIST;
		ret = rte_eth_macaddr_get(pc->port_id, &port->mac);
		if (ret < 0)
			return ret;
		port->vm_mac = dp_mac_to_u64(&port->mac); /* a guess until the VM tells */
		port->role = pc->role;
		port->pf_index = pc->pf_index;
		port->xconnect = pc->xconnect;
		ret = port_configure(pc->port_id, pool, pc->role == DP_PORT_PF);
		if (ret < 0)
			return ret;
		port->configured = true;
		if (pc->role == DP_PORT_PF && pc->pf_index < 2)
			dp_pf_ports[pc->pf_index] = pc->port_id;
		if (pc->role == DP_PORT_VF) {
			/* a VM may use any MAC address */
			ret = rte_eth_promiscuous_enable(pc->port_id);
			if (ret < 0 && ret != -ENOTSUP)
				return ret;
		}
	}
	return 0;
}

int dp_port_start(uint16_t port_id)
{
	struct dp_port *port;
	int ret;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	port = &dp_ports[port_id];
	if (port->started)
		return 0;
	ret = rte_eth_dev_start(port_id);
	if (ret < 0) {
		DP_LOG(ERR, "port %u: start failed: %s", port_id, rte_strerror(-ret));
		return dp_errno(-ret);
	}
	port->started = true;
	if (dp_port_started)
		dp_port_started(port_id);
	__atomic_store_n(&port->tx_enabled, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&port->rx_enabled, 1, __ATOMIC_RELEASE);
	dp_idle_ports_changed();
	return 0;
}

int dp_port_stop(uint16_t port_id)
{
	struct dp_port *port;
	int ret;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	port = &dp_ports[port_id];
	if (!port->started)
		return 0;
	/* no worker may touch the queues once the device is stopped */
	__atomic_store_n(&port->rx_enabled, 0, __ATOMIC_RELEASE);
	__atomic_store_n(&port->tx_enabled, 0, __ATOMIC_RELEASE);
	dp_rcu_synchronize();
	port->started = false;
	if (dp_port_stopping)
		dp_port_stopping(port_id);
	ret = rte_eth_dev_stop(port_id);
	dp_idle_ports_changed();
	if (ret < 0)
		return dp_errno(-ret);
	return 0;
}

int dp_port_set_neigh_mac(uint16_t port_id, const uint8_t mac[6])
{
	struct rte_ether_addr addr;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	memcpy(addr.addr_bytes, mac, sizeof(addr.addr_bytes));
	if (dp_ports[port_id].neigh_mac != dp_mac_to_u64(&addr)) {
		__atomic_store_n(&dp_ports[port_id].neigh_mac, dp_mac_to_u64(&addr),
				 __ATOMIC_RELAXED);
		dp_fwd_changed(); /* tunnels built with the old MAC */
	}
	return 0;
}

int dp_port_link_update(uint16_t port_id)
{
	struct rte_eth_link link;
	int ret;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	memset(&link, 0, sizeof(link));
	ret = rte_eth_link_get_nowait(port_id, &link);
	if (ret < 0)
		return dp_errno(-ret);
	if (dp_ports[port_id].link_up != (link.link_status == RTE_ETH_LINK_UP)) {
		__atomic_store_n(&dp_ports[port_id].link_up, link.link_status == RTE_ETH_LINK_UP,
				 __ATOMIC_RELAXED);
		dp_fwd_changed(); /* the PF multipath chooses */
	}
	return link.link_status == RTE_ETH_LINK_UP;
}

int dp_port_stats_get(uint16_t port_id, struct dp_port_stats *stats)
{
	struct rte_eth_stats st;
	int ret;

	DP_CTL_CHECK();
	if (!rte_eth_dev_is_valid_port(port_id))
		return dp_errno(ENODEV);
	ret = rte_eth_stats_get(port_id, &st);
	if (ret < 0)
		return dp_errno(-ret);
	stats->ipackets = st.ipackets;
	stats->opackets = st.opackets;
	stats->ibytes = st.ibytes;
	stats->obytes = st.obytes;
	stats->imissed = st.imissed;
	stats->ierrors = st.ierrors;
	stats->oerrors = st.oerrors;
	stats->rx_nombuf = st.rx_nombuf;
	return 0;
}

/* Stop and close every ethdev EAL created, ours or not: closing a net_tap removes its TAP.
 * The worker is gone: interfaces still bound are freed without waiting. */
void dp_ports_teardown(void)
{
	uint16_t port_id;

	RTE_ETH_FOREACH_DEV (port_id) {
		if (port_id < DP_MAX_PORTS && dp_ports[port_id].started)
			dp_port_stop(port_id);
		if (port_id < DP_MAX_PORTS && dp_ports[port_id].iface)
			rte_free((void *)(uintptr_t)dp_ports[port_id].iface);
		rte_eth_dev_close(port_id);
	}
	memset(dp_ports, 0, sizeof(dp_ports));
	dp_pf_ports[0] = dp_pf_ports[1] = DP_PORT_NONE;
}
