/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_CONN_H
#define ENGINESIM_SIM_CONN_H

#include <http_parser.h>
#include <stdint.h>

#include "list.h"
#include "loop.h"
#include "sim.h"
#include "strbuf.h"

struct conn;
struct engine;
struct transport;

#define URL_MAX		512

/*
 * What a connection hands to the layers above it (HTTP, the API, event
 * streams), set in struct sim by main.c: the connection calls up only
 * through here, so the layers stack without a loop between them.
 */
struct conn_ops {
	void (*opened)(struct conn *c);		/* accepted, before any input */
	int (*input)(struct conn *c);		/* input pending: 0 or -errno */
	void (*unsubscribe)(struct conn *c);	/* a streaming one closes */
};

/*
 * One accepted connection. It answers one request at a time: the parser
 * is paused after each request until its response has left, so pipelined
 * requests wait in the socket and in "in", never as queued responses.
 */
struct conn {
	struct loop_io io;
	struct loop_defer dfr;
	struct sim *sim;
	struct engine *engine;
	struct list_head engine_node;	/* engine->conns */
	struct list_head stream_node;	/* engine->streams, once /events */
	const struct transport *tr;
	void *tr_ctx;
	http_parser parser;
	struct strbuf in;
	struct strbuf out;
	uint64_t filler;		/* oversized-body bytes after out */
	char tail[16];			/* sent after the filler */
	unsigned int tail_len;
	struct loop_timer pace;		/* slow fault */
	struct loop_timer linger;	/* draining before the close */
	size_t pace_budget;
	unsigned int responses;
	unsigned int hdr_bytes;
	unsigned int body_bytes;
	unsigned int url_len;
	char url[URL_MAX];
	unsigned int url_overflow:1;
	unsigned int req_ready:1;
	unsigned int streaming:1;
	unsigned int close_after_write:1;
	unsigned int rd_eof:1;
	unsigned int rd_more:1;		/* stopped reading before EAGAIN */
	unsigned int draining:1;	/* write side shut, input discarded */
};

struct listener;

int listener_new(struct sim *s, struct listener **out);
void listener_free(struct listener *l);

void conn_progress(struct conn *c);
void conn_close(struct conn *c);
void conn_abort(struct conn *c);
void conn_refuse(struct conn *c);

static inline size_t conn_out_pending(const struct conn *c)
{
	return strbuf_pending(&c->out) + c->filler + c->tail_len;
}

#endif
