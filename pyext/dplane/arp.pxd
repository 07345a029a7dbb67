# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/arp.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/arp.h" nogil:
    enum:
        DP_ARP_LEN
        DP_ARP_FRAME_LEN
        DP_ARP_OP_REQUEST
        DP_ARP_OP_REPLY

    enum dp_arp_status:
        DP_ARP_OK
        DP_ARP_STATUS_COUNT

    struct dp_arp_info:
        uint16_t op
        uint8_t sha[6]
        uint8_t sip[4]
        uint8_t tha[6]
        uint8_t tip[4]

    dp_arp_status dp_arp_parse(const uint8_t *arp, uint32_t len, dp_arp_info *out)
    const char *dp_arp_status_name(dp_arp_status status)
    uint32_t dp_arp_build_request(uint8_t *buf, uint32_t room, const uint8_t *mac,
                                  const uint8_t *sip, const uint8_t *tip)
    int dp_arp_send_gratuitous(uint16_t port_id)
