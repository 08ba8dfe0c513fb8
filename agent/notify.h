/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_NOTIFY_H
#define PEERWATCH_NOTIFY_H

#include <stdint.h>

struct loop;

/*
 * systemd's service notifications (Type=notify), to the datagram socket
 * NOTIFY_SOCKET names. Without NOTIFY_SOCKET, notify_new() gives NULL
 * and every call below does nothing.
 */
struct notify;

/*
 * From the environment: NOTIFY_SOCKET (a path, or @name for an abstract
 * socket) and WATCHDOG_USEC (for this process, if WATCHDOG_PID says so);
 * with a watchdog, WATCHDOG=1 is sent from a timer at half its period.
 * Returns 0 (*np NULL when not under systemd), or -errno.
 */
int notify_new(struct notify **np, struct loop *loop);
void notify_free(struct notify *n);
/* One datagram of "KEY=VALUE\n" lines; failures are logged, not fatal. */
void notify_send(struct notify *n, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* RELOADING=1 with the monotonic time, as systemd wants it. */
void notify_reloading(struct notify *n);

#endif
