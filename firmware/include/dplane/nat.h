/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Network address translation for VMs' IPv4 traffic to and from the outside (south-north):
 *
 *  - a virtual IP (VIP) is a public address of one VM (1:1): its outgoing flows leave with the
 *    VIP as source, and new flows to the VIP (from the underlay, or from a VM of the same VNI)
 *    reach the VM;
 *  - a NAT gives a VM a port range [min, max) of a NAT IP that other VMs, here and on other
 *    hosts, share with ranges of their own: its outgoing flows leave from the NAT IP and a
 *    port of its range, chosen as dpservice chooses it (dp_nat_port_start()); replies come
 *    back through the NAT IP's underlay address. A VM with both uses its NAT.
 *
 * The DNAT table maps {address, VNI} to the VM a VIP stands for, or marks a NAT IP of the
 * VNI. Flows are translated from their first packet on; the NAT ports a flow holds go back
 * when the flow leaves the conntrack table (aging, or a flush).
 *
 * Control functions: control thread only, 0 or -errno. Addresses in network order.
 */
#ifndef DPLANE_NAT_H
#define DPLANE_NAT_H

#include <stdbool.h>
#include <stdint.h>

/* snat_table and dnat_table, as dpservice sizes them (126 VFs, 32 ranges each) */
#define DP_NAT_TABLE_SIZE (126 * 32)

/* dpservice's seed of its jhash tables (the NAT port choice depends on it) */
#define DP_NAT_HASH_INIT 0xfee1900d

/* What a VM's outgoing south-north flows are translated with: 0.0.0.0 for none. */
struct dp_nat_snat_conf {
	uint8_t vip[4];
	uint8_t nat_ip[4];
	uint16_t min_port; /* the NAT's ports: [min_port, max_port) */
	uint16_t max_port;
};

/* Set the translation of the VM behind a VF (replacing it). -ENODEV: no interface there;
 * -EINVAL: a NAT without ports; -ENOSPC: snat_table is full. */
int dp_nat_snat_set(uint16_t port_id, const struct dp_nat_snat_conf *conf);
/* Remove it. -ENOENT: none. */
int dp_nat_snat_clear(uint16_t port_id);

#define DP_NAT_FLOWS_VIP 0x1 /* flows translated by the VIP, both ways */
#define DP_NAT_FLOWS_NAT 0x2 /* flows translated by the NAT */
/* Remove the flows of the VM behind port_id (in VNI vni, address vm_ip) that its VIP and/or
 * NAT (NAT64 included) translated; how many. Their NAT ports go back. */
int dp_nat_flush(uint16_t port_id, uint32_t vni, const uint8_t vm_ip[4], unsigned int which);

/* {ip, vni} -> target, the VM address a VIP stands for; a NAT IP has target 0.0.0.0.
 * -EEXIST, -ENOSPC. */
int dp_nat_dnat_add(uint32_t vni, const uint8_t ip[4], const uint8_t target[4]);
/* -ENOENT */
int dp_nat_dnat_del(uint32_t vni, const uint8_t ip[4]);
/* -ENOENT */
int dp_nat_dnat_get(uint32_t vni, const uint8_t ip[4], uint8_t target[4]);
/* Entries of the DNAT table. */
unsigned int dp_nat_dnat_count(void);

/* Another host's range of a NAT IP (CreateNeighborNat). */
struct dp_nat_neigh {
	uint32_t vni;
	uint8_t nat_ip[4];
	uint16_t min_port; /* [min_port, max_port) */
	uint16_t max_port;
	uint8_t underlay[16]; /* where its packets go */
};

/* The neighbour ranges, all of them (replacing the previous set; count 0: none): new flows
 * to a NAT IP whose destination port (ICMP echo identifier) falls into one are relayed to
 * its underlay address, out of the PF they came in on. -ENOMEM. */
int dp_nat_neigh_set(const struct dp_nat_neigh *ranges, unsigned int count);
/* Remove the relayed flows to nat_ip in vni with a destination port in [min, max). */
int dp_nat_flush_relayed(uint32_t vni, const uint8_t nat_ip[4], uint16_t min_port,
			 uint16_t max_port);

