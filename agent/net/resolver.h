/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_RESOLVER_H
#define PEERWATCH_RESOLVER_H

#include <stdint.h>
#include <sys/socket.h>

struct loop;
struct resolver;
struct resolver_query;

/*
 * @err is 0 or -errno: -ENOENT no such host, -ETIMEDOUT no answer within
 * the resolver's deadline, -EAGAIN try later.
 */
typedef void (*resolver_fn)(void *arg, int err, const struct sockaddr *sa,
			    socklen_t salen);

/* Every lookup is answered within @deadline_ms (0: c-ares's own). */
int resolver_new(struct resolver **rp, struct loop *loop, uint64_t deadline_ms);
void resolver_free(struct resolver *r);
/*
 * Resolve @host without blocking the loop. @fn is always called later from
 * the loop, never from inside this call, unless the query is cancelled.
 */
int resolver_lookup(struct resolver *r, const char *host, uint16_t port,
		    resolver_fn fn, void *arg, struct resolver_query **qp);
/* The query's callback will not run; its memory goes with the answer. */
void resolver_cancel(struct resolver_query *q);
/* What an @err of the callback means, for a message. */
const char *resolver_strerror(int err);

#endif
