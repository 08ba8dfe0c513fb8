/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FORWARD_H
#define PEERWATCH_FORWARD_H

#include <stddef.h>

struct engine;
struct forward;

/*
 * The answer of the engine: its status and whole body; or @status 0 and
 * what went wrong in @why. Called once, from the loop; the forward is
 * freed after it returns.
 */
typedef void (*forward_fn)(void *arg, unsigned int status, const char *body,
			   size_t len, const char *why);

/*
 * GET @path on @e over a connection of its own, with the engine's TLS
 * settings (a session of its own too), the engine's request timeout as
 * the deadline and its --max-body as the bound: the polling and /events
 * connections are not touched. 0, or -errno (nothing will be called).
 */
int forward_start(struct forward **fp, struct engine *e, const char *path,
		  forward_fn done, void *arg);
/* Gives up: @done will not be called. */
void forward_cancel(struct forward *f);

#endif
