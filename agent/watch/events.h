/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_EVENTS_H
#define PEERWATCH_EVENTS_H

#include <stdbool.h>
#include <stdint.h>

#include "docker.h"
#include "inventory.h"

/* What a container event's action means for the inventory (events.c). */
enum event_class {
	EVENT_IGNORED,		/* changes nothing the inventory keeps */
	EVENT_APPLIED,		/* the event alone says all of it */
	EVENT_REFRESH,		/* applied where it can be, then refreshed */
	EVENT_UNKNOWN,		/* not in the table: refreshed, to be safe */
	EVENT_NCLASSES,
};

/* What every engine's events cost; owned by the fleet's engine_env. */
struct event_stats {
	uint64_t by_class[EVENT_NCLASSES];	/* container events received */
	uint64_t refreshes;	/* listings sent for events */
	uint64_t saved;		/* events answered by another's listing */
	uint64_t floods;	/* times an engine's events became too many */
};

const char *event_class_name(enum event_class c);
/* The class of @action; "health_status: healthy" is health_status's. */
enum event_class event_classify(const char *action);
/*
 * Applies what container event @ev says to @inv at once (a removal, a
 * rename, a new state) and counts it in @st. Returns whether the
 * container is to be refreshed still.
 */
bool event_apply(struct inventory *inv, const struct docker_event *ev,
		 struct event_stats *st);

#endif
