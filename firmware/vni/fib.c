/* SPDX-License-Identifier: Apache-2.0 */
/*
 * Changing a routing table (fib.h) on the control thread: copy the chunk a route goes into
 * or leaves, publish the copy with one pointer store, and retire the old one. A full chunk
 * is split in two and an emptied or small one dropped or merged with a neighbour, which
 * takes a new index for the group; a new or vanished prefix length takes a new root. So a
 * change costs one chunk (at most DP_FIB_CHUNK routes), now and then the group's index (a
 * pointer and a key per chunk) and rarely the root (one entry per prefix length), whatever
 * the size of the table. Lookups, listing and exact matches of the control thread read the
 * same structure.
 *
 * Old copies are retired (core/rcu.h): freed once every worker has passed a quiescent state,
 * while the control thread goes on. No change of a table waits for the workers.
 */
#include <stdlib.h>
#include <string.h>

#include <rte_malloc.h>

#include <dplane/core.h>

#include "ctl.h"
#include "fib.h"
#include "rcu.h"

const struct dp_fib dp_fib_empty;

/* -- keys, chunks, indexes ---------------------------------------------------------------- */

void dp_fib_masks(uint8_t depth, bool v6, uint64_t *hi, uint64_t *lo)
{
	if (!v6) {
		*hi = 0;
		*lo = depth ? (UINT32_MAX << (32 - depth)) & UINT32_MAX : 0;
		return;
	}
	*hi = depth == 0 ? 0 : depth >= 64 ? UINT64_MAX : UINT64_MAX << (64 - depth);
	*lo = depth <= 64 ? 0 : depth == 128 ? UINT64_MAX : UINT64_MAX << (128 - depth);
}

static void key_load(const void *keys, uint32_t i, bool v6, struct dp_fib_key *k)
{
	if (v6) {
		*k = ((const struct dp_fib_key *)keys)[i];
	} else {
		k->hi = 0;
		k->lo = ((const uint32_t *)keys)[i];
	}
}

static void key_store(void *keys, uint32_t i, bool v6, const struct dp_fib_key *k)
{
	if (v6)
		((struct dp_fib_key *)keys)[i] = *k;
	else
		((uint32_t *)keys)[i] = (uint32_t)k->lo;
}

static struct dp_nexthop *chunk_nh(struct dp_fib_chunk *ch, bool v6)
{
	return (struct dp_nexthop *)(uintptr_t)dp_fib_chunk_nexthops(ch, v6);
}

static struct dp_fib_chunk *chunk_alloc(uint32_t count, bool v6)
{
	struct dp_fib_chunk *ch;
	size_t sz = sizeof(*ch) + RTE_ALIGN_CEIL(count * dp_fib_key_size(v6), 8) +
		    count * sizeof(struct dp_nexthop);

	ch = rte_malloc("dp_fib_chunk", sz, 0);
	if (ch)
		ch->count = count;
	return ch;
}

/* n routes of src from `from` to dst at `at` */
static void chunk_copy(struct dp_fib_chunk *dst, uint32_t at, const struct dp_fib_chunk *src,
		       uint32_t from, uint32_t n, bool v6)
{
	size_t ksz = dp_fib_key_size(v6);

	memcpy(dst->data + at * ksz, src->data + from * ksz, n * ksz);
	memcpy(chunk_nh(dst, v6) + at, dp_fib_chunk_nexthops(src, v6) + from,
	       n * sizeof(struct dp_nexthop));
}

static void chunk_set(struct dp_fib_chunk *ch, uint32_t at, bool v6, const struct dp_fib_key *k,
		      const struct dp_nexthop *nh)
{
	key_store(ch->data, at, v6, k);
	chunk_nh(ch, v6)[at] = *nh;
}

