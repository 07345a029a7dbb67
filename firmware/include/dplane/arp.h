/* SPDX-License-Identifier: Apache-2.0 */
/*
 * ARP: the VMs' gateway 169.254.0.1, answered on every VF with the VF's own MAC, and the
 * ARP cycle that learns a VM's MAC after its interface was created.
 *
 * The parser and the builder are pure functions (bytes in, bytes or a result out) that need
 * no EAL; the fuzz tests call them through pyext. dp_arp_send_gratuitous() is a control
 * function: control thread only, 0 or -errno.
 */
#ifndef DPLANE_ARP_H
#define DPLANE_ARP_H

#include <stdint.h>

#include <dplane/enum.h>

#define DP_ARP_LEN 28       /* Ethernet/IPv4 ARP packet */
#define DP_ARP_FRAME_LEN 42 /* that packet in an untagged Ethernet frame, no padding */
#define DP_ARP_OP_REQUEST 1
#define DP_ARP_OP_REPLY 2

/* The gateway address the VMs resolve, network order. */
#define DP_GATEWAY_IPV4_INIT                                                                       \
	{                                                                                          \
		169, 254, 0, 1                                                                     \
	}

#define DP_ARP_STATUS_LIST(X)                                                                      \
	X(DP_ARP_OK, "ok")                                                                         \
	/* fewer than DP_ARP_LEN bytes */                                                          \
	X(DP_ARP_TRUNCATED, "truncated")                                                           \
	/* hardware type not Ethernet (1) or address length not 6 */                               \
	X(DP_ARP_BAD_HARDWARE, "bad_hardware")                                                     \
	/* protocol type not IPv4 (0x0800) or address length not 4 */                              \
	X(DP_ARP_BAD_PROTOCOL, "bad_protocol")

enum dp_arp_status {
	DP_ARP_STATUS_LIST(DP_ENUM_VALUE) DP_ARP_STATUS_COUNT
};

/* An ARP packet's fields; addresses as they are on the wire. */
struct dp_arp_info {
	uint16_t op; /* host order */
	uint8_t sha[6];
	uint8_t sip[4];
	uint8_t tha[6];
	uint8_t tip[4];
};

/* Parse the ARP packet at arp (len bytes available; more than DP_ARP_LEN is padding). Reads
 * nothing outside [arp, arp + len). On DP_ARP_OK every field of *out is set. */
enum dp_arp_status dp_arp_parse(const uint8_t *arp, uint32_t len, struct dp_arp_info *out);
const char *dp_arp_status_name(enum dp_arp_status status);

/* Write a broadcast ARP request from mac (Ethernet source and sender hardware address) into
 * buf: sender sip, target tip, target hardware address zero. Returns DP_ARP_FRAME_LEN, or 0
 * if room is smaller than that. */
uint32_t dp_arp_build_request(uint8_t *buf, uint32_t room, const uint8_t mac[6],
			      const uint8_t sip[4], const uint8_t tip[4]);

/* Queue the periodic ARP request for the VM behind a VF: broadcast, sender 169.254.0.1 with
 * the VF's MAC, target 169.254.0.1, or the VM's address while the port's ARP cycle is
 * pending (its answer teaches us the VM's MAC). -ENODEV: no such port, -EINVAL: not a VF,
 * -ENOENT: no interface, -EADDRNOTAVAIL: the interface has no IPv4 address, -ENOBUFS: no
 * mbuf or the injection ring is full. */
int dp_arp_send_gratuitous(uint16_t port_id);

#endif
