/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dhcpv6: the DHCPv6 server every VF sees at fe80::1. SOLICIT -> ADVERTISE, REQUEST and
 * RELEASE -> REPLY with the interface's address, CONFIRM -> REPLY without options; on an
 * interface without IPv6, SOLICIT and REQUEST -> REPLY with status NoAddrsAvail. Built in
 * place in the request and sent back out of the same VF; everything else is a counted drop.
 *
 * Reply: Ether client MAC <- VF MAC; IPv6 fe80::1 -> the client's source address, traffic
 * class, flow label and hop limit kept, no extension headers; UDP 547 -> 546; the message
 * type changed, the transaction id kept, then the options:
 *   SERVERID  DUID-LL, hardware type 0xabcd, the *client's* MAC (as dpservice)
 *   CLIENTID  echoed (when sent)
 *   IA_NA     (when sent) the client's IAID, T1 = T2 = infinity, one IAADDR with the
 *             interface's IPv6, lifetimes infinity, and a nested status Success
 *   RAPID_COMMIT echoed (when sent)
 *   DNS_SERVERS  always, the --dhcpv6-dns list (possibly empty)
 *   BOOT_FILE_URL for PXE clients when the interface has an IPv6 boot server
 * NoAddrsAvail: SERVERID, CLIENTID, then the IA_NA with T1 = T2 = 0 holding only the status
 * (RFC 8415 18.3.2), or a message-level status when the client sent no IA_NA.
 * The UDP checksum is computed here, not offloaded.
 */
#include <arpa/inet.h>
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <dplane/dhcpv6.h>
#include <dplane/iface.h>

#include "cls.h"
#include "ctl.h"
#include "mbuf.h"
#include "node.h"
#include "port.h"
#include "responder.h"

enum {
	DHCPV6_DROP = 0,
	DHCPV6_NO_INTERFACE,
	DHCPV6_FRAGMENT,
	DHCPV6_MULTISEG,
	/* dp_dhcpv6_status errors, in the same order */
	DHCPV6_TRUNCATED,
	DHCPV6_BAD_OPTION,
	DHCPV6_BAD_CLIENT_ID,
	DHCPV6_BAD_IA_NA,
	DHCPV6_BAD_RAPID_COMMIT,
	/* policy */
	DHCPV6_UNHANDLED_TYPE,
	DHCPV6_NO_IPV6,
	DHCPV6_NO_ROOM,
	DHCPV6_RATE_LIMITED, /* beyond the VF's share of answers (responder.h) */
	DHCPV6_EDGE_COUNT,
};

_Static_assert(DHCPV6_BAD_RAPID_COMMIT - DHCPV6_TRUNCATED ==
		       DP_DHCPV6_BAD_RAPID_COMMIT - DP_DHCPV6_TRUNCATED,
	       "dhcpv6 error edges follow enum dp_dhcpv6_status");

DP_TX_EDGES("dhcpv6", dhcpv6_tx);

#define DHCPV6_CLIENT_PORT 546
#define DHCPV6_SERVER_PORT 547

#define IPV6_HDR 40
#define UDP_HDR 8

#define DUID_LL 3
#define DUID_HW_TYPE 0xabcd /* any value: dpservice's */

static const uint8_t server_ip6[16] = {0xfe, 0x80, [15] = 1};

/* The DNS servers every reply carries (--dhcpv6-dns): written before the graph starts, read by
 * the worker. */
static struct {
	uint8_t nb_dns;
	uint8_t dns[DP_DHCPV6_MAX_DNS][16];
} conf;

int dp_dhcpv6_conf_set(const uint8_t (*dns)[16], unsigned int nb_dns)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (nb_dns > DP_DHCPV6_MAX_DNS)
		return dp_errno(EINVAL);
	conf.nb_dns = (uint8_t)nb_dns;
	if (nb_dns)
		memcpy(conf.dns, dns, 16 * nb_dns);
	return 0;
}

/* The largest option set: SERVERID 14, CLIENTID 4 + 130, IA_NA 50, RAPID_COMMIT 4,
 * DNS_SERVERS 4 + 15 * 16, BOOT_FILE_URL 4 + "http://[" 46 "]/" 31 */
