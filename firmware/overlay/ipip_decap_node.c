/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipip_decap: IP-in-IPv6 from the underlay. The outer destination says what the packet is
 * for (VNF table: an interface, an alias prefix, ...); the tunnel comes off, the inner
 * packet gets an Ethernet header for the VM behind that VF and is parsed again.
 */
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/overlay.h>
#include <dplane/vnf.h>

#include "cksum.h"
#include "cls.h"
#include "mbuf.h"
#include "node.h"
#include "overlay_dp.h"
#include "parse_inline.h"
#include "port.h"
#include "vnf_dp.h"
#include "vni_dp.h"

enum {
	DECAP_DROP = 0,
	DECAP_CONNTRACK,
	DECAP_UNKNOWN_UNDERLAY,
	DECAP_NO_INTERFACE,
	DECAP_TRUNCATED,
	DECAP_NOT_TUNNEL,
	DECAP_BAD_LENGTH,
	DECAP_INNER_MISMATCH,
	DECAP_BAD_INNER,
	DECAP_BAD_INNER_CHECKSUM,
	DECAP_EDGE_COUNT,
};

static const rte_edge_t status_edge[] = {
	[DP_DECAP_TRUNCATED] = DECAP_TRUNCATED,
	[DP_DECAP_NOT_TUNNEL] = DECAP_NOT_TUNNEL,
	[DP_DECAP_BAD_LENGTH] = DECAP_BAD_LENGTH,
	[DP_DECAP_INNER_MISMATCH] = DECAP_INNER_MISMATCH,
};

/* Whether the inner destination (network order, of the given family) belongs to the VM the
 * underlay address stands for: the interface's own address or one in the alias prefix or
 * the LB prefix (compared), or any other address whose route in the VNI leads to the VM's VF
 * (another of its prefixes, however the sender chose the tunnel). VIP, NAT and LB addresses are
 * their handlers' to check (dnat, lb). */
static inline bool inner_dst_belongs(const struct dp_vnf *vnf, const struct dp_iface_conf *iface,
				     const uint8_t *dst, uint8_t l3_type)
{
	static const uint8_t none[16];
	unsigned int full, rest;

	switch (vnf->type) {
	case DP_VNF_INTERFACE_IP:
		if (l3_type == DP_L3_IPV4
			    ? memcmp(dst, iface->ipv4, 4) == 0 && memcmp(dst, none, 4) != 0
			    : memcmp(dst, iface->ipv6, 16) == 0 && memcmp(dst, none, 16) != 0)
			return true;
		break;
	case DP_VNF_ALIAS_PFX:
	case DP_VNF_LB_ALIAS_PFX: /* an LB prefix: the load balancer's address */
		full = vnf->prefix_len / 8;
		rest = vnf->prefix_len % 8;
		if (vnf->family == (l3_type == DP_L3_IPV4 ? 4 : 6) &&
		    memcmp(dst, vnf->prefix, full) == 0 &&
		    (!rest || ((dst[full] ^ vnf->prefix[full]) & (uint8_t)(0xff00 >> rest)) == 0))
			return true;
		break;
	default:
		return true;
	}
	return dp_vni_routes_to(vnf->vni, dst, l3_type == DP_L3_IPV4, vnf->port_id);
}

/* The previous packet's underlay address: a burst from the underlay is mostly for a few
 * of them. Valid for one burst (an entry is freed only after the graph walk). */
struct vnf_cache {
	const struct dp_vnf *vnf;
	uint8_t underlay[16];
};

static inline const struct dp_vnf *vnf_of(const uint8_t underlay[16], struct vnf_cache *c)
{
	if (c->vnf && memcmp(c->underlay, underlay, 16) == 0)
		return c->vnf;
	c->vnf = dp_vnf_lookup(underlay);
	memcpy(c->underlay, underlay, 16);
	return c->vnf;
}

