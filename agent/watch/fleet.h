/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FLEET_H
#define PEERWATCH_FLEET_H

#include <stddef.h>

#include "engine.h"

#include "discovery.h"

struct kevents;
struct kevents_ops;

/* What the fleet knows of an engine from the agent that watches it. */
struct fleet_peer_view {
	enum engine_state state;
	enum cause cause;
	uint64_t since_ms;		/* wall clock */
	const char *watcher;		/* that agent's --cluster-name */
};

/* How the sharing goes, for /v1/summary and /metrics. */
struct fleet_share_stats {
	bool up;			/* a live lease and our watches open */
	size_t agents;			/* live agents, us included */
	uint64_t requests, errors;	/* to the store */
	uint64_t writes;		/* keys written */
	uint64_t keepalives;
};

/*
 * Several agents share the fleet (agent/cluster/): which engines this
 * agent watches, and what the others say of theirs. The sharer calls
 * fleet_reassign() when its answers change.
 */
struct fleet_share {
	/* Whether to watch @addr here; @have: it is watched here now. */
	bool (*mine)(void *arg, const char *addr, bool have);
	/* The watcher's word on @addr, if any. */
	bool (*peer)(void *arg, const char *addr, struct fleet_peer_view *out);
	void (*stats)(void *arg, struct fleet_share_stats *st);
	/* The agent that watches @addr when not this one; NULL: none. */
	const char *(*owner)(void *arg, const char *addr);
	const char *name;		/* this agent's */
	void *arg;
};

/*
 * The engines watched here, sorted by address, and what they share; all:
 * every engine of the discovery, watched here or elsewhere.
 */
struct fleet {
	struct engine_env env;
	struct engine **v;
	size_t n;
	struct addr_list all;
	const struct fleet_share *share;	/* NULL: all are ours */
	size_t capacity;		/* engines that can be connected */
	size_t held;			/* not started: beyond the capacity */
	char limit[64];			/* what sets the capacity, in words */
};

int fleet_new(struct fleet **fp, struct loop *loop, struct pool *pool,
	      struct resolver *resolver, const struct engine_cfg *cfg);
void fleet_free(struct fleet *f);
/*
 * Make the fleet match @want (sorted, unique): new addresses start, absent
 * ones are removed, the others are not touched at all.
 */
int fleet_sync(struct fleet *f, const struct addr_list *want);
/* fleet_sync() again with the last discovery: the sharer changed its mind. */
int fleet_reassign(struct fleet *f);
/*
 * At most @capacity engines are started (connected), for want of
 * descriptors: @limit says which limit, in words. The others wait,
 * unhealthy with cause fd-limit, for a place; the shortfall is logged on
 * every change of the fleet. Applies from the next sync.
 */
void fleet_set_capacity(struct fleet *f, size_t capacity, const char *limit);
/*
 * The memory limit (0: none), @what it is in words: engines' first
 * listings go through the memory gate (memgate.h) under it. Applies from
 * the next sync, which retries the engines refused so far.
 */
void fleet_set_memory(struct fleet *f, uint64_t limit, const char *what);
/* The engine of @addr watched here, or NULL: O(log n). */
struct engine *fleet_find(const struct fleet *f, const char *addr);
/* Engines in each state. */
void fleet_count(const struct fleet *f, size_t counts[ENGINE_NSTATES]);

/* The fleet's connections for kevents_new(), with the fleet as arg. */
extern const struct kevents_ops fleet_kevents_ops;
/* Kernel news of a connection is heard before its error is taken. */
void fleet_hear_kevents(struct fleet *f, struct kevents *k);

#endif
