/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_API_H
#define PEERWATCH_API_H

#include <stdbool.h>
#include <sys/socket.h>

#include "hook.h"

struct api;
struct fleet;
struct kevents;
struct loop;

struct api_cfg {
	const char *socket;		/* UNIX socket path; NULL: none */
	const char *listen;		/* TCP "host:port"; NULL: none */
	bool listen_any;		/* allow a non-loopback --api-listen */
	bool no_docker;			/* no Docker Engine API façade */
	unsigned int max_clients;
	struct hook_cfg hook;		/* --on-transition* */
};

/*
 * Serves the control API for @fleet, whose transitions it follows from now
 * on, and the counters of @kev (NULL: none). Returns 0, or -errno with what failed in @why.
 */
int api_new(struct api **ap, struct loop *loop, struct fleet *fleet,
	    const struct kevents *kev, const struct api_cfg *cfg,
	    const char **why);
void api_free(struct api *a);
/*
 * The address of --api-listen: an IP literal or localhost, and a port; a
 * non-loopback one only with @any. 0, or -EINVAL with the reason in @why.
 */
int api_listen_addr(const char *s, bool any, struct sockaddr_storage *ss,
		    socklen_t *len, const char **why);

#endif
