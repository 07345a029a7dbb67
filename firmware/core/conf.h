/* SPDX-License-Identifier: Apache-2.0 */
#ifndef DP_CONF_H
#define DP_CONF_H

#include <dplane/core.h>

/* Read by workers, written only before the graph starts. */
extern struct dp_service_conf dp_service_conf;

#endif
