/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_PACE_H
#define PEERWATCH_PACE_H

#include <stdbool.h>
#include <stdint.h>

#include "docker.h"
#include "events.h"
#include "inventory.h"
#include "loop.h"

/* Event refreshes: at most one per PACE_INTERVAL_MS per engine. */
#define PACE_WINDOW_MS		50	/* events gathered into one listing */
#define PACE_INTERVAL_MS	250
/* More events wanting a refresh in a second than this make a flood... */
#define PACE_FLOOD_EVENTS	32
/* ...answered by one full listing a period instead, until it ends. */
#define PACE_FLOOD_PERIOD_MS	1000

struct pace;
/* Time to ask: all of the engine's containers (@full), or those pending. */
typedef void (*pace_fire_fn)(struct pace *p, bool full);

/*
 * When an engine's containers are refreshed after its events (pace.c).
 * Embedded in its engine, which asks when told to (@fire) and says when
 * the answer came (pace_done).
 */
struct pace {
	struct loop *loop;
	struct loop_timer timer;	/* the next refresh */
	pace_fire_fn fire;
	struct event_stats *stats;
	const char *addr;		/* the engine's, for the log */
	uint64_t last_ms;		/* loop time of the last one asked */
	uint64_t second_ms;		/* start of the second counted */
	unsigned int second_events;	/* events wanting a refresh in it */
	unsigned int events;		/* since the last one asked */
	bool full;			/* the next lists everything */
	bool busy;			/* one is asked and not answered */
	bool flood;
};

void pace_init(struct pace *p, struct loop *loop, struct event_stats *stats,
	       const char *addr, pace_fire_fn fire);
/* Stops the timer; the struct can be initialised again. */
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
