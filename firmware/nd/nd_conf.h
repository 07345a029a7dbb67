/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DP_ND_CONF_H
#define DP_ND_CONF_H

#include <stdint.h>

/* --enable-ipv6-overlay: written by dp_nd_conf_set() before the graph starts, read by the
 * ipv6_nd node and the periodic announcements. */
extern uint8_t dp_nd_enabled;

#endif
