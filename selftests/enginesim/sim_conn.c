// SPDX-License-Identifier: GPL-2.0
/*
 * The listening socket and the accepted connections: reading, writing,
 * pacing for the slow fault, and the one close path. Sockets are
 * edge-triggered; a connection that stops reading before EAGAIN (its input
 * bound reached) remembers to read again once it has consumed input.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sim_conn.h"
#include "sim_fleet.h"
#include "sim_tls.h"
#include "transport.h"

#define IN_MAX		16384
#define ACCEPT_BATCH	128
#define ACCEPT_RETRY_MS	100
/* A client that lets this much pile up on an /events stream is dropped. */
#define STREAM_OUT_MAX	(256 * 1024)
/*
 * After a last response the write side is shut and input discarded for a
 * while before the close, as Go's server does: closing with unread input
 * would send RST and could destroy the response on its way.
 */
#define LINGER_MS	500
#define GO_KEEPALIVE_S	15	/* net.ListenConfig's default KeepAlive */

struct listener {
	struct loop_io io;
	struct sim *sim;
	struct loop_timer retry;
};

static char filler_bytes[16384];

static ssize_t plain_recv(void *ctx, int fd, void *p, size_t n)
{
	ssize_t r = recv(fd, p, n, 0);

	(void)ctx;

	return r < 0 ? -errno : r;
}

static ssize_t plain_send(void *ctx, int fd, const void *p, size_t n)
{
	ssize_t r = send(fd, p, n, MSG_NOSIGNAL);

	(void)ctx;

	return r < 0 ? -errno : r;
}

static int plain_shutdown(void *ctx, int fd)
{
	(void)ctx;
	return shutdown(fd, SHUT_WR) ? -errno : 0;
}

static void plain_release(void *ctx)
{
	(void)ctx;
}

const struct transport transport_plain = {
	.recv = plain_recv,
	.send = plain_send,
	.shutdown = plain_shutdown,
	.release = plain_release,
};

static void conn_free_deferred(struct loop_defer *d)
{
	free(container_of(d, struct conn, dfr));
}

void conn_close(struct conn *c)
{
	struct sim *s = c->sim;

	if (c->io.fd < 0)
		return;
	loop_io_del(s->loop, &c->io);
	c->tr->release(c->tr_ctx);
	close(c->io.fd);
	c->io.fd = -1;
	if (c->streaming)
		s->conn_ops->unsubscribe(c);
	list_del(&c->engine_node);
	loop_timer_stop(s->loop, &c->pace);
	loop_timer_stop(s->loop, &c->linger);
	strbuf_release(&c->in);
	strbuf_release(&c->out);
	s->stats.conns_open--;
	loop_defer(s->loop, &c->dfr, conn_free_deferred);
}

/* Close with SO_LINGER 0: the kernel sends RST instead of FIN. */
static void fd_abort(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
}

void conn_abort(struct conn *c)
{
	if (c->io.fd < 0)
		return;
	fd_abort(c->io.fd);
	conn_close(c);
}

/*
 * Ends a connection without an answer: FIN at once, then the usual drain,
 * so the client sees an orderly close and never an RST.
 */
void conn_refuse(struct conn *c)
{
	strbuf_release(&c->out);
	c->filler = 0;
	c->tail_len = 0;
	c->close_after_write = 1;
	conn_progress(c);
}

static int conn_fill(struct conn *c)
{
	char tmp[IN_MAX];

	while (c->rd_more && !c->rd_eof) {
		size_t room = IN_MAX - strbuf_pending(&c->in);
		ssize_t n;
		int err;

		if (!room)
			return 0;
		n = c->tr->recv(c->tr_ctx, c->io.fd, tmp, room);
		if (n == -EAGAIN || n == -EINTR) {
			if (n == -EAGAIN)
				c->rd_more = 0;
			continue;
		}
		if (n < 0)
			return n;
		if (!n) {
			c->rd_eof = 1;
			break;
		}
		err = strbuf_add(&c->in, tmp, n);
		if (err)
			return err;
	}
	return 0;
}

static void conn_linger_done(struct loop_timer *t)
{
	conn_close(container_of(t, struct conn, linger));
}

