// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>

#include "pool.h"

/* Enough for a burst of refreshes; beyond that, memory goes back to libc. */
#define POOL_MAX_FREE	256
/* Docker's JSON nests a dozen levels; deeper input is refused. */
#define POOL_JSON_DEPTH	64

/*
 * Buffers are kept for reuse; JSON tokeners are not: json-c 0.16's
 * json_tokener_reset() keeps a pending high surrogate, so a stream cut off
 * inside a string would put a U+FFFD in front of the next engine's first
 * \u escape. A tokener costs one small allocation per response.
 */
struct pool {
	void *bufs[POOL_MAX_FREE];
	size_t nbufs;
	void *states[POOL_MAX_FREE];
	size_t nstates;
	size_t bufs_used, toks_used, states_used;
};

int pool_new(struct pool **poolp)
{
	*poolp = calloc(1, sizeof(**poolp));
	return *poolp ? 0 : -ENOMEM;
}

void pool_free(struct pool *pool)
{
	if (!pool)
		return;
	while (pool->nbufs)
		free(pool->bufs[--pool->nbufs]);
	while (pool->nstates)
		free(pool->states[--pool->nstates]);
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

void *pool_state_get(struct pool *pool)
{
	void *st = pool->nstates ? pool->states[--pool->nstates] :
		   malloc(POOL_STATE_SIZE);

	if (st)
		pool->states_used++;
	return st;
}

void pool_state_put(struct pool *pool, void *state)
{
	if (!state)
		return;
	pool->states_used--;
	if (pool->nstates < POOL_MAX_FREE)
		pool->states[pool->nstates++] = state;
	else
		free(state);
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
	st->states_used = pool->states_used;
	st->states_free = pool->nstates;
}
