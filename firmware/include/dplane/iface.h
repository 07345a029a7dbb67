/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Interfaces: a VF port bound to an interface (VNI, addresses, boot and host settings).
 * Control functions: control thread only, 0 or -errno.
 */
#ifndef DPLANE_IFACE_H
#define DPLANE_IFACE_H

#include <stdint.h>

#define DP_HOSTNAME_LEN 64  /* including the terminating NUL */
#define DP_BOOT_FILE_LEN 32 /* including the terminating NUL */

enum dp_pxe_family {
	DP_PXE_NONE = 0,
	DP_PXE_IPV4 = 4,
	DP_PXE_IPV6 = 6,
};

/* What the datapath needs to know about the interface of a VF. Addresses in network order;
 * all-zero means "none". */
struct dp_iface_conf {
	uint32_t vni;
	uint8_t underlay[16]; /* the interface's underlay address: its tunnels' source */
	uint8_t ipv4[4];
	uint8_t ipv6[16];
	uint8_t pxe_family; /* enum dp_pxe_family */
	uint8_t pxe_ipv4[4];
	uint8_t pxe_ipv6[16];
	char boot_file[DP_BOOT_FILE_LEN];
	char hostname[DP_HOSTNAME_LEN];
};

/* Bind conf to a VF port (copied). The port must not have an interface yet (-EBUSY). It
 * does not start the port: see dp_port_start(). */
int dp_iface_attach(uint16_t port_id, const struct dp_iface_conf *conf);
/* Unbind; when it returns no worker sees the interface any more. -ENOENT if none. */
int dp_iface_detach(uint16_t port_id);
/* The MAC address learned for the VM behind a VF (the port's own MAC until learned). */
int dp_iface_vm_mac(uint16_t port_id, uint8_t mac[6]);

#endif
