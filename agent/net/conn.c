// SPDX-License-Identifier: GPL-2.0
/*
 * A non-blocking TCP connection: connect with a deadline, socket options
 * set on the socket itself (never through a duplicate descriptor, which
 * could flip the shared file description to blocking), output queued in a
 * pool buffer only while the kernel cannot take it, input read into one
 * scratch buffer shared by all connections and handed to the owner at once.
 * A transport (TLS) may sit under it: its handshake runs after connect()
 * within the same deadline, and its reads may wait for LOOP_WRITE and its
 * writes for LOOP_READ.
 *
 * Handshakes run a bounded number at a time (conn_set_handshake_max()):
 * each costs a millisecond of CPU or more, and thousands at once (an
 * agent's start, a network's return) made every pass of the loop long,
 * so that healthy engines' ping answers waited behind them past their
 * deadline and handshakes past theirs. A connected socket beyond the
 * bound waits its turn in order, unwatched, its deadline stopped; its
 * handshake then gets the whole deadline.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conn.h"
#include "container_of.h"
#include "loop.h"
#include "pool.h"

/* Bounded reads per wakeup so one busy engine cannot starve the others. */
#define CONN_READS_PER_EVENT 4

enum conn_state { CONN_CONNECTING, CONN_HANDSHAKE, CONN_OPEN, CONN_CLOSED };

struct conn {
	struct loop *loop;
	struct pool *pool;
	struct conn_transport *tr;
	const struct conn_cbs *cbs;
	void *arg;
	enum conn_state state;
	bool read_wants_out;		/* the transport's read waits for LOOP_WRITE */
	bool write_wants_in;		/* and its write for LOOP_READ */
	bool expired;			/* the connect deadline passed */
	bool read_paused;		/* conn_read_pause() */
	bool shaking;			/* holds a handshake place */
	struct loop_io io;
	/* Never both: the deadline is stopped when the free is deferred. */
	union {
		struct loop_timer connect_timer;
		struct loop_defer free_work;
	};
	char *out;			/* pool buffer, only while output waits */
	unsigned int out_off, out_len;	/* within it: POOL_BUF_SIZE at most */
	uint64_t cookie;
	uint64_t timeout_ms;		/* the connect deadline */
	struct conn *wprev, *wnext;	/* while waiting for a handshake */
};

static char conn_rbuf[65536];
static size_t conn_open;

/* Handshake places: one loop per process, as the rest of this file. */
static struct {
	unsigned int max;		/* 0: no bound */
	struct conn_handshake_stats st;
	struct conn *head, *tail;	/* waiting, oldest first */
	struct loop *loop;
	struct loop_defer admit;
} hs;

static uint32_t events_of(const struct conn *c)
{
	uint32_t ev = c->read_paused ? 0 : LOOP_READ | LOOP_HANGUP;

	if ((c->out && !c->write_wants_in) || c->read_wants_out)
		ev |= LOOP_WRITE;
	return ev;
}

/* A transport changed direction: epoll must follow, or it would spin or stall. */
static ssize_t follow(struct conn *c, ssize_t n, bool *flag, bool val)
{
	int err;

	if (*flag == val)
		return n;
	*flag = val;
	err = loop_io_mod(c->loop, &c->io, events_of(c));
	return err ? err : n;
}

static ssize_t tr_read(struct conn *c, void *buf, size_t len)
{
	uint32_t want = LOOP_READ;
	ssize_t n;

	if (c->tr) {
		n = c->tr->ops->read(c->tr, c->io.fd, buf, len, &want);
		return follow(c, n, &c->read_wants_out,
			      n == -EAGAIN && want == LOOP_WRITE);
	}
	n = recv(c->io.fd, buf, len, 0);
	return n < 0 ? -errno : n;
}

