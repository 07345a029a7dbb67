# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/nd.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/nd.h" nogil:
    enum:
        DP_ND_RS
        DP_ND_RA
        DP_ND_NS
        DP_ND_NA
        DP_ND_NA_FRAME_LEN
        DP_ND_RA_FRAME_LEN

    const uint32_t DP_ND_NA_ROUTER
    const uint32_t DP_ND_NA_SOLICITED
    const uint32_t DP_ND_NA_OVERRIDE

    enum dp_nd_status:
        DP_ND_OK
        DP_ND_STATUS_COUNT

    struct dp_nd_opts:
        uint16_t nb_opts
        uint8_t has_slla
        uint8_t has_tlla
        uint8_t slla[6]
        uint8_t tlla[6]

    struct dp_nd_info:
        uint8_t type
        uint8_t code
        uint16_t opts_off
        uint8_t target[16]
        dp_nd_opts opts

    struct dp_nd_frame:
        uint8_t eth_dst[6]
        uint8_t eth_src[6]
        uint8_t ip_src[16]
        uint8_t ip_dst[16]
        uint32_t vtc_flow

    dp_nd_status dp_nd_parse_options(const uint8_t *opts, uint32_t len, dp_nd_opts *out)
    dp_nd_status dp_nd_parse(const uint8_t *msg, uint32_t len, dp_nd_info *out)
    const char *dp_nd_status_name(dp_nd_status status)
    uint16_t dp_nd_checksum(const uint8_t *src, const uint8_t *dst, const uint8_t *msg,
                            uint32_t len)
    uint32_t dp_nd_build_na(uint8_t *buf, uint32_t room, const dp_nd_frame *frame,
                            uint32_t flags, const uint8_t *target, const uint8_t *tlla)
    uint32_t dp_nd_build_ra(uint8_t *buf, uint32_t room, const dp_nd_frame *frame,
                            const uint8_t *slla)
    int dp_nd_send_unsolicited_na(uint16_t port_id)
    int dp_nd_send_ra(uint16_t port_id)
    int dp_nd_conf_set(bint enabled)