#define MAX_OPTIONS                                                                                \
	(14 + 4 + DP_DHCPV6_MAX_DUID + 50 + 4 + 4 + 16 * DP_DHCPV6_MAX_DNS + 4 + 8 +               \
	 INET6_ADDRSTRLEN + 2 + DP_BOOT_FILE_LEN)

enum reply_kind {
	REPLY_FULL,     /* the address and everything else */
	REPLY_EMPTY,    /* no options at all (CONFIRM) */
	REPLY_NO_ADDRS, /* NoAddrsAvail */
};

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint8_t *put_header(uint8_t *p, uint16_t code, uint32_t len)
{
	wr16(p, code);
	wr16(p + 2, len);
	return p + 4;
}

static inline uint8_t *put_status(uint8_t *p, uint16_t status)
{
	p = put_header(p, DP_DHCPV6_OPT_STATUS_CODE, 2);
	wr16(p, status);
	return p + 2;
}

static inline uint8_t *put_boot_url(uint8_t *p, enum dp_dhcp_pxe pxe,
				    const struct dp_iface_conf *iface)
{
	char addr[INET6_ADDRSTRLEN];
	uint8_t *url = p + 4;
	size_t n;

	if (!inet_ntop(AF_INET6, iface->pxe_ipv6, addr, sizeof(addr)))
		return p; /* cannot happen: the buffer is large enough */
	n = strlen(addr);
	memcpy(url, pxe == DP_DHCP_PXE_TFTP ? "tftp://[" : "http://[", 8);
	memcpy(url + 8, addr, n);
	memcpy(url + 8 + n, "]/", 2);
	url += 10 + n;
	if (pxe == DP_DHCP_PXE_TFTP) {
		memcpy(url, DP_PXE_TFTP_FILE, sizeof(DP_PXE_TFTP_FILE) - 1);
		url += sizeof(DP_PXE_TFTP_FILE) - 1;
	} else {
		n = strnlen(iface->boot_file, DP_BOOT_FILE_LEN - 1);
		memcpy(url, iface->boot_file, n);
		url += n;
	}
	put_header(p, DP_DHCPV6_OPT_BOOT_FILE_URL, (uint32_t)(url - p - 4));
	return url;
}

/* The reply's options into buf (at most MAX_OPTIONS bytes); returns their length. */
static inline uint32_t put_options(uint8_t *buf, enum reply_kind kind, const uint8_t *msg,
				   const struct dp_dhcpv6_info *info,
				   const struct rte_ether_addr *client_mac,
				   const struct dp_iface_conf *iface)
{
	static const uint8_t infinity[4] = {0xff, 0xff, 0xff, 0xff};
	uint8_t *p = buf;

	if (kind == REPLY_EMPTY)
		return 0;

	p = put_header(p, DP_DHCPV6_OPT_SERVERID, 10);
	wr16(p, DUID_LL);
	wr16(p + 2, DUID_HW_TYPE);
	memcpy(p + 4, client_mac, RTE_ETHER_ADDR_LEN);
	p += 10;

	if (info->flags & DP_DHCPV6_F_CLIENT_ID) {
		p = put_header(p, DP_DHCPV6_OPT_CLIENTID, info->client_id_len);
		memcpy(p, msg + info->client_id_off, info->client_id_len);
		p += info->client_id_len;
	}

	if (kind == REPLY_NO_ADDRS) {
		if (info->flags & DP_DHCPV6_F_IA_NA) {
			p = put_header(p, DP_DHCPV6_OPT_IA_NA, DP_DHCPV6_IA_NA_FIXED + 6);
			memcpy(p, info->iaid, 4);
			memset(p + 4, 0, 8); /* T1, T2 */
			p = put_status(p + DP_DHCPV6_IA_NA_FIXED, DP_DHCPV6_STATUS_NOADDRSAVAIL);
		} else {
			p = put_status(p, DP_DHCPV6_STATUS_NOADDRSAVAIL);
		}
		return (uint32_t)(p - buf);
	}

	if (info->flags & DP_DHCPV6_F_IA_NA) {
		p = put_header(p, DP_DHCPV6_OPT_IA_NA, DP_DHCPV6_IA_NA_FIXED + 4 + 24 + 6);
		memcpy(p, info->iaid, 4);
		memcpy(p + 4, infinity, 4);
		memcpy(p + 8, infinity, 4);
		p = put_header(p + DP_DHCPV6_IA_NA_FIXED, DP_DHCPV6_OPT_IAADDR, 24 + 6);
		memcpy(p, iface->ipv6, 16);
		memcpy(p + 16, infinity, 4);
		memcpy(p + 20, infinity, 4);
		p = put_status(p + 24, DP_DHCPV6_STATUS_SUCCESS);
	}

	if (info->flags & DP_DHCPV6_F_RAPID_COMMIT)
		p = put_header(p, DP_DHCPV6_OPT_RAPID_COMMIT, 0);

	p = put_header(p, DP_DHCPV6_OPT_DNS_SERVERS, 16u * conf.nb_dns);
	memcpy(p, conf.dns, 16u * conf.nb_dns);
	p += 16u * conf.nb_dns;

	if (info->pxe != DP_DHCP_PXE_NONE && iface->pxe_family == DP_PXE_IPV6)
		p = put_boot_url(p, (enum dp_dhcp_pxe)info->pxe, iface);

	return (uint32_t)(p - buf);
}

