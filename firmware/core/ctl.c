/* SPDX-License-Identifier: Apache-2.0 */
#include <pthread.h>

#include <rte_log.h>

#include "ctl.h"

RTE_LOG_REGISTER(dp_logtype, dplane, NOTICE);

static pthread_t ctl_thread;
static bool ctl_thread_set;

void dp_ctl_set_thread(void)
{
	ctl_thread = pthread_self();
	ctl_thread_set = true;
}

bool dp_ctl_is_thread(void)
{
	return ctl_thread_set && pthread_equal(ctl_thread, pthread_self());
}
