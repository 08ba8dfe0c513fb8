/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FLEET_H
#define PEERWATCH_FLEET_H

#include <stddef.h>

#include "engine.h"

struct addr_list;
struct kevents;
struct kevents_ops;

/* Every engine, sorted by address, and what they share. */
struct fleet {
	struct engine_env env;
	struct engine **v;
	size_t n;
};

int fleet_new(struct fleet **fp, struct loop *loop, struct pool *pool,
	      struct resolver *resolver, const struct engine_cfg *cfg);
void fleet_free(struct fleet *f);
/*
 * Make the fleet match @want (sorted, unique): new addresses start, absent
 * ones are removed, the others are not touched at all.
 */
int fleet_sync(struct fleet *f, const struct addr_list *want);
/* Engines in each state. */
void fleet_count(const struct fleet *f, size_t counts[ENGINE_NSTATES]);

/* The fleet's connections for kevents_new(), with the fleet as arg. */
extern const struct kevents_ops fleet_kevents_ops;
/* Kernel news of a connection is heard before its error is taken. */
void fleet_hear_kevents(struct fleet *f, struct kevents *k);

#endif
