/* SPDX-License-Identifier: Apache-2.0 */
/* The control thread: the only writer of dataplane state. */
#ifndef DP_CTL_H
#define DP_CTL_H

#include <errno.h>
#include <stdbool.h>

#include <rte_errno.h>
#include <rte_log.h>

void dp_ctl_set_thread(void);
bool dp_ctl_is_thread(void);

/* Return -err from a control function, errno set too. */
static inline int dp_errno(int err)
{
	errno = err;
	return -err;
}

#define DP_CTL_CHECK()                                                                             \
	do {                                                                                       \
		if (!dp_ctl_is_thread())                                                           \
			return dp_errno(EPERM);                                                    \
	} while (0)

extern int dp_logtype;
#define DP_LOG(level, fmt, ...)                                                                    \
	rte_log(RTE_LOG_##level, dp_logtype, "DPLANE: " fmt "\n", ##__VA_ARGS__)

#endif
