// SPDX-License-Identifier: GPL-2.0
/*
 * Host names through c-ares inside the event loop: its sockets are watched
 * by the loop, its timeouts are one loop timer. No thread, no getaddrinfo().
 *
 * A lookup ends within the resolver's deadline whatever the nameservers
 * do: c-ares alone retries a silent one for tens of seconds (4 tries with
 * a growing timeout, per server), leaving the engine pending with no word.
 * Each query has its own loop timer; when it fires the owner is told
 * -ETIMEDOUT, and c-ares's answer, whenever it comes, only frees the query.
 * c-ares is also told to give up at about the same time.
 */
#include <ares.h>
#include <errno.h>
#include <netdb.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "container_of.h"
#include "loop.h"
#include "resolver.h"

struct res_sock {
	struct loop_io io;
	struct loop_defer free_work;
	struct resolver *r;
	struct res_sock *next;
};

struct resolver {
	struct loop *loop;
	ares_channel channel;
	struct loop_timer timer;
	struct res_sock *socks;
	uint64_t deadline_ms;
};

struct resolver_query {
	struct resolver *r;
	resolver_fn fn;
	void *arg;
	uint16_t port;
	bool cancelled;
	bool answered;			/* by c-ares */
	bool reported;			/* the deadline told the owner */
	int err;
	struct loop_timer deadline;
	struct sockaddr_storage sa;
	socklen_t salen;
	struct loop_defer done;
};

static void rearm(struct resolver *r)
{
	struct timeval tv, *tvp;

	tvp = ares_timeout(r->channel, NULL, &tv);
	if (!tvp) {
		loop_timer_stop(r->loop, &r->timer);
		return;
	}
	loop_timer_start(r->loop, &r->timer,
			 (uint64_t)tvp->tv_sec * 1000 + tvp->tv_usec / 1000 + 1);
}

static void timer_fn(struct loop_timer *t)
{
	struct resolver *r = container_of(t, struct resolver, timer);

	ares_process_fd(r->channel, ARES_SOCKET_BAD, ARES_SOCKET_BAD);
	rearm(r);
}

static void sock_io(struct loop_io *io, uint32_t events)
{
	struct res_sock *s = container_of(io, struct res_sock, io);
	struct resolver *r = s->r;
	int fd = io->fd;

	ares_process_fd(r->channel,
			events & (LOOP_READ | LOOP_ERROR) ? fd : ARES_SOCKET_BAD,
			events & LOOP_WRITE ? fd : ARES_SOCKET_BAD);
	rearm(r);
}

static void sock_free(struct loop_defer *d)
{
	free(container_of(d, struct res_sock, free_work));
}

