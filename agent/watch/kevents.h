/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_KEVENTS_H
#define PEERWATCH_KEVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include <linux/peerwatch.h>

#include "cause.h"
#include "nlevent.h"

struct loop;
struct kevents;

/* One connection of the owner's, for a look at its socket. */
struct kevents_conn {
	uint64_t cookie;
	int fd;				/* -1: not connected now */
	bool suspect;			/* as the owner last heard */
};

/*
 * The owner of the connections (the fleet) as kevents sees it: the
 * connections it watches, and where their news goes. Called from within
 * kevents_drain(), kevents_apply() and kevents_resync().
 */
struct kevents_ops {
	/* Where the connection with @cookie goes; NULL: none of ours. */
	const struct sockaddr *(*peer)(void *arg, uint64_t cookie);
	/* It retransmits (@on: no new request on it), or no longer does. */
	void (*suspect)(void *arg, uint64_t cookie, bool on);
	/* It failed: to be closed at once, failed with @cause. */
	void (*failed)(void *arg, uint64_t cookie, enum cause cause,
		       const char *why);
	/*
	 * The @i-th connection that may be open, counting from 0 (whether
	 * it is, in *@c); false past the last one.
	 */
	bool (*conn)(void *arg, size_t i, struct kevents_conn *c);
	/* The @i-th peer's address family and port; false past the last. */
	bool (*port)(void *arg, size_t i, uint16_t *family, uint16_t *port);
};

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
 * Subscribe to the module's events in @loop and report those of the
 * connections of @ops and @arg to them. Never fails for want of the
 * module or of CAP_NET_ADMIN: it says so once and waits for the family
 * to appear.
 */
int kevents_new(struct kevents **kp, struct loop *loop,
		const struct kevents_cfg *cfg, const struct kevents_ops *ops,
		void *arg);
/* Removes the policy rules it installed, then frees. */
void kevents_free(struct kevents *k);

/* Read what the kernel has queued now; a no-op inside its own handler. */
void kevents_drain(struct kevents *k);
/* After the peers changed: the policy follows their ports. */
void kevents_fleet_changed(struct kevents *k);

/*
 * Report one parsed event of a connection of ours. Returns 0, -ENOENT
 * when the socket is none of ours, or -EINVAL for an unknown event.
 */
int kevents_apply(struct kevents *k, const struct pw_event *ev);
/*
 * Check every connection (SO_ERROR, TCP_INFO) as events were
 * lost: a failed one fails, a retransmitting one is suspect, a suspect one
 * that no longer retransmits recovers. Returns the connections acted on.
 */
unsigned int kevents_resync(struct kevents *k);

const struct kevents_stats *kevents_stats(const struct kevents *k);

#endif
