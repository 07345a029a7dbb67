# SPDX-License-Identifier: Apache-2.0
# Mirrors firmware/include/dplane/lb.h.
from libc.stdint cimport int16_t, uint8_t, uint16_t, uint32_t

from dplane.conntrack cimport dp_flow_key

cdef extern from "dplane/lb.h" nogil:
    enum:
        DP_LB_TABLE_SIZE
        DP_LB_MAX_TARGETS
        DP_LB_MAX_PORTS
        DP_LB_MAGLEV_SIZE

    struct dp_lb_port:
        uint8_t proto
        uint16_t port

    struct dp_lb_conf:
        uint8_t underlay[16]
        dp_lb_port ports[15]
        uint8_t nb_ports
        uint8_t nb_targets
        uint8_t targets[64][16]

    int dp_lb_set(uint32_t vni, uint8_t family, const uint8_t ip[16], const dp_lb_conf *conf)
    int dp_lb_del(uint32_t vni, uint8_t family, const uint8_t ip[16])
    unsigned int dp_lb_count()
    int dp_lb_next(uint32_t *iter, uint32_t *vni, uint8_t *family, uint8_t ip[16])
    int dp_lb_flush(uint32_t vni, uint8_t family, const uint8_t ip[16], const uint8_t *target)
    int dp_lb_maglev(const uint8_t (*targets)[16], unsigned int n, int16_t *table)
    unsigned int dp_lb_slot(const dp_flow_key *key)
