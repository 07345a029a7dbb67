# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/vni.h.
from libc.stdint cimport uint8_t, uint16_t, uint32_t

cdef extern from "dplane/vni.h" nogil:
    enum:
        DP_VNI_MAX
        DP_VNI_TABLE_SIZE
        DP_VNI_DEFAULT_ROUTES
        DP_VNI_MAX_ROUTES

    struct dp_route:
        uint8_t family
        uint8_t prefix_len
        uint16_t port_id
        uint8_t prefix[16]
        uint32_t nh_vni
        uint8_t nh_ipv6[16]

    int dp_vni_conf_set(uint32_t routes_per_table)
    int dp_vni_create(uint32_t vni)
    int dp_vni_destroy(uint32_t vni)
    int dp_vni_exists(uint32_t vni)
    int dp_vni_reset(uint32_t vni)
    unsigned int dp_vni_count()
    int dp_vni_next(uint32_t *iter, uint32_t *vni)
    int dp_route_add(uint32_t vni, const dp_route *route)
    int dp_route_del(uint32_t vni, const dp_route *route)
    int dp_route_get(uint32_t vni, dp_route *route)
    int dp_route_list(uint32_t vni, uint8_t family, dp_route *routes, unsigned int max)
    int dp_route_count(uint32_t vni, uint8_t family)
    int dp_route_lookup(uint32_t vni, uint8_t family, const uint8_t addr[16], dp_route *route)
