// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "pool.h"

/* Enough for a burst of refreshes; beyond that, memory goes back to libc. */
#define POOL_MAX_FREE	256
/* Docker's JSON nests a dozen levels; deeper input is refused. */
#define POOL_JSON_DEPTH	64
/* Requests' states come from slabs of this size; one empty slab is kept. */
#define POOL_SLAB_SIZE	(64 * 1024)

/*
 * A slab of request states, mapped on its own: states lent by the
 * thousand in a connect storm and given back would otherwise leave holes
 * among the engines' long-lived allocations, pages that stay resident.
 * A slab goes back to the kernel once its last state is given back.
 * States of one size come from slabs of their class.
 */
struct pool_slab {
	struct pool_slab *prev, *next;	/* in its class's partial list */
	struct pool_class *cls;
	struct pool_state *free;
	unsigned int used;
};

/* A state and its slab; what is lent is @mem, of its class's size. */
struct pool_state {
	union {
		struct pool_slab *slab;
		struct pool_state *next;	/* while free */
	};
	_Alignas(16) char mem[];
};

/* Where a slab's states start. */
#define POOL_SLAB_HEAD	((sizeof(struct pool_slab) + 15) & ~(size_t)15)

/* The slabs of states of one size. */
struct pool_class {
	size_t stride;			/* a state with its header */
	struct pool_slab *partial;	/* slabs with a free state */
	struct pool_slab *spare;	/* one empty slab, kept */
	size_t slabs, used;
};

/*
 * Buffers are kept for reuse; JSON tokeners are not: json-c 0.16's
 * json_tokener_reset() keeps a pending high surrogate, so a stream cut off
 * inside a string would put a U+FFFD in front of the next engine's first
 * \u escape. A tokener costs one small allocation per response.
 */
struct pool {
	void *bufs[POOL_MAX_FREE];
	size_t nbufs;
	struct pool_class states, smalls;
	size_t bufs_used, toks_used;
};

static size_t stride_of(size_t size)
{
	return (sizeof(struct pool_state) + size + 15) & ~(size_t)15;
}

int pool_new(struct pool **poolp)
{
	struct pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return -ENOMEM;
	pool->states.stride = stride_of(POOL_STATE_SIZE);
	pool->smalls.stride = stride_of(POOL_SMALL_SIZE);
	*poolp = pool;
	return 0;
}

/* Every state was given back: each slab is on a list. */
static void class_free(struct pool_class *cls)
{
	while (cls->partial) {
		struct pool_slab *sl = cls->partial;

		cls->partial = sl->next;
		munmap(sl, POOL_SLAB_SIZE);
	}
	if (cls->spare)
		munmap(cls->spare, POOL_SLAB_SIZE);
}

void pool_free(struct pool *pool)
{
	if (!pool)
		return;
	while (pool->nbufs)
		free(pool->bufs[--pool->nbufs]);
	class_free(&pool->states);
	class_free(&pool->smalls);
	free(pool);
}

void *pool_buf_get(struct pool *pool)
{
	void *buf = pool->nbufs ? pool->bufs[--pool->nbufs] :
		    malloc(POOL_BUF_SIZE);

	if (buf)
		pool->bufs_used++;
	return buf;
}

void pool_buf_put(struct pool *pool, void *buf)
{
	if (!buf)
		return;
	pool->bufs_used--;
	if (pool->nbufs < POOL_MAX_FREE)
		pool->bufs[pool->nbufs++] = buf;
	else
		free(buf);
}

static void slab_link(struct pool_class *cls, struct pool_slab *sl)
{
	sl->prev = NULL;
	sl->next = cls->partial;
	if (sl->next)
		sl->next->prev = sl;
	cls->partial = sl;
}

static void slab_unlink(struct pool_class *cls, struct pool_slab *sl)
{
	if (sl->prev)
		sl->prev->next = sl->next;
	else
		cls->partial = sl->next;
	if (sl->next)
		sl->next->prev = sl->prev;
}

static struct pool_state *state_at(const struct pool_class *cls,
				   struct pool_slab *sl, size_t i)
{
	return (struct pool_state *)((char *)sl + POOL_SLAB_HEAD +
				     i * cls->stride);
}

static struct pool_slab *slab_new(struct pool_class *cls)
{
	struct pool_slab *sl = cls->spare;
	struct pool_state *st;
	size_t i;

	if (sl) {
		cls->spare = NULL;
		return sl;
	}
	sl = mmap(NULL, POOL_SLAB_SIZE, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (sl == MAP_FAILED)
		return NULL;
	sl->cls = cls;
	sl->free = NULL;
	sl->used = 0;
	for (i = (POOL_SLAB_SIZE - POOL_SLAB_HEAD) / cls->stride; i-- > 0;) {
		st = state_at(cls, sl, i);
		st->next = sl->free;
		sl->free = st;
	}
	cls->slabs++;
	return sl;
}

static void *class_get(struct pool_class *cls)
{
	struct pool_slab *sl = cls->partial;
	struct pool_state *st;

	if (!sl) {
		sl = slab_new(cls);
		if (!sl)
			return NULL;
		slab_link(cls, sl);
	}
	st = sl->free;
	sl->free = st->next;
	if (!sl->free)
		slab_unlink(cls, sl);
	sl->used++;
	st->slab = sl;
	cls->used++;
	return st->mem;
}

void *pool_state_get(struct pool *pool)
{
	return class_get(&pool->states);
}

void *pool_small_get(struct pool *pool)
{
	return class_get(&pool->smalls);
}

void pool_state_put(struct pool *pool, void *state)
{
	struct pool_class *cls;
	struct pool_state *st;
	struct pool_slab *sl;

	(void)pool;
	if (!state)
		return;
	st = (struct pool_state *)((char *)state -
				   offsetof(struct pool_state, mem));
	sl = st->slab;
	cls = sl->cls;
	cls->used--;
	if (!sl->free)
		slab_link(cls, sl);
	st->next = sl->free;
	sl->free = st;
	if (--sl->used)
		return;
	slab_unlink(cls, sl);
	if (!cls->spare) {
		cls->spare = sl;
		return;
	}
	munmap(sl, POOL_SLAB_SIZE);
	cls->slabs--;
}

json_tokener *pool_tok_get(struct pool *pool)
{
	json_tokener *tok = json_tokener_new_ex(POOL_JSON_DEPTH);

	if (tok)
		pool->toks_used++;
	return tok;
}

void pool_tok_put(struct pool *pool, json_tokener *tok)
{
	if (!tok)
		return;
	pool->toks_used--;
	json_tokener_free(tok);
}

void pool_stats(const struct pool *pool, struct pool_stats *st)
{
	st->bufs_used = pool->bufs_used;
	st->bufs_free = pool->nbufs;
	st->toks_used = pool->toks_used;
	st->states_used = pool->states.used;
	st->state_slabs = pool->states.slabs;
	st->smalls_used = pool->smalls.used;
	st->small_slabs = pool->smalls.slabs;
}
