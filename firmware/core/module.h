/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Modules: the parts of the firmware that have state (tables, rings) or graph edges to set up.
 * A module registers itself from a constructor (DP_MODULE_REGISTER); the core never lists
 * them. A module names the modules it needs (`depends`): they are initialised before it and
 * finalised after it, whatever the link order. dp_core_start() initialises them after the
 * mempool, RCU and ports, then builds the graph, running every module's `edges` callback in
 * the same order; dp_core_stop() finalises them in reverse.
 */
#ifndef DP_MODULE_H
#define DP_MODULE_H

#include <stdbool.h>

#include <rte_common.h>

#include <dplane/core.h>

#define DP_MODULE_MAX_DEPS 8

struct dp_module {
	const char *name;
	/* names of the modules this one needs, NULL-terminated */
	const char *depends[DP_MODULE_MAX_DEPS + 1];
	int (*init)(void);  /* 0 or -errno */
	void (*fini)(void); /* the worker has stopped when this runs */
	/* Before the graph is created: resolve the module's edges (attach points, per-port
	 * edges) with dp_node_edge_by_name(). 0 or -errno. */
	int (*edges)(const struct dp_core_conf *conf);
	/* the module system's own */
	struct dp_module *next;      /* registration order */
	struct dp_module *next_init; /* initialisation order */
	bool ready;
};

void dp_module_register(struct dp_module *module);
/* Put the modules in dependency order and initialise them. -ENOENT for a missing
 * dependency, -ELOOP for a cycle (both logged). */
int dp_modules_init(void);
/* Every module's edges callback, in initialisation order. */
int dp_modules_edges(const struct dp_core_conf *conf);
void dp_modules_fini(void);

#define DP_MODULE_REGISTER(var)                                                                    \
	RTE_INIT(dp_module_register_##var)                                                         \
	{                                                                                          \
		dp_module_register(&var);                                                          \
	}

/*
 * Table usage, for operators: a table registers its name, capacity and a function that
 * counts its entries (control thread). `capacity` may be updated by its module's init when
 * the size comes from configuration.
 */
struct dp_table_usage {
	const char *name;
	unsigned int capacity;
	unsigned int (*count)(void);
	struct dp_table_usage *next;
};

void dp_table_usage_register(struct dp_table_usage *table);

#define DP_TABLE_USAGE_REGISTER(var)                                                               \
	RTE_INIT(dp_table_usage_register_##var)                                                    \
	{                                                                                          \
		dp_table_usage_register(&var);                                                     \
	}

#endif