static struct dp_fib_index *index_alloc(uint32_t nb_chunks, bool v6)
{
	struct dp_fib_index *idx;
	size_t sz = sizeof(*idx) + nb_chunks * sizeof(idx->chunks[0]) +
		    (nb_chunks - 1) * dp_fib_key_size(v6);

	idx = rte_malloc("dp_fib_index", sz, 0);
	if (idx)
		idx->nb_chunks = nb_chunks;
	return idx;
}

static void *index_bounds(struct dp_fib_index *idx)
{
	return (void *)(uintptr_t)dp_fib_index_bounds(idx);
}

/* A group's chunks as the control thread sees them: one, or an index of several. */
struct gview {
	struct dp_fib_index *idx; /* NULL: one chunk */
	struct dp_fib_chunk *one;
	uint32_t nb;
};

static struct gview gview_of(const struct dp_fib_group *grp)
{
	struct gview v = {.nb = 1};

	if (grp->ref & DP_FIB_REF_INDEX) {
		v.idx = (struct dp_fib_index *)(grp->ref - DP_FIB_REF_INDEX);
		v.nb = v.idx->nb_chunks;
	} else {
		v.one = (struct dp_fib_chunk *)grp->ref;
	}
	return v;
}

static struct dp_fib_chunk *gv_chunk(const struct gview *v, uint32_t c)
{
	return v->idx ? v->idx->chunks[c] : v->one;
}

/* The lower bound of chunk c >= 1 (of a group with an index) */
static void bound_load(const struct gview *v, uint32_t c, bool v6, struct dp_fib_key *k)
{
	key_load(dp_fib_index_bounds(v->idx), c - 1, v6, k);
}

/* What the group refers to after chunks [c, c + drop) (drop >= 1) are replaced by the
 * `add` chunks of `with`: the one chunk left, or a new index; bounds[] are the lower bounds
 * of with[1 .. add) (with[0] keeps the bound of chunk c: when add is 0, the chunk after the
 * dropped ones takes it over). 0 without memory. */
static uintptr_t group_splice(const struct gview *v, uint32_t c, uint32_t drop,
			      struct dp_fib_chunk *const *with, uint32_t add,
			      const struct dp_fib_key *bounds, bool v6)
{
	uint32_t nb = v->nb - drop + add;
	struct dp_fib_index *out;
	struct dp_fib_key k;

	if (nb == 1)
		return (uintptr_t)(add ? with[0] : gv_chunk(v, c ? 0 : drop));
	out = index_alloc(nb, v6);
	if (!out)
		return 0;
	for (uint32_t i = 0; i < nb; i++)
		out->chunks[i] = i < c         ? gv_chunk(v, i)
				 : i < c + add ? with[i - c]
					       : gv_chunk(v, i - add + drop);
	for (uint32_t i = 1; i < nb; i++) {
		if (i <= c)
			bound_load(v, i, v6, &k);
		else if (i < c + add)
			k = bounds[i - c - 1];
		else
			bound_load(v, i - add + drop, v6, &k);
		key_store(index_bounds(out), i - 1, v6, &k);
	}
	return (uintptr_t)out | DP_FIB_REF_INDEX;
}

/* -- lookups -------------------------------------------------------------------------- */

static int group_find(const struct dp_fib *fib, uint8_t depth)
{
	for (uint32_t g = 0; g < fib->nb_groups; g++)
		if (fib->groups[g].depth == depth)
			return (int)g;
	return -1;
}

/* Where (depth, key) is or would go: group g (-1: no such length), its chunks, chunk c,
 * and pos, the number of routes of the chunk at or below the key. */
struct place {
	int g;
	struct gview v;
	uint32_t c, pos;
	struct dp_fib_chunk *ch;
	bool found; /* the route is at pos - 1 */
};

