/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_SERVER_H
#define PEERWATCH_SERVER_H

/*
 * The control API's HTTP server: listeners, clients, their deadlines and
 * limits, answers queued and flushed, chunked streams. HTTP/1.1, one
 * request per connection. What a request means is not its business: a
 * whole head goes up to server_ops.answer (routes.c), which answers with
 * the server_respond*() calls below, or holds the client for later.
 */
#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>
#include <json-c/json.h>

#include "apireq.h"
#include "loop.h"
#include "strbuf.h"

struct metrics;
struct server;
struct server_client;

struct server_cfg {
	const char *socket;		/* UNIX socket path; NULL: none */
	const struct sockaddr_storage *listen;	/* TCP; NULL: none */
	socklen_t listen_len;
	unsigned int max_clients;
};

struct server_ops {
	/*
	 * A whole request on @c (its head in c->rq): 0 once an answer is
	 * queued, or the client held (server_wait, server_stream_start);
	 * -errno closes the client.
	 */
	int (*answer)(void *arg, struct server_client *c);
	void *arg;
};

/* How a family of routes answers, beside plain JSON. */
struct server_dialect {
	const char *headers;		/* "Name: value\r\n"..., every answer */
	const char *error_key;		/* of {"KEY": "why"} */
	bool json_newline;		/* after a JSON body, as Go encodes */
};

/* The readers of one stream (a list of clients), owned by its route. */
struct server_stream {
	const char *name;		/* for the log: "/v1/events" */
	uint64_t *gauge;		/* readers now, a metric; NULL: none */
	struct server_client *head;
	unsigned int n;
};

struct server_client {
	struct server *srv;
	struct server_client *prev, *next;	/* the server's clients */
	struct server_client *sprev, *snext;	/* its stream's readers */
	struct server_stream *stream;	/* NULL: not streaming */
	int fd;
	struct loop_io io;
	struct loop_timer deadline;
	struct loop_defer free_work;
	struct api_head rq;		/* the request as it arrives */
	unsigned int status;		/* set early by a bad request */
	const char *why;
	bool complete;			/* the request is whole */
	bool ready;			/* waiting to be served */
	bool waiting;			/* for an answer from elsewhere */
	bool head;			/* HEAD: headers only */
	bool lingering;			/* answered an error, draining input */
	bool heard;			/* has sent a byte */
	bool closed;
	uint64_t since_ms;		/* loop time it was accepted */
	struct strbuf out;
	/* The rest of a long answer, made from data (server_respond_more) */
	int (*more)(void *data, struct strbuf *out, bool *done);
	/* The route's, set while it answers: */
	const struct server_dialect *dialect;	/* NULL: plain JSON */
	const char *label;		/* metrics; "other" until routed */
	void *data;			/* released when the client goes */
	void (*release)(void *data);
};

/*
 * Listens where @cfg says, counting into @m, and hands whole requests to
 * @ops. 0, or -errno with what failed in @why.
 */
int server_new(struct server **sp, struct loop *loop, struct metrics *m,
	       const struct server_cfg *cfg, const struct server_ops *ops,
	       const char **why);
void server_free(struct server *s);

int server_queue(struct server_client *c, const void *data, size_t len);
/* A whole answer; @extra: more header lines, "" for none. */
int server_respond(struct server_client *c, unsigned int status,
		   const char *type, const char *extra, const char *body,
		   size_t len);
int server_respond_json(struct server_client *c, unsigned int status,
			struct json_object *o);
/* The same with @extra headers, each ending in "\r\n". */
int server_respond_json_ext(struct server_client *c, unsigned int status,
			    struct json_object *o, const char *extra);
int server_respond_error(struct server_client *c, unsigned int status,
			 const char *why);

/*
 * A long answer, made a batch at a time: @more appends the next part of
 * the body to @out, about a batch, and sets *@done with its last; 0 or
 * -errno. It is given @c's data (server_attach()).
 */
typedef int (*server_more_fn)(void *data, struct strbuf *out, bool *done);
/*
 * Answers 200 with the body @more makes. A body that ends within
 * SERVER_WHOLE_MAX bytes goes whole, as server_respond() sends it; a
 * longer one goes chunked, a batch whenever less than SERVER_LOWAT bytes
 * of it wait to be sent, so a client holds at most SERVER_LOWAT plus a
 * batch, and the engines are served between batches.
 */
#define SERVER_WHOLE_MAX	(128 * 1024)
#define SERVER_LOWAT		(64 * 1024)
int server_respond_more(struct server_client *c, const char *type,
			const char *extra, server_more_fn more);

/*
 * Keeps @data with @c until the client goes, then @release(@data). A new
 * call replaces the old data without releasing it.
 */
void server_attach(struct server_client *c, void *data,
		   void (*release)(void *data));
/* The answer comes later, then server_answered(): @err closes @c. */
void server_wait(struct server_client *c);
void server_answered(struct server_client *c, int err);

/* @c, its head queued, reads @st from now on, until it goes. */
void server_stream_start(struct server_client *c, struct server_stream *st);
/* The stream of @c ends (its last chunk) in @ms. */
void server_stream_until(struct server_client *c, uint64_t ms);
/* Queues one line @s (@len bytes, without its newline) as a chunk. */
int server_chunk(struct server_client *c, const char *s, size_t len);
/* A chunk to a reader, sent; one too far behind is dropped. */
void server_stream_send(struct server_client *c, const char *s, size_t len);

#endif
