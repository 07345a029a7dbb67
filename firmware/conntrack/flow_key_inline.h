/* SPDX-License-Identifier: Apache-2.0 */
/* Flow keys and the TCP state machine: pure functions, inlined into the conntrack node and
 * exported by flow_key.c (for the fuzz tests) as the same code. */
#ifndef DP_FLOW_KEY_INLINE_H
#define DP_FLOW_KEY_INLINE_H

#include <netinet/in.h>
#include <string.h>

#include <rte_byteorder.h>

#include <dplane/conntrack.h>

#define FK_ICMP_ECHO_REPLY 0
#define FK_ICMP_DEST_UNREACH 3
#define FK_ICMP_ECHO_REQUEST 8
#define FK_ICMP_TIME_EXCEEDED 11
#define FK_ICMP_PROTO_UNREACH 2
#define FK_ICMP_PORT_UNREACH 3
#define FK_ICMP_FRAG_NEEDED 4
#define FK_ICMPV6_ECHO_REQUEST 128
#define FK_ICMPV6_ECHO_REPLY 129

#define FK_TCP_FIN 0x01
#define FK_TCP_SYN 0x02
#define FK_TCP_RST 0x04
#define FK_TCP_ACK 0x10

static inline uint16_t fk_rd16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void fk_put_ipv4(uint8_t out[16], const uint8_t *be)
{
	uint32_t host =
		(uint32_t)be[0] << 24 | (uint32_t)be[1] << 16 | (uint32_t)be[2] << 8 | be[3];

	memcpy(out, &host, sizeof(host)); /* dpservice keeps IPv4 in host order */
}

/* An ICMP error quoting a TCP/UDP packet of ours: keyed as that flow's reply. */
static inline enum dp_flow_key_status fk_icmp_error_key(const uint8_t *d, uint32_t off,
							uint32_t end, struct dp_flow_key *key)
{
	uint32_t q = off + 8, ihl;

	if (q + 20 > end || (d[q] >> 4) != 4)
		return DP_FLOW_KEY_BAD_ICMP_ERROR;
	ihl = (uint32_t)(d[q] & 0x0f) * 4;
	if (ihl < 20 || q + ihl + 4 > end)
		return DP_FLOW_KEY_BAD_ICMP_ERROR;
	if (d[q + 9] != IPPROTO_TCP && d[q + 9] != IPPROTO_UDP)
		return DP_FLOW_KEY_BAD_ICMP_ERROR;
	key->proto = d[q + 9];
	fk_put_ipv4(key->l3_dst, d + q + 12); /* the quoted packet's source */
	fk_put_ipv4(key->l3_src, d + q + 16);
	key->port_dst = fk_rd16(d + q + ihl);
	key->port_src = fk_rd16(d + q + ihl + 2);
	return DP_FLOW_KEY_OK;
}

static inline enum dp_flow_key_status dp_flow_key_build_inline(const uint8_t *d, uint32_t len,
							       const struct dp_parse *p,
							       uint32_t vni, uint8_t vnf_type,
							       struct dp_flow_key *key)
{
	uint32_t off = p->l4_off, end;

	memset(key, 0, sizeof(*key));
	key->vni = vni;
	key->vnf_type = vnf_type;
	key->proto = p->l4_proto;
	end = (uint32_t)p->l3_off + p->l3_len;
	if (end > len)
		end = len;

	switch (p->l3_type) {
	case DP_L3_IPV4:
		fk_put_ipv4(key->l3_src, d + p->l3_off + 12);
		fk_put_ipv4(key->l3_dst, d + p->l3_off + 16);
		break;
	case DP_L3_IPV6:
		memcpy(key->l3_src, d + p->l3_off + 8, 16);
		memcpy(key->l3_dst, d + p->l3_off + 24, 16);
		key->src_is_v6 = key->dst_is_v6 = 1;
		break;
	default:
		return DP_FLOW_KEY_NOT_IP;
	}

	switch (p->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
	case IPPROTO_ICMP:
	case IPPROTO_ICMPV6:
		break;
	default:
		return DP_FLOW_KEY_UNSUPPORTED;
	}
	if ((p->flags & (DP_PARSE_F_FRAGMENT | DP_PARSE_F_NO_L4)) || !off)
		return DP_FLOW_KEY_FRAGMENT;

