/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LOOP_EVENTS_H
#define PEERWATCH_LOOP_EVENTS_H

/*
 * Readiness in the loop's own bits, whatever the backend: an owner asks
 * for some of them and is handed those that fired. Apart from loop.h so
 * that a backend, which translates them, needs nothing else of the loop.
 */
#define LOOP_READ	0x01U	/* readable, or end of stream */
#define LOOP_WRITE	0x02U	/* writable */
#define LOOP_HANGUP	0x04U	/* the peer shut its sending side */
#define LOOP_ERROR	0x08U	/* error or full hang-up: fired, never asked */
#define LOOP_EDGE	0x10U	/* asked: fire on changes only, not levels */

#endif
