// SPDX-License-Identifier: GPL-2.0
/*
 * Refreshes after events, per engine: gathered, bounded, degraded.
 *
 * The containers that events want refreshed within PACE_WINDOW_MS go
 * into one listing filtered on their IDs (inventory_filter); more than
 * one listing's worth, and one full listing answers them instead. One
 * is asked at a time, paced by a token bucket: PACE_BURST in a row, then
 * one per PACE_INTERVAL_MS. Whatever its event rate, an engine is asked
 * at most four times a second on average for its events.
 *
 * An engine sending more than PACE_FLOOD_WANTS events wanting a refresh,
 * or PACE_FLOOD_EVENTS events of any kind, in a second floods: it is
 * then listed in full once per PACE_FLOOD_PERIOD_MS, and its events are
 * read PACE_FLOOD_EVENTS a second at most (the engine is told to stop
 * reading until the second ends; what the daemon drops meanwhile, the
 * listing sees). Each flood is counted and logged once when it starts,
 * and once when a second goes by under both marks.
 *
 * So an engine's events cost the agent at most PACE_FLOOD_EVENTS parsed
 * (a few microseconds each) and four listings a second, whatever their
 * rate, and other engines' refreshes and the API share the one loop with
 * a bounded amount of work.
 */
#include <errno.h>

#include "container_of.h"
#include "log.h"
#include "pace.h"
#include "rand.h"

/* The credit at @now: what it was, plus the time since, up to a burst. */
static uint64_t credit(const struct pace *p, uint64_t now)
{
	uint64_t c = p->credit_ms + (now - p->last_ms);

	return c < PACE_BURST * PACE_INTERVAL_MS ? c : PACE_BURST * PACE_INTERVAL_MS;
}

static void fire_fn(struct loop_timer *t)
{
	struct pace *p = container_of(t, struct pace, timer);
	uint64_t now = loop_now(p->loop), c = credit(p, now);
	bool full = p->full || p->flood;

	p->busy = true;
	p->full = false;
	p->credit_ms = c > PACE_INTERVAL_MS ? c - PACE_INTERVAL_MS : 0;
	p->last_ms = now;
	p->stats->refreshes++;
	/* The events beyond the first were answered for free. */
	if (p->events > 1)
		p->stats->saved += p->events - 1;
	p->events = 0;
	p->ops->fire(p, full);
}

/* The next refresh, after the window and no sooner than the pace allows. */
static void arm(struct pace *p)
{
	uint64_t now = loop_now(p->loop), c = credit(p, now);
	uint64_t delay = PACE_WINDOW_MS;

	if (p->busy || loop_timer_active(&p->timer))
		return;
	if (p->flood) {
		if (p->last_ms + PACE_FLOOD_PERIOD_MS > now + delay)
			delay = p->last_ms + PACE_FLOOD_PERIOD_MS - now;
	} else if (c + delay < PACE_INTERVAL_MS) {
		delay = PACE_INTERVAL_MS - c;
	}
	loop_timer_start(p->loop, &p->timer, delay);
}

/* A second of events ends: the engine's events are read again. */
static void release_fn(struct loop_timer *t)
{
	struct pace *p = container_of(t, struct pace, release);

	p->ops->hold(p, false);
}

/* Counts the second's events; a flood starts or ends on the count. */
static void count(struct pace *p, bool want)
{
	uint64_t now = loop_now(p->loop);

	if (now - p->second_ms >= 1000) {
		if (p->flood && p->second_wants <= PACE_FLOOD_WANTS &&
		    p->second_events <= PACE_FLOOD_EVENTS) {
			p->flood = false;
			log_info("engine %s: event flood over: refreshes follow events again",
				 p->addr);
		}
		p->second_ms = now;
		p->second_events = 0;
		p->second_wants = 0;
	}
	p->second_events++;
	p->second_wants += want;
	if (!p->flood && (p->second_wants > PACE_FLOOD_WANTS ||
			  p->second_events > PACE_FLOOD_EVENTS)) {
		p->flood = true;
		p->stats->floods++;
		log_warn("engine %s: event flood (over %u events, or %u wanting a refresh, a second): its events read %u a second at most, and one full listing every %u ms, until it ends",
			 p->addr, PACE_FLOOD_EVENTS, PACE_FLOOD_WANTS,
			 PACE_FLOOD_EVENTS, PACE_FLOOD_PERIOD_MS);
	}
	/* The rest of the second waits in the kernel, or is lost: listed. */
	if (p->second_events > PACE_FLOOD_EVENTS) {
		p->ops->hold(p, true);
		if (!loop_timer_active(&p->release))
			loop_timer_start(p->loop, &p->release,
					 p->second_ms + 1000 - now);
	}
}

void pace_init(struct pace *p, struct loop *loop, struct event_stats *stats,
	       const char *addr, const struct pace_ops *ops)
{
	*p = (struct pace){
		.loop = loop, .ops = ops, .stats = stats, .addr = addr,
		/* Engines' seconds out of step: floods resume one by one. */
		.second_ms = loop_now(loop) - rand_range(0, 999),
		.last_ms = loop_now(loop),
		.credit_ms = PACE_BURST * PACE_INTERVAL_MS,
	};
	loop_timer_init(&p->timer, fire_fn);
	loop_timer_init(&p->release, release_fn);
}

void pace_stop(struct pace *p)
{
	loop_timer_stop(p->loop, &p->timer);
	loop_timer_stop(p->loop, &p->release);
}

void pace_event(struct pace *p, struct inventory *inv,
		const struct docker_event *ev)
{
	bool want = event_apply(inv, ev, p->stats);

	count(p, want);
	if (want) {
		p->events++;
		/* A burst (or no memory): one full listing answers it all. */
		if (p->flood || inventory_want(inv, ev->id) == -ENOSPC)
			p->full = true;
	} else if (p->flood) {
		/* Events go unread: only listings see what they said. */
		p->full = true;
	} else {
		return;
	}
	arm(p);
}

void pace_done(struct pace *p, const struct inventory *inv)
{
	p->busy = false;
	if (inventory_pending(inv) || p->full)
		arm(p);
}
