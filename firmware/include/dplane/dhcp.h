/* SPDX-License-Identifier: Apache-2.0 */
/*
 * DHCPv4 request parser used by the `dhcp` node. A pure function: the UDP payload of a
 * request in, what the responder needs to know (or an error) out. It never reads outside
 * [msg, msg + len) and believes no option length it has not checked, so it can be fuzzed
 * with arbitrary input (tests/dhcp).
 */
#ifndef DPLANE_DHCP_H
#define DPLANE_DHCP_H

#include <stdint.h>

#include <dplane/enum.h>

/* BOOTP layout (RFC 951, RFC 2131): fixed header, magic cookie, options */
#define DP_DHCP_MAX_DNS 63 /* --dhcp-dns */
#define DP_DHCP_MTU_MIN 68
#define DP_DHCP_MTU_MAX 1500

/* Before dp_core_start(): the MTU (option 26) and DNS servers (option 6, network order) every
 * reply carries. -EINVAL out of range, -EBUSY while running. */
int dp_dhcp_conf_set(uint16_t mtu, const uint8_t (*dns)[4], unsigned int nb_dns);

#define DP_DHCP_OFF_OP 0
#define DP_DHCP_OFF_XID 4
#define DP_DHCP_OFF_CIADDR 12
#define DP_DHCP_OFF_YIADDR 16
#define DP_DHCP_OFF_SIADDR 20
#define DP_DHCP_OFF_GIADDR 24
#define DP_DHCP_OFF_CHADDR 28
#define DP_DHCP_OFF_SNAME 44
#define DP_DHCP_OFF_FILE 108
#define DP_DHCP_FILE_LEN 128
#define DP_DHCP_OFF_MAGIC 236
#define DP_DHCP_OFF_OPTIONS 240 /* = the shortest DHCP message */
#define DP_DHCP_MAGIC 0x63825363u

#define DP_BOOTP_REQUEST 1
#define DP_BOOTP_REPLY 2

/* message types (option 53) */
#define DP_DHCPDISCOVER 1
#define DP_DHCPOFFER 2
#define DP_DHCPREQUEST 3
#define DP_DHCPACK 5

/* PXE boot requests: what the responder recognises in options 60 and 77 (DHCPv4) and in the
 * vendor class (16) and user class (15) options (DHCPv6) */
#define DP_PXE_VENDOR_CLASS "PXEClient:Arch:00007" /* contained in the vendor class */
#define DP_PXE_USER_CLASS "iPXE"                   /* the whole user class */
#define DP_PXE_TFTP_FILE "ipxe/x86_64/ipxe.new"

enum dp_dhcp_pxe {
	DP_DHCP_PXE_NONE = 0,
	DP_DHCP_PXE_TFTP, /* a PXE ROM: TFTP for the iPXE binary */
	DP_DHCP_PXE_HTTP, /* iPXE itself: HTTP for the boot file (wins over TFTP) */
};

#define DP_DHCP_STATUS_LIST(X)                                                                     \
	X(DP_DHCP_OK, "ok")                                                                        \
	/* shorter than the fixed BOOTP header + magic cookie */                                   \
	X(DP_DHCP_TRUNCATED, "truncated")                                                          \
	/* op is not BOOTREQUEST */                                                                \
	X(DP_DHCP_NOT_REQUEST, "not_request")                                                      \
	/* not the DHCP magic cookie: plain BOOTP */                                               \
	X(DP_DHCP_BAD_MAGIC, "bad_magic")                                                          \
	/* an option runs past the end, or a message type not 1 byte long */                       \
	X(DP_DHCP_BAD_OPTION, "bad_option")                                                        \
	/* no message type option (53) */                                                          \
	X(DP_DHCP_NO_MSG_TYPE, "no_msg_type")

enum dp_dhcp_status {
	DP_DHCP_STATUS_LIST(DP_ENUM_VALUE) DP_DHCP_STATUS_COUNT
};

struct dp_dhcp_info {
	uint32_t options_end; /* offset just past the END option, or len if there is none */
	uint8_t msg_type;     /* option 53 (the last one if repeated) */
	uint8_t pxe;          /* enum dp_dhcp_pxe */
};

/* msg/len: the UDP payload. On DP_DHCP_OK every field of *out is set; on an error only the
 * status means anything. */
enum dp_dhcp_status dp_dhcp_parse(const uint8_t *msg, uint32_t len, struct dp_dhcp_info *out);

const char *dp_dhcp_status_name(enum dp_dhcp_status status);

#endif
