/* SPDX-License-Identifier: Apache-2.0 */
/* Modules in dependency order, and the table usage registry. */
#include <stddef.h>
#include <string.h>

#include <dplane/core.h>

#include "ctl.h"
#include "module.h"

static struct dp_module *modules;     /* registration order */
static struct dp_module *init_order;  /* dependency order, built by dp_modules_init() */
static struct dp_table_usage *tables; /* registration order */

void dp_module_register(struct dp_module *module)
{
	struct dp_module **tail = &modules;

	while (*tail)
		tail = &(*tail)->next;
	module->next = NULL;
	*tail = module;
}

static struct dp_module *module_find(const char *name)
{
	for (struct dp_module *m = modules; m; m = m->next)
		if (strcmp(m->name, name) == 0)
			return m;
	return NULL;
}

enum {
	UNSEEN,
	VISITING,
	PLACED
};

struct order {
	struct dp_module **tail;
	unsigned int state[64];
};

static unsigned int module_index(const struct dp_module *module)
{
	unsigned int i = 0;

	for (const struct dp_module *m = modules; m != module; m = m->next)
		i++;
	return i;
}

/* Depth first: a module's dependencies, then the module. */
static int place(struct order *o, struct dp_module *m)
{
	unsigned int idx = module_index(m);

	if (o->state[idx] == PLACED)
		return 0;
	if (o->state[idx] == VISITING) {
		DP_LOG(ERR, "module %s: dependency cycle", m->name);
		return -ELOOP;
	}
	o->state[idx] = VISITING;
	for (unsigned int d = 0; d < DP_MODULE_MAX_DEPS && m->depends[d]; d++) {
		struct dp_module *dep = module_find(m->depends[d]);
		int ret;

		if (!dep) {
			DP_LOG(ERR, "module %s: needs module %s, which is not built in", m->name,
			       m->depends[d]);
			return -ENOENT;
		}
		ret = place(o, dep);
		if (ret < 0)
			return ret;
	}
	o->state[idx] = PLACED;
	m->next_init = NULL;
	*o->tail = m;
	o->tail = &m->next_init;
	return 0;
}

/* Dependency order; among independent modules, registration order. */
static int modules_order(void)
{
	struct order o = {.tail = &init_order};
	int ret;

	init_order = NULL;
	if (module_index(NULL) > RTE_DIM(o.state)) {
		DP_LOG(ERR, "too many modules");
		return -E2BIG;
	}
	for (struct dp_module *m = modules; m; m = m->next) {
		ret = place(&o, m);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int dp_modules_init(void)
{
	int ret = modules_order();

	if (ret < 0)
		return ret;
	for (struct dp_module *m = init_order; m; m = m->next_init) {
		ret = m->init ? m->init() : 0;
		if (ret < 0) {
			DP_LOG(ERR, "module %s: cannot start: %s", m->name, rte_strerror(-ret));
			return ret;
		}
		m->ready = true;
	}
	return 0;
}

int dp_modules_edges(const struct dp_core_conf *conf)
{
	int ret;

	for (struct dp_module *m = init_order; m; m = m->next_init) {
		if (!m->edges)
			continue;
		ret = m->edges(conf);
		if (ret < 0) {
			DP_LOG(ERR, "module %s: cannot set up its graph edges: %s", m->name,
			       rte_strerror(-ret));
			return ret;
		}
	}
	return 0;
}

static void fini_from(struct dp_module *m)
{
	if (!m)
		return;
	fini_from(m->next_init);
	if (m->ready && m->fini)
		m->fini();
	m->ready = false;
}

void dp_modules_fini(void)
{
	fini_from(init_order);
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
