# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/core.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "dplane/core.h" nogil:
    enum:
        DP_MAX_PORTS
        DP_PORT_NONE
        DP_NAME_LEN
        DP_IFNAME_LEN

    enum dp_port_role:
        DP_PORT_UNUSED
        DP_PORT_PF
        DP_PORT_VF

    struct dp_ethdev_info:
        uint16_t port_id
        char name[DP_NAME_LEN]
        char ifname[DP_IFNAME_LEN]
        char driver[DP_NAME_LEN]
        uint8_t mac[6]
        uint32_t if_index

    struct dp_port_conf:
        uint16_t port_id
        uint8_t role
        uint8_t pf_index
        uint16_t xconnect
        bint start

    struct dp_core_conf:
        uint32_t nb_mbufs
        uint16_t nb_ports
        dp_port_conf ports[DP_MAX_PORTS]

    enum:
        DP_MAX_DNS4
        DP_MAX_DNS6

    struct dp_service_conf:
        uint16_t dhcp_mtu
        uint8_t nb_dns4
        uint8_t nb_dns6
        uint8_t dns4[DP_MAX_DNS4][4]
        uint8_t dns6[DP_MAX_DNS6][16]
        bint ipv6_overlay
        uint8_t wcmp

    struct dp_table_info:
        const char *name
        unsigned int capacity
        unsigned int entries

    struct dp_port_stats:
        uint64_t ipackets
        uint64_t opackets
        uint64_t ibytes
        uint64_t obytes
        uint64_t imissed
        uint64_t ierrors
        uint64_t oerrors
        uint64_t rx_nombuf

    int dp_eal_init(int argc, char *const argv[])
    int dp_eal_cleanup()
    unsigned int dp_lcore_count()
    unsigned int dp_max_ethports()
    uint16_t dp_ethdev_count()
    int dp_ethdev_get(uint16_t port_id, dp_ethdev_info *info)
    int dp_core_start(const dp_core_conf *conf)
    int dp_core_stop()
    bint dp_core_running()
    int dp_port_start(uint16_t port_id)
    int dp_port_stop(uint16_t port_id)
    int dp_port_set_neigh_mac(uint16_t port_id, const uint8_t mac[6])
    int dp_port_link_update(uint16_t port_id)
    int dp_port_stats_get(uint16_t port_id, dp_port_stats *stats)
    int dp_service_conf_set(const dp_service_conf *conf)
    unsigned int dp_table_count()
    int dp_table_get(unsigned int idx, dp_table_info *info)
    int dp_rcu_synchronize()
    unsigned int dp_drop_reason_count()
    const char *dp_drop_reason_name(unsigned int idx)
    int dp_drop_reason_packets(unsigned int idx, uint64_t *packets)
