/* SPDX-License-Identifier: Apache-2.0 */
#include <stddef.h>

#include <dplane/core.h>

#include "ctl.h"
#include "module.h"

static struct dp_module *modules;     /* registration order */
static struct dp_table_usage *tables; /* registration order */

void dp_module_register(struct dp_module *module)
{
	struct dp_module **tail = &modules;

	while (*tail)
		tail = &(*tail)->next;
	module->next = NULL;
	*tail = module;
}

int dp_modules_init(void)
{
	int ret;

	for (struct dp_module *m = modules; m; m = m->next) {
		ret = m->init ? m->init() : 0;
		if (ret < 0) {
			DP_LOG(ERR, "module %s: cannot start: %s", m->name, rte_strerror(-ret));
			return ret;
		}
		m->ready = true;
	}
	return 0;
}

static void fini_from(struct dp_module *m)
{
	if (!m)
		return;
	fini_from(m->next);
	if (m->ready && m->fini)
		m->fini();
	m->ready = false;
}

void dp_modules_fini(void)
{
	fini_from(modules);
}

void dp_table_usage_register(struct dp_table_usage *table)
{
	struct dp_table_usage **tail = &tables;

	while (*tail)
		tail = &(*tail)->next;
	table->next = NULL;
	*tail = table;
}

unsigned int dp_table_count(void)
{
	unsigned int n = 0;

	for (struct dp_table_usage *t = tables; t; t = t->next)
		n++;
	return n;
}

int dp_table_get(unsigned int idx, struct dp_table_info *info)
{
	struct dp_table_usage *t = tables;

	DP_CTL_CHECK();
	while (t && idx--)
		t = t->next;
	if (!t)
		return dp_errno(ENOENT);
	info->name = t->name;
	info->capacity = t->capacity;
	info->entries = dp_core_running() && t->count ? t->count() : 0;
	return 0;
}
