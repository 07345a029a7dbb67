/* SPDX-License-Identifier: Apache-2.0 */
/*
 * IPv6 neighbour discovery (RFC 4861) for the VMs' gateway fe80::1: Neighbor Solicitations
 * for it are answered with a Neighbor Advertisement carrying the VF's MAC, Router
 * Solicitations with a Router Advertisement; both only with --enable-ipv6-overlay.
 *
 * The parsers, the checksum and the builders are pure functions that need no EAL (the fuzz
 * tests call them through pyext). The senders are control functions: control thread only,
 * 0 or -errno.
 */
#ifndef DPLANE_ND_H
#define DPLANE_ND_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/enum.h>

#define DP_ND_RS 133
#define DP_ND_RA 134
#define DP_ND_NS 135
#define DP_ND_NA 136

#define DP_ND_OPT_SLLA 1 /* source link-layer address */
#define DP_ND_OPT_TLLA 2 /* target link-layer address */

#define DP_ND_RS_LEN 8  /* ICMPv6 header of a Router Solicitation, without options */
#define DP_ND_NS_LEN 24 /* ... of a Neighbor Solicitation (header + target) */

/* Neighbor Advertisement flags (the first 32-bit word after the checksum, host order) */
#define DP_ND_NA_ROUTER 0x80000000u
#define DP_ND_NA_SOLICITED 0x40000000u
#define DP_ND_NA_OVERRIDE 0x20000000u

/* Frames the builders write: Ethernet + IPv6 + message + one link-layer address option */
#define DP_ND_NA_FRAME_LEN (14 + 40 + 24 + 8)
#define DP_ND_RA_FRAME_LEN (14 + 40 + 16 + 8)

/* fe80::1, the gateway; ff02::1, all nodes; and its Ethernet group address */
#define DP_GATEWAY_IPV6_INIT                                                                       \
	{                                                                                          \
		0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1                               \
	}
#define DP_ALL_NODES_IPV6_INIT                                                                     \
	{                                                                                          \
		0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1                               \
	}
#define DP_ALL_NODES_MAC_INIT                                                                      \
	{                                                                                          \
		0x33, 0x33, 0, 0, 0, 1                                                             \
	}

#define DP_ND_STATUS_LIST(X)                                                                       \
	X(DP_ND_OK, "ok")                                                                          \
	/* shorter than its message type requires */                                               \
	X(DP_ND_TRUNCATED, "truncated")                                                            \
	/* not a Router or Neighbor Solicitation */                                                \
	X(DP_ND_BAD_TYPE, "bad_type")                                                              \
	/* ICMPv6 code not 0 */                                                                    \
	X(DP_ND_BAD_CODE, "bad_code")                                                              \
	/* an option of length 0, or one running past the message */                               \
	X(DP_ND_BAD_OPTION, "bad_option")

enum dp_nd_status {
	DP_ND_STATUS_LIST(DP_ENUM_VALUE) DP_ND_STATUS_COUNT
};

/* The options of a message: how many, and the first source/target link-layer addresses. */
struct dp_nd_opts {
	uint16_t nb_opts;
	uint8_t has_slla;
	uint8_t has_tlla;
	uint8_t slla[6];
	uint8_t tlla[6];
};

struct dp_nd_info {
	uint8_t type;
	uint8_t code;
	uint16_t opts_off;  /* where the options start in the message */
	uint8_t target[16]; /* Neighbor Solicitation only, else zero */
	struct dp_nd_opts opts;
};

/* Parse ND options: len bytes at opts, all of which must be options. Reads nothing outside
 * [opts, opts + len). *out is always set (what was found before an error). */
enum dp_nd_status dp_nd_parse_options(const uint8_t *opts, uint32_t len, struct dp_nd_opts *out);

/* Parse a Router or Neighbor Solicitation: msg is the ICMPv6 message, len its length from
 * the IPv6 payload length (no link-layer padding). Checks type, length, code and options;
 * not the checksum (see dp_nd_checksum). Reads nothing outside [msg, msg + len). */
enum dp_nd_status dp_nd_parse(const uint8_t *msg, uint32_t len, struct dp_nd_info *out);
const char *dp_nd_status_name(enum dp_nd_status status);

/* The ICMPv6 checksum of msg (len bytes) between src and dst: the value for the checksum
 * field when the field is zero, and 0 when msg carries a correct checksum. Host order. */
uint16_t dp_nd_checksum(const uint8_t src[16], const uint8_t dst[16], const uint8_t *msg,
			uint32_t len);

/* Addressing of a frame the builders write. */
struct dp_nd_frame {
	uint8_t eth_dst[6];
	uint8_t eth_src[6];
	uint8_t ip_src[16];
	uint8_t ip_dst[16];
	uint32_t vtc_flow; /* version, traffic class, flow label; host order */
};

/* Write a Neighbor Advertisement for target with the given DP_ND_NA_* flags and a target
 * link-layer address option (hop limit 255, checksum computed). Returns DP_ND_NA_FRAME_LEN,
 * or 0 if room is smaller. */
uint32_t dp_nd_build_na(uint8_t *buf, uint32_t room, const struct dp_nd_frame *frame,
			uint32_t flags, const uint8_t target[16], const uint8_t tlla[6]);
/* Write the gateway's Router Advertisement: current hop limit 255, M and O set, router
 * lifetime 0xffff, reachable time and retransmission timer 0, a source link-layer address
 * option. Returns DP_ND_RA_FRAME_LEN, or 0 if room is smaller. */
uint32_t dp_nd_build_ra(uint8_t *buf, uint32_t room, const struct dp_nd_frame *frame,
			const uint8_t slla[6]);

/* Before dp_core_start(): answer NS/RS and send the periodic NA/RA (--enable-ipv6-overlay);
 * off by default. -EBUSY while running. */
int dp_nd_conf_set(bool enabled);

/* Queue the periodic unsolicited Neighbor Advertisement (fe80::1, flags R and O, target
 * link-layer address = the VF's MAC) or Router Advertisement for the VM behind a VF, both
 * from fe80::1 and the VF's MAC to ff02::1 / 33:33:00:00:00:01. -EOPNOTSUPP: IPv6 overlay
 * off, -ENODEV: no such port, -EINVAL: not a VF, -ENOENT: no interface, -EADDRNOTAVAIL: the
 * interface has no IPv6 address, -ENOBUFS: no mbuf or the injection ring is full. */
int dp_nd_send_unsolicited_na(uint16_t port_id);
int dp_nd_send_ra(uint16_t port_id);

#endif