static struct place locate(const struct dp_fib *fib, bool v6, uint8_t depth,
			   const struct dp_fib_key *key)
{
	struct place p = {.g = group_find(fib, depth)};

	if (p.g < 0)
		return p;
	p.v = gview_of(&fib->groups[p.g]);
	if (p.v.nb > 1)
		p.c = dp_fib_count_le(dp_fib_index_bounds(p.v.idx), p.v.nb - 1, key->hi, key->lo,
				      v6);
	p.ch = gv_chunk(&p.v, p.c);
	p.pos = dp_fib_count_le(p.ch->data, p.ch->count, key->hi, key->lo, v6);
	p.found = p.pos && dp_fib_key_eq(p.ch->data, p.pos - 1, key->hi, key->lo, v6);
	return p;
}

const struct dp_nexthop *dp_fib_find(const struct dp_fib *fib, bool v6, uint8_t depth,
				     const struct dp_fib_key *key)
{
	struct place p = locate(fib, v6, depth, key);

	return p.found ? &dp_fib_chunk_nexthops(p.ch, v6)[p.pos - 1] : NULL;
}

/* -- changes -------------------------------------------------------------------------- */

static void retire_chunk(struct dp_fib_chunk *ch)
{
	dp_rcu_retire(ch, NULL, NULL);
}

/* A root with group g taken out (add = false) or a group for depth put in (add = true),
 * the other groups (their references too) copied. */
static struct dp_fib *root_copy(const struct dp_fib *fib, bool add, uint32_t g)
{
	uint32_t nb = add ? fib->nb_groups + 1 : fib->nb_groups - 1;
	struct dp_fib *out = rte_zmalloc("dp_fib", sizeof(*out) + nb * sizeof(out->groups[0]), 0);

	if (!out)
		return NULL;
	out->nb_groups = nb;
	out->nb_routes = fib->nb_routes;
	memcpy(out->groups, fib->groups, g * sizeof(out->groups[0]));
	if (add)
		memcpy(&out->groups[g + 1], &fib->groups[g],
		       (fib->nb_groups - g) * sizeof(out->groups[0]));
	else
		memcpy(&out->groups[g], &fib->groups[g + 1],
		       (fib->nb_groups - g - 1) * sizeof(out->groups[0]));
	return out;
}

static void publish_root(const struct dp_fib **slot, struct dp_fib *fresh)
{
	const struct dp_fib *old = *slot;

	__atomic_store_n(slot, fresh, __ATOMIC_RELEASE);
	if (old != &dp_fib_empty)
		dp_rcu_retire((void *)(uintptr_t)old, NULL, NULL);
}

/* The first route of a new prefix length: a root with one more group. */
static int group_add(const struct dp_fib **slot, bool v6, uint8_t depth,
		     const struct dp_fib_key *key, const struct dp_nexthop *nh)
{
	const struct dp_fib *fib = *slot;
	struct dp_fib_chunk *ch = chunk_alloc(1, v6);
	struct dp_fib *fresh;
	uint32_t g = 0;

	while (g < fib->nb_groups && fib->groups[g].depth > depth)
		g++;
	fresh = ch ? root_copy(fib, true, g) : NULL;
	if (!fresh) {
		rte_free(ch);
		return -ENOMEM;
	}
	chunk_set(ch, 0, v6, key, nh);
	fresh->groups[g].ref = (uintptr_t)ch;
	fresh->groups[g].depth = depth;
	dp_fib_masks(depth, v6, &fresh->groups[g].mask_hi, &fresh->groups[g].mask_lo);
	fresh->nb_routes++;
	publish_root(slot, fresh);
	return 0;
}

/* A copy of chunk c replaces it: in its index slot, or as the group's only chunk. */
static void publish_chunk(struct dp_fib_group *grp, const struct place *p,
			  struct dp_fib_chunk *fresh)
{
	if (p->v.idx)
		__atomic_store_n(&p->v.idx->chunks[p->c], fresh, __ATOMIC_RELEASE);
	else
		__atomic_store_n(&grp->ref, (uintptr_t)fresh, __ATOMIC_RELEASE);
	retire_chunk(p->ch);
}

