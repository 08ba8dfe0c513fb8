/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_RESOLVER_H
#define PEERWATCH_RESOLVER_H

#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct resolver;
struct resolver_query;

/* @err is 0 or -errno (-ENOENT: no such host, -EAGAIN: try later). */
typedef void (*resolver_fn)(void *arg, int err, const struct sockaddr *sa,
			    socklen_t salen);

int resolver_new(struct resolver **rp, struct loop *loop);
void resolver_free(struct resolver *r);
/*
 * Resolve @host without blocking the loop. @fn is always called later from
 * the loop, never from inside this call, unless the query is cancelled.
 */
int resolver_lookup(struct resolver *r, const char *host, uint16_t port,
		    resolver_fn fn, void *arg, struct resolver_query **qp);
/* The query's callback will not run; its memory goes with the answer. */
void resolver_cancel(struct resolver_query *q);

#endif
