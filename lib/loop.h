/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LOOP_H
#define PEERWATCH_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "loop_events.h"

struct loop;
struct loop_io;
struct loop_timer;
struct loop_defer;

typedef void (*loop_io_fn)(struct loop_io *io, uint32_t events);
typedef void (*loop_timer_fn)(struct loop_timer *t);
typedef void (*loop_defer_fn)(struct loop_defer *d);

/* A file descriptor watched by the loop; embedded in its owner. */
struct loop_io {
	int fd;
	uint32_t events;		/* LOOP_* bits asked for */
	bool active;
	/* Pass in which it was removed: stale events of that pass are dropped, even if it is added again. Zero in a new owner. */
	uint64_t removed_iter;
	loop_io_fn fn;
};

/* A one-shot timer in the loop's min-heap; embedded in its owner. */
struct loop_timer {
	uint64_t due;			/* loop time, ms */
	uint64_t seq;			/* breaks ties: FIFO among equal dues */
	unsigned int idx;		/* heap slot, LOOP_TIMER_IDLE if stopped */
	loop_timer_fn fn;
};
#define LOOP_TIMER_IDLE ((unsigned int)-1)

/* Work run once, after the current dispatch pass (e.g. a deferred free). */
struct loop_defer {
	struct loop_defer *next;
	bool queued;
	loop_defer_fn fn;
};

int loop_new(struct loop **loopp);
void loop_free(struct loop *loop);

int loop_io_add(struct loop *loop, struct loop_io *io, int fd,
		uint32_t events, loop_io_fn fn);
int loop_io_mod(struct loop *loop, struct loop_io *io, uint32_t events);
void loop_io_del(struct loop *loop, struct loop_io *io);

void loop_timer_init(struct loop_timer *t, loop_timer_fn fn);
int loop_timer_start(struct loop *loop, struct loop_timer *t,
		     uint64_t after_ms);
void loop_timer_stop(struct loop *loop, struct loop_timer *t);
static inline bool loop_timer_active(const struct loop_timer *t)
{
	return t->idx != LOOP_TIMER_IDLE;
}

void loop_defer(struct loop *loop, struct loop_defer *d, loop_defer_fn fn);

/* Monotonic ms, read once per iteration so a pass sees one time. */
uint64_t loop_now(const struct loop *loop);
/* Re-read the clock (for callers outside a pass, e.g. tests). */
void loop_update_time(struct loop *loop);

/* One iteration: poll (at most @max_wait_ms, -1 = until the next timer), run due timers, run deferred work. */
int loop_run_once(struct loop *loop, int max_wait_ms);
/* Iterate until loop_stop(). */
int loop_run(struct loop *loop);
void loop_stop(struct loop *loop);

#endif
