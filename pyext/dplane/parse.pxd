# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/parse.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/parse.h" nogil:
    enum dp_parse_status:
        DP_PARSE_OK
        DP_PARSE_STATUS_COUNT

    enum dp_l3_type:
        DP_L3_NONE
        DP_L3_ARP
        DP_L3_IPV4
        DP_L3_IPV6
        DP_L3_OTHER

    enum:
        DP_PARSE_F_FRAGMENT
        DP_PARSE_F_NO_L4
        DP_PARSE_F_IPV6_EXT

    struct dp_parse:
        uint16_t ethertype
        uint16_t l3_off
        uint16_t l3_len
        uint16_t l4_off
        uint8_t l3_type
        uint8_t l4_proto
        uint8_t vlans
        uint8_t flags

    dp_parse_status dp_parse_frame(const uint8_t *data, uint32_t len, dp_parse *out)
    const char *dp_parse_status_name(dp_parse_status status)
