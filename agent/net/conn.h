/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CONN_H
#define PEERWATCH_CONN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "cause.h"

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

/*
 * A transport under the connection, e.g. TLS (tls.c). Each call returns
 * what recv()/send() would (bytes, 0 at end of stream, -errno), or -EAGAIN
 * with *@want set to the loop event it waits for, which may be LOOP_WRITE
 * for a read or LOOP_READ for a write. handshake() runs once TCP is
 * connected, until it returns 0; why() explains the last -EPROTO.
 */
struct conn_transport;

struct conn_transport_ops {
	int (*handshake)(struct conn_transport *t, int fd, uint32_t *want);
	ssize_t (*read)(struct conn_transport *t, int fd, void *buf,
			size_t len, uint32_t *want);
	ssize_t (*write)(struct conn_transport *t, int fd, const void *buf,
			 size_t len, uint32_t *want);
	enum cause (*why)(const struct conn_transport *t, char *msg,
			  size_t len);
	void (*free)(struct conn_transport *t);
};

struct conn_transport {
	const struct conn_transport_ops *ops;
};

/* @tr: NULL for plain TCP; the connection owns it, even on failure. */
int conn_new(struct conn **cp, struct loop *loop, struct pool *pool,
	     const struct sockaddr *sa, socklen_t salen,
	     const struct conn_opts *opts, struct conn_transport *tr,
	     const struct conn_cbs *cbs, void *arg);
/* Queue @len bytes; they are sent once connected. */
int conn_write(struct conn *c, const void *buf, size_t len);
/*
 * Stop reading (@pause) or read again: what comes meanwhile waits in the
 * kernel, and the peer is held back by TCP. An error or hangup is still
 * read. A TLS record already decrypted waits for the next readiness.
 */
int conn_read_pause(struct conn *c, bool pause);
/* The only way a connection ends: unwatched, timers stopped, freed after the current dispatch pass. */
void conn_close(struct conn *c);

/*
 * Why the connection failed with @err, when it knows better than the
 * errno (a TLS verdict, a handshake past its deadline): the cause and a
 * message; CAUSE_NONE otherwise.
 */
enum cause conn_error_cause(const struct conn *c, int err, char *msg,
			    size_t len);
/* SO_COOKIE, read once connected (0 before). */
uint64_t conn_cookie(const struct conn *c);
/* The socket, for a look at its state (SO_ERROR, TCP_INFO) only. */
int conn_fd(const struct conn *c);
/* Connections currently open in this process. */
size_t conn_open_count(void);

struct conn_handshake_stats {
	uint64_t waited;		/* connections that waited for a place */
	unsigned int running, waiting;	/* now */
	unsigned int peak;		/* most running at once so far */
};

/*
 * At most @max transport handshakes at once (0: no bound); a connected
 * socket beyond waits for a place, its connect deadline stopped.
 */
void conn_set_handshake_max(unsigned int max);
void conn_handshake_stats(struct conn_handshake_stats *st);

#endif
