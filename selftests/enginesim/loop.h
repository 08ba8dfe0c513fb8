/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_LOOP_H
#define ENGINESIM_LOOP_H

#include <stdint.h>

#include "list.h"

struct loop;

/* A file descriptor watched by the loop; embedded in its owner. */
struct loop_io {
	int fd;
	void (*cb)(struct loop_io *io, uint32_t events);
};

/* A one-shot timer in the loop's min-heap; embedded in its owner. */
struct loop_timer {
	uint64_t when_ms;
	uint64_t seq;
	unsigned int idx;	/* heap slot + 1; 0 when not armed */
	void (*cb)(struct loop_timer *t);
};

/*
 * Work run after the current batch of events, so that an owner freed
 * mid-batch stays readable by the handlers still to run in that batch.
 */
struct loop_deferred {
	struct list_head node;
	void (*fn)(struct loop_deferred *d);
};

int loop_new(struct loop **out);
void loop_free(struct loop *l);
int loop_add(struct loop *l, struct loop_io *io, uint32_t events);
int loop_mod(struct loop *l, struct loop_io *io, uint32_t events);
void loop_del(struct loop *l, struct loop_io *io);
uint64_t loop_now(const struct loop *l);
int loop_timer_start(struct loop *l, struct loop_timer *t, uint64_t delay_ms);
void loop_timer_stop(struct loop *l, struct loop_timer *t);
void loop_defer(struct loop *l, struct loop_deferred *d);
int loop_run(struct loop *l);
void loop_stop(struct loop *l);

static inline int loop_timer_armed(const struct loop_timer *t)
{
	return t->idx != 0;
}

#endif