static void sock_state(void *data, ares_socket_t fd, int readable,
		       int writable)
{
	struct resolver *r = data;
	struct res_sock **pp, *s;
	uint32_t ev = (readable ? LOOP_READ : 0) | (writable ? LOOP_WRITE : 0);

	for (pp = &r->socks; *pp; pp = &(*pp)->next)
		if ((*pp)->io.fd == fd)
			break;
	s = *pp;
	if (!ev) {
		if (!s)
			return;
		*pp = s->next;
		loop_io_del(r->loop, &s->io);
		loop_defer(r->loop, &s->free_work, sock_free);
		return;
	}
	if (s) {
		loop_io_mod(r->loop, &s->io, ev);
		return;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return;
	s->r = r;
	if (loop_io_add(r->loop, &s->io, fd, ev, sock_io)) {
		free(s);
		return;
	}
	s->next = r->socks;
	r->socks = s;
}

int resolver_new(struct resolver **rp, struct loop *loop, uint64_t deadline_ms)
{
	struct ares_options opts = { 0 };
	struct resolver *r;
	int status;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->loop = loop;
	r->deadline_ms = deadline_ms;
	loop_timer_init(&r->timer, timer_fn);
	opts.sock_state_cb = sock_state;
	opts.sock_state_cb_data = r;
	/* Two tries per server, each half the deadline. */
	opts.timeout = deadline_ms / 2 > 0 ? (int)(deadline_ms / 2) : 1;
	opts.tries = 2;
	status = ares_init_options(&r->channel, &opts, ARES_OPT_SOCK_STATE_CB |
				   ARES_OPT_TIMEOUTMS | ARES_OPT_TRIES);
	if (status != ARES_SUCCESS) {
		free(r);
		return status == ARES_ENOMEM ? -ENOMEM : -EIO;
	}
	*rp = r;
	return 0;
}

void resolver_free(struct resolver *r)
{
	if (!r)
		return;
	/* Runs the callbacks of pending queries, which free them. */
	ares_destroy(r->channel);
	loop_timer_stop(r->loop, &r->timer);
	while (r->socks) {
		struct res_sock *s = r->socks;

		r->socks = s->next;
		loop_io_del(r->loop, &s->io);
		free(s);
	}
	free(r);
}

static void query_done(struct loop_defer *d)
{
	struct resolver_query *q = container_of(d, struct resolver_query, done);

	if (!q->cancelled && !q->reported)
		q->fn(q->arg, q->err, (struct sockaddr *)&q->sa, q->salen);
	free(q);
}

/* No answer in time: say so now; c-ares's answer will only free it. */
static void deadline_fn(struct loop_timer *t)
{
	struct resolver_query *q = container_of(t, struct resolver_query,
						deadline);

	q->reported = true;
	if (!q->cancelled)
		q->fn(q->arg, -ETIMEDOUT, NULL, 0);
}

static void answer(void *arg, int status, int timeouts,
		   struct ares_addrinfo *res)
{
	struct resolver_query *q = arg;
	struct ares_addrinfo_node *n = res ? res->nodes : NULL;

	(void)timeouts;
	if (status == ARES_SUCCESS && n && n->ai_addrlen <= sizeof(q->sa)) {
		memcpy(&q->sa, n->ai_addr, n->ai_addrlen);
		q->salen = n->ai_addrlen;
		if (q->sa.ss_family == AF_INET)
			((struct sockaddr_in *)&q->sa)->sin_port = htons(q->port);
		else
			((struct sockaddr_in6 *)&q->sa)->sin6_port = htons(q->port);
	} else if (status == ARES_ENOTFOUND || status == ARES_ENODATA ||
		   status == ARES_SUCCESS) {
		q->err = -ENOENT;
	} else {
		q->err = -EAGAIN;
	}
	ares_freeaddrinfo(res);
	q->answered = true;
	loop_timer_stop(q->r->loop, &q->deadline);
	if (status == ARES_EDESTRUCTION) {
		free(q);
		return;
	}
	/* Answers may come from inside ares_getaddrinfo(): report them later. */
	loop_defer(q->r->loop, &q->done, query_done);
}

int resolver_lookup(struct resolver *r, const char *host, uint16_t port,
		    resolver_fn fn, void *arg, struct resolver_query **qp)
{
	struct ares_addrinfo_hints hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
	};
	struct resolver_query *q;

	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->r = r;
	q->fn = fn;
	q->arg = arg;
	q->port = port;
	loop_timer_init(&q->deadline, deadline_fn);
	*qp = q;
	ares_getaddrinfo(r->channel, host, NULL, &hints, answer, q);
	/* Unless it was answered from inside ares_getaddrinfo(). */
	if (!q->answered && r->deadline_ms)
		loop_timer_start(r->loop, &q->deadline, r->deadline_ms);
	rearm(r);
	return 0;
}

const char *resolver_strerror(int err)
{
	switch (err) {
	case -ENOENT:
		return "no such host";
	case -ETIMEDOUT:
		return "the resolver did not answer in time";
	default:
		return "lookup failed";
	}
}

void resolver_cancel(struct resolver_query *q)
{
	if (q)
		q->cancelled = true;
}
