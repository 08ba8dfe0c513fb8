// SPDX-License-Identifier: GPL-2.0
/*
 * Refreshes after events, per engine: gathered, bounded, degraded.
 *
 * The containers that events want refreshed within PACE_WINDOW_MS go
 * into one listing filtered on their IDs (inventory_filter); more than
 * one listing's worth, and one full listing answers them instead. One
 * is asked at a time, and no sooner than PACE_INTERVAL_MS after the
 * last: whatever its event rate, an engine is asked at most four times
 * a second for its events. An engine whose events want more than
 * PACE_FLOOD_EVENTS refreshes in a second floods: it is then listed in
 * full once per PACE_FLOOD_PERIOD_MS until a second goes by under the
 * mark; each flood is counted and logged once, at its start and end.
 *
 * The cost left to the agent is reading and parsing the events, a few
 * microseconds each, and applying those that change something
 * (events.c): the requests, their answers and the listings they replace
 * no longer grow with the event rate, and other engines' refreshes and
 * the API share the loop with a bounded amount of work.
 */
#include <errno.h>

#include "container_of.h"
#include "log.h"
#include "pace.h"

static void fire_fn(struct loop_timer *t)
{
	struct pace *p = container_of(t, struct pace, timer);
	bool full = p->full || p->flood;

	p->busy = true;
	p->full = false;
	p->last_ms = loop_now(p->loop);
	p->stats->refreshes++;
	/* The events beyond the first were answered for free. */
	if (p->events > 1)
		p->stats->saved += p->events - 1;
	p->events = 0;
	p->fire(p, full);
}

/* The next refresh, after the window and no sooner than the pace allows. */
static void arm(struct pace *p)
{
	uint64_t now = loop_now(p->loop);
	uint64_t gap = p->flood ? PACE_FLOOD_PERIOD_MS : PACE_INTERVAL_MS;
	uint64_t at = now + PACE_WINDOW_MS;

	if (p->busy || loop_timer_active(&p->timer))
		return;
	if (p->last_ms && p->last_ms + gap > at)
		at = p->last_ms + gap;
	loop_timer_start(p->loop, &p->timer, at - now);
}

/* Counts the second's events; a flood starts or ends on the count. */
static void count(struct pace *p)
{
	uint64_t now = loop_now(p->loop);

	if (now - p->second_ms >= 1000) {
		if (p->flood && p->second_events <= PACE_FLOOD_EVENTS) {
			p->flood = false;
			log_info("engine %s: event flood over: refreshes follow events again",
				 p->addr);
		}
		p->second_ms = now;
		p->second_events = 0;
	}
	if (++p->second_events > PACE_FLOOD_EVENTS && !p->flood) {
		p->flood = true;
		p->stats->floods++;
		log_warn("engine %s: event flood (over %u a second wanting a refresh): one full listing every %u ms until it ends",
			 p->addr, PACE_FLOOD_EVENTS, PACE_FLOOD_PERIOD_MS);
	}
}

void pace_init(struct pace *p, struct loop *loop, struct event_stats *stats,
	       const char *addr, pace_fire_fn fire)
{
	*p = (struct pace){
		.loop = loop, .fire = fire, .stats = stats, .addr = addr,
		.second_ms = loop_now(loop),
	};
	loop_timer_init(&p->timer, fire_fn);
}

void pace_stop(struct pace *p)
{
	loop_timer_stop(p->loop, &p->timer);
}

void pace_event(struct pace *p, struct inventory *inv,
		const struct docker_event *ev)
{
	if (!event_apply(inv, ev, p->stats))
		return;
	count(p);
	p->events++;
	/* A burst (or no memory): one full listing answers all of it. */
	if (p->flood || inventory_want(inv, ev->id) == -ENOSPC)
		p->full = true;
	arm(p);
}

void pace_done(struct pace *p, const struct inventory *inv)
{
	p->busy = false;
	if (inventory_pending(inv) || p->full)
		arm(p);
}
