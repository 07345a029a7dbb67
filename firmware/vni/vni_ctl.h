/* SPDX-License-Identifier: Apache-2.0 */
/* What the route operations (route.c) need of the VNI table (vni.c). Control thread only. */
#ifndef DP_VNI_CTL_H
#define DP_VNI_CTL_H

#include <stdint.h>

#include "vni_dp.h"

/* The VNI's tables, to change in place (the control thread is their only writer); NULL if
 * the VNI has none. */
struct dp_vni_dp *dp_vni_find(uint32_t vni);
/* Routes a table holds at most (dp_vni_conf_set()). */
uint32_t dp_vni_route_capacity(void);

#endif
