/* SPDX-License-Identifier: Apache-2.0 */
/* Per-packet metadata, kept in the mbuf private area. Small typed structs, one per stage. */
#ifndef DP_MBUF_H
#define DP_MBUF_H

#include <rte_mbuf.h>

#include <dplane/parse.h>

#define DP_MBUF_PRIV_SIZE 128

struct dp_mbuf_priv {
	struct dp_parse parse; /* written by cls */
};

_Static_assert(sizeof(struct dp_mbuf_priv) <= DP_MBUF_PRIV_SIZE, "mbuf private area too small");
_Static_assert(DP_MBUF_PRIV_SIZE % RTE_MBUF_PRIV_ALIGN == 0, "mbuf private area misaligned");

static inline struct dp_mbuf_priv *dp_mbuf_priv(struct rte_mbuf *m)
{
	return (struct dp_mbuf_priv *)rte_mbuf_to_priv(m);
}

#endif
