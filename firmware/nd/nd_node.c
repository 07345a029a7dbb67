/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipv6_nd: Router and Neighbor Solicitations from a VM (class DP_CLS_VF_ND).
 *
 * Only with --enable-ipv6-overlay; without it every one is dropped (ipv6_nd_disabled). A
 * valid solicitation (RFC 4861: hop limit 255, code 0, length, options, checksum; no source
 * link-layer address option from the unspecified address) is answered from the gateway
 * fe80::1 at the VF's MAC, to the requester's MAC and address (ff02::1 if that is ::), in
 * the same mbuf, out of the same VF:
 *   NS for fe80::1 -> NA with R, S, O and the VF's MAC as target link-layer address; the
 *                     VM's MAC (the Ethernet source) is learned. S stays clear when the
 *                     solicitation came from :: (RFC 4861 7.2.4; receivers drop a
 *                     multicast solicited NA).
 *   RS             -> RA (M, O, router lifetime 0xffff, hop limit 255, source LLA option).
 * The reply keeps the request's traffic class and flow label.
 */
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/nd.h>

#include "cls.h"
#include "mbuf.h"
#include "nd_conf.h"
#include "node.h"
#include "port.h"
#include "responder.h"

enum {
	ND_DROP = 0,
	ND_DISABLED,      /* no --enable-ipv6-overlay */
	ND_NO_INTERFACE,  /* the interface went away since cls */
	ND_BAD_HOP_LIMIT, /* not 255: it crossed a router */
	ND_TRUNCATED,     /* shorter than its type requires (or no room for the answer) */
	ND_BAD_TYPE,      /* not RS/NS (cls sends only those: defensive) */
	ND_BAD_CODE,
	ND_BAD_OPTION, /* zero-length or overlong option; SLLA from :: */
	ND_BAD_CHECKSUM,
	ND_BAD_SENDER,   /* group or zero Ethernet source: nobody to answer to */
	ND_NOT_GATEWAY,  /* an NS for another target than fe80::1 */
	ND_RATE_LIMITED, /* beyond the VF's share of answers (responder.h) */
	ND_EDGE_COUNT,
};

DP_TX_EDGES("ipv6_nd", nd_tx);

static const uint8_t gateway_ipv6[16] = DP_GATEWAY_IPV6_INIT;
static const uint8_t all_nodes_ipv6[16] = DP_ALL_NODES_IPV6_INIT;

static const rte_edge_t status_edge[DP_ND_STATUS_COUNT] = {
	[DP_ND_OK] = ND_DROP, /* not used */
	[DP_ND_TRUNCATED] = ND_TRUNCATED,
	[DP_ND_BAD_TYPE] = ND_BAD_TYPE,
	[DP_ND_BAD_CODE] = ND_BAD_CODE,
	[DP_ND_BAD_OPTION] = ND_BAD_OPTION,
};

static inline bool mac_is_unicast(const uint8_t *mac)
{
	return !(mac[0] & 0x01) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4] | mac[5]);
}

static inline bool ipv6_is_zero(const uint8_t *ip)
{
	uint8_t any = 0;

	for (int i = 0; i < 16; i++)
		any |= ip[i];
	return !any;
}

