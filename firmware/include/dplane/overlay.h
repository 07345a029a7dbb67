/* SPDX-License-Identifier: Apache-2.0 */
/*
 * The overlay across the underlay: IPv4-in-IPv6 (next header 4) and IPv6-in-IPv6 (41)
 * tunnels, as dpservice builds them. Pure functions on a frame in memory, used by the
 * ipip_encap / ipip_decap nodes and exposed for fuzzing. VLAN tags are never present (cls
 * drops tagged frames).
 */
#ifndef DPLANE_OVERLAY_H
#define DPLANE_OVERLAY_H

#include <stdbool.h>
#include <stdint.h>

#include <dplane/enum.h>

#define DP_ETHER_LEN 14
#define DP_IPV6_LEN 40
#define DP_TUNNEL_HOP_LIMIT 64

/* Before dp_core_start(): --wcmp, the share of IPv4 underlay traffic for PF0 in % (0-100; 100,
 * the default, sends it all to PF0). -EINVAL out of range, -EBUSY while running. */
int dp_overlay_conf_set(uint8_t wcmp);

/* Before dp_core_start(): the host's own underlay address (--ipv6), the source of what the
 * host sends into the underlay on nobody's behalf (relays to other hosts, answers to pings
 * of its public addresses). -EBUSY while running. */
int dp_overlay_host_set(const uint8_t ipv6[16]);

/* Before dp_core_start(): what ipip_decap does with a tunnel whose inner destination does
 * not belong to the VM its outer destination stands for (the interface's address, an
 * address in the alias prefix, or one whose route in the VNI leads to the VM's VF): drop it
 * as ipip_decap_inner_mismatch (enforce, the default), or count it and deliver it (audit).
 * -EBUSY while running. */
int dp_overlay_underlay_check_set(bool enforce);
/* Tunnels delivered although their inner destination did not belong (audit). */
uint64_t dp_overlay_underlay_audited(void);

struct dp_encap_params {
	uint8_t dst_mac[6]; /* the underlay router */
	uint8_t src_mac[6]; /* the PF */
	uint8_t src_ip[16]; /* the interface's underlay address */
	uint8_t dst_ip[16]; /* the route's next hop */
};

/* Encapsulate an Ethernet frame carrying IPv4 or IPv6 (len bytes at frame): the tunnel
 * frame is written starting DP_IPV6_LEN bytes before frame (the caller provides that
 * headroom) and is len + DP_IPV6_LEN long. 0, or -EINVAL when the frame is not IPv4/IPv6
 * or too long for one IPv6 packet. */
int dp_ipip_encap(uint8_t *frame, uint32_t len, const struct dp_encap_params *e);

/*
 * The same in two steps, for many packets into one tunnel: the outer headers (Ethernet,
 * and IPv6 but for its payload length and next header) built once, then applied to each
 * frame. dp_ipip_encap() is these two.
 */
struct dp_encap_hdr {
	uint8_t bytes[DP_ETHER_LEN + DP_IPV6_LEN];
};

void dp_encap_hdr_build(struct dp_encap_hdr *hdr, const struct dp_encap_params *e);
int dp_encap_hdr_apply(uint8_t *frame, uint32_t len, const struct dp_encap_hdr *hdr);

#define DP_DECAP_STATUS_LIST(X)                                                                    \
	X(DP_DECAP_OK, "ok")                                                                       \
	/* shorter than Ethernet + IPv6 + an inner header */                                       \
	X(DP_DECAP_TRUNCATED, "truncated")                                                         \
	/* not IPv6, or a next header other than 4/41 */                                           \
	X(DP_DECAP_NOT_TUNNEL, "not_tunnel")                                                       \
	/* payload length beyond the frame */                                                      \
	X(DP_DECAP_BAD_LENGTH, "bad_length")                                                       \
	/* next header 4 with no IPv4 inside, 41 with no IPv6 */                                   \
	X(DP_DECAP_INNER_MISMATCH, "inner_mismatch")

enum dp_decap_status {
	DP_DECAP_STATUS_LIST(DP_ENUM_VALUE) DP_DECAP_STATUS_COUNT
};

const char *dp_decap_status_name(enum dp_decap_status status);

/* Decapsulate a tunnel frame (Ethernet + IPv6 + inner packet, len bytes at frame): the
 * inner packet gets a new Ethernet header (dst_mac, src_mac) and starts DP_IPV6_LEN bytes
 * after frame; *out_len is its length (padding after the IPv6 payload is dropped). */
enum dp_decap_status dp_ipip_decap(uint8_t *frame, uint32_t len, const uint8_t dst_mac[6],
				   const uint8_t src_mac[6], uint32_t *out_len);

#endif