/* The group refers to something new (from group_splice()); its old index goes. */
static void publish_group(struct dp_fib_group *grp, const struct gview *old, uintptr_t ref)
{
	__atomic_store_n(&grp->ref, ref, __ATOMIC_RELEASE);
	if (old->idx)
		dp_rcu_retire(old->idx, NULL, NULL);
}

/* A full chunk and one more route: two chunks. Appending to the end of a chunk or putting
 * a route before it keeps the chunk as it is (loading routes in order leaves full chunks
 * behind); otherwise each half takes half of the routes. */
static int chunk_split(struct dp_fib_group *grp, const struct place *p, bool v6,
		       const struct dp_fib_key *key, const struct dp_nexthop *nh)
{
	const struct dp_fib_chunk *ch = p->ch;
	struct dp_fib_chunk *halves[2] = {NULL, NULL};
	struct dp_fib_key bound;
	uint32_t n = ch->count + 1, left;
	uintptr_t ref;

	if (p->pos == ch->count) {
		halves[0] = p->ch;
		halves[1] = chunk_alloc(1, v6);
		if (halves[1])
			chunk_set(halves[1], 0, v6, key, nh);
		bound = *key;
	} else if (p->pos == 0) {
		halves[0] = chunk_alloc(1, v6);
		halves[1] = p->ch;
		if (halves[0])
			chunk_set(halves[0], 0, v6, key, nh);
		key_load(ch->data, 0, v6, &bound);
	} else {
		left = n / 2;
		halves[0] = chunk_alloc(left, v6);
		halves[1] = chunk_alloc(n - left, v6);
		if (halves[0] && halves[1]) {
			/* the n routes in order: ch[0 .. pos), key, ch[pos .. count) */
			for (uint32_t i = 0, from = 0; i < n; i++) {
				struct dp_fib_chunk *dst = i < left ? halves[0] : halves[1];
				uint32_t at = i < left ? i : i - left;

				if (i == p->pos)
					chunk_set(dst, at, v6, key, nh);
				else
					chunk_copy(dst, at, ch, from++, 1, v6);
			}
			key_load(halves[1]->data, 0, v6, &bound);
		}
	}
	ref = halves[0] && halves[1] ? group_splice(&p->v, p->c, 1, halves, 2, &bound, v6) : 0;
	if (!ref) {
		for (int i = 0; i < 2; i++)
			if (halves[i] != p->ch)
				rte_free(halves[i]);
		return -ENOMEM;
	}
	publish_group(grp, &p->v, ref);
	if (halves[0] != p->ch && halves[1] != p->ch)
		retire_chunk(p->ch);
	return 0;
}

int dp_fib_insert(const struct dp_fib **slot, bool v6, uint8_t depth, const struct dp_fib_key *key,
		  const struct dp_nexthop *nh_in)
{
	struct dp_fib *fib = (struct dp_fib *)(uintptr_t)*slot;
	struct dp_nexthop nh = *nh_in;
	struct place p = locate(fib, v6, depth, key);
	struct dp_fib_chunk *fresh;
	int ret;

	nh.depth = depth;
	if (p.found)
		return -EEXIST;
	if (p.g < 0)
		return group_add(slot, v6, depth, key, &nh);
	if (p.ch->count == DP_FIB_CHUNK) {
		ret = chunk_split(&fib->groups[p.g], &p, v6, key, &nh);
		if (ret < 0)
			return ret;
	} else {
		fresh = chunk_alloc(p.ch->count + 1, v6);
		if (!fresh)
			return -ENOMEM;
		chunk_copy(fresh, 0, p.ch, 0, p.pos, v6);
		chunk_set(fresh, p.pos, v6, key, &nh);
		chunk_copy(fresh, p.pos + 1, p.ch, p.pos, p.ch->count - p.pos, v6);
		publish_chunk(&fib->groups[p.g], &p, fresh);
	}
	fib->nb_routes++;
	return 0;
}

