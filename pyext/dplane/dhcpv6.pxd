# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/dhcpv6.h.
from libc.stdint cimport uint8_t, uint32_t

cdef extern from "dplane/dhcpv6.h" nogil:
    enum:
        DP_DHCPV6_MAX_DNS
        DP_DHCPV6_F_CLIENT_ID
        DP_DHCPV6_F_IA_NA
        DP_DHCPV6_F_RAPID_COMMIT
        DP_DHCPV6_MAX_DUID

    enum dp_dhcpv6_status:
        DP_DHCPV6_OK
        DP_DHCPV6_STATUS_COUNT

    struct dp_dhcpv6_info:
        uint32_t client_id_off
        uint32_t client_id_len
        uint8_t iaid[4]
        uint8_t msg_type
        uint8_t flags
        uint8_t pxe

    dp_dhcpv6_status dp_dhcpv6_parse(const uint8_t *msg, uint32_t len, dp_dhcpv6_info *out)
    const char *dp_dhcpv6_status_name(dp_dhcpv6_status status)
    int dp_dhcpv6_conf_set(const uint8_t (*dns)[16], unsigned int nb_dns)