static ssize_t tr_write(struct conn *c, const void *buf, size_t len)
{
	uint32_t want = LOOP_WRITE;
	ssize_t n;

	if (c->tr) {
		n = c->tr->ops->write(c->tr, c->io.fd, buf, len, &want);
		return follow(c, n, &c->write_wants_in,
			      n == -EAGAIN && want == LOOP_READ);
	}
	n = send(c->io.fd, buf, len, MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

enum cause conn_error_cause(const struct conn *c, int err, char *msg,
			    size_t len)
{
	if (c->state == CONN_HANDSHAKE && c->expired && err == -ETIMEDOUT) {
		snprintf(msg, len, "TLS handshake not done by the connect deadline");
		return CAUSE_DEADLINE;
	}
	if (c->tr && err == -EPROTO)
		return c->tr->ops->why(c->tr, msg, len);
	return CAUSE_NONE;
}

size_t conn_open_count(void)
{
	return conn_open;
}

uint64_t conn_cookie(const struct conn *c)
{
	return c->cookie;
}

int conn_fd(const struct conn *c)
{
	return c->io.fd;
}

static int set_int(int fd, int level, int name, int val)
{
	return setsockopt(fd, level, name, &val, sizeof(val)) ? -errno : 0;
}

static int set_options(int fd, const struct conn_opts *o)
{
	int err;

	/* Before connect(): the user timeout bounds SYN_SENT as well. */
	err = set_int(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, (int)o->user_timeout_ms);
	if (!err)
		err = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1);
	if (!err)
		err = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, (int)o->keepidle_s);
	if (!err)
		err = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, (int)o->keepintvl_s);
	if (!err)
		err = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, (int)o->keepcnt);
	if (!err)
		err = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	return err;
}

static void hs_admit(struct loop_defer *d);

/* Connected, its handshake neither running nor over: it waits for a place. */
static bool hs_waiting(const struct conn *c)
{
	return c->state == CONN_HANDSHAKE && !c->shaking;
}

static void hs_take(struct conn *c)
{
	c->shaking = true;
	if (++hs.st.running > hs.st.peak)
		hs.st.peak = hs.st.running;
}

/* A place is free again: the oldest waiting takes it, after this pass. */
static void hs_release(struct conn *c)
{
	if (!c->shaking)
		return;
	c->shaking = false;
	hs.st.running--;
	if (hs.head) {
		hs.loop = c->loop;
		loop_defer(c->loop, &hs.admit, hs_admit);
	}
}

/* Connected, no place free: unwatched and its deadline stopped, it waits. */
static void hs_wait(struct conn *c)
{
	loop_timer_stop(c->loop, &c->connect_timer);
	loop_io_del(c->loop, &c->io);
	c->wprev = hs.tail;
	c->wnext = NULL;
	*(hs.tail ? &hs.tail->wnext : &hs.head) = c;
	hs.tail = c;
	hs.st.waiting++;
	hs.st.waited++;
}

static void hs_unlink(struct conn *c)
{
	if (!hs_waiting(c))
		return;
	*(c->wprev ? &c->wprev->wnext : &hs.head) = c->wnext;
	*(c->wnext ? &c->wnext->wprev : &hs.tail) = c->wprev;
	c->wprev = c->wnext = NULL;
	hs.st.waiting--;
}

void conn_set_handshake_max(unsigned int max)
{
	hs.max = max;
	if (hs.head && hs.loop)
		loop_defer(hs.loop, &hs.admit, hs_admit);
}

void conn_handshake_stats(struct conn_handshake_stats *st)
{
	*st = hs.st;
}

static void conn_free_work(struct loop_defer *d)
{
	free(container_of(d, struct conn, free_work));
}