/* The last route of a chunk goes: the chunk leaves its group, or the group the root. */
static int chunk_drop(const struct dp_fib **slot, struct dp_fib *fib, const struct place *p,
		      bool v6)
{
	struct dp_fib *root;
	uintptr_t ref;

	if (p->v.nb > 1) {
		ref = group_splice(&p->v, p->c, 1, NULL, 0, NULL, v6);
		if (!ref)
			return -ENOMEM;
		publish_group(&fib->groups[p->g], &p->v, ref);
	} else if (fib->nb_groups > 1) {
		root = root_copy(fib, false, (uint32_t)p->g);
		if (!root)
			return -ENOMEM;
		publish_root(slot, root);
	} else {
		publish_root(slot, (struct dp_fib *)(uintptr_t)&dp_fib_empty);
	}
	retire_chunk(p->ch);
	return 0;
}

/* A chunk left with few routes is merged with a neighbour when both fit in half a chunk:
 * chunks stay at least a quarter full on average as routes go. */
static int chunk_merge(struct dp_fib_group *grp, const struct place *p, uint32_t nbr, bool v6)
{
	uint32_t first = RTE_MIN(p->c, nbr), skip = p->pos - 1, at = 0;
	struct dp_fib_chunk *parts[2] = {gv_chunk(&p->v, first), gv_chunk(&p->v, first + 1)};
	struct dp_fib_chunk *merged = chunk_alloc(parts[0]->count + parts[1]->count - 1, v6);
	uintptr_t ref;

	if (!merged)
		return -ENOMEM;
	for (int i = 0; i < 2; i++) {
		if (parts[i] == p->ch) {
			chunk_copy(merged, at, p->ch, 0, skip, v6);
			chunk_copy(merged, at + skip, p->ch, skip + 1, p->ch->count - skip - 1, v6);
			at += p->ch->count - 1;
		} else {
			chunk_copy(merged, at, parts[i], 0, parts[i]->count, v6);
			at += parts[i]->count;
		}
	}
	ref = group_splice(&p->v, first, 2, &merged, 1, NULL, v6);
	if (!ref) {
		rte_free(merged);
		return -ENOMEM;
	}
	publish_group(grp, &p->v, ref);
	retire_chunk(parts[0]);
	retire_chunk(parts[1]);
	return 0;
}

int dp_fib_remove(const struct dp_fib **slot, bool v6, uint8_t depth, const struct dp_fib_key *key)
{
	struct dp_fib *fib = (struct dp_fib *)(uintptr_t)*slot;
	struct place p = locate(fib, v6, depth, key);
	struct dp_fib_chunk *fresh;
	uint32_t left, nbr;
	int ret;

	if (!p.found)
		return -ENOENT;
	left = p.ch->count - 1;
	nbr = p.c + 1 < p.v.nb ? p.c + 1 : p.c - 1; /* meaningful with > 1 chunk */
	if (left == 0) {
		ret = chunk_drop(slot, fib, &p, v6);
	} else if (p.v.nb > 1 && left <= DP_FIB_CHUNK / 4 &&
		   left + gv_chunk(&p.v, nbr)->count <= DP_FIB_CHUNK / 2) {
		ret = chunk_merge(&fib->groups[p.g], &p, nbr, v6);
	} else {
		fresh = chunk_alloc(left, v6);
		if (!fresh)
			return -ENOMEM;
		chunk_copy(fresh, 0, p.ch, 0, p.pos - 1, v6);
		chunk_copy(fresh, p.pos - 1, p.ch, p.pos, p.ch->count - p.pos, v6);
		publish_chunk(&fib->groups[p.g], &p, fresh);
		ret = 0;
	}
	if (ret < 0)
		return ret;
	/* the root may be a new copy (of the old count), or the empty table */
	if (*slot != &dp_fib_empty)
		((struct dp_fib *)(uintptr_t)*slot)->nb_routes--;
	return 0;
}

