/* SPDX-License-Identifier: Apache-2.0 */
/*
 * cls: parses every frame (dp_parse_frame) and sends it on by where it came from and what
 * it is. The parse result stays in the mbuf for the nodes that follow.
 */
#include <netinet/in.h>
#include <stdbool.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#include <dplane/parse.h>

#include "cksum.h"
#include "cls.h"
#include "ctl.h"
#include "mbuf.h"
#include "module.h"
#include "node.h"
#include "parse_inline.h"
#include "port.h"

enum {
	CLS_DROP = 0,
	/* dp_parse_status errors, in the same order */
	CLS_BAD_ETHER,
	CLS_BAD_VLAN,
	CLS_BAD_ARP,
	CLS_BAD_IPV4,
	CLS_BAD_IPV6,
	CLS_BAD_IPV6_EXT,
	CLS_BAD_L4,
	/* policy */
	CLS_VLAN_TAGGED,
	CLS_UNKNOWN_ETHERTYPE,
	CLS_PF_NOT_TUNNEL,
	CLS_NO_INTERFACE,
	CLS_NO_HANDLER,
	CLS_MULTICAST,
	CLS_BAD_IPV4_CHECKSUM,
	CLS_EDGE_COUNT,
};

_Static_assert(CLS_BAD_L4 - CLS_BAD_ETHER == DP_PARSE_BAD_L4 - DP_PARSE_BAD_ETHER,
	       "cls error edges follow enum dp_parse_status");

#define ICMPV6_RS 133
#define ICMPV6_NS 135

/* Where each class goes; CLS_NO_HANDLER until a feature registers a node for it. */
static const char *class_node[DP_CLS_CLASS_COUNT];
static rte_edge_t class_edge[DP_CLS_CLASS_COUNT];

/* UDP destination ports answered by a node of their own (DHCP, DHCPv6) */
#define CLS_MAX_UDP 8
static struct {
	uint8_t cls;
	rte_be16_t port;
	const char *node;
	rte_edge_t edge;
} udp_handlers[CLS_MAX_UDP];
static unsigned int nb_udp_handlers;

DP_TX_EDGES("cls", cls_tx_edge);

void dp_cls_register(enum dp_cls_class cls, const char *node)
{
	class_node[cls] = node;
}

void dp_cls_register_udp(enum dp_cls_class cls, uint16_t port, const char *node)
{
	RTE_VERIFY(nb_udp_handlers < CLS_MAX_UDP);
	udp_handlers[nb_udp_handlers].cls = (uint8_t)cls;
	udp_handlers[nb_udp_handlers].port = rte_cpu_to_be_16(port);
	udp_handlers[nb_udp_handlers].node = node;
	nb_udp_handlers++;
}

/* The registered classes and ports as cls edges, when the graph is built. */
static int cls_edges(const struct dp_core_conf *conf)
{
	int edge;

	for (unsigned int c = 0; c < DP_CLS_CLASS_COUNT; c++) {
		if (!class_node[c]) {
			class_edge[c] = CLS_NO_HANDLER;
			continue;
		}
		edge = dp_node_edge_by_name("cls", class_node[c]);
		if (edge < 0) {
			DP_LOG(ERR, "cls: no node %s", class_node[c]);
			return edge;
		}
		class_edge[c] = (rte_edge_t)edge;
	}
	for (unsigned int i = 0; i < nb_udp_handlers; i++) {
		edge = dp_node_edge_by_name("cls", udp_handlers[i].node);
		if (edge < 0) {
			DP_LOG(ERR, "cls: no node %s", udp_handlers[i].node);
			return edge;
		}
		udp_handlers[i].edge = (rte_edge_t)edge;
	}
	return 0;
}

/* To a group (IPv4 224/4 or the broadcast address, IPv6 ff00::/8): VMs send them all the
 * time (MLD and IGMP reports, mDNS, LLMNR, NetBIOS), and the overlay routes none. */
static inline bool to_group(const uint8_t *data, const struct dp_parse *p)
{
	const uint8_t *dst;

	if (p->l3_type == DP_L3_IPV6)
		return data[p->l3_off + 24] == 0xff;
	dst = data + p->l3_off + 16;
	return (dst[0] & 0xf0) == 0xe0 || (dst[0] & dst[1] & dst[2] & dst[3]) == 0xff;
}

/* A VM's IP packet: to the node of its UDP port (DHCP, DHCPv6), or to its class's. */
static inline rte_edge_t class_next(enum dp_cls_class cls, const uint8_t *data,
				    const struct dp_parse *p)
{
	if (p->l4_proto == IPPROTO_UDP && p->l4_off) {
		rte_be16_t dst_port;

		memcpy(&dst_port, data + p->l4_off + 2, sizeof(dst_port));
		for (unsigned int i = 0; i < nb_udp_handlers; i++)
			if (udp_handlers[i].cls == cls && udp_handlers[i].port == dst_port)
				return udp_handlers[i].edge;
	}
	if (unlikely(to_group(data, p)))
		return CLS_MULTICAST;
	return class_edge[cls];
}

