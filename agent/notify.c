// SPDX-License-Identifier: GPL-2.0
/*
 * sd_notify's datagram protocol, by hand: it is one sendto() of
 * newline-separated assignments to the AF_UNIX socket in NOTIFY_SOCKET
 * (sd_notify(3)); libsystemd would bring a dependency for that. A name
 * starting with '@' is in the abstract namespace. The agent says READY=1
 * once its engines are connecting, STATUS= with their counts,
 * RELOADING=1 around SIGHUP, STOPPING=1 at the end, and WATCHDOG=1 from
 * a loop timer, so that a stuck loop is what the watchdog catches.
 */
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "container_of.h"
#include "log.h"
#include "loop.h"
#include "notify.h"

struct notify {
	struct loop *loop;
	int fd;
	struct sockaddr_un sa;
	socklen_t salen;
	uint64_t watchdog_ms;		/* 0: no watchdog */
	struct loop_timer watchdog;
};

static void watchdog_fn(struct loop_timer *t)
{
	struct notify *n = container_of(t, struct notify, watchdog);

	notify_send(n, "WATCHDOG=1");
	loop_timer_start(n->loop, t, n->watchdog_ms / 2);
}

/* WATCHDOG_USEC, if WATCHDOG_PID is absent or ours; 0: none. */
static uint64_t watchdog_ms(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	unsigned long long v;
	char *end;

	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtoll(pid, NULL, 10) != getpid())
		return 0;
	errno = 0;
	v = strtoull(usec, &end, 10);
	if (errno || *end || v < 2000)
		return 0;
	return v / 1000;
}

int notify_new(struct notify **np, struct loop *loop)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct notify *n;
	size_t len;

	*np = NULL;
	if (!path || !*path)
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(n->sa.sun_path))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->loop = loop;
	n->sa.sun_family = AF_UNIX;
	memcpy(n->sa.sun_path, path, len);
	if (path[0] == '@')
		n->sa.sun_path[0] = '\0';
	n->salen = offsetof(struct sockaddr_un, sun_path) + len;
	loop_timer_init(&n->watchdog, watchdog_fn);
	n->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (n->fd < 0) {
		free(n);
		return -errno;
	}
	n->watchdog_ms = watchdog_ms();
	if (n->watchdog_ms)
		watchdog_fn(&n->watchdog);
	*np = n;
	return 0;
}

void notify_free(struct notify *n)
{
	if (!n)
		return;
	loop_timer_stop(n->loop, &n->watchdog);
	close(n->fd);
	free(n);
}

void notify_send(struct notify *n, const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	int len;

	if (!n)
		return;
	va_start(ap, fmt);
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (len < 0 || (size_t)len >= sizeof(msg))
		return;
	if (sendto(n->fd, msg, len, MSG_NOSIGNAL,
		   (const struct sockaddr *)&n->sa, n->salen) < 0)
		log_warn("systemd notification: %s", strerror(errno));
}

void notify_reloading(struct notify *n)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	notify_send(n, "RELOADING=1\nMONOTONIC_USEC=%llu",
		    (unsigned long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}
