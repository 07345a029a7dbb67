/* SPDX-License-Identifier: Apache-2.0 */
/* The periodic ARP request to a VM, made by the control thread and sent by rx_periodic. */
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/arp.h>

#include "ctl.h"
#include "inject.h"
#include "port.h"

static const uint8_t gateway_ipv4[4] = DP_GATEWAY_IPV4_INIT;

int dp_arp_send_gratuitous(uint16_t port_id)
{
	const struct dp_iface_conf *iface;
	const struct dp_port *port;
	struct rte_mbuf *m;
	uint8_t pending;
	uint8_t *buf;
	int ret;

	DP_CTL_CHECK();
	if (port_id >= DP_MAX_PORTS || !dp_ports[port_id].configured)
		return dp_errno(ENODEV);
	port = &dp_ports[port_id];
	if (port->role != DP_PORT_VF)
		return dp_errno(EINVAL);
	iface = port->iface; /* the control thread is its only writer */
	if (!iface)
		return dp_errno(ENOENT);
	if (!(iface->ipv4[0] | iface->ipv4[1] | iface->ipv4[2] | iface->ipv4[3]))
		return dp_errno(EADDRNOTAVAIL);

	m = dp_pkt_alloc_len(DP_ARP_FRAME_LEN, &buf);
	if (!m)
		return dp_errno(ENOBUFS);
	/* while the ARP cycle is pending, ask for the VM's own address: its answer tells us
	 * its MAC */
	pending = __atomic_load_n(&port->arp_pending, __ATOMIC_ACQUIRE);
	dp_arp_build_request(buf, DP_ARP_FRAME_LEN, port->mac.addr_bytes, gateway_ipv4,
			     pending ? iface->ipv4 : gateway_ipv4);
	ret = dp_inject(port_id, m);
	return ret < 0 ? dp_errno(-ret) : 0;
}
