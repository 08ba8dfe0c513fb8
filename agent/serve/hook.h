/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_HOOK_H
#define PEERWATCH_HOOK_H

#include <stdint.h>

#include "engine.h"

struct loop;

/* --on-transition*: a command run at each engine transition. */
struct hook_cfg {
	const char *cmd;		/* for /bin/sh -c; NULL: no hook */
	unsigned int max;		/* running at once */
	uint64_t timeout_ms;		/* then killed, with its process group */
	unsigned int queue;		/* engines waiting for a run */
};

/* What /metrics shows of the hook. */
struct hook_stats {
	uint64_t ok;			/* exited 0 */
	uint64_t failed;		/* exited non-zero, killed, or not run */
	uint64_t timeouts;		/* killed at the deadline */
	uint64_t coalesced;		/* folded into an engine's waiting run */
	uint64_t dropped;		/* the queue was full */
	unsigned int running;
	unsigned int queued;
};

struct hook;

/* Returns 0, or -errno. */
int hook_new(struct hook **hp, struct loop *loop, const struct hook_cfg *cfg);
/* Kills what still runs, and waits for it. */
void hook_free(struct hook *h);
/* @e left @from: queue a run (or fold it into the one that waits). */
void hook_transition(struct hook *h, const struct engine *e,
		     enum engine_state from);
const struct hook_stats *hook_stats(const struct hook *h);

#endif