void dp_fib_clear(const struct dp_fib **slot, bool v6)
{
	const struct dp_fib *fib = *slot;

	RTE_SET_USED(v6);
	if (fib == &dp_fib_empty)
		return;
	__atomic_store_n(slot, &dp_fib_empty, __ATOMIC_RELEASE);
	for (uint32_t g = 0; g < fib->nb_groups; g++) {
		struct gview v = gview_of(&fib->groups[g]);

		for (uint32_t c = 0; c < v.nb; c++)
			retire_chunk(gv_chunk(&v, c));
		if (v.idx)
			dp_rcu_retire(v.idx, NULL, NULL);
	}
	dp_rcu_retire((void *)(uintptr_t)fib, NULL, NULL);
}

/* -- listing -------------------------------------------------------------------------- */

struct cursor {
	struct gview v;
	uint32_t c, pos;
	struct dp_fib_key end; /* last address the current route covers */
	uint64_t not_hi, not_lo;
};

static bool cursor_load(struct cursor *cur, bool v6)
{
	const struct dp_fib_chunk *ch;

	if (cur->c >= cur->v.nb)
		return false;
	ch = gv_chunk(&cur->v, cur->c);
	key_load(ch->data, cur->pos, v6, &cur->end);
	cur->end.hi |= cur->not_hi;
	cur->end.lo |= cur->not_lo;
	return true;
}

static const struct dp_nexthop *cursor_route(const struct cursor *cur, bool v6,
					     struct dp_fib_key *key)
{
	const struct dp_fib_chunk *ch = gv_chunk(&cur->v, cur->c);

	key_load(ch->data, cur->pos, v6, key);
	return &dp_fib_chunk_nexthops(ch, v6)[cur->pos];
}

static bool cursor_next(struct cursor *cur, bool v6)
{
	if (++cur->pos == gv_chunk(&cur->v, cur->c)->count) {
		cur->pos = 0;
		cur->c++;
	}
	return cursor_load(cur, v6);
}

int dp_fib_walk(const struct dp_fib *fib, bool v6, dp_fib_walk_fn fn, void *arg)
{
	struct cursor cur[129];
	bool live[129];
	uint32_t nb = fib->nb_groups;
	struct dp_fib_key key;

	/* the default route first: rte_rib's walk leaves it out, dpservice lists it first */
	if (nb && fib->groups[nb - 1].depth == 0) {
		cur[0].v = gview_of(&fib->groups[nb - 1]);
		cur[0].c = cur[0].pos = 0;
		if (!fn(0, &key, cursor_route(&cur[0], v6, &key), arg))
			return 0;
		nb--;
	}
	for (uint32_t g = 0; g < nb; g++) {
		uint64_t mhi, mlo;

		dp_fib_masks(fib->groups[g].depth, v6, &mhi, &mlo);
		cur[g] = (struct cursor){.v = gview_of(&fib->groups[g]),
					 .not_hi = v6 ? ~mhi : 0,
					 .not_lo = v6 ? ~mlo : ~mlo & UINT32_MAX};
		live[g] = cursor_load(&cur[g], v6);
	}
	for (;;) {
		int best = -1;

		/* the smallest end; on a tie the longer prefix (groups go longest first) */
		for (uint32_t g = 0; g < nb; g++) {
			if (!live[g])
				continue;
			if (best < 0 || cur[g].end.hi < cur[best].end.hi ||
			    (cur[g].end.hi == cur[best].end.hi && cur[g].end.lo < cur[best].end.lo))
				best = (int)g;
		}
		if (best < 0)
			return 0;
		if (!fn(fib->groups[best].depth, &key, cursor_route(&cur[best], v6, &key), arg))
			return 0;
		live[best] = cursor_next(&cur[best], v6);
	}
}
