/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CHANNEL_H
#define PEERWATCH_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "cause.h"
#include "conn.h"
#include "cookie_map.h"
#include "http.h"
#include "jsonl.h"
#include "loop.h"

/*
 * An HTTP/1.1 channel over one connection (conn.h) at a time: a GET or a
 * POST with an optional JSON body, one request at a time, its answer read
 * whole (the body as one JSON value) or as a stream of JSON values, each
 * request with its deadline. It watches its peer with pings (a GET of the
 * owner's ping path): one pipelined behind a late answer, so that a lost
 * answer still leaves data of ours for the kernel to retransmit, and one
 * on a connection idle for long. It knows nothing of what it asks; it
 * calls up only through channel_ops, as conn.h does for TCP and TLS.
 */

#define CHANNEL_PATH_MAX	256
/* One value of a stream; dockerd's /events lines are well under 1 KiB. */
#define CHANNEL_MAX_STREAM_VALUE (1024 * 1024)

struct pool;
struct tls_peer;

struct channel_cfg {
	uint64_t request_timeout_ms;	/* and the connect deadline */
	uint64_t late_ping_ms;		/* ping behind a late answer; 0: never */
	uint64_t ping_interval_ms;	/* an idle connection's; 0: never */
	uint64_t ping_timeout_ms;	/* every ping's, if < request_timeout */
	uint64_t max_body;		/* an answer's */
	const char *ping_path;		/* "are you there?", GET, 200 if so */
	/* An error status's JSON body is the answer's too (etcd's reason). */
	bool error_bodies;
	struct conn_opts conn;
};

/* What the channels of one owner share; the owner's. */
struct channel_env {
	struct loop *loop;
	struct pool *pool;
	struct channel_cfg cfg;
	struct cookie_map conns;	/* connected channels by cookie */
	/*
	 * Called before a connection's error is taken as its cause: news of
	 * it already queued elsewhere (the kernel's events) may close the
	 * channel first, with a better cause. NULL: none.
	 */
	void (*catch_up)(void *arg);
	void *catch_up_arg;
};

/* A byte each, these enums: thousands of channels hold them. */
enum __attribute__((packed)) channel_mode {
	CHANNEL_ANSWER,			/* one answer; the body one JSON value */
	CHANNEL_PING,			/* one answer, its body not read */
	CHANNEL_STREAM,			/* a body of JSON values, each an event */
	CHANNEL_RAW,			/* one answer; its body to ops->body */
};

struct channel_req {
	const char *method;		/* "GET" or "POST": a constant */
	const char *path;
	/*
	 * JSON, or NULL. Meant small: what the socket cannot take at once
	 * waits in one pool buffer (POOL_BUF_SIZE), or the request fails.
	 */
	const char *body;
	size_t body_len;
	enum channel_mode mode;
};

struct channel_answer {
	const char *method;
	char path[CHANNEL_PATH_MAX];	/* of the request answered */
	unsigned int status;
	char api_version[HTTP_API_VERSION_MAX];	/* the header; "" without */
	uint64_t etcd_index;		/* X-Etcd-Index; 0 without */
	bool ping;			/* a ping's, asked or the channel's own */
	/* The owner's; NULL: none (and for an error status, unless asked). */
	struct json_object *body;
};

/* How a connection ended that was no failure. */
enum channel_end {
	CHANNEL_END_IDLE,		/* the peer closed it while idle */
	CHANNEL_END_ANSWERED,		/* after an answer, before the ping's */
	/*
	 * Reused, it closed before any byte of the answer: the peer ended
	 * it just then, and the request may go again on a new connection.
	 */
	CHANNEL_END_UNANSWERED,
	CHANNEL_END_STREAM,		/* the peer ended the stream */
};

enum channel_sent {
	CHANNEL_SENT_REQUEST,		/* any request written, pings too */
	CHANNEL_SENT_LATE_PING,		/* and it was a late ping */
	CHANNEL_SENT_IDLE_PING,		/* an idle ping goes (before its write) */
};

/*
 * Reports to the owner, every one required but event(), which only a
 * stream calls, and body(), which only a CHANNEL_RAW request calls.
 * After closed() or failed() the connection is gone (the channel is
 * closed, and may connect again). Each may close, fail or use the
 * channel again, but body().
 */
struct channel_ops {
	void (*connected)(void *arg);
	/*
	 * The answer of the request (or of a ping); a stream's once its
	 * headers are in, with no body: the owner closes or fails a stream
	 * whose status it does not want.
	 */
	void (*answer)(void *arg, struct channel_answer *ans);
	/* One value of a stream, lent: 0, or -errno to fail the stream. */
	int (*event)(void *arg, struct json_object *obj);
	/*
	 * The next bytes of a CHANNEL_RAW answer's body, if its status is
	 * 200, as they arrive: 0, or -errno to fail the request. It must not
	 * close the channel; the answer follows, with no body.
	 */
	int (*body)(void *arg, const char *data, size_t len);
	void (*closed)(void *arg, enum channel_end how);
	void (*failed)(void *arg, enum cause cause, const char *why);
	/* For the owner's counters. */
	void (*sent)(void *arg, enum channel_sent what);
};

