# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/overlay.h.
from libc.stdint cimport uint8_t, uint32_t, uint64_t

cdef extern from "dplane/overlay.h" nogil:
    enum:
        DP_ETHER_LEN
        DP_IPV6_LEN

    struct dp_encap_params:
        uint8_t dst_mac[6]
        uint8_t src_mac[6]
        uint8_t src_ip[16]
        uint8_t dst_ip[16]

    enum dp_decap_status:
        DP_DECAP_OK
        DP_DECAP_STATUS_COUNT

    const char *dp_decap_status_name(dp_decap_status status)

    int dp_ipip_encap(uint8_t *frame, uint32_t len, const dp_encap_params *e)
    dp_decap_status dp_ipip_decap(uint8_t *frame, uint32_t len, const uint8_t dst_mac[6],
                                  const uint8_t src_mac[6], uint32_t *out_len)
    int dp_overlay_conf_set(uint8_t wcmp)
    int dp_overlay_host_set(const uint8_t ipv6[16])
    int dp_overlay_underlay_check_set(bint enforce)
    uint64_t dp_overlay_underlay_audited()
