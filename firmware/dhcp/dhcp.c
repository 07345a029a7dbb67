/* SPDX-License-Identifier: Apache-2.0 */
/*
 * dhcp: the DHCPv4 server every VF sees at 169.254.0.1. DISCOVER -> OFFER, REQUEST -> ACK,
 * built in place in the request and sent back out of the same VF; everything else is a
 * counted drop. The address is the interface's IPv4 as a /32 with a classless route to the
 * gateway; PXE clients get a boot file (TFTP for a PXE ROM, HTTP for iPXE).
 *
 * Reply: Ether client MAC (broadcast for PXE) <- VF MAC; IPv4 169.254.0.1 -> VM IP
 * (broadcast for PXE), the request's TOS/ID/flags/TTL kept, no IP options; UDP 67 -> 68;
 * BOOTP: the request with op, yiaddr, siaddr, giaddr, chaddr (and file for PXE) rewritten,
 * then the options in dpservice's order. Checksums are computed here, not offloaded, so
 * the bytes are the same on every port type.
 */
#include <string.h>

#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>

#include <dplane/dhcp.h>
#include <dplane/iface.h>

#include "ctl.h"
#include "mbuf.h"
#include "node.h"
#include "port.h"
#include "responder.h"

#include "cls.h"

enum {
	DHCP_DROP = 0,
	DHCP_NO_INTERFACE,
	DHCP_NO_IPV4,
	DHCP_FRAGMENT,
	DHCP_MULTISEG,
	/* dp_dhcp_status errors, in the same order */
	DHCP_TRUNCATED,
	DHCP_NOT_REQUEST,
	DHCP_BAD_MAGIC,
	DHCP_BAD_OPTION,
	DHCP_NO_MSG_TYPE,
	/* policy */
	DHCP_UNHANDLED_TYPE,
	DHCP_NO_ROOM,
	DHCP_RATE_LIMITED, /* beyond the VF's share of answers (responder.h) */
	DHCP_EDGE_COUNT,
};

_Static_assert(DHCP_NO_MSG_TYPE - DHCP_TRUNCATED == DP_DHCP_NO_MSG_TYPE - DP_DHCP_TRUNCATED,
	       "dhcp error edges follow enum dp_dhcp_status");

DP_TX_EDGES("dhcp", dhcp_tx);

#define DHCP_SERVER_PORT 67
#define DHCP_CLIENT_PORT 68

#define OPT_SUBNET_MASK 1
#define OPT_ROUTER 3
#define OPT_DNS 6
#define OPT_HOSTNAME 12
#define OPT_MTU 26
#define OPT_LEASE_TIME 51
#define OPT_MSG_TYPE 53
#define OPT_SERVER_ID 54
#define OPT_CLASSLESS_ROUTE 121
#define OPT_END 255

#define IPV4_HDR 20
#define UDP_HDR 8

static const uint8_t server_ip[4] = {169, 254, 0, 1};
static const uint8_t all_ones[4] = {255, 255, 255, 255};
/* RFC 3442: 169.254.0.0/16 -> on link, 0.0.0.0/0 -> 169.254.0.1 */
static const uint8_t classless_routes[] = {16, 169, 254, 0, 0, 0, 0, 0, 169, 254, 0, 1};

static inline void wr16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline bool ipv4_is_zero(const uint8_t a[4])
{
	return !(a[0] | a[1] | a[2] | a[3]);
}

static inline uint8_t *put_option(uint8_t *p, uint8_t code, const void *value, uint8_t len)
{
	p[0] = code;
	p[1] = len;
	memcpy(p + 2, value, len);
	return p + 2 + len;
}

/* What every reply carries (--dhcp-mtu, --dhcp-dns): written before the graph starts, read
 * by the worker. */
static struct {
	uint16_t mtu;
	uint8_t nb_dns;
	uint8_t dns[DP_DHCP_MAX_DNS][4];
} conf = {.mtu = 1500};

int dp_dhcp_conf_set(uint16_t mtu, const uint8_t (*dns)[4], unsigned int nb_dns)
{
	DP_CTL_CHECK();
	if (dp_core_running())
		return dp_errno(EBUSY);
	if (mtu < DP_DHCP_MTU_MIN || mtu > DP_DHCP_MTU_MAX || nb_dns > DP_DHCP_MAX_DNS)
		return dp_errno(EINVAL);
	conf.mtu = mtu;
	conf.nb_dns = (uint8_t)nb_dns;
	if (nb_dns)
		memcpy(conf.dns, dns, 4 * nb_dns);
	return 0;
}

/* Exact size of the options put_options() writes. */
static inline uint32_t options_size(bool pxe, uint32_t hostname_len)
{
	uint32_t n = (2 + 1) + (2 + 4) + (2 + 4) + (2 + sizeof(classless_routes)) + (2 + 4) +
		     (2 + 2) + 1;

	if (pxe)
		n += 2 + 4;
	if (conf.nb_dns)
		n += 2 + 4u * conf.nb_dns;
	if (hostname_len)
		n += 2 + hostname_len;
	return n;
}