/* NAT ports the VM behind port_id holds: one per flow, as dpservice counts them. */
uint32_t dp_nat_used_ports(uint16_t port_id);
/* Entries of the port tables (nat_portmap_table, nat_portoverload_table). */
unsigned int dp_nat_portmap_count(void);
unsigned int dp_nat_portoverload_count(void);

/* An entry of the port tables, for operators (dplane-inspect). */
struct dp_nat_portmap_entry {
	uint32_t vni;
	uint8_t src[16]; /* network order; IPv4 in the first 4 bytes */
	uint8_t src_is_v6;
	uint16_t src_port;
	uint16_t nat_port;
	uint32_t flows;
};

struct dp_nat_portoverload_entry {
	uint8_t nat_ip[4];
	uint16_t nat_port;
	uint8_t dst[4];
	uint16_t dst_port;
	uint8_t proto;
};

/* Walk a port table: *iter starts at 0; 0 with the next entry, -ENOENT at the end. The
 * worker writes these tables while they are read: a snapshot, in which an entry being
 * written at that moment may be missing. */
int dp_nat_portmap_next(uint32_t *iter, struct dp_nat_portmap_entry *e);
int dp_nat_portoverload_next(uint32_t *iter, struct dp_nat_portoverload_entry *e);

/* -- pure functions ------------------------------------------------------------------- */

/*
 * dpservice's hash of a NAT source (its portmap key: VNI, source address as in a flow key,
 * source port or ICMP echo identifier): a new source tries port
 * min + (hash + p) % (max - min) for p = 0, 1, ... and takes the first one free for the
 * destination. src: IPv4 (4 bytes) or IPv6 (16), network order.
 */
uint32_t dp_nat_portmap_hash(uint32_t vni, const uint8_t *src, bool is_v6, uint16_t src_port);

/*
 * Rewrite an IPv4 packet's source (dst = false) or destination address to addr and, if
 * l4_port >= 0, its source (destination) TCP/UDP port or ICMP echo identifier, updating the
 * header and L4 checksums incrementally. l3: the IPv4 header, len bytes from it on;
 * l4_off: offset of the L4 header from l3 (0 if the packet has none here, e.g. a non-first
 * fragment). An ICMP error (destination unreachable, time exceeded) is about a packet that
 * went the other way: the same endpoint is rewritten in the packet it quotes too (its source
 * and source port when dst is true, its destination and destination port otherwise), with
 * the quoted checksums and the ICMP one. 0, or -EINVAL when the packet is too short for what
 * is asked.
 */
int dp_nat_rewrite4(uint8_t *l3, uint32_t len, uint32_t l4_off, bool dst, const uint8_t addr[4],
		    int32_t l4_port);

/*
 * NAT64 (RFC 7915's translation as dpservice does it). An IPv6 packet (len bytes at v6: the
 * 40-byte header, no extension headers, then TCP, UDP or an ICMPv6 echo request) as IPv4 from
 * nat_ip and source port (echo identifier) port to the address in its destination's last 4
 * bytes: len - 20 bytes at v4, TTL from the hop limit, TOS from the traffic class, checksums
 * computed. 0, -EINVAL (inconsistent lengths), -ENOTSUP (another protocol or ICMPv6 type).
 */
int dp_nat64_6to4(const uint8_t *v6, uint32_t len, uint8_t *v4, const uint8_t nat_ip[4],
		  uint16_t port);
/* The other way: an IPv4 packet (a 20-byte header, not a fragment, then TCP, UDP or an ICMP
 * echo reply) as IPv6 from src to dst with destination port (echo identifier) port: len + 20
 * bytes at v6. 0, -EINVAL, -ENOTSUP (options, fragments, another protocol or ICMP type). */
int dp_nat64_4to6(const uint8_t *v4, uint32_t len, uint8_t *v6, const uint8_t src[16],
		  const uint8_t dst[16], uint16_t port);

#endif