static inline rte_edge_t nd_handle(struct rte_mbuf *m)
{
	const struct dp_parse *p = &dp_mbuf_priv(m)->parse;
	uint8_t *frame = rte_pktmbuf_mtod(m, uint8_t *);
	uint32_t l3_end = (uint32_t)p->l3_off + p->l3_len;
	const struct dp_port *port = &dp_ports[m->port];
	struct rte_ether_addr vm_mac;
	enum dp_nd_status st;
	struct dp_nd_frame f;
	struct dp_nd_info nd;
	uint32_t reply_len;
	const uint8_t *ip;
	bool unspecified;

	if (unlikely(!dp_port_iface(m->port)))
		return ND_NO_INTERFACE;
	/* cls found an ICMPv6 header (l4_off) inside the IPv6 payload (l3_end) */
	if (unlikely(!p->l4_off || p->l4_off > l3_end || l3_end > rte_pktmbuf_data_len(m)))
		return ND_TRUNCATED;
	ip = frame + p->l3_off;
	if (ip[7] != 255)
		return ND_BAD_HOP_LIMIT;
	st = dp_nd_parse(frame + p->l4_off, l3_end - p->l4_off, &nd);
	if (st != DP_ND_OK)
		return status_edge[st];
	if (dp_nd_checksum(ip + 8, ip + 24, frame + p->l4_off, l3_end - p->l4_off) != 0)
		return ND_BAD_CHECKSUM;
	unspecified = ipv6_is_zero(ip + 8);
	if (unspecified && nd.opts.has_slla)
		return ND_BAD_OPTION;
	if (!mac_is_unicast(frame + 6))
		return ND_BAD_SENDER;
	if (nd.type == DP_ND_NS && memcmp(nd.target, gateway_ipv6, 16) != 0)
		return ND_NOT_GATEWAY;

	reply_len = nd.type == DP_ND_NS ? DP_ND_NA_FRAME_LEN : DP_ND_RA_FRAME_LEN;
	if (unlikely(!rte_pktmbuf_is_contiguous(m) ||
		     reply_len > (uint32_t)rte_pktmbuf_data_len(m) + rte_pktmbuf_tailroom(m)))
		return ND_TRUNCATED;
	if (unlikely(!dp_responder_allow(m->port)))
		return ND_RATE_LIMITED;

	/* everything the answer needs from the request, before it is overwritten */
	memcpy(f.eth_dst, frame + 6, 6);
	memcpy(f.eth_src, port->mac.addr_bytes, 6);
	memcpy(f.ip_src, gateway_ipv6, 16);
	memcpy(f.ip_dst, unspecified ? all_nodes_ipv6 : ip + 8, 16);
	f.vtc_flow = (uint32_t)ip[0] << 24 | (uint32_t)ip[1] << 16 | (uint32_t)ip[2] << 8 | ip[3];

	if (nd.type == DP_ND_NS) {
		memcpy(vm_mac.addr_bytes, f.eth_dst, RTE_ETHER_ADDR_LEN);
		dp_port_learn_vm_mac(m->port, &vm_mac);
		dp_nd_build_na(frame, reply_len, &f,
			       DP_ND_NA_ROUTER | DP_ND_NA_OVERRIDE |
				       (unspecified ? 0 : DP_ND_NA_SOLICITED),
			       gateway_ipv6, f.eth_src);
	} else {
		dp_nd_build_ra(frame, reply_len, &f, f.eth_src);
	}
	m->data_len = (uint16_t)reply_len;
	m->pkt_len = reply_len;
	return nd_tx[m->port];
}

static void nd_classify(struct rte_mbuf **pkts, rte_edge_t *nexts, uint16_t n)
{
	bool enabled = dp_nd_enabled;

	for (uint16_t i = 0; i < n; i++)
		nexts[i] = likely(enabled) ? nd_handle(pkts[i]) : ND_DISABLED;
}

/* clang-format off */
DP_NODE_BURST(nd_node, "ipv6_nd", nd_classify, ND_EDGE_COUNT,
	[ND_DROP] = "drop",
	[ND_DISABLED] = "ipv6_nd_disabled",
	[ND_NO_INTERFACE] = "ipv6_nd_no_interface",
	[ND_BAD_HOP_LIMIT] = "ipv6_nd_bad_hop_limit",
	[ND_TRUNCATED] = "ipv6_nd_truncated",
	[ND_BAD_TYPE] = "ipv6_nd_bad_type",
	[ND_BAD_CODE] = "ipv6_nd_bad_code",
	[ND_BAD_OPTION] = "ipv6_nd_bad_option",
	[ND_BAD_CHECKSUM] = "ipv6_nd_bad_checksum",
	[ND_BAD_SENDER] = "ipv6_nd_bad_sender",
	[ND_NOT_GATEWAY] = "ipv6_nd_not_gateway",
	[ND_RATE_LIMITED] = "ipv6_nd_rate_limited");
/* clang-format on */

DP_DROP_REGISTER(ipv6_nd_disabled);
DP_DROP_REGISTER(ipv6_nd_no_interface);
DP_DROP_REGISTER(ipv6_nd_bad_hop_limit);
DP_DROP_REGISTER(ipv6_nd_truncated);
DP_DROP_REGISTER(ipv6_nd_bad_type);
DP_DROP_REGISTER(ipv6_nd_bad_code);
DP_DROP_REGISTER(ipv6_nd_bad_option);
DP_DROP_REGISTER(ipv6_nd_bad_checksum);
DP_DROP_REGISTER(ipv6_nd_bad_sender);
DP_DROP_REGISTER(ipv6_nd_not_gateway);
DP_DROP_REGISTER(ipv6_nd_rate_limited);

RTE_INIT(nd_cls_register)
{
	dp_cls_register(DP_CLS_VF_ND, "ipv6_nd");
}