static inline void put_options(uint8_t *p, uint8_t type, bool pxe,
			       const struct dp_iface_conf *iface, uint32_t hostname_len)
{
	static const uint8_t infinite_lease[4] = {0xff, 0xff, 0xff, 0xff};
	uint8_t mtu[2];

	wr16(mtu, conf.mtu);
	p = put_option(p, OPT_MSG_TYPE, &type, 1);
	p = put_option(p, OPT_LEASE_TIME, infinite_lease, 4);
	p = put_option(p, OPT_SERVER_ID, server_ip, 4);
	p = put_option(p, OPT_CLASSLESS_ROUTE, classless_routes, sizeof(classless_routes));
	p = put_option(p, OPT_SUBNET_MASK, all_ones, 4);
	p = put_option(p, OPT_MTU, mtu, 2);
	if (pxe)
		p = put_option(p, OPT_ROUTER, server_ip, 4);
	if (conf.nb_dns)
		p = put_option(p, OPT_DNS, conf.dns, (uint8_t)(4u * conf.nb_dns));
	if (hostname_len)
		p = put_option(p, OPT_HOSTNAME, iface->hostname, (uint8_t)hostname_len);
	*p = OPT_END;
}

/* "a.b.c.d" at p, returns the end */
static inline char *put_dotted(char *p, const uint8_t a[4])
{
	for (int i = 0; i < 4; i++) {
		uint8_t v = a[i];

		if (i)
			*p++ = '.';
		if (v >= 100)
			*p++ = (char)('0' + v / 100);
		if (v >= 10)
			*p++ = (char)('0' + v / 10 % 10);
		*p++ = (char)('0' + v % 10);
	}
	return p;
}

/* The boot file for a PXE client, NUL-padded to the whole BOOTP file field. */
static inline void put_boot_file(uint8_t *field, enum dp_dhcp_pxe pxe,
				 const struct dp_iface_conf *iface)
{
	char *p = (char *)field;

	memset(field, 0, DP_DHCP_FILE_LEN);
	if (pxe == DP_DHCP_PXE_TFTP) {
		memcpy(p, DP_PXE_TFTP_FILE, sizeof(DP_PXE_TFTP_FILE) - 1);
		return;
	}
	/* "http://" + 15 + boot file (< DP_BOOT_FILE_LEN): always fits in 128 */
	_Static_assert(7 + 15 + DP_BOOT_FILE_LEN <= DP_DHCP_FILE_LEN, "boot file URL fits");
	memcpy(p, "http://", 7);
	p = put_dotted(p + 7, iface->pxe_ipv4);
	memcpy(p, iface->boot_file, strnlen(iface->boot_file, DP_BOOT_FILE_LEN - 1));
}