static void conn_pace(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, pace);
	uint64_t bps = c->engine->fault_arg;

	c->pace_budget = bps / 20 ? bps / 20 : 1;
	conn_progress(c);
}

/* Sends out, then the filler, then the tail, as far as the socket takes. */
static int conn_flush(struct conn *c)
{
	struct engine *e = c->engine;

	for (;;) {
		const void *p;
		size_t n;
		ssize_t w;

		if (strbuf_pending(&c->out)) {
			p = c->out.p + c->out.off;
			n = strbuf_pending(&c->out);
		} else if (c->filler) {
			p = filler_bytes;
			n = c->filler < sizeof(filler_bytes) ?
				c->filler : sizeof(filler_bytes);
		} else if (c->tail_len) {
			p = c->tail;
			n = c->tail_len;
		} else {
			return 0;
		}
		if (e->fault == FAULT_SLOW) {
			if (!c->pace_budget) {
				uint64_t bps = e->fault_arg;
				uint64_t chunk = bps / 20 ? bps / 20 : 1;
				uint64_t ms = chunk * 1000 / bps;

				if (!loop_timer_active(&c->pace))
					return loop_timer_start(c->sim->loop, &c->pace,
								ms ? ms : 1);
				return 0;
			}
			if (n > c->pace_budget)
				n = c->pace_budget;
		}
		w = c->tr->send(c->tr_ctx, c->io.fd, p, n);
		if (w == -EAGAIN)
			return 0;
		if (w == -EINTR)
			continue;
		if (w < 0)
			return w;
		if (e->fault == FAULT_SLOW)
			c->pace_budget -= w;
		if (strbuf_pending(&c->out)) {
			strbuf_drain(&c->out, w);
		} else if (c->filler) {
			c->filler -= w;
		} else {
			c->tail_len -= w;
			memmove(c->tail, c->tail + w, c->tail_len);
		}
	}
}

void conn_progress(struct conn *c)
{
	struct engine *e = c->engine;
	int err;

	while (c->io.fd >= 0) {
		/* A frozen engine reads what fits and answers nothing. */
		if (e->fault == FAULT_FREEZE) {
			err = conn_fill(c);
			if (err || c->rd_eof)
				goto fail;
			return;
		}
		if (conn_out_pending(c)) {
			err = conn_flush(c);
			if (err)
				goto fail;
			if (c->streaming && conn_out_pending(c) > STREAM_OUT_MAX)
				goto fail;
			if (conn_out_pending(c) && !c->streaming)
				return;
		}
		if (c->close_after_write && !conn_out_pending(c) &&
		    !c->draining) {
			c->draining = 1;
			if (c->tr->shutdown(c->tr_ctx, c->io.fd) ||
			    loop_timer_start(c->sim->loop, &c->linger, LINGER_MS))
				goto fail;
		}
		err = conn_fill(c);
		if (err)
			goto fail;
		if (c->streaming || c->draining) {
			/* Nothing more is expected from this client. */
			strbuf_release(&c->in);
			if (c->rd_eof)
				goto fail;
			if (c->rd_more)
				continue;
			return;
		}
		if (!strbuf_pending(&c->in)) {
			if (c->rd_eof)
				goto fail;
			if (!c->rd_more)
				return;
			continue;
		}
		err = c->sim->conn_ops->input(c);
		if (err)
			goto fail;
	}
	return;
fail:
	conn_close(c);
}

static void conn_on_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);

	if (events & (LOOP_READ | LOOP_HANGUP | LOOP_ERROR))
		c->rd_more = 1;
	conn_progress(c);
}

