/* SPDX-License-Identifier: Apache-2.0 */
/*
 * arp: ARP from a VM (class DP_CLS_VF_ARP: a VF with an interface).
 *
 * A request for the gateway 169.254.0.1 is turned into the reply in place and sent back out
 * of the VF it came from, whatever its sender fields say (a zero hardware address, a 0.0.0.0
 * probe): Ethernet back to the frame's source from the VF's MAC, sender = VF MAC /
 * 169.254.0.1, target = the request's sender hardware and IP addresses. A frame from a group
 * (or zero) Ethernet address has nobody to go back to and is dropped. While the port's ARP
 * cycle is pending (set when its interface was created), the VM's reply for its own address
 * teaches us its MAC (the Ethernet source) and ends the cycle; the reply itself is consumed.
 * Every other ARP packet is dropped under its reason.
 */
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/arp.h>

#include "cls.h"
#include "mbuf.h"
#include "node.h"
#include "port.h"
#include "responder.h"

enum {
	ARP_DROP = 0,
	ARP_MALFORMED,    /* the ARP parser refused it (cls checks the same: defensive) */
	ARP_NO_INTERFACE, /* the interface went away since cls */
	ARP_NOT_REQUEST,  /* a reply outside the ARP cycle, or another operation */
	ARP_NOT_GATEWAY,  /* a request for another address than 169.254.0.1 */
	ARP_BAD_SENDER,   /* group or zero Ethernet source: nothing to answer to or to learn */
	ARP_LEARNED,      /* the VM's answer during the ARP cycle: consumed */
	ARP_RATE_LIMITED, /* beyond the VF's share of answers (responder.h) */
	ARP_EDGE_COUNT,
};

DP_TX_EDGES("arp", arp_tx);

static const uint8_t gateway_ipv4[4] = DP_GATEWAY_IPV4_INIT;

static inline bool mac_is_unicast(const uint8_t *mac)
{
	return !(mac[0] & 0x01) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static inline bool ipv4_is_zero(const uint8_t *ip)
{
	return !(ip[0] | ip[1] | ip[2] | ip[3]);
}

/* The VM's reply for its own address while the ARP cycle is pending: learn its MAC. */
static inline rte_edge_t arp_reply(uint16_t port_id, const struct dp_iface_conf *iface,
				   const uint8_t *frame, const struct dp_arp_info *arp)
{
	struct dp_port *port = &dp_ports[port_id];
	struct rte_ether_addr mac;

	if (!__atomic_load_n(&port->arp_pending, __ATOMIC_ACQUIRE) || ipv4_is_zero(iface->ipv4) ||
	    memcmp(arp->sip, iface->ipv4, 4) != 0)
		return ARP_NOT_REQUEST;
	if (!mac_is_unicast(frame + 6))
		return ARP_BAD_SENDER;
	memcpy(mac.addr_bytes, frame + 6, RTE_ETHER_ADDR_LEN);
	dp_port_learn_vm_mac(port_id, &mac);
	__atomic_store_n(&port->arp_pending, 0, __ATOMIC_RELEASE);
	return ARP_LEARNED;
}

static inline rte_edge_t arp_handle(struct rte_mbuf *m)
{
	const struct dp_parse *p = &dp_mbuf_priv(m)->parse;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t len = rte_pktmbuf_data_len(m);
	const struct dp_iface_conf *iface;
	const uint8_t *own_mac;
	struct dp_arp_info arp;
	uint8_t *pkt;

	iface = dp_port_iface(m->port);
	if (unlikely(!iface))
		return ARP_NO_INTERFACE;
	if (unlikely(p->l3_off > len))
		return ARP_MALFORMED;
	pkt = frame + p->l3_off;
	if (unlikely(dp_arp_parse(pkt, len - p->l3_off, &arp) != DP_ARP_OK))
		return ARP_MALFORMED;

	if (arp.op == DP_ARP_OP_REPLY)
		return arp_reply(m->port, iface, frame, &arp);
	if (arp.op != DP_ARP_OP_REQUEST)
		return ARP_NOT_REQUEST;
	if (memcmp(arp.tip, gateway_ipv4, sizeof(gateway_ipv4)) != 0)
		return ARP_NOT_GATEWAY;
	if (!mac_is_unicast(frame + 6))
		return ARP_BAD_SENDER;

	if (unlikely(!dp_responder_allow(m->port)))
		return ARP_RATE_LIMITED;

	/* the request becomes the reply: from the gateway at the VF's MAC back to the frame's
	 * source; the ARP target is whatever the request's sender fields say */
	own_mac = dp_ports[m->port].mac.addr_bytes;
	memcpy(frame, frame + 6, 6);
	memcpy(frame + 6, own_mac, 6);
	pkt[6] = 0;
	pkt[7] = DP_ARP_OP_REPLY;
	memcpy(pkt + 8, own_mac, 6);
	memcpy(pkt + 14, arp.tip, 4);
	memcpy(pkt + 18, arp.sha, 6);
	memcpy(pkt + 24, arp.sip, 4);
	return arp_tx[m->port];
}

/* clang-format off */
DP_NODE(arp_node, "arp", arp_handle, ARP_EDGE_COUNT,
	[ARP_DROP] = "drop",
	[ARP_MALFORMED] = "arp_malformed",
	[ARP_NO_INTERFACE] = "arp_no_interface",
	[ARP_NOT_REQUEST] = "arp_not_request",
	[ARP_NOT_GATEWAY] = "arp_not_gateway",
	[ARP_BAD_SENDER] = "arp_bad_sender",
	[ARP_LEARNED] = "arp_learned",
	[ARP_RATE_LIMITED] = "arp_rate_limited");
/* clang-format on */

DP_DROP_REGISTER(arp_malformed);
DP_DROP_REGISTER(arp_no_interface);
DP_DROP_REGISTER(arp_not_request);
DP_DROP_REGISTER(arp_not_gateway);
DP_DROP_REGISTER(arp_bad_sender);
DP_DROP_REGISTER(arp_learned);
DP_DROP_REGISTER(arp_rate_limited);

RTE_INIT(arp_cls_register)
{
	dp_cls_register(DP_CLS_VF_ARP, "arp");
}
