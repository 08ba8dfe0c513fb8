/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_KEVENTS_H
#define PEERWATCH_KEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/peerwatch.h>

#include "nlevent.h"

struct fleet;
struct loop;
struct kevents;

/*
 * What the subscriber saw; read by the control API's /metrics. Events
 * count as received, whether or not they concerned one of our
 * connections.
 */
struct kevents_stats {
	uint64_t events[PEERWATCH_EVENT_MAX + 1];	/* by enum peerwatch_event */
	uint64_t dead[PEERWATCH_REASON_MAX + 1];	/* DEAD by reason */
	uint64_t matched;		/* concerned one of our connections */
	uint64_t invalid;		/* malformed messages, skipped */
	uint64_t lost;			/* ENOBUFS: the kernel dropped some */
	uint64_t resyncs;		/* every connection checked again */
	uint64_t resync_found;		/* connections a resync acted on */
	uint64_t subscribes;		/* times the events group was joined */
	bool subscribed;		/* receiving now */
};

struct kevents_cfg {
	bool policy;			/* --kernel-policy */
	uint32_t user_timeout_ms;	/* the policy's, as our own sockets' */
	uint32_t rcvbuf;		/* bytes queued for us; 0: the default */
};

/*
 * Subscribe to the module's events in @loop and apply them to @fleet's
 * engines. Never fails for want of the module or of CAP_NET_ADMIN: it
 * says so once and waits for the family to appear.
 */
int kevents_new(struct kevents **kp, struct loop *loop, struct fleet *fleet,
		const struct kevents_cfg *cfg);
/* Removes the policy rules it installed, then frees. */
void kevents_free(struct kevents *k);

/* Read what the kernel has queued now; a no-op inside its own handler. */
void kevents_drain(struct kevents *k);
/* After the fleet changed: the policy follows the engines' ports. */
void kevents_fleet_changed(struct kevents *k);

/*
 * Apply one parsed event to the engine owning its socket. Returns 0, or
 * -ENOENT when the socket is none of ours.
 */
int kevents_apply(struct kevents *k, const struct pw_event *ev);
/*
 * Check every connection of the fleet (SO_ERROR, TCP_INFO) as events were
 * lost: a failed one fails, a retransmitting one is suspect, a suspect one
 * that no longer retransmits recovers. Returns the connections acted on.
 */
unsigned int kevents_resync(struct kevents *k);

const struct kevents_stats *kevents_stats(const struct kevents *k);

#endif