static inline bool ipv6_is_zero(const uint8_t a[16])
{
	uint8_t acc = 0;

	for (int i = 0; i < 16; i++)
		acc |= a[i];
	return !acc;
}

static inline rte_edge_t dhcpv6_reply(struct rte_mbuf *m)
{
	const struct dp_parse *p = &dp_mbuf_priv(m)->parse;
	const struct dp_iface_conf *iface;
	struct rte_ether_addr client_mac;
	struct dp_dhcpv6_info info;
	enum dp_dhcpv6_status st;
	enum reply_kind kind;
	uint8_t opts[MAX_OPTIONS];
	uint32_t udp_len, opts_len, reply_len, payload_len;
	uint8_t *d, *ip6, *udp, *msg, type;
	uint16_t cksum;
	bool has_ipv6;

	iface = dp_port_iface(m->port);
	if (unlikely(!iface))
		return DHCPV6_NO_INTERFACE;
	if (unlikely(p->flags & DP_PARSE_F_FRAGMENT))
		return DHCPV6_FRAGMENT;
	if (unlikely(m->nb_segs != 1))
		return DHCPV6_MULTISEG;

	/* cls checked 8 <= UDP length <= the IPv6 payload present */
	d = rte_pktmbuf_mtod(m, uint8_t *);
	udp_len = ((uint32_t)d[p->l4_off + 4] << 8) | d[p->l4_off + 5];
	msg = d + p->l4_off + UDP_HDR;
	st = dp_dhcpv6_parse(msg, udp_len - UDP_HDR, &info);
	if (unlikely(st != DP_DHCPV6_OK))
		return (rte_edge_t)(DHCPV6_TRUNCATED + (st - DP_DHCPV6_TRUNCATED));

	has_ipv6 = !ipv6_is_zero(iface->ipv6);
	switch (info.msg_type) {
	case DP_DHCPV6_SOLICIT:
		type = has_ipv6 ? DP_DHCPV6_ADVERTISE : DP_DHCPV6_REPLY;
		kind = has_ipv6 ? REPLY_FULL : REPLY_NO_ADDRS;
		break;
	case DP_DHCPV6_REQUEST:
		type = DP_DHCPV6_REPLY;
		kind = has_ipv6 ? REPLY_FULL : REPLY_NO_ADDRS;
		break;
	case DP_DHCPV6_RELEASE:
	case DP_DHCPV6_CONFIRM:
		if (!has_ipv6)
			return DHCPV6_NO_IPV6;
		type = DP_DHCPV6_REPLY;
		kind = info.msg_type == DP_DHCPV6_CONFIRM ? REPLY_EMPTY : REPLY_FULL;
		break;
	default:
		return DHCPV6_UNHANDLED_TYPE;
	}

	/* the options are built aside: they replace the request's, which they copy from */
	memcpy(&client_mac, d + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	opts_len = put_options(opts, kind, msg, &info, &client_mac, iface);
	reply_len = p->l3_off + IPV6_HDR + UDP_HDR + DP_DHCPV6_HDR_LEN + opts_len;
	if (unlikely(reply_len > (uint32_t)m->buf_len - m->data_off))
		return DHCPV6_NO_ROOM;
	if (unlikely(!dp_responder_allow(m->port)))
		return DHCPV6_RATE_LIMITED;

	/* from here on the request is rewritten into the reply */
	ip6 = d + p->l3_off;
	udp = ip6 + IPV6_HDR;
	if (p->l4_off != p->l3_off + IPV6_HDR) /* drop the extension headers */
		memmove(udp, d + p->l4_off, UDP_HDR + DP_DHCPV6_HDR_LEN);
	msg = udp + UDP_HDR;

	memcpy(d, &client_mac, RTE_ETHER_ADDR_LEN);
	memcpy(d + RTE_ETHER_ADDR_LEN, &dp_ports[m->port].mac, RTE_ETHER_ADDR_LEN);

	payload_len = UDP_HDR + DP_DHCPV6_HDR_LEN + opts_len;
	wr16(ip6 + 4, payload_len);
	ip6[6] = IPPROTO_UDP;
	memcpy(ip6 + 24, ip6 + 8, 16); /* back to the client's source */
	memcpy(ip6 + 8, server_ip6, 16);

	msg[0] = type;
	memcpy(msg + DP_DHCPV6_HDR_LEN, opts, opts_len);

	wr16(udp, DHCPV6_SERVER_PORT);
	wr16(udp + 2, DHCPV6_CLIENT_PORT);
	wr16(udp + 4, payload_len);
	udp[6] = udp[7] = 0;
	cksum = rte_ipv6_udptcp_cksum((const struct rte_ipv6_hdr *)ip6, udp); /* network order */
	memcpy(udp + 6, &cksum, 2);

	m->data_len = (uint16_t)reply_len;
	m->pkt_len = reply_len;
	m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
	m->tx_offload = 0;
	return dhcpv6_tx[m->port];
}

/* clang-format off */
DP_NODE(dhcpv6_node, "dhcpv6", dhcpv6_reply, DHCPV6_EDGE_COUNT,
	[DHCPV6_DROP] = "drop",
	[DHCPV6_NO_INTERFACE] = "dhcpv6_no_interface",
	[DHCPV6_FRAGMENT] = "dhcpv6_fragment",
	[DHCPV6_MULTISEG] = "dhcpv6_multiseg",
	[DHCPV6_TRUNCATED] = "dhcpv6_truncated",
	[DHCPV6_BAD_OPTION] = "dhcpv6_bad_option",
	[DHCPV6_BAD_CLIENT_ID] = "dhcpv6_bad_client_id",
	[DHCPV6_BAD_IA_NA] = "dhcpv6_bad_ia_na",
	[DHCPV6_BAD_RAPID_COMMIT] = "dhcpv6_bad_rapid_commit",
	[DHCPV6_UNHANDLED_TYPE] = "dhcpv6_unhandled_type",
	[DHCPV6_NO_IPV6] = "dhcpv6_no_ipv6",
	[DHCPV6_NO_ROOM] = "dhcpv6_no_room",
	[DHCPV6_RATE_LIMITED] = "dhcpv6_rate_limited");
/* clang-format on */

DP_DROP_REGISTER(dhcpv6_no_interface);
DP_DROP_REGISTER(dhcpv6_fragment);
DP_DROP_REGISTER(dhcpv6_multiseg);
DP_DROP_REGISTER(dhcpv6_truncated);
DP_DROP_REGISTER(dhcpv6_bad_option);
DP_DROP_REGISTER(dhcpv6_bad_client_id);
DP_DROP_REGISTER(dhcpv6_bad_ia_na);
DP_DROP_REGISTER(dhcpv6_bad_rapid_commit);
DP_DROP_REGISTER(dhcpv6_unhandled_type);
DP_DROP_REGISTER(dhcpv6_no_ipv6);
DP_DROP_REGISTER(dhcpv6_no_room);
DP_DROP_REGISTER(dhcpv6_rate_limited);

RTE_INIT(dhcpv6_register)
{
	dp_cls_register_udp(DP_CLS_VF_IPV6, DHCPV6_SERVER_PORT, "dhcpv6");
}
