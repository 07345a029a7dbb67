/* SPDX-License-Identifier: Apache-2.0 */
/*
 * One list per enum, and everything else made from it. A header writes its enum's values once,
 * as an X-macro list of (identifier, "name") pairs:
 *
 *     #define DP_FOO_STATUSES(X) X(DP_FOO_OK, "ok") X(DP_FOO_TRUNCATED, "truncated")
 *     enum dp_foo_status { DP_FOO_STATUSES(DP_ENUM_VALUE) DP_FOO_STATUS_COUNT };
 *     const char *dp_foo_status_name(enum dp_foo_status status);
 *
 * and one C file defines the name function with DP_ENUM_NAME_FN(dp_foo_status_name,
 * enum dp_foo_status, DP_FOO_STATUSES, DP_FOO_STATUS_COUNT). The Python bindings read the names
 * through that function, so no name is typed twice.
 */
#ifndef DPLANE_ENUM_H
#define DPLANE_ENUM_H

#define DP_ENUM_VALUE(id, name) id,
#define DP_ENUM_NAME(id, name) [id] = name,

#define DP_ENUM_NAME_FN(fn, type, LIST, COUNT)                                                     \
	const char *fn(type value)                                                                 \
	{                                                                                          \
		static const char *const names[COUNT] = {LIST(DP_ENUM_NAME)};                      \
                                                                                                   \
		if ((unsigned int)value >= (COUNT) || !names[value])                               \
			return "unknown";                                                          \
		return names[value];                                                               \
	}

#endif
