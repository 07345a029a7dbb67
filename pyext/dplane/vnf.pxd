# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/vnf.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/vnf.h" nogil:
    enum dp_vnf_type:
        DP_VNF_UNDEFINED
        DP_VNF_INTERFACE_IP
        DP_VNF_VIP
        DP_VNF_NAT
        DP_VNF_LB
        DP_VNF_LB_ALIAS_PFX
        DP_VNF_ALIAS_PFX
        DP_VNF_TYPE_COUNT

    const char *dp_vnf_type_name(dp_vnf_type type)

    enum:
        DP_VNF_DEFAULT_SIZE
        DP_VNF_MAX_SIZE

    struct dp_vnf:
        uint8_t type
        uint8_t family
        uint8_t prefix_len
        uint16_t port_id
        uint32_t vni
        uint8_t prefix[16]

    int dp_vnf_conf_set(uint32_t entries)
    uint32_t dp_vnf_capacity()
    int dp_vnf_add(const uint8_t underlay[16], const dp_vnf *vnf)
    int dp_vnf_del(const uint8_t underlay[16])
    int dp_vnf_get(const uint8_t underlay[16], dp_vnf *vnf)
    unsigned int dp_vnf_count()
    int dp_vnf_next(uint32_t *iter, uint8_t underlay[16], dp_vnf *vnf)