void conn_close(struct conn *c)
{
	if (!c || c->state == CONN_CLOSED)
		return;
	loop_io_del(c->loop, &c->io);
	loop_timer_stop(c->loop, &c->connect_timer);
	hs_unlink(c);
	hs_release(c);
	/* The transport first: a TLS session may still refer to the socket. */
	if (c->tr)
		c->tr->ops->free(c->tr);
	c->tr = NULL;
	c->state = CONN_CLOSED;
	close(c->io.fd);
	conn_open--;
	pool_buf_put(c->pool, c->out);
	c->out = NULL;
	/*
	 * Events of this pass may still name it: free after the pass, with
	 * the room of the deadline, stopped above.
	 */
	c->free_work = (struct loop_defer){ .queued = false };
	loop_defer(c->loop, &c->free_work, conn_free_work);
}

static void update_events(struct conn *c)
{
	int err = loop_io_mod(c->loop, &c->io, events_of(c));

	if (err)
		c->cbs->error(c->arg, err);
}

/* Returns 0, or -errno after reporting it (the owner may have closed c). */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = tr_write(c, c->out + c->out_off,
				     c->out_len - c->out_off);

		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			c->cbs->error(c->arg, (int)n);
			return (int)n;
		}
		c->out_off += (unsigned int)n;
	}
	pool_buf_put(c->pool, c->out);
	c->out = NULL;
	update_events(c);
	return 0;
}

int conn_write(struct conn *c, const void *buf, size_t len)
{
	ssize_t n = 0;

	if (c->state == CONN_CLOSED)
		return -EPIPE;
	if (c->out) {
		if (c->out_len + len > POOL_BUF_SIZE)
			return -ENOBUFS;
		memcpy(c->out + c->out_len, buf, len);
		c->out_len += (unsigned int)len;
		return 0;
	}
	if (c->state == CONN_OPEN) {
		n = tr_write(c, buf, len);
		if (n == -EAGAIN)
			n = 0;
		if (n < 0)
			return (int)n;
		if ((size_t)n == len)
			return 0;
	}
	if (len - n > POOL_BUF_SIZE)
		return -ENOBUFS;
	c->out = pool_buf_get(c->pool);
	if (!c->out)
		return -ENOMEM;
	memcpy(c->out, (const char *)buf + n, len - n);
	c->out_off = 0;
	c->out_len = (unsigned int)(len - n);
	if (c->state == CONN_OPEN)
		return loop_io_mod(c->loop, &c->io, events_of(c));
	return 0;
}

/* Connected at last, with the transport's handshake done. */
static void set_open(struct conn *c)
{
	loop_timer_stop(c->loop, &c->connect_timer);
	hs_release(c);
	c->state = CONN_OPEN;
	if (c->out) {
		if (flush(c))
			return;
	} else {
		update_events(c);
	}
	if (c->state == CONN_OPEN)
		c->cbs->connected(c->arg);
}

static void handshake(struct conn *c)
{
	uint32_t want = LOOP_READ;
	int err;

	err = c->tr->ops->handshake(c->tr, c->io.fd, &want);
	if (!err) {
		set_open(c);
		return;
	}
	if (err == -EAGAIN)
		err = loop_io_mod(c->loop, &c->io, want | LOOP_HANGUP);
	if (err)
		c->cbs->error(c->arg, err);
}

