// SPDX-License-Identifier: GPL-2.0
/*
 * A non-blocking TCP connection: connect with a deadline, socket options
 * set on the socket itself (never through a duplicate descriptor, which
 * could flip the shared file description to blocking), output queued in a
 * pool buffer only while the kernel cannot take it, input read into one
 * scratch buffer shared by all connections and handed to the owner at once.
 */
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "conn.h"
#include "container_of.h"
#include "loop.h"
#include "pool.h"

/* Bounded reads per wakeup so one busy engine cannot starve the others. */
#define CONN_READS_PER_EVENT 4

enum conn_state { CONN_CONNECTING, CONN_OPEN, CONN_CLOSED };

struct conn {
	struct loop *loop;
	struct pool *pool;
	const struct conn_ops *ops;
	const struct conn_cbs *cbs;
	void *arg;
	enum conn_state state;
	struct loop_io io;
	struct loop_timer connect_timer;
	struct loop_defer free_work;
	char *out;			/* pool buffer, only while output waits */
	size_t out_off, out_len;
	uint64_t cookie;
};

static char conn_rbuf[65536];
static size_t conn_open;

static ssize_t plain_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n = recv(c->io.fd, buf, len, 0);

	return n < 0 ? -errno : n;
}

static ssize_t plain_write(struct conn *c, const void *buf, size_t len)
{
	ssize_t n = send(c->io.fd, buf, len, MSG_NOSIGNAL);

	return n < 0 ? -errno : n;
}

const struct conn_ops conn_plain_ops = {
	.read = plain_read,
	.write = plain_write,
};

size_t conn_open_count(void)
{
	return conn_open;
}

uint64_t conn_cookie(const struct conn *c)
{
	return c->cookie;
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

static void conn_free_work(struct loop_defer *d)
{
	free(container_of(d, struct conn, free_work));
}

void conn_close(struct conn *c)
{
	if (!c || c->state == CONN_CLOSED)
		return;
	c->state = CONN_CLOSED;
	loop_io_del(c->loop, &c->io);
	loop_timer_stop(c->loop, &c->connect_timer);
	close(c->io.fd);
	conn_open--;
	pool_buf_put(c->pool, c->out);
	c->out = NULL;
	/* Events of this pass may still name it: free after the pass. */
	loop_defer(c->loop, &c->free_work, conn_free_work);
}

static void update_events(struct conn *c)
{
	uint32_t ev = EPOLLIN | EPOLLRDHUP;
	int err;

	if (c->out)
		ev |= EPOLLOUT;
	err = loop_io_mod(c->loop, &c->io, ev);
	if (err)
		c->cbs->error(c->arg, err);
}

/* Returns 0, or -errno after reporting it (the owner may have closed c). */
static int flush(struct conn *c)
{
	while (c->out_off < c->out_len) {
		ssize_t n = c->ops->write(c, c->out + c->out_off,
					  c->out_len - c->out_off);

		if (n == -EAGAIN)
			return 0;
		if (n < 0) {
			c->cbs->error(c->arg, (int)n);
			return (int)n;
		}
		c->out_off += n;
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
		c->out_len += len;
		return 0;
	}
	if (c->state == CONN_OPEN) {
		n = c->ops->write(c, buf, len);
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
	c->out_len = len - n;
	if (c->state == CONN_OPEN)
		return loop_io_mod(c->loop, &c->io,
				   EPOLLIN | EPOLLRDHUP | EPOLLOUT);
	return 0;
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
	loop_timer_stop(c->loop, &c->connect_timer);
	c->state = CONN_OPEN;
	len = sizeof(c->cookie);
	if (getsockopt(c->io.fd, SOL_SOCKET, SO_COOKIE, &c->cookie, &len))
		c->cookie = 0;
	if (c->out) {
		if (flush(c))
			return;
	} else {
		update_events(c);
	}
	if (c->state == CONN_OPEN)
		c->cbs->connected(c->arg);
}

static void do_read(struct conn *c)
{
	int i;

	for (i = 0; i < CONN_READS_PER_EVENT; i++) {
		ssize_t n = c->ops->read(c, conn_rbuf, sizeof(conn_rbuf));

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
		if (c->state != CONN_OPEN || (size_t)n < sizeof(conn_rbuf))
			return;
	}
}

static void conn_io(struct loop_io *io, uint32_t events)
{
	struct conn *c = container_of(io, struct conn, io);

	if (c->state == CONN_CONNECTING) {
		finish_connect(c);
		return;
	}
	if ((events & EPOLLOUT) && c->out && flush(c))
		return;
	if (c->state == CONN_OPEN &&
	    (events & (EPOLLIN | EPOLLERR | EPOLLHUP | EPOLLRDHUP)))
		do_read(c);
}

static void connect_expired(struct loop_timer *t)
{
	struct conn *c = container_of(t, struct conn, connect_timer);

	c->cbs->error(c->arg, -ETIMEDOUT);
}

int conn_new(struct conn **cp, struct loop *loop, struct pool *pool,
	     const struct sockaddr *sa, socklen_t salen,
	     const struct conn_opts *opts, const struct conn_ops *ops,
	     const struct conn_cbs *cbs, void *arg)
{
	struct conn *c;
	int fd = -1, err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->loop = loop;
	c->pool = pool;
	c->ops = ops;
	c->cbs = cbs;
	c->arg = arg;
	c->state = CONN_CONNECTING;
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
	err = loop_io_add(loop, &c->io, fd, EPOLLOUT, conn_io);
	if (err)
		goto err;
	conn_open++;
	*cp = c;
	return 0;

err:
	loop_timer_stop(loop, &c->connect_timer);
	if (fd >= 0)
		close(fd);
	free(c);
	return err;
}
