/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_POOL_H
#define PEERWATCH_POOL_H

#include <stddef.h>
#include <json-c/json_tokener.h>

/*
 * Per-request resources, lent while a request is in flight and given back
 * when its connection goes idle, so an idle engine holds none of them.
 */
#define POOL_BUF_SIZE 4096
/* A request's parsing state (channel.c's struct channel_flight fits). */
#define POOL_STATE_SIZE 640
/* What a quiet stream keeps between its reads (channel.c's channel_park). */
#define POOL_SMALL_SIZE 112

struct pool;

struct pool_stats {
	size_t bufs_used, bufs_free;
	size_t toks_used;
	size_t states_used, state_slabs;	/* slabs mapped, a spare too */
	size_t smalls_used, small_slabs;	/* the same, POOL_SMALL_SIZE */
};

int pool_new(struct pool **poolp);
void pool_free(struct pool *pool);

void *pool_buf_get(struct pool *pool);
void pool_buf_put(struct pool *pool, void *buf);

/* POOL_STATE_SIZE bytes aligned to 16, not cleared; NULL without memory. */
void *pool_state_get(struct pool *pool);
/* The same, POOL_SMALL_SIZE bytes, from slabs of their own. */
void *pool_small_get(struct pool *pool);
/* Gives back what either lent; NULL: nothing. */
void pool_state_put(struct pool *pool, void *state);

json_tokener *pool_tok_get(struct pool *pool);
void pool_tok_put(struct pool *pool, json_tokener *tok);

void pool_stats(const struct pool *pool, struct pool_stats *st);

#endif