static inline rte_edge_t dhcp_reply(struct rte_mbuf *m)
{
	const struct dp_parse *p = &dp_mbuf_priv(m)->parse;
	const struct dp_iface_conf *iface;
	struct rte_ether_addr client_mac;
	struct dp_dhcp_info info;
	enum dp_dhcp_status st;
	uint32_t udp_len, hostname_len, opts_len, reply_len, ip_len;
	uint8_t *d, *ip, *udp, *bootp, type;
	uint16_t cksum;
	bool pxe;

	iface = dp_port_iface(m->port);
	if (unlikely(!iface))
		return DHCP_NO_INTERFACE;
	if (ipv4_is_zero(iface->ipv4))
		return DHCP_NO_IPV4;
	if (unlikely(p->flags & DP_PARSE_F_FRAGMENT))
		return DHCP_FRAGMENT;
	if (unlikely(m->nb_segs != 1))
		return DHCP_MULTISEG;

	/* cls checked 8 <= UDP length <= the IP payload present */
	d = rte_pktmbuf_mtod(m, uint8_t *);
	udp_len = ((uint32_t)d[p->l4_off + 4] << 8) | d[p->l4_off + 5];
	st = dp_dhcp_parse(d + p->l4_off + UDP_HDR, udp_len - UDP_HDR, &info);
	if (unlikely(st != DP_DHCP_OK))
		return (rte_edge_t)(DHCP_TRUNCATED + (st - DP_DHCP_TRUNCATED));
	if (info.msg_type == DP_DHCPDISCOVER)
		type = DP_DHCPOFFER;
	else if (info.msg_type == DP_DHCPREQUEST)
		type = DP_DHCPACK;
	else
		return DHCP_UNHANDLED_TYPE;

	/* PXE needs an IPv4 boot server on the interface; without one, answer as usual */
	pxe = info.pxe != DP_DHCP_PXE_NONE && iface->pxe_family == DP_PXE_IPV4;
	hostname_len = (uint32_t)strnlen(iface->hostname, DP_HOSTNAME_LEN - 1);
	opts_len = options_size(pxe, hostname_len);
	reply_len = p->l3_off + IPV4_HDR + UDP_HDR + DP_DHCP_OFF_OPTIONS + opts_len;
	if (unlikely(reply_len > (uint32_t)m->buf_len - m->data_off))
		return DHCP_NO_ROOM;
	if (unlikely(!dp_responder_allow(m->port)))
		return DHCP_RATE_LIMITED;

	/* from here on the request is rewritten into the reply */
	ip = d + p->l3_off;
	udp = ip + IPV4_HDR;
	bootp = udp + UDP_HDR;
	if (p->l4_off != p->l3_off + IPV4_HDR) /* drop the IP options */
		memmove(udp, d + p->l4_off, UDP_HDR + DP_DHCP_OFF_OPTIONS);

	memcpy(&client_mac, d + RTE_ETHER_ADDR_LEN, RTE_ETHER_ADDR_LEN);
	if (type == DP_DHCPACK)
		dp_port_learn_vm_mac(m->port, &client_mac);
	if (pxe)
		memset(d, 0xff, RTE_ETHER_ADDR_LEN);
	else
		memcpy(d, &client_mac, RTE_ETHER_ADDR_LEN);
	memcpy(d + RTE_ETHER_ADDR_LEN, &dp_ports[m->port].mac, RTE_ETHER_ADDR_LEN);

	bootp[DP_DHCP_OFF_OP] = DP_BOOTP_REPLY;
	memcpy(bootp + DP_DHCP_OFF_YIADDR, iface->ipv4, 4);
	memcpy(bootp + DP_DHCP_OFF_SIADDR, pxe ? iface->pxe_ipv4 : server_ip, 4);
	memcpy(bootp + DP_DHCP_OFF_GIADDR, server_ip, 4);
	memcpy(bootp + DP_DHCP_OFF_CHADDR, &client_mac, RTE_ETHER_ADDR_LEN);
	if (pxe)
		put_boot_file(bootp + DP_DHCP_OFF_FILE, (enum dp_dhcp_pxe)info.pxe, iface);
	put_options(bootp + DP_DHCP_OFF_OPTIONS, type, pxe, iface, hostname_len);

	ip_len = IPV4_HDR + UDP_HDR + DP_DHCP_OFF_OPTIONS + opts_len;
	ip[0] = 0x45;
	wr16(ip + 2, (uint16_t)ip_len);
	ip[9] = IPPROTO_UDP;
	memcpy(ip + 12, server_ip, 4);
	memcpy(ip + 16, pxe ? all_ones : iface->ipv4, 4);
	ip[10] = ip[11] = 0;
	cksum = rte_ipv4_cksum((const struct rte_ipv4_hdr *)ip); /* in network order */
	memcpy(ip + 10, &cksum, 2);

	wr16(udp, DHCP_SERVER_PORT);
	wr16(udp + 2, DHCP_CLIENT_PORT);
	wr16(udp + 4, (uint16_t)(ip_len - IPV4_HDR));
	udp[6] = udp[7] = 0;
	cksum = rte_ipv4_udptcp_cksum((const struct rte_ipv4_hdr *)ip, udp);
	memcpy(udp + 6, &cksum, 2);

	m->data_len = (uint16_t)reply_len;
	m->pkt_len = reply_len;
	m->ol_flags &= ~RTE_MBUF_F_TX_OFFLOAD_MASK;
	m->tx_offload = 0;
	return dhcp_tx[m->port];
}

/* clang-format off */
DP_NODE(dhcp_node, "dhcp", dhcp_reply, DHCP_EDGE_COUNT,
	[DHCP_DROP] = "drop",
	[DHCP_NO_INTERFACE] = "dhcp_no_interface",
	[DHCP_NO_IPV4] = "dhcp_no_ipv4",
	[DHCP_FRAGMENT] = "dhcp_fragment",
	[DHCP_MULTISEG] = "dhcp_multiseg",
	[DHCP_TRUNCATED] = "dhcp_truncated",
	[DHCP_NOT_REQUEST] = "dhcp_not_request",
	[DHCP_BAD_MAGIC] = "dhcp_bad_magic",
	[DHCP_BAD_OPTION] = "dhcp_bad_option",
	[DHCP_NO_MSG_TYPE] = "dhcp_no_msg_type",
	[DHCP_UNHANDLED_TYPE] = "dhcp_unhandled_type",
	[DHCP_NO_ROOM] = "dhcp_no_room",
	[DHCP_RATE_LIMITED] = "dhcp_rate_limited");
/* clang-format on */

DP_DROP_REGISTER(dhcp_no_interface);
DP_DROP_REGISTER(dhcp_no_ipv4);
DP_DROP_REGISTER(dhcp_fragment);
DP_DROP_REGISTER(dhcp_multiseg);
DP_DROP_REGISTER(dhcp_truncated);
DP_DROP_REGISTER(dhcp_not_request);
DP_DROP_REGISTER(dhcp_bad_magic);
DP_DROP_REGISTER(dhcp_bad_option);
DP_DROP_REGISTER(dhcp_no_msg_type);
DP_DROP_REGISTER(dhcp_unhandled_type);
DP_DROP_REGISTER(dhcp_no_room);
DP_DROP_REGISTER(dhcp_rate_limited);

RTE_INIT(dhcp_register)
{
	dp_cls_register_udp(DP_CLS_VF_IPV4, DHCP_SERVER_PORT, "dhcp");
}
