/* SPDX-License-Identifier: Apache-2.0 */
/* The VNF table as the datapath reads it (lock-free; entries freed after RCU). */
#ifndef DP_VNF_DP_H
#define DP_VNF_DP_H

#include <stdint.h>

#include <dplane/vnf.h>

/* What an underlay address stands for; NULL if it is not one of ours. */
const struct dp_vnf *dp_vnf_lookup(const uint8_t underlay[16]);

#endif
