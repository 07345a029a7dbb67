# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/firewall.h.
from libc.stdint cimport int32_t, uint8_t, uint16_t, uint64_t

cdef extern from "dplane/firewall.h" nogil:
    enum:
        DP_FW_MAX_RULES
        DP_FW_ANY

    enum dp_fw_verdict:
        DP_FW_VERDICT_COUNT

    const char *dp_fw_verdict_name(dp_fw_verdict verdict)

    struct dp_fw_rule:
        uint8_t direction
        uint8_t action
        uint8_t protocol
        uint8_t src_family
        uint8_t dst_family
        uint8_t src_len
        uint8_t dst_len
        uint8_t src[16]
        uint8_t dst[16]
        int32_t src_port_lower
        int32_t src_port_upper
        int32_t dst_port_lower
        int32_t dst_port_upper
        int32_t icmp_type
        int32_t icmp_code

    struct dp_fw_tuple:
        uint8_t family
        uint8_t proto
        uint16_t src_port
        uint16_t dst_port
        uint8_t icmp_type
        uint8_t icmp_code
        uint8_t src[16]
        uint8_t dst[16]

    struct dp_fw_stats:
        uint64_t flows_denied[2]
        uint64_t audit_denied[2]
        uint64_t dropped[2]
        uint64_t decisions

    int dp_fw_conf_set(bint enforce)
    int dp_fw_rules_set(uint16_t port_id, const dp_fw_rule *rules, unsigned int n)
    unsigned int dp_fw_rule_count(uint16_t port_id)
    int dp_fw_stats_get(uint16_t port_id, dp_fw_stats *stats)
    int dp_fw_stats_reset(uint16_t port_id)
    int dp_fw_match(const dp_fw_rule *rules, unsigned int n, uint8_t direction,
                    const dp_fw_tuple *t)
    int dp_fw_decide(bint from_vf, const dp_fw_rule *src_rules, unsigned int src_n,
                     bint to_vf, const dp_fw_rule *dst_rules, unsigned int dst_n,
                     const dp_fw_tuple *t)
