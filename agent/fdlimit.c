// SPDX-License-Identifier: GPL-2.0
/*
 * The descriptor budget. Each engine wants two descriptors (polling and
 * /events; a polling connection closed between polls by --tls-close-idle
 * is counted too: it comes back at the next poll); running out of them
 * mid-way leaves engines half-watched and
 * the control API unable to accept, blind exactly when it matters. So the
 * budget is made once, at start: the hard limit, minus what is open after
 * setup (listeners, the loop, signals, netlink), minus what the agent
 * opens later for itself (API clients and the inspect each may forward,
 * the resolver's sockets, etcd's, the state file), minus a reserve. The
 * engines beyond it are never connected (fleet_set_capacity()).
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/resource.h>

#include "fdlimit.h"

void fdlimit_raise(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	/* Refused, the budget is made from the soft limit as it is. */
	setrlimit(RLIMIT_NOFILE, &rl);
}

/* Descriptors open now, the directory's own not counted. */
static size_t open_now(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	size_t n = 0;

	if (!d)
		return 64;	/* no /proc: a generous guess */
	while ((de = readdir(d)))
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n ? n - 1 : 0;
}

size_t fdlimit_engines(const struct fdlimit_needs *needs, char *limit,
		       size_t len)
{
	struct rlimit rl;
	size_t own, max, per = needs->events ? 2 : 1;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY) {
		snprintf(limit, len, "no RLIMIT_NOFILE");
		return SIZE_MAX;
	}
	max = rl.rlim_cur;
	own = open_now() + 2 * (size_t)needs->api_clients + FDLIMIT_RESOLVER +
	      (needs->cluster ? FDLIMIT_CLUSTER : 0) + FDLIMIT_RESERVE;
	snprintf(limit, len, "RLIMIT_NOFILE %zu, %zu kept for the agent", max,
		 own < max ? own : max);
	return own < max ? (max - own) / per : 0;
}
