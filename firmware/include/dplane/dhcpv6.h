/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DHCPv6 client-message parser used by the `dhcpv6` node. A pure function: the UDP payload
 * (message type, transaction id, options) in, what the responder needs to know (or an
 * error) out. It never reads outside [msg, msg + len) and believes no option length it has
 * not checked, so it can be fuzzed with arbitrary input (tests/dhcp).
 */
#ifndef DPLANE_DHCPV6_H
#define DPLANE_DHCPV6_H

#include <stdint.h>

#include <dplane/enum.h>

#include <dplane/dhcp.h> /* enum dp_dhcp_pxe, the PXE strings */

#define DP_DHCPV6_MAX_DNS 15 /* --dhcpv6-dns */

/* Before dp_core_start(): the DNS servers (option 23) every reply carries. -EINVAL: too many,
 * -EBUSY while running. */
int dp_dhcpv6_conf_set(const uint8_t (*dns)[16], unsigned int nb_dns);

#define DP_DHCPV6_HDR_LEN 4 /* message type + transaction id */

/* message types (RFC 8415) */
#define DP_DHCPV6_SOLICIT 1
#define DP_DHCPV6_ADVERTISE 2
#define DP_DHCPV6_REQUEST 3
#define DP_DHCPV6_CONFIRM 4
#define DP_DHCPV6_REPLY 7
#define DP_DHCPV6_RELEASE 8
#define DP_DHCPV6_RELAY_FORW 12
#define DP_DHCPV6_RELAY_REPL 13

/* option codes */
#define DP_DHCPV6_OPT_CLIENTID 1
#define DP_DHCPV6_OPT_SERVERID 2
#define DP_DHCPV6_OPT_IA_NA 3
#define DP_DHCPV6_OPT_IAADDR 5
#define DP_DHCPV6_OPT_STATUS_CODE 13
#define DP_DHCPV6_OPT_RAPID_COMMIT 14
#define DP_DHCPV6_OPT_USER_CLASS 15
#define DP_DHCPV6_OPT_VENDOR_CLASS 16
#define DP_DHCPV6_OPT_DNS_SERVERS 23
#define DP_DHCPV6_OPT_BOOT_FILE_URL 59

#define DP_DHCPV6_STATUS_SUCCESS 0
#define DP_DHCPV6_STATUS_NOADDRSAVAIL 2

#define DP_DHCPV6_IA_NA_FIXED 12 /* IAID, T1, T2 */
#define DP_DHCPV6_MAX_DUID 130   /* type + at most 128 octets (RFC 8415 11.1) */

#define DP_DHCPV6_STATUS_LIST(X)                                                                   \
	X(DP_DHCPV6_OK, "ok")                                                                      \
	/* shorter than message type + transaction id */                                           \
	X(DP_DHCPV6_TRUNCATED, "truncated")                                                        \
	/* an option header or value runs past the end */                                          \
	X(DP_DHCPV6_BAD_OPTION, "bad_option")                                                      \
	/* CLIENTID longer than a DUID can be */                                                   \
	X(DP_DHCPV6_BAD_CLIENT_ID, "bad_client_id")                                                \
	/* IA_NA shorter than its fixed part */                                                    \
	X(DP_DHCPV6_BAD_IA_NA, "bad_ia_na")                                                        \
	/* RAPID_COMMIT with a value */                                                            \
	X(DP_DHCPV6_BAD_RAPID_COMMIT, "bad_rapid_commit")

enum dp_dhcpv6_status {
	DP_DHCPV6_STATUS_LIST(DP_ENUM_VALUE) DP_DHCPV6_STATUS_COUNT
};

/* flags */
#define DP_DHCPV6_F_CLIENT_ID 0x01
#define DP_DHCPV6_F_IA_NA 0x02
#define DP_DHCPV6_F_RAPID_COMMIT 0x04

struct dp_dhcpv6_info {
	uint32_t client_id_off; /* offset of the CLIENTID value in the message */
	uint32_t client_id_len; /* its length (<= DP_DHCPV6_MAX_DUID) */
	uint8_t iaid[4];        /* of the IA_NA, as in the message */
	uint8_t msg_type;
	uint8_t flags; /* DP_DHCPV6_F_*; CLIENTID and IA_NA: the last one counts */
	uint8_t pxe;   /* enum dp_dhcp_pxe */
};

/* msg/len: the UDP payload. On DP_DHCPV6_OK every field of *out is set (offsets, lengths
 * and iaid are 0 when the option is absent); on an error only the status means anything.
 * Relay messages (RELAY-FORW, RELAY-REPL) are laid out differently: only their type is
 * read. */
enum dp_dhcpv6_status dp_dhcpv6_parse(const uint8_t *msg, uint32_t len, struct dp_dhcpv6_info *out);

const char *dp_dhcpv6_status_name(enum dp_dhcpv6_status status);

#endif
