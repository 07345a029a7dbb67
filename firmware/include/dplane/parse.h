/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Frame parser used by the `cls` node. A pure function: bytes in, metadata or an error out.
 * It never reads outside [data, data + len) and trusts no length field it has not checked,
 * so it can be fuzzed with arbitrary input (see tests/fuzz).
 */
#ifndef DPLANE_PARSE_H
#define DPLANE_PARSE_H

#include <stdint.h>

#include <dplane/enum.h>

#define DP_PARSE_STATUS_LIST(X)                                                                    \
	X(DP_PARSE_OK, "ok")                                                                       \
	/* shorter than an Ethernet header */                                                      \
	X(DP_PARSE_BAD_ETHER, "bad_ether")                                                         \
	/* truncated tag, or more than DP_PARSE_MAX_VLANS tags */                                  \
	X(DP_PARSE_BAD_VLAN, "bad_vlan")                                                           \
	/* not a complete Ethernet/IPv4 ARP packet */                                              \
	X(DP_PARSE_BAD_ARP, "bad_arp")                                                             \
	/* version, IHL, total length or truncation */                                             \
	X(DP_PARSE_BAD_IPV4, "bad_ipv4")                                                           \
	/* version, payload length or truncation */                                                \
	X(DP_PARSE_BAD_IPV6, "bad_ipv6")                                                           \
	/* extension header chain truncated, misplaced or too long */                              \
	X(DP_PARSE_BAD_IPV6_EXT, "bad_ipv6_ext")                                                   \
	/* TCP/UDP/ICMP header truncated or inconsistent */                                        \
	X(DP_PARSE_BAD_L4, "bad_l4")

enum dp_parse_status {
	DP_PARSE_STATUS_LIST(DP_ENUM_VALUE) DP_PARSE_STATUS_COUNT
};

enum dp_l3_type {
	DP_L3_NONE = 0, /* not parsed */
	DP_L3_ARP,
	DP_L3_IPV4,
	DP_L3_IPV6,
	DP_L3_OTHER, /* some other EtherType: not an error, just not ours */
};

#define DP_PARSE_MAX_VLANS 2
#define DP_PARSE_MAX_IPV6_EXT 8

/* flags */
#define DP_PARSE_F_FRAGMENT 0x01 /* IP fragment, first or not (not an IPv6 atomic fragment) */
#define DP_PARSE_F_NO_L4 0x02    /* no L4 header to look at: non-first fragment, ESP, no-next */
#define DP_PARSE_F_IPV6_EXT 0x04 /* IPv6 extension headers present */

struct dp_parse {
	uint16_t ethertype; /* innermost EtherType, host order */
	uint16_t l3_off;    /* offset of the L3 header */
	uint16_t l3_len;    /* IPv4 total length / 40 + IPv6 payload length / 28 for ARP */
	uint16_t l4_off;    /* offset of the L4 header, 0 if none */
	uint8_t l3_type;    /* enum dp_l3_type */
	uint8_t l4_proto;   /* IPv4 protocol / last IPv6 next header */
	uint8_t vlans;      /* number of VLAN tags skipped */
	uint8_t flags;      /* DP_PARSE_F_* */
} __attribute__((packed));

_Static_assert(sizeof(struct dp_parse) == 12, "struct dp_parse layout");

/* On DP_PARSE_OK every field of *out is set; on an error only the status means anything. */
enum dp_parse_status dp_parse_frame(const uint8_t *data, uint32_t len, struct dp_parse *out);

const char *dp_parse_status_name(enum dp_parse_status status);

#endif