static inline rte_edge_t cls_next(struct rte_mbuf *m)
{
	struct dp_parse *p = &dp_mbuf_priv(m)->parse;
	const struct dp_port *port = &dp_ports[m->port];
	enum dp_parse_status st;
	const uint8_t *data;

	data = rte_pktmbuf_mtod(m, const uint8_t *);
	st = dp_parse_frame_inline(data, rte_pktmbuf_data_len(m), p);
	if (unlikely(st != DP_PARSE_OK))
		return (rte_edge_t)(CLS_BAD_ETHER + (st - DP_PARSE_BAD_ETHER));

	if (unlikely(port->xconnect != DP_PORT_NONE))
		return cls_tx_edge[port->xconnect];

	if (unlikely(p->vlans))
		return CLS_VLAN_TAGGED;

	if (port->role == DP_PORT_PF) {
		if (p->l3_type == DP_L3_IPV6 && !(p->flags & DP_PARSE_F_IPV6_EXT) &&
		    (p->l4_proto == IPPROTO_IPIP || p->l4_proto == IPPROTO_IPV6))
			return class_edge[DP_CLS_PF_TUNNEL];
		return CLS_PF_NOT_TUNNEL;
	}

	if (!dp_port_iface(m->port))
		return CLS_NO_INTERFACE;

	switch (p->l3_type) {
	case DP_L3_ARP:
		return class_edge[DP_CLS_VF_ARP];
	case DP_L3_IPV4:
		if (unlikely(!dp_rx_ipv4_cksum_ok(m, data + p->l3_off)))
			return CLS_BAD_IPV4_CHECKSUM;
		return class_next(DP_CLS_VF_IPV4, data, p);
	case DP_L3_IPV6:
		if (p->l4_proto == IPPROTO_ICMPV6 && p->l4_off) {
			uint8_t type = data[p->l4_off];

			if (type == ICMPV6_RS || type == ICMPV6_NS)
				return class_edge[DP_CLS_VF_ND];
		}
		return class_next(DP_CLS_VF_IPV6, data, p);
	default:
		return CLS_UNKNOWN_ETHERTYPE;
	}
}

/* clang-format off */
DP_NODE(cls_node, "cls", cls_next, CLS_EDGE_COUNT,
	[CLS_DROP] = "drop",
	[CLS_BAD_ETHER] = "cls_bad_ether",
	[CLS_BAD_VLAN] = "cls_bad_vlan",
	[CLS_BAD_ARP] = "cls_bad_arp",
	[CLS_BAD_IPV4] = "cls_bad_ipv4",
	[CLS_BAD_IPV6] = "cls_bad_ipv6",
	[CLS_BAD_IPV6_EXT] = "cls_bad_ipv6_ext",
	[CLS_BAD_L4] = "cls_bad_l4",
	[CLS_VLAN_TAGGED] = "cls_vlan_tagged",
	[CLS_UNKNOWN_ETHERTYPE] = "cls_unknown_ethertype",
	[CLS_PF_NOT_TUNNEL] = "cls_pf_not_tunnel",
	[CLS_NO_INTERFACE] = "cls_no_interface",
	[CLS_NO_HANDLER] = "cls_no_handler",
	[CLS_MULTICAST] = "cls_multicast",
	[CLS_BAD_IPV4_CHECKSUM] = "cls_bad_ipv4_checksum");
/* clang-format on */

DP_DROP_REGISTER(cls_bad_ether);
DP_DROP_REGISTER(cls_bad_vlan);
DP_DROP_REGISTER(cls_bad_arp);
DP_DROP_REGISTER(cls_bad_ipv4);
DP_DROP_REGISTER(cls_bad_ipv6);
DP_DROP_REGISTER(cls_bad_ipv6_ext);
DP_DROP_REGISTER(cls_bad_l4);
DP_DROP_REGISTER(cls_vlan_tagged);
DP_DROP_REGISTER(cls_unknown_ethertype);
DP_DROP_REGISTER(cls_pf_not_tunnel);
DP_DROP_REGISTER(cls_no_interface);
DP_DROP_REGISTER(cls_no_handler);
DP_DROP_REGISTER(cls_multicast);
DP_DROP_REGISTER(cls_bad_ipv4_checksum);

static struct dp_module cls_module = {.name = "cls", .edges = cls_edges};
DP_MODULE_REGISTER(cls_module);
