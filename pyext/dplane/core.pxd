# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/core.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from dplane.parse cimport dp_parse

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

    enum dp_idle_mode:
        DP_IDLE_INTERRUPT
        DP_IDLE_PAUSE
        DP_IDLE_BUSY

    struct dp_core_conf:
        uint32_t nb_mbufs
        uint16_t nb_ports
        uint8_t idle
        dp_port_conf ports[DP_MAX_PORTS]

    struct dp_table_info:
        const char *name
        unsigned int capacity
        unsigned int entries

    struct dp_idle_stats:
        uint64_t sleeps
        uint64_t wakeups
        uint64_t timeouts
        uint64_t kicks
        uint64_t pauses
        uint64_t asleep_ns
        uint32_t intr_ports
        uint32_t nointr_ports

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
    int dp_idle_stats_get(dp_idle_stats *stats)
    int dp_responder_limit_set(uint32_t rate, uint32_t burst)
    int dp_port_start(uint16_t port_id)
    int dp_port_stop(uint16_t port_id)
    int dp_port_set_neigh_mac(uint16_t port_id, const uint8_t mac[6])
    int dp_port_link_update(uint16_t port_id)
    int dp_port_stats_get(uint16_t port_id, dp_port_stats *stats)
    unsigned int dp_table_count()
    int dp_table_get(unsigned int idx, dp_table_info *info)
    int dp_rcu_synchronize()
    unsigned int dp_drop_reason_count()
    const char *dp_drop_reason_name(unsigned int idx)
    int dp_drop_reason_packets(unsigned int idx, uint64_t *packets)

    struct dp_pkt_meta:
        dp_parse parse
        uint32_t vni
        uint16_t out_port
        uint16_t tun_port
        uint8_t vnf_type
        uint8_t flow_dir
        uint8_t route_depth
        uint8_t has_flow
        uint32_t flow_hash
        uint8_t nh_ipv6[16]

    enum:
        DP_NODE_TEST_ROOM
        DP_NODE_TEST_OUT_ROOM
        DP_NODE_TEST_MAX_STEPS

    struct dp_node_test_pkt:
        uint16_t port
        uint16_t len
        uint8_t parse
        uint8_t data[DP_NODE_TEST_OUT_ROOM]
        dp_pkt_meta meta
        char path[DP_NODE_TEST_MAX_STEPS][DP_NAME_LEN]

    int dp_node_test(const char *node, dp_node_test_pkt *pkt, unsigned int max_steps)