static int conn_new(struct sim *s, struct engine *e, int fd,
		    struct conn **out)
{
	int one = 1, ka = GO_KEEPALIVE_S;
	struct conn *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->io.fd = fd;
	c->sim = s;
	c->engine = e;
	c->tr = &transport_plain;
	if (s->tls) {
		err = tls_conn_init(s->tls, fd, &c->tr, &c->tr_ctx);
		if (err) {
			free(c);
			return err;
		}
	}
	loop_timer_init(&c->pace, conn_pace);
	loop_timer_init(&c->linger, conn_linger_done);
	list_init(&c->stream_node);
	s->conn_ops->opened(c);
	/*
	 * dockerd (Go) sets TCP_NODELAY and a 15 s keepalive on every accepted
	 * socket; the keepalive also ends connections whose client vanished
	 * without a word (its socket gone while a blackhole dropped the FIN).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &ka, sizeof(ka));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &ka, sizeof(ka));
	err = loop_io_add(s->loop, &c->io, fd,
			  LOOP_READ | LOOP_WRITE | LOOP_HANGUP | LOOP_EDGE,
			  conn_on_io);
	if (err) {
		c->tr->release(c->tr_ctx);
		free(c);
		return err;
	}
	list_add_tail(&c->engine_node, &e->conns);
	s->stats.conns_open++;
	*out = c;
	return 0;
}

static void listener_accept_one(struct listener *l, int fd)
{
	struct sim *s = l->sim;
	struct sockaddr_in sa;
	socklen_t len = sizeof(sa);
	struct engine *e = NULL;
	struct conn *c;

	if (!getsockname(fd, (struct sockaddr *)&sa, &len) &&
	    sa.sin_family == AF_INET)
		e = fleet_lookup(s->fleet, ntohl(sa.sin_addr.s_addr));
	if (!e || e->fault == FAULT_RESET) {
		if (e)
			fd_abort(fd);
		s->stats.rejected++;
		close(fd);
		return;
	}
	if (conn_new(s, e, fd, &c)) {
		s->stats.rejected++;
		close(fd);
		return;
	}
	if (e->fault == FAULT_REFUSE) {
		s->stats.rejected++;
		conn_refuse(c);
		return;
	}
	s->stats.accepted++;
}

static void listener_on_io(struct loop_io *io, uint32_t events)
{
	struct listener *l = container_of(io, struct listener, io);
	int i;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH; i++) {
		int fd = accept4(io->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			listener_accept_one(l, fd);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			/* Level-triggered: pause, or the loop would spin. */
			sim_log(l->sim, "accept: %s, pausing %d ms",
				strerror(errno), ACCEPT_RETRY_MS);
			loop_io_mod(l->sim->loop, io, 0);
			loop_timer_start(l->sim->loop, &l->retry,
					 ACCEPT_RETRY_MS);
		}
		return;
	}
}

static void listener_resume(struct loop_timer *t)
{
	struct listener *l = container_of(t, struct listener, retry);

	loop_io_mod(l->sim->loop, &l->io, LOOP_READ);
}

int listener_new(struct sim *s, struct listener **out)
{
	struct sockaddr_in sa = {
		.sin_family = AF_INET,
		.sin_port = htons(s->opts.port),
		.sin_addr.s_addr = htonl(INADDR_ANY),
	};
	struct listener *l;
	int one = 1;
	int err;

	memset(filler_bytes, 'a', sizeof(filler_bytes));
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->sim = s;
	loop_timer_init(&l->retry, listener_resume);
	l->io.fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (l->io.fd < 0) {
		err = -errno;
		goto err_free;
	}
	setsockopt(l->io.fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->opts.reuseport &&
	    setsockopt(l->io.fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one))) {
		err = -errno;
		goto err_close;
	}
	if (bind(l->io.fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    listen(l->io.fd, SOMAXCONN)) {
		err = -errno;
		goto err_close;
	}
	err = loop_io_add(s->loop, &l->io, l->io.fd, LOOP_READ, listener_on_io);
	if (err)
		goto err_close;
	*out = l;
	return 0;

err_close:
	close(l->io.fd);
err_free:
	free(l);
	return err;
}

/* Closes the listener and every connection still open. */
void listener_free(struct listener *l)
{
	struct sim *s;
	unsigned int i;

	if (!l)
		return;
	s = l->sim;
	for (i = 0; s->fleet && i < s->fleet->count; i++) {
		struct engine *e = &s->fleet->engines[i];
		struct list_head *pos, *tmp;

		list_for_each_safe(pos, tmp, &e->conns)
			conn_close(container_of(pos, struct conn, engine_node));
	}
	loop_timer_stop(s->loop, &l->retry);
	loop_io_del(s->loop, &l->io);
	close(l->io.fd);
	free(l);
}
