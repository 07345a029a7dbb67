/* SPDX-License-Identifier: Apache-2.0 */
/* The exported face of the cls parser (the code itself is in parse_inline.h). */
#include <dplane/parse.h>

#include "parse_inline.h"

enum dp_parse_status dp_parse_frame(const uint8_t *data, uint32_t len, struct dp_parse *out)
{
	return dp_parse_frame_inline(data, len, out);
}

DP_ENUM_NAME_FN(dp_parse_status_name, enum dp_parse_status, DP_PARSE_STATUS_LIST,
		DP_PARSE_STATUS_COUNT)
