# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/conntrack.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t
from dplane.parse cimport dp_parse

cdef extern from "dplane/conntrack.h" nogil:
    enum:
        DP_CT_DEFAULT_CAPACITY
        DP_CT_DEFAULT_TIMEOUT
        DP_CT_TCP_ESTABLISHED_TIMEOUT

    enum dp_flow_key_status:
        DP_FLOW_KEY_OK
        DP_FLOW_KEY_STATUS_COUNT

    enum dp_ct_tcp_state:
        DP_CT_TCP_STATE_COUNT

    const char *dp_flow_key_status_name(dp_flow_key_status status)
    const char *dp_ct_tcp_state_name(dp_ct_tcp_state state)

    struct dp_flow_key:
        uint8_t l3_dst[16]
        uint8_t dst_is_v6
        uint8_t proto
        uint16_t port_dst
        uint8_t l3_src[16]
        uint8_t src_is_v6
        uint8_t vnf_type
        uint16_t port_src
        uint32_t vni

    struct dp_ct_info:
        dp_flow_key key[2]
        uint16_t in_port
        uint8_t tcp_state
        uint32_t idle_ms
        uint32_t timeout_s
        uint64_t packets[2]

    enum:
        DP_CT_PORT_SOURCES_MAX

    struct dp_ct_source:
        uint8_t family
        uint8_t prefix_len
        uint8_t mark_vnf
        uint8_t prefix[16]

    int dp_ct_port_sources_set(uint16_t port_id, const dp_ct_source *sources,
                               unsigned int count)

    struct dp_ct_filter:
        uint16_t port_id
        uint8_t family
        uint8_t prefix_len
        uint32_t vni
        uint8_t prefix[16]

    int dp_ct_conf_set(uint32_t capacity, uint32_t timeout_s)
    enum dp_ct_source_check:
        DP_CT_SOURCE_OFF
        DP_CT_SOURCE_AUDIT
        DP_CT_SOURCE_ENFORCE
    int dp_ct_source_check_set(uint8_t mode)
    uint64_t dp_ct_spoofed(uint16_t port_id)
    int dp_ct_spoofed_reset(uint16_t port_id)
    int dp_ct_quota_set(uint32_t flows)
    uint32_t dp_ct_port_flows(uint16_t port_id)
    int dp_ct_age()
    int dp_ct_flush(const dp_ct_filter *filter)
    int dp_ct_flush_all()
    unsigned int dp_ct_count()
    int dp_ct_list(dp_ct_info *out, unsigned int max)
    dp_flow_key_status dp_flow_key_build(const uint8_t *data, uint32_t len, const dp_parse *p,
                                         uint32_t vni, uint8_t vnf_type, dp_flow_key *key)
    void dp_flow_key_reverse(const dp_flow_key *key, dp_flow_key *out)
    uint8_t dp_ct_tcp_next(uint8_t state, uint8_t dir, uint8_t tcp_flags)
