/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_PACE_H
#define PEERWATCH_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "docker.h"
#include "events.h"
#include "inventory.h"
#include "loop.h"

/*
 * Event refreshes: one per PACE_INTERVAL_MS per engine on average, at
 * most PACE_BURST in a row (docker run's create and start, apart by a
 * few hundred ms, each get theirs at once).
 */
#define PACE_WINDOW_MS		50	/* events gathered into one listing */
#define PACE_INTERVAL_MS	250
#define PACE_BURST		4
/*
 * More events wanting a refresh in a second than PACE_FLOOD_WANTS, or
 * more events than PACE_FLOOD_EVENTS, make a flood: answered by one full
 * listing a period instead, until it ends. Beyond PACE_FLOOD_EVENTS in a
 * second, the engine's events are not read until the second ends.
 */
#define PACE_FLOOD_WANTS	32
#define PACE_FLOOD_EVENTS	200
#define PACE_FLOOD_PERIOD_MS	1000

struct pace;

/* What the engine does when told. */
struct pace_ops {
	/* Time to ask: all of its containers (@full), or those pending. */
	void (*fire)(struct pace *p, bool full);
	/* Stop reading its events (@on), or read them again. */
	void (*hold)(struct pace *p, bool on);
};

/*
 * When an engine's containers are refreshed after its events (pace.c).
 * Embedded in its engine, which does what @ops say and says when the
 * answer came (pace_done).
 */
struct pace {
	struct loop *loop;
	struct loop_timer timer;	/* the next refresh */
	struct loop_timer release;	/* the end of a second held */
	const struct pace_ops *ops;
	struct event_stats *stats;
	const char *addr;		/* the engine's, for the log */
	uint64_t last_ms;		/* loop time of the last one asked */
	uint64_t credit_ms;		/* PACE_INTERVAL_MS a refresh, as of last_ms */
	uint64_t second_ms;		/* start of the second counted */
	unsigned int second_events;	/* events in it */
	unsigned int second_wants;	/* of which wanting a refresh */
	unsigned int events;		/* since the last one asked */
	bool full;			/* the next lists everything */
	bool busy;			/* one is asked and not answered */
	bool flood;
};

void pace_init(struct pace *p, struct loop *loop, struct event_stats *stats,
	       const char *addr, const struct pace_ops *ops);
/* Stops the timers; the struct can be initialised again. */
void pace_stop(struct pace *p);
/*
 * Container event @ev of the engine: applied to @inv, and its container
 * refreshed in due time if the event does not say all.
 */
void pace_event(struct pace *p, struct inventory *inv,
		const struct docker_event *ev);
/* A listing answered: the IDs wanted since are asked in due time. */
void pace_done(struct pace *p, const struct inventory *inv);

#endif