static void finish_connect(struct conn *c)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (getsockopt(c->io.fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	if (soerr) {
		c->cbs->error(c->arg, -soerr);
		return;
	}
	len = sizeof(c->cookie);
	if (getsockopt(c->io.fd, SOL_SOCKET, SO_COOKIE, &c->cookie, &len))
		c->cookie = 0;
	if (c->tr) {
		c->state = CONN_HANDSHAKE;
		if (hs.max && hs.st.running >= hs.max) {
			hs_wait(c);
			return;
		}
		hs_take(c);
		handshake(c);
		return;
	}
	set_open(c);
}

static void do_read(struct conn *c)
{
	int i;

	for (i = 0; i < CONN_READS_PER_EVENT; i++) {
		ssize_t n = tr_read(c, conn_rbuf, sizeof(conn_rbuf));

		if (n == -EAGAIN)
			return;
		if (n == 0) {
			c->cbs->eof(c->arg);
			return;
		}
		if (n < 0) {
			c->cbs->error(c->arg, (int)n);
			return;
		}
		c->cbs->data(c->arg, conn_rbuf, (size_t)n);
		if (c->state != CONN_OPEN || c->read_paused ||
		    (size_t)n < sizeof(conn_rbuf))
			return;
	}
}

static void conn_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);

	uint32_t rd = LOOP_READ | LOOP_ERROR | LOOP_HANGUP;

	if (c->state == CONN_CONNECTING) {
		finish_connect(c);
		return;
	}
	if (c->state == CONN_HANDSHAKE) {
		handshake(c);
		return;
	}
	if (c->out && (events & (c->write_wants_in ? rd : LOOP_WRITE)) &&
	    flush(c))
		return;
	/* Paused, an error or hangup (always reported) is still read. */
	if (c->read_paused)
		rd = LOOP_ERROR;
	if (c->state == CONN_OPEN &&
	    (events & (c->read_wants_out ? LOOP_WRITE | rd : rd)))
		do_read(c);
}

/* The oldest waiting connections take the free places, in order. */
static void hs_admit(struct loop_defer *d)
{
	(void)d;
	while (hs.head && (!hs.max || hs.st.running < hs.max)) {
		struct conn *c = hs.head;
		int err;

		hs_unlink(c);
		hs_take(c);
		/* Its handshake gets the whole deadline: waiting was ours. */
		err = loop_timer_start(c->loop, &c->connect_timer,
				       c->timeout_ms);
		if (!err)
			err = loop_io_add(c->loop, &c->io, c->io.fd,
					  LOOP_READ | LOOP_HANGUP, conn_io);
		if (err)
			c->cbs->error(c->arg, err);
		else
			handshake(c);
	}
}

int conn_read_pause(struct conn *c, bool pause)
{
	if (c->read_paused == pause)
		return 0;
	c->read_paused = pause;
	/* Connecting, epoll follows the handshake; events_of() once open. */
	return c->state == CONN_OPEN ?
	       loop_io_mod(c->loop, &c->io, events_of(c)) : 0;
}

static void connect_expired(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, connect_timer);

	c->expired = true;
	c->cbs->error(c->arg, -ETIMEDOUT);
}

int conn_new(struct conn **cp, struct loop *loop, struct pool *pool,
	     const struct sockaddr *sa, socklen_t salen,
	     const struct conn_opts *opts, struct conn_transport *tr,
	     const struct conn_cbs *cbs, void *arg)
{
	struct conn *c;
	int fd = -1, err;

	c = calloc(1, sizeof(*c));
	if (!c) {
		if (tr)
			tr->ops->free(tr);
		return -ENOMEM;
	}
	c->loop = loop;
	c->pool = pool;
	c->tr = tr;
	c->cbs = cbs;
	c->arg = arg;
	c->state = CONN_CONNECTING;
	c->timeout_ms = opts->connect_timeout_ms;
	loop_timer_init(&c->connect_timer, connect_expired);
	fd = socket(sa->sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
		    IPPROTO_TCP);
	if (fd < 0) {
		err = -errno;
		goto err;
	}
	err = set_options(fd, opts);
	if (err)
		goto err;
	if (connect(fd, sa, salen) && errno != EINPROGRESS) {
		err = -errno;
		goto err;
	}
	err = loop_timer_start(loop, &c->connect_timer, opts->connect_timeout_ms);
	if (err)
		goto err;
	err = loop_io_add(loop, &c->io, fd, LOOP_WRITE, conn_io);
	if (err)
		goto err;
	conn_open++;
	*cp = c;
	return 0;

err:
	loop_timer_stop(loop, &c->connect_timer);
	if (tr)
		tr->ops->free(tr);
	if (fd >= 0)
		close(fd);
	free(c);
	return err;
}