/*
 * What an answer needs while it is awaited (the request's path, the HTTP
 * parser, the JSON decoder, the value so far), lent by the pool from the
 * request to its answer, and to a flowing stream while it reads (see
 * channel_park): an idle connection holds none of it.
 */
struct channel_flight {
	struct http_resp resp;
	struct jsonl jl;		/* its tokener lent by the pool too */
	struct json_object *result;
	char path[CHANNEL_PATH_MAX];
};

/*
 * What a stream keeps while it waits at the end of a value (most of its
 * life: an /events stream is quiet for hours): the HTTP parser, where it
 * is in the body and its chunks, and the path, cut to what fits, for its
 * errors. Its flight goes back to the pool meanwhile, and is lent again
 * when bytes come. From a slab of small states (POOL_SMALL_SIZE).
 */
#define CHANNEL_PARK_PATH	80

struct channel_park {
	http_parser parser;
	char path[CHANNEL_PARK_PATH];
};

enum __attribute__((packed)) channel_state {
	CHANNEL_CLOSED,
	CHANNEL_CONNECTING,
	CHANNEL_IDLE,			/* connected, nothing asked */
	CHANNEL_ASKED,			/* the answer of the request awaited */
	CHANNEL_PING_BEHIND,		/* answered; the late ping's awaited */
	CHANNEL_STREAMING,		/* a stream answered: events flow */
};

/* What the one deadline timer waits for. */
enum __attribute__((packed)) channel_timer {
	CHANNEL_TIMER_OFF,
	CHANNEL_TIMER_IDLE_PING,	/* idle: the next liveness ping */
	CHANNEL_TIMER_LATE_MARK,	/* asked: time for the late ping */
	CHANNEL_TIMER_DEADLINE,		/* asked: the answer is overdue */
};

struct channel {
	struct channel_env *env;
	const struct channel_ops *ops;
	void *arg;
	const char *host;		/* the Host header; the owner's */
	struct conn *conn;
	struct cookie_node cnode;	/* in env->conns while connected */
	enum channel_state state;
	enum channel_timer timer;
	enum channel_mode mode;		/* of what is asked */
	bool suspect;			/* retransmitting: no new request */
	bool ping_behind;		/* a late ping pipelined behind */
	bool tls;			/* this connection is TLS */
	bool tls_port;			/* answered as a TLS port to plain HTTP */
	bool feeding;			/* the parser runs on @fl */
	bool parked;			/* a quiet stream: @park, not @fl */
	bool post;			/* what is asked: a POST, else a GET */
	unsigned int served;		/* answers on this connection */
	uint64_t alive_ms;		/* loop time of the last byte; 0: none */
	union {
		struct channel_flight *fl;	/* lent while asked; NULL idle */
		struct channel_park *park;	/* while parked */
	};
	struct loop_timer deadline;
};

void channel_init(struct channel *ch, struct channel_env *env,
		  const char *host, const struct channel_ops *ops, void *arg);
/* Connect to @sa, over TLS with @peer (NULL: plain); failed() if not. */
void channel_connect(struct channel *ch, const struct sockaddr *sa,
		     socklen_t salen, struct tls_peer *peer);
/*
 * Ask @req on an idle channel: 0, -EBUSY while it is not idle, or -errno
 * after failed() was reported.
 */
int channel_send(struct channel *ch, const struct channel_req *req);
/* Nothing to ask: the deadline timer waits for the next liveness ping. */
void channel_wait_ping(struct channel *ch);
/* The kernel says the connection retransmits (@on), or no longer. */
void channel_set_suspect(struct channel *ch, bool on);
/* Stop reading a stream (@pause), or read it again (conn_read_pause). */
int channel_read_pause(struct channel *ch, bool pause);
/* Closes the connection, silently; the channel may connect again. */
void channel_close(struct channel *ch);

static inline bool channel_connected(const struct channel *ch)
{
	return ch->state >= CHANNEL_IDLE;
}

static inline bool channel_idle(const struct channel *ch)
{
	return ch->state == CHANNEL_IDLE;
}

/* SO_COOKIE of the connection, 0 while not connected. */
uint64_t channel_cookie(const struct channel *ch);
/* The socket, for a look at its state only; -1 while not connected. */
int channel_fd(const struct channel *ch);
/* The connected channel with @cookie, or NULL: O(1). */
struct channel *channel_by_cookie(struct channel_env *env, uint64_t cookie);

#endif