static inline rte_edge_t decap(struct rte_mbuf *m, struct vnf_cache *c)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	uint8_t *data = rte_pktmbuf_mtod(m, uint8_t *);
	struct rte_ether_addr vm_mac;
	enum dp_decap_status st;
	const struct dp_iface_conf *iface;
	const uint8_t *inner, *inner_dst;
	const struct dp_vnf *vnf;
	uint32_t inner_len;
	uint16_t port;

	if (unlikely(m->nb_segs != 1 || priv->parse.l3_off != DP_ETHER_LEN))
		return DECAP_NOT_TUNNEL;
	memcpy(priv->ul_src, data + DP_ETHER_LEN + 8, sizeof(priv->ul_src));
	vnf = vnf_of(data + DP_ETHER_LEN + 24, c); /* the outer destination */
	if (unlikely(!vnf))
		return DECAP_UNKNOWN_UNDERLAY;
	port = vnf->port_id;
	if (unlikely(port >= DP_MAX_PORTS))
		return DECAP_NO_INTERFACE;
	iface = dp_port_iface(port);
	if (dp_ports[port].role == DP_PORT_PF) {
		/* the host's own function (a load balancer): no VM; the handler gives the packet
		 * the Ethernet header of wherever it sends it */
		vm_mac = dp_ports[port].mac;
	} else if (unlikely(!iface)) {
		return DECAP_NO_INTERFACE;
	} else {
		dp_port_vm_mac(port, &vm_mac);
	}
	st = dp_ipip_decap(data, rte_pktmbuf_data_len(m), vm_mac.addr_bytes,
			   dp_ports[port].mac.addr_bytes, &inner_len);
	if (unlikely(st != DP_DECAP_OK))
		return status_edge[st];
	rte_pktmbuf_adj(m, DP_IPV6_LEN);
	if (rte_pktmbuf_data_len(m) > inner_len)
		rte_pktmbuf_trim(m, (uint16_t)(rte_pktmbuf_data_len(m) - inner_len));
	if (unlikely(dp_parse_frame_inline(rte_pktmbuf_mtod(m, const uint8_t *), inner_len,
					   &priv->parse) != DP_PARSE_OK))
		return DECAP_BAD_INNER;
	inner = rte_pktmbuf_mtod(m, const uint8_t *) + priv->parse.l3_off;
	if (priv->parse.l3_type == DP_L3_IPV4 && unlikely(!dp_ipv4_hdr_cksum_ok(inner)))
		return DECAP_BAD_INNER_CHECKSUM; /* the NIC checked the outer header, if any */
	/* a tunnel must not carry a packet for someone else (another VM, another tenant) */
	inner_dst = inner + (priv->parse.l3_type == DP_L3_IPV4 ? 16 : 24);
	if (unlikely(iface && !inner_dst_belongs(vnf, iface, inner_dst, priv->parse.l3_type))) {
		if (dp_overlay_underlay_enforce)
			return DECAP_INNER_MISMATCH;
		__atomic_store_n(&dp_overlay_underlay_audit_count,
				 dp_overlay_underlay_audit_count + 1, __ATOMIC_RELAXED);
	}
	priv->vni = vnf->vni;
	priv->vnf_type = vnf->type;
	priv->out_port = port;
	priv->tun_port = port;
	return DECAP_CONNTRACK;
}

/* clang-format off */
DP_NODE_CTX(ipip_decap_node, "ipip_decap", struct vnf_cache, decap, DECAP_EDGE_COUNT,
	[DECAP_DROP] = "drop",
	[DECAP_CONNTRACK] = "conntrack",
	[DECAP_UNKNOWN_UNDERLAY] = "ipip_decap_unknown_underlay",
	[DECAP_NO_INTERFACE] = "ipip_decap_no_interface",
	[DECAP_TRUNCATED] = "ipip_decap_truncated",
	[DECAP_NOT_TUNNEL] = "ipip_decap_not_tunnel",
	[DECAP_BAD_LENGTH] = "ipip_decap_bad_length",
	[DECAP_INNER_MISMATCH] = "ipip_decap_inner_mismatch",
	[DECAP_BAD_INNER] = "ipip_decap_bad_inner",
	[DECAP_BAD_INNER_CHECKSUM] = "ipip_decap_bad_inner_checksum");
/* clang-format on */

DP_DROP_REGISTER(ipip_decap_unknown_underlay);
DP_DROP_REGISTER(ipip_decap_no_interface);
DP_DROP_REGISTER(ipip_decap_truncated);
DP_DROP_REGISTER(ipip_decap_not_tunnel);
DP_DROP_REGISTER(ipip_decap_bad_length);
DP_DROP_REGISTER(ipip_decap_inner_mismatch);
DP_DROP_REGISTER(ipip_decap_bad_inner);
DP_DROP_REGISTER(ipip_decap_bad_inner_checksum);

RTE_INIT(ipip_decap_cls_register)
{
	dp_cls_register(DP_CLS_PF_TUNNEL, "ipip_decap");
}
