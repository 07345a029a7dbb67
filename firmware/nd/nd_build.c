/* SPDX-License-Identifier: Apache-2.0 */
/* Building Neighbor and Router Advertisements: pure functions, checksums in software. */
#include <string.h>

#include <dplane/nd.h>

#define ETHER_HDR 14
#define IPV6_HDR 40
#define NA_LEN 24 /* header, flags, target */
#define RA_LEN 16 /* header, hop limit, flags, lifetime, reachable time, retrans timer */
#define LLA_OPT_LEN 8

static inline void wr16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void wr32(uint8_t *p, uint32_t v)
{
	wr16(p, v >> 16);
	wr16(p + 2, v);
}

/* Ethernet and IPv6 headers for an ICMPv6 message of msg_len bytes; returns the message. */
static uint8_t *write_headers(uint8_t *buf, const struct dp_nd_frame *f, uint32_t msg_len)
{
	uint8_t *ip = buf + ETHER_HDR;

	memcpy(buf, f->eth_dst, 6);
	memcpy(buf + 6, f->eth_src, 6);
	wr16(buf + 12, 0x86dd);
	wr32(ip, f->vtc_flow);
	wr16(ip + 4, msg_len);
	ip[6] = 58;  /* ICMPv6 */
	ip[7] = 255; /* the only hop limit ND accepts (RFC 4861) */
	memcpy(ip + 8, f->ip_src, 16);
	memcpy(ip + 24, f->ip_dst, 16);
	return ip + IPV6_HDR;
}

static void write_lla_option(uint8_t *opt, uint8_t type, const uint8_t mac[6])
{
	opt[0] = type;
	opt[1] = 1; /* 8 bytes */
	memcpy(opt + 2, mac, 6);
}

static void write_checksum(const struct dp_nd_frame *f, uint8_t *msg, uint32_t len)
{
	msg[2] = 0;
	msg[3] = 0;
	wr16(msg + 2, dp_nd_checksum(f->ip_src, f->ip_dst, msg, len));
}

uint32_t dp_nd_build_na(uint8_t *buf, uint32_t room, const struct dp_nd_frame *frame,
			uint32_t flags, const uint8_t target[16], const uint8_t tlla[6])
{
	const uint32_t len = NA_LEN + LLA_OPT_LEN;
	uint8_t *msg;

	if (room < DP_ND_NA_FRAME_LEN)
		return 0;
	msg = write_headers(buf, frame, len);
	msg[0] = DP_ND_NA;
	msg[1] = 0;
	wr32(msg + 4, flags & (DP_ND_NA_ROUTER | DP_ND_NA_SOLICITED | DP_ND_NA_OVERRIDE));
	memcpy(msg + 8, target, 16);
	write_lla_option(msg + NA_LEN, DP_ND_OPT_TLLA, tlla);
	write_checksum(frame, msg, len);
	return DP_ND_NA_FRAME_LEN;
}

uint32_t dp_nd_build_ra(uint8_t *buf, uint32_t room, const struct dp_nd_frame *frame,
			const uint8_t slla[6])
{
	const uint32_t len = RA_LEN + LLA_OPT_LEN;
	uint8_t *msg;

	if (room < DP_ND_RA_FRAME_LEN)
		return 0;
	msg = write_headers(buf, frame, len);
	msg[0] = DP_ND_RA;
	msg[1] = 0;
	msg[4] = 255;          /* current hop limit */
	msg[5] = 0xc0;         /* M (managed addresses: DHCPv6) and O (other configuration) */
	wr16(msg + 6, 0xffff); /* router lifetime */
	wr32(msg + 8, 0);      /* reachable time: unspecified */
	wr32(msg + 12, 0);     /* retransmission timer: unspecified */
	write_lla_option(msg + RA_LEN, DP_ND_OPT_SLLA, slla);
	write_checksum(frame, msg, len);
	return DP_ND_RA_FRAME_LEN;
}
