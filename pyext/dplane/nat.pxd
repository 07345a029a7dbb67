# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/nat.h.
from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t

cdef extern from "dplane/nat.h" nogil:
    enum:
        DP_NAT_TABLE_SIZE
        DP_NAT_FLOWS_VIP
        DP_NAT_FLOWS_NAT

    struct dp_nat_snat_conf:
        uint8_t vip[4]
        uint8_t nat_ip[4]
        uint16_t min_port
        uint16_t max_port

    struct dp_nat_neigh:
        uint32_t vni
        uint8_t nat_ip[4]
        uint16_t min_port
        uint16_t max_port
        uint8_t underlay[16]

    int dp_nat_neigh_set(const dp_nat_neigh *ranges, unsigned int count)
    int dp_nat_flush_relayed(uint32_t vni, const uint8_t nat_ip[4], uint16_t min_port,
                             uint16_t max_port)
    struct dp_nat_portmap_entry:
        uint32_t vni
        uint8_t src[16]
        uint8_t src_is_v6
        uint16_t src_port
        uint16_t nat_port
        uint32_t flows

    struct dp_nat_portoverload_entry:
        uint8_t nat_ip[4]
        uint16_t nat_port
        uint8_t dst[4]
        uint16_t dst_port
        uint8_t proto

    int dp_nat_portmap_next(uint32_t *iter, dp_nat_portmap_entry *e)
    int dp_nat_portoverload_next(uint32_t *iter, dp_nat_portoverload_entry *e)
    int dp_nat_snat_set(uint16_t port_id, const dp_nat_snat_conf *conf)
    int dp_nat_snat_clear(uint16_t port_id)
    int dp_nat_flush(uint16_t port_id, uint32_t vni, const uint8_t vm_ip[4], unsigned int which)
    int dp_nat_dnat_add(uint32_t vni, const uint8_t ip[4], const uint8_t target[4])
    int dp_nat_dnat_del(uint32_t vni, const uint8_t ip[4])
    int dp_nat_dnat_get(uint32_t vni, const uint8_t ip[4], uint8_t target[4])
    unsigned int dp_nat_dnat_count()
    uint32_t dp_nat_used_ports(uint16_t port_id)
    unsigned int dp_nat_portmap_count()
    unsigned int dp_nat_portoverload_count()
    uint32_t dp_nat_portmap_hash(uint32_t vni, const uint8_t *src, bint is_v6, uint16_t src_port)
    int dp_nat64_6to4(const uint8_t *v6, uint32_t len, uint8_t *v4, const uint8_t nat_ip[4],
                      uint16_t port)
    int dp_nat64_4to6(const uint8_t *v4, uint32_t len, uint8_t *v6, const uint8_t src[16],
                      const uint8_t dst[16], uint16_t port)
    int dp_nat_rewrite4(uint8_t *l3, uint32_t len, uint32_t l4_off, bint dst,
                        const uint8_t addr[4], int32_t l4_port)
