# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/iface.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/iface.h" nogil:
    enum:
        DP_HOSTNAME_LEN
        DP_BOOT_FILE_LEN

    enum dp_pxe_family:
        DP_PXE_NONE
        DP_PXE_IPV4
        DP_PXE_IPV6

    struct dp_iface_conf:
        uint32_t vni
        uint8_t underlay[16]
        uint8_t ipv4[4]
        uint8_t ipv6[16]
        uint8_t pxe_family
        uint8_t pxe_ipv4[4]
        uint8_t pxe_ipv6[16]
        char boot_file[DP_BOOT_FILE_LEN]
        char hostname[DP_HOSTNAME_LEN]

    int dp_iface_attach(uint16_t port_id, const dp_iface_conf *conf)
    int dp_iface_detach(uint16_t port_id)
    int dp_iface_vm_mac(uint16_t port_id, uint8_t mac[6])
