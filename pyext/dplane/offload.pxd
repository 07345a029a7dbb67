# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/offload.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t, uint64_t

cdef extern from "dplane/offload.h" nogil:
    enum dp_offload_shape:
        DP_OFFLOAD_SHAPE_COUNT
    enum dp_offload_refusal:
        DP_OFFLOAD_REFUSAL_COUNT

    const char *dp_offload_shape_name(dp_offload_shape shape)
    const char *dp_offload_refusal_name(dp_offload_refusal refusal)

    int dp_offload_conf_set(bint enabled, uint32_t max_rules)
    int dp_offload_nic_conf_set(bint nic, bint async_api, const uint8_t *underlay)
    bint dp_offload_enabled()
    void dp_offload_invalidate()
    int dp_offload_maintain()
    int dp_offload_flush()

    struct dp_offload_stats:
        bint enabled
        uint64_t hits, misses, unreadable
        uint64_t installs, refusals, destroys, tx_dropped, rule_drops
        uint64_t sampled, sample_dropped
        uint64_t not_offloadable[9]
        uint64_t shapes[5]
        uint32_t rules, capacity, templates, epoch
        bint nic
        uint64_t nic_installs, nic_refusals, nic_needs_hairpin, nic_destroys
        uint64_t nic_destroy_failures
        uint32_t nic_rules
    int dp_offload_stats_get(dp_offload_stats *stats)

    struct dp_offload_nic_port:
        bint isolated
        bint carrying
        bint captured
        char isolation_error[96]
        char error[96]
    int dp_offload_nic_port_get(uint16_t port_id, dp_offload_nic_port *info)

    struct dp_offload_rule_info:
        uint16_t port_id
        uint8_t group
        uint8_t transfer
        uint32_t priority
        uint64_t hits, bytes
        uint32_t idle_ms
        uint32_t age_timeout
        uint8_t stale
        uint8_t nic
        char pattern[256]
        char actions[384]
    int dp_offload_list(dp_offload_rule_info *out, unsigned int max)

    int dp_offload_build_text(const uint8_t *inp, uint32_t in_len, bint from_pf,
                              const uint8_t *out, uint32_t out_len, uint16_t out_port,
                              bint to_pf, uint32_t age_s, char *attr, size_t attr_size,
                              char *pattern, size_t pattern_size, char *actions,
                              size_t actions_size)
    int dp_offload_isolation_text(const uint8_t *underlay, char *attr, size_t attr_size,
                                  char *pattern, size_t pattern_size, char *actions,
                                  size_t actions_size)
    int dp_offload_nic_eligible(int in_pf_index, int out_pf_index)
    int dp_offload_extract(const uint8_t *frame, uint32_t len, bint tunnel_ok, uint16_t *stack,
                           uint16_t *l3_off, uint16_t *l4_off)

    struct dp_offload_capture_conf:
        uint8_t src[16]
        uint8_t sink[16]
        uint16_t udp_src_port
        uint16_t udp_dst_port
    int dp_offload_capture(uint16_t port_id, bint on, const dp_offload_capture_conf *conf)
    bint dp_offload_captured(uint16_t port_id)
