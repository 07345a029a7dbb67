/* SPDX-License-Identifier: Apache-2.0 */
/* The periodic NA and RA to a VM, made by the control thread and sent by rx_periodic. */
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/nd.h>

#include "ctl.h"
#include "inject.h"
#include "nd_conf.h"
#include "port.h"

static const uint8_t gateway_ipv6[16] = DP_GATEWAY_IPV6_INIT;
static const uint8_t all_nodes_ipv6[16] = DP_ALL_NODES_IPV6_INIT;
static const uint8_t all_nodes_mac[6] = DP_ALL_NODES_MAC_INIT;

uint8_t dp_nd_enabled;

int dp_nd_conf_set(bool enabled)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	dp_nd_enabled = enabled;
	return 0;
}

/* The VF port_id if it may be announced to, else -errno; its addressing in *f. */
static int announce_port(uint16_t port_id, struct dp_nd_frame *f)
{
	const struct dp_iface_conf *iface;
	const struct dp_port *port;
	uint8_t any = 0;

	if (!dp_nd_enabled)
		return -EOPNOTSUPP;
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return -ENODEV;
	port = &dp_ports[port_id];
	if (port->role != DP_PORT_VF)
		return -EINVAL;
	iface = port->iface; /* the control thread is its only writer */
	if (!iface)
		return -ENOENT;
	for (int i = 0; i < 16; i++)
		any |= iface->ipv6[i];
	if (!any)
		return -EADDRNOTAVAIL;
	memcpy(f->eth_dst, all_nodes_mac, 6);
	memcpy(f->eth_src, port->mac.addr_bytes, 6);
	memcpy(f->ip_src, gateway_ipv6, 16);
	memcpy(f->ip_dst, all_nodes_ipv6, 16);
	f->vtc_flow = 0x60000000;
	return 0;
}

static int send_built(uint16_t port_id, struct rte_mbuf *m, uint32_t len)
{
	int ret;

	if (len == 0) {
		rte_pktmbuf_free(m);
		return dp_errno(ENOBUFS);
	}
	ret = dp_inject(port_id, m);
	return ret < 0 ? dp_errno(-ret) : 0;
}

/* Build the periodic NA or RA for the VM behind port_id and queue it. */
static int nd_announce(uint16_t port_id, uint16_t len, bool ra)
{
	struct dp_nd_frame f;
	struct rte_mbuf *m;
	uint32_t built;
	uint8_t *buf;
	int ret;

	ret = announce_port(port_id, &f);
	if (ret < 0)
		return dp_errno(-ret);
	m = dp_pkt_alloc_len(len, &buf);
	if (!m)
		return dp_errno(ENOBUFS);
	if (ra)
		built = dp_nd_build_ra(buf, len, &f, f.eth_src);
	else
		built = dp_nd_build_na(buf, len, &f, DP_ND_NA_ROUTER | DP_ND_NA_OVERRIDE,
				       gateway_ipv6, f.eth_src);
	return send_built(port_id, m, built);
}

int dp_nd_send_unsolicited_na(uint16_t port_id)
{
	DP_CTL_CHECK();
	return nd_announce(port_id, DP_ND_NA_FRAME_LEN, false);
}

int dp_nd_send_ra(uint16_t port_id)
{
	DP_CTL_CHECK();
	return nd_announce(port_id, DP_ND_RA_FRAME_LEN, true);
}
