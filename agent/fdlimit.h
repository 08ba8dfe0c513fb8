/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_FDLIMIT_H
#define PEERWATCH_FDLIMIT_H

#include <stdbool.h>
#include <stddef.h>

/*
 * Descriptors the agent keeps for itself beyond those open when the
 * engines are counted (fdlimit_engines()): the state file and a margin
 * for the control API, so that an operator can always look.
 */
#define FDLIMIT_RESERVE		16
#define FDLIMIT_RESOLVER	8	/* c-ares' sockets, a few servers */
#define FDLIMIT_CLUSTER		8	/* etcd: two lanes and the watches */

/* What the agent needs, besides what is open now. */
struct fdlimit_needs {
	unsigned int api_clients;	/* each may hold a forwarded inspect */
	bool cluster;
	bool events;			/* two connections an engine, or one */
};

/* Raise the soft RLIMIT_NOFILE to the hard one. */
void fdlimit_raise(void);
/*
 * How many engines can have their connections, now that everything else
 * is set up; @limit gets the limit in words for the log and the engines.
 */
size_t fdlimit_engines(const struct fdlimit_needs *needs, char *limit,
		       size_t len);

#endif