	switch (p->l4_proto) {
	case IPPROTO_TCP:
	case IPPROTO_UDP:
		key->port_src = fk_rd16(d + off);
		key->port_dst = fk_rd16(d + off + 2);
		return DP_FLOW_KEY_OK;
	case IPPROTO_ICMP:
		if (p->l3_type != DP_L3_IPV4)
			return DP_FLOW_KEY_UNSUPPORTED;
		switch (d[off]) {
		case FK_ICMP_ECHO_REQUEST:
		case FK_ICMP_ECHO_REPLY:
			key->port_src = d[off];
			key->port_dst = fk_rd16(d + off + 4);
			return DP_FLOW_KEY_OK;
		case FK_ICMP_DEST_UNREACH:
			if (d[off + 1] == FK_ICMP_PROTO_UNREACH ||
			    d[off + 1] == FK_ICMP_PORT_UNREACH || d[off + 1] == FK_ICMP_FRAG_NEEDED)
				return fk_icmp_error_key(d, off, end, key);
			return DP_FLOW_KEY_ICMP_UNTRACKED;
		case FK_ICMP_TIME_EXCEEDED: /* traceroute through NAT needs it translated */
			return fk_icmp_error_key(d, off, end, key);
		default:
			return DP_FLOW_KEY_ICMP_UNTRACKED;
		}
	default: /* ICMPv6 */
		if (p->l3_type != DP_L3_IPV6)
			return DP_FLOW_KEY_UNSUPPORTED;
		key->port_src = d[off];
		key->port_dst = off + 6 <= end ? fk_rd16(d + off + 4) : 0;
		return DP_FLOW_KEY_OK;
	}
}

static inline uint16_t fk_reverse_icmp_type(uint8_t proto, uint16_t type)
{
	if (proto == IPPROTO_ICMP) {
		if (type == FK_ICMP_ECHO_REQUEST)
			return FK_ICMP_ECHO_REPLY;
		if (type == FK_ICMP_ECHO_REPLY)
			return FK_ICMP_ECHO_REQUEST;
	} else {
		if (type == FK_ICMPV6_ECHO_REQUEST)
			return FK_ICMPV6_ECHO_REPLY;
		if (type == FK_ICMPV6_ECHO_REPLY)
			return FK_ICMPV6_ECHO_REQUEST;
	}
	return type;
}

static inline void dp_flow_key_reverse_inline(const struct dp_flow_key *key,
					      struct dp_flow_key *out)
{
	struct dp_flow_key k = *key; /* out may be key */

	memcpy(out->l3_dst, k.l3_src, 16);
	memcpy(out->l3_src, k.l3_dst, 16);
	out->dst_is_v6 = k.src_is_v6;
	out->src_is_v6 = k.dst_is_v6;
	out->proto = k.proto;
	out->vni = k.vni;
	out->vnf_type = k.vnf_type;
	if (k.proto == IPPROTO_ICMP || k.proto == IPPROTO_ICMPV6) {
		out->port_dst = k.port_dst; /* the echo identifier */
		out->port_src = fk_reverse_icmp_type(k.proto, k.port_src);
	} else {
		out->port_dst = k.port_src;
		out->port_src = k.port_dst;
	}
}

static inline uint8_t dp_ct_tcp_next_inline(uint8_t state, uint8_t dir, uint8_t flags)
{
	if (flags & FK_TCP_RST)
		return DP_CT_TCP_RST_FIN;
	if (flags & FK_TCP_FIN)
		return state == DP_CT_TCP_ESTABLISHED ? DP_CT_TCP_FINWAIT : DP_CT_TCP_RST_FIN;
	switch (state) {
	case DP_CT_TCP_NONE:
	case DP_CT_TCP_RST_FIN:
		/* a new connection (again): a SYN from the side that opened the flow */
		if ((flags & (FK_TCP_SYN | FK_TCP_ACK)) == FK_TCP_SYN)
			return DP_CT_TCP_NEW_SYN;
		return state;
	case DP_CT_TCP_NEW_SYN:
		if ((flags & (FK_TCP_SYN | FK_TCP_ACK)) == (FK_TCP_SYN | FK_TCP_ACK) &&
		    dir == DP_FLOW_DIR_REPLY)
			return DP_CT_TCP_NEW_SYNACK;
		return state;
	case DP_CT_TCP_NEW_SYNACK:
		if ((flags & (FK_TCP_SYN | FK_TCP_ACK)) == FK_TCP_ACK && dir == DP_FLOW_DIR_ORIG)
			return DP_CT_TCP_ESTABLISHED;
		return state;
	default:
		return state;
	}
}

#endif
