/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ipip_encap: into the tunnel to the underlay. Outer IPv6 from the sending interface's
 * underlay address (the host's own, --ipv6, for what the host sends on nobody's behalf: its
 * tunnel port is a PF; the one in ul_src for a load balancer's forwarding: DP_TUN_PORT_UL_SRC)
 * to the route's next hop, hop limit 64; Ethernet from the PF to the underlay router.
 */
#include <stdbool.h>
#include <string.h>

#include <rte_mbuf.h>

#include <dplane/iface.h>
#include <dplane/overlay.h>

#include "mbuf.h"
#include "node.h"
#include "overlay_dp.h"
#include "port.h"

enum {
	ENCAP_DROP = 0,
	ENCAP_NO_INTERFACE,
	ENCAP_NO_HEADROOM,
	ENCAP_NOT_IP,
	ENCAP_EDGE_COUNT,
};

DP_TX_EDGES("ipip_encap", encap_tx);

/* The tunnel of the previous packet: the next one usually takes it too, and then its
 * outer headers are copied, not built. Valid for one burst only, since the neighbour's
 * MAC or the interface may change between bursts. */
struct tunnel_cache {
	uint8_t src_ip[16];
	uint16_t out_port;
	bool valid; /* the cache is zeroed per burst */
	uint8_t dst_ip[16];
	struct dp_encap_hdr hdr;
};

static inline bool same_tunnel(const struct tunnel_cache *c, const uint8_t *src_ip,
			       const struct dp_mbuf_priv *priv)
{
	return c->valid && c->out_port == priv->out_port &&
	       memcmp(c->dst_ip, priv->nh_ipv6, 16) == 0 && memcmp(c->src_ip, src_ip, 16) == 0;
}

static void tunnel_build(struct tunnel_cache *c, const uint8_t *src_ip,
			 const struct dp_mbuf_priv *priv)
{
	struct dp_encap_params e;
	struct rte_ether_addr neigh;

	dp_port_neigh_mac(priv->out_port, &neigh);
	memcpy(e.dst_mac, neigh.addr_bytes, 6);
	memcpy(e.src_mac, dp_ports[priv->out_port].mac.addr_bytes, 6);
	memcpy(e.src_ip, src_ip, 16);
	memcpy(e.dst_ip, priv->nh_ipv6, 16);
	dp_encap_hdr_build(&c->hdr, &e);
	memcpy(c->src_ip, src_ip, 16);
	c->valid = true;
	c->out_port = priv->out_port;
	memcpy(c->dst_ip, priv->nh_ipv6, 16);
}

static inline rte_edge_t encap(struct rte_mbuf *m, struct tunnel_cache *c)
{
	struct dp_mbuf_priv *priv = dp_mbuf_priv(m);
	const struct dp_iface_conf *iface;
	const uint8_t *src_ip;
	uint16_t len = rte_pktmbuf_data_len(m);
	uint8_t *frame;

	if (unlikely(priv->tun_port >= DP_MAX_PORTS)) {
		if (priv->tun_port != DP_TUN_PORT_UL_SRC)
			return ENCAP_NO_INTERFACE;
		src_ip = priv->ul_src;
	} else if (likely((iface = dp_port_iface(priv->tun_port)) != NULL)) {
		src_ip = iface->underlay;
	} else if (dp_ports[priv->tun_port].role == DP_PORT_PF) {
		src_ip = dp_overlay_host_ipv6;
	} else {
		return ENCAP_NO_INTERFACE;
	}
	frame = rte_pktmbuf_mtod(m, uint8_t *);
	if (unlikely(!rte_pktmbuf_prepend(m, DP_IPV6_LEN)))
		return ENCAP_NO_HEADROOM;
	if (unlikely(!same_tunnel(c, src_ip, priv)))
		tunnel_build(c, src_ip, priv);
	if (unlikely(dp_encap_hdr_apply(frame, len, &c->hdr) < 0))
		return ENCAP_NOT_IP;
	return encap_tx[priv->out_port];
}

/* clang-format off */
DP_NODE_CTX(ipip_encap_node, "ipip_encap", struct tunnel_cache, encap, ENCAP_EDGE_COUNT,
	[ENCAP_DROP] = "drop",
	[ENCAP_NO_INTERFACE] = "ipip_encap_no_interface",
	[ENCAP_NO_HEADROOM] = "ipip_encap_no_headroom",
	[ENCAP_NOT_IP] = "ipip_encap_not_ip");
/* clang-format on */

DP_DROP_REGISTER(ipip_encap_no_interface);
DP_DROP_REGISTER(ipip_encap_no_headroom);
DP_DROP_REGISTER(ipip_encap_not_ip);
