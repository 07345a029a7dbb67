# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/dhcp.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/dhcp.h" nogil:
    enum:
        DP_DHCP_MAX_DNS
        DP_DHCP_MTU_MIN
        DP_DHCP_MTU_MAX

    int dp_dhcp_conf_set(uint16_t mtu, const uint8_t (*dns)[4], unsigned int nb_dns)

    enum dp_dhcp_pxe:
        DP_DHCP_PXE_NONE
        DP_DHCP_PXE_TFTP
        DP_DHCP_PXE_HTTP

    enum dp_dhcp_status:
        DP_DHCP_OK
        DP_DHCP_STATUS_COUNT

    struct dp_dhcp_info:
        uint32_t options_end
        uint8_t msg_type
        uint8_t pxe

    dp_dhcp_status dp_dhcp_parse(const uint8_t *msg, uint32_t len, dp_dhcp_info *out)
    const char *dp_dhcp_status_name(dp_dhcp_status status)
