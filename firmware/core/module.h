/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Feature modules: their tables live from dp_core_start() to dp_core_stop(). A module
 * registers itself from a constructor; the core never lists them. Modules start after the
 * mempool, RCU and ports, in registration order, and stop in reverse.
 */
#ifndef DP_MODULE_H
#define DP_MODULE_H

#include <stdbool.h>

#include <rte_common.h>

struct dp_module {
	const char *name;
	int (*init)(void);  /* 0 or -errno */
	void (*fini)(void); /* the worker has stopped when this runs */
	struct dp_module *next;
	bool ready;
};

void dp_module_register(struct dp_module *module);
int dp_modules_init(void);
void dp_modules_fini(void);

#define DP_MODULE_REGISTER(var)                                                               \
	RTE_INIT(dp_module_register_##var)                                                    \
	{                                                                                    \
		dp_module_register(&var);                                                    \
	}

/*
 * Table usage, for operators: a table registers its name, capacity and a function that
 * counts its entries (control thread).
 */
struct dp_table_usage {
	const char *name;
	unsigned int capacity;
	unsigned int (*count)(void);
	struct dp_table_usage *next;
};

void dp_table_usage_register(struct dp_table_usage *table);

#define DP_TABLE_USAGE_REGISTER(var)                                                          \
	RTE_INIT(dp_table_usage_register_##var)                                               \
	{                                                                                    \
		dp_table_usage_register(&var);                                               \
	}

#endif
