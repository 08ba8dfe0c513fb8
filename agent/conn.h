/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CONN_H
#define PEERWATCH_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct loop;
struct pool;
struct conn;

struct conn_opts {
	uint32_t user_timeout_ms;	/* TCP_USER_TIMEOUT */
	uint32_t keepidle_s, keepintvl_s, keepcnt;
	uint64_t connect_timeout_ms;
};

/*
 * Events for the owner. After error() or eof() the connection is dead and
 * the owner must conn_close() it; nothing else is reported. A connect
 * deadline is reported as -ETIMEDOUT before connected().
 */
struct conn_cbs {
	void (*connected)(void *arg);
	void (*data)(void *arg, const char *buf, size_t len);
	void (*eof)(void *arg);
	void (*error)(void *arg, int err);
};

/* The transport: plain TCP here, TLS later; 0 on EOF, -EAGAIN or -errno. */
struct conn_ops {
	ssize_t (*read)(struct conn *c, void *buf, size_t len);
	ssize_t (*write)(struct conn *c, const void *buf, size_t len);
};

extern const struct conn_ops conn_plain_ops;

int conn_new(struct conn **cp, struct loop *loop, struct pool *pool,
	     const struct sockaddr *sa, socklen_t salen,
	     const struct conn_opts *opts, const struct conn_ops *ops,
	     const struct conn_cbs *cbs, void *arg);
/* Queue @len bytes; they are sent once connected. */
int conn_write(struct conn *c, const void *buf, size_t len);
/* The only way a connection ends: unwatched, timers stopped, freed after the current dispatch pass. */
void conn_close(struct conn *c);

/* SO_COOKIE, read once connected (0 before). */
uint64_t conn_cookie(const struct conn *c);
/* Connections currently open in this process. */
size_t conn_open_count(void);

#endif
