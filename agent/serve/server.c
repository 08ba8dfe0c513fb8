// SPDX-License-Identifier: GPL-2.0
/*
 * The control API's HTTP server (see server.h), served by the agent's own
 * loop. Clients must never delay the engines: a request is bounded in
 * size and must arrive whole within a deadline; clients are limited in
 * number (more wait in the kernel's listen backlog, costing us nothing),
 * and so are the bytes all answers hold; answers are built a few
 * milliseconds per pass, between engine events; a stream's reader that
 * falls behind is dropped rather than buffered.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <http_parser.h>

#include "container_of.h"
#include "listener.h"
#include "log.h"
#include "metrics.h"
#include "clock.h"
#include "server.h"

#define SERVER_HEADER_TIMEOUT_MS	5000
#define SERVER_WRITE_TIMEOUT_MS		10000
#define SERVER_STREAM_MAX	(256 * 1024)	/* unsent bytes of a stream */
#define SERVER_OUT_MAX		(128 << 20)	/* unsent bytes, all answers */
#define SERVER_RENDER_BUDGET_MS	5		/* per loop pass */
#define SERVER_CACHE_MS		100		/* an answer serves its twins */
#define SERVER_TRIM_BYTES	(1 << 20)	/* an answer this big... */
#define SERVER_TRIM_DELAY_MS	1000		/* ...trims this long after */
#define SERVER_LINGER_MS	5000		/* reading after an error */
#define SERVER_ACCEPT_PAUSE_MS	100		/* after accept failed */
#define SERVER_SILENT_MS	1000		/* quiet this long: may be told 503 */
#define SERVER_LABEL_OTHER	"other"
#define SERVER_LISTENERS	2

struct server_listener {
	struct server *srv;
	int fd;
	struct loop_io io;
};

/*
 * The last answer, whole: a thousand clients asking the same thing within
 * SERVER_CACHE_MS cost one rendering, not a thousand.
 */
struct server_cache {
	char url[API_MAX_REQUEST];
	uint64_t ms;			/* loop time it was built */
	const char *label;
	struct strbuf resp;
};

struct server {
	const struct server_cfg *cfg;
	const struct server_ops *ops;
	struct loop *loop;
	struct metrics *metrics;
	struct server_listener listeners[SERVER_LISTENERS];	/* UNIX, TCP */
	bool unlink_socket;
	struct server_client *head, *tail;
	unsigned int nclients;
	unsigned int turn;		/* the listener admitted next when full */
	bool full;			/* listeners paused at the limit */
	size_t out_total;
	struct loop_timer render;
	struct loop_timer trim;		/* memory back after big answers */
	struct loop_timer accept_resume;	/* after accept failed */
	struct loop_timer silent;	/* a silent client may make room */
	struct server_cache cache;
	struct strbuf batch;		/* of a long answer, being made */
};

/* At the client limit, new clients wait in the backlog until one leaves. */
static void listeners_watch(struct server *s, bool on)
{
	struct server_listener *l;

	s->full = !on;
	for (l = s->listeners; l < s->listeners + SERVER_LISTENERS; l++)
		if (l->fd >= 0)
			loop_io_mod(s->loop, &l->io, on ? LOOP_READ : 0);
}

/*
 * A big answer (GET /v1/nodes at 5,000 engines is several MiB, built from
 * many small JSON objects) leaves its memory with the allocator, which
 * keeps it: glibc's heap does not shrink by itself past fragmentation and
 * its mmap threshold grows with every big buffer freed. Within a second
 * of such an answer being freed the stale cached answer is dropped and the
 * free pages are handed back, so an idle agent's RSS is what it holds.
 */
static void trim_fn(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, trim);

	if (loop_now(s->loop) - s->cache.ms >= SERVER_CACHE_MS) {
		strbuf_release(&s->cache.resp);
		s->cache.url[0] = '\0';
	}
	malloc_trim(0);
}

static void trim_soon(struct server *s)
{
	if (!loop_timer_active(&s->trim))
		loop_timer_start(s->loop, &s->trim, SERVER_TRIM_DELAY_MS);
}

static void client_free_fn(struct loop_defer *d)
{
	struct server_client *c = container_of(d, struct server_client,
					       free_work);

	if (c->out.cap >= SERVER_TRIM_BYTES)
		trim_soon(c->srv);
	strbuf_release(&c->out);
	free(c);
}

static void stream_leave(struct server_client *c)
{
	struct server_stream *st = c->stream;

	if (c->sprev)
		c->sprev->snext = c->snext;
	else
		st->head = c->snext;
	if (c->snext)
		c->snext->sprev = c->sprev;
	st->n--;
	if (st->gauge)
		(*st->gauge)--;
	c->stream = NULL;
}

/* The only way a client ends; freed after the current pass. */
static void client_close(struct server_client *c)
{
	struct server *s = c->srv;

	if (c->closed)
		return;
	c->closed = true;
	loop_io_del(s->loop, &c->io);
	loop_timer_stop(s->loop, &c->deadline);
	close(c->fd);
	s->out_total -= strbuf_pending(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		s->tail = c->prev;
	s->nclients--;
	s->metrics->api_clients--;
	if (s->full && !loop_timer_active(&s->accept_resume))
		listeners_watch(s, true);
	if (c->stream)
		stream_leave(c);
	if (c->release)
		c->release(c->data);
	c->release = NULL;
	loop_defer(s->loop, &c->free_work, client_free_fn);
}

int server_queue(struct server_client *c, const void *data, size_t len)
{
	int err = strbuf_add(&c->out, data, len);

	if (!err)
		c->srv->out_total += len;
	return err;
}

/* Sends what it can; the rest waits for LOOP_WRITE. */
static void client_flush(struct server_client *c)
{
	struct server *s = c->srv;
	ssize_t n;

	while (strbuf_pending(&c->out)) {
		n = send(c->fd, c->out.p + c->out.off, strbuf_pending(&c->out),
			 MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n <= 0) {
			client_close(c);
			return;
		}
		strbuf_consume(&c->out, (size_t)n);
		s->out_total -= (size_t)n;
		if (!c->stream)
			loop_timer_start(s->loop, &c->deadline,
					 SERVER_WRITE_TIMEOUT_MS);
	}
	/* A long answer's next batch, made by render_fn between engines. */
	if (c->more && strbuf_pending(&c->out) < SERVER_LOWAT &&
	    !loop_timer_active(&s->render))
		loop_timer_start(s->loop, &s->render, 0);
	if (!strbuf_pending(&c->out) && !c->stream && c->complete &&
	    !c->ready && !c->more) {
		/* Said everything: the FIN goes after the answer. */
		shutdown(c->fd, SHUT_WR);
		if (!c->status && !c->rq.has_body) {
			client_close(c);
			return;
		}
		/*
		 * A refused request, or a body (docker run's), may still be
		 * arriving: closing on unread bytes would send a RST that can
		 * destroy the answer before the client reads it. Read and drop
		 * them for a moment first.
		 */
		c->lingering = true;
		loop_timer_start(s->loop, &c->deadline, SERVER_LINGER_MS);
		loop_io_mod(s->loop, &c->io, LOOP_READ);
		return;
	}
	loop_io_mod(s->loop, &c->io, (c->stream ? LOOP_READ : 0) |
		    (strbuf_pending(&c->out) ? LOOP_WRITE : 0));
}

static const char *status_text(unsigned int status)
{
	switch (status) {
	case 200: return "OK";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	default: return "Error";
	}
}

/* The head of an answer; @length: its Content-Length, or -1: chunked. */
static int queue_head(struct server_client *c, unsigned int status,
		      const char *type, const char *extra, ssize_t length)
{
	char head[768], len[64];
	int n;

	if (length < 0)
		snprintf(len, sizeof(len), "Transfer-Encoding: chunked");
	else
		snprintf(len, sizeof(len), "Content-Length: %zd", length);
	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\n%s%sContent-Type: %s\r\n%s\r\nConnection: close\r\n\r\n",
		     status, status_text(status),
		     c->dialect ? c->dialect->headers : "", extra, type, len);
	if (n >= (int)sizeof(head))
		return -E2BIG;
	return server_queue(c, head, (size_t)n);
}

int server_respond(struct server_client *c, unsigned int status,
		   const char *type, const char *extra, const char *body,
		   size_t len)
{
	int err;

	err = queue_head(c, status, type, extra, (ssize_t)len);
	/* A HEAD is answered as its GET would be, without the body. */
	if (!err && !c->head)
		err = server_queue(c, body, len);
	return err;
}

int server_respond_json(struct server_client *c, unsigned int status,
			struct json_object *o)
{
	return server_respond_json_ext(c, status, o, "");
}

int server_respond_json_ext(struct server_client *c, unsigned int status,
			    struct json_object *o, const char *extra)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	struct strbuf b = { 0 };
	int err;

	if (!s)
		return -ENOMEM;
	if (!c->dialect || !c->dialect->json_newline)
		return server_respond(c, status, "application/json", extra, s,
				      len);
	err = strbuf_add(&b, s, len);
	if (!err)
		err = strbuf_add(&b, "\n", 1);
	if (!err)
		err = server_respond(c, status, "application/json", extra, b.p,
				     b.len);
	strbuf_release(&b);
	return err;
}

int server_respond_error(struct server_client *c, unsigned int status,
			 const char *why)
{
	struct json_object *o = json_object_new_object();
	int err;

	if (!o)
		return -ENOMEM;
	json_object_object_add(o, c->dialect ? c->dialect->error_key : "error",
			       json_object_new_string(why));
	err = server_respond_json(c, status, o);
	json_object_put(o);
	return err;
}

static int queue_chunk(struct server_client *c, const char *s, size_t len)
{
	char head[32];
	int n;

	n = snprintf(head, sizeof(head), "%zx\r\n", len);
	if (server_queue(c, head, (size_t)n) || server_queue(c, s, len) ||
	    server_queue(c, "\r\n", 2))
		return -ENOMEM;
	return 0;
}

int server_respond_more(struct server_client *c, const char *type,
			const char *extra, server_more_fn more)
{
	struct strbuf body = { 0 };
	bool done = false;
	int err = 0;

	while (!err && !done && body.len < SERVER_WHOLE_MAX)
		err = more(c->data, &body, &done);
	if (!err && done)
		err = server_respond(c, 200, type, extra, body.p, body.len);
	else if (!err)
		err = queue_head(c, 200, type, extra, -1);
	/* A HEAD is answered as its GET would be, without the body. */
	if (!err && !done && !c->head) {
		err = queue_chunk(c, body.p, body.len);
		c->more = more;
	}
	strbuf_release(&body);
	return err;
}

static bool wants_more(const struct server_client *c)
{
	return c->more && !c->closed && strbuf_pending(&c->out) < SERVER_LOWAT;
}

/*
 * The next batches of @c's long answer, queued and sent while its socket
 * takes them, up to SERVER_LOWAT bytes or the pass's budget (from
 * @start); at its end, the last chunk.
 */
static void make_more(struct server_client *c, uint64_t start)
{
	struct strbuf *b = &c->srv->batch;
	size_t made = 0;
	bool done;
	int err;

	do {
		b->len = 0;
		b->off = 0;
		done = false;
		err = c->more(c->data, b, &done);
		if (!err && b->len)
			err = queue_chunk(c, b->p, b->len);
		if (!err && done) {
			c->more = NULL;
			err = server_queue(c, "0\r\n\r\n", 5);
		}
		if (err) {
			log_warn("api: %s: %s", c->label, strerror(-err));
			client_close(c);
			return;
		}
		made += b->len;
		client_flush(c);
	} while (wants_more(c) && made < SERVER_LOWAT &&
		 clock_mono_ms() - start < SERVER_RENDER_BUDGET_MS);
}

void server_attach(struct server_client *c, void *data,
		   void (*release)(void *data))
{
	c->data = data;
	c->release = release;
}

void server_wait(struct server_client *c)
{
	c->waiting = true;
}

static unsigned int sent_status(const struct server_client *c)
{
	/* "HTTP/1.1 NNN": the first answer queued tells. */
	return c->out.len - c->out.off >= 12 ?
	       (unsigned int)atoi(c->out.p + c->out.off + 9) : 500;
}

/* An answer is queued: counted, and on its way within a deadline. */
static void answer_sent(struct server_client *c)
{
	struct server *s = c->srv;

	if (!c->stream)
		loop_timer_start(s->loop, &c->deadline,
				 SERVER_WRITE_TIMEOUT_MS);
	metrics_request(s->metrics, c->label, sent_status(c));
	client_flush(c);
}

void server_answered(struct server_client *c, int err)
{
	c->waiting = false;
	if (err) {
		client_close(c);
		return;
	}
	answer_sent(c);
}

void server_stream_start(struct server_client *c, struct server_stream *st)
{
	c->stream = st;
	c->sprev = NULL;
	c->snext = st->head;
	if (st->head)
		st->head->sprev = c;
	st->head = c;
	st->n++;
	if (st->gauge)
		(*st->gauge)++;
	loop_timer_stop(c->srv->loop, &c->deadline);
}

void server_stream_until(struct server_client *c, uint64_t ms)
{
	loop_timer_start(c->srv->loop, &c->deadline, ms);
}

/* The last chunk: the stream's end has come. */
static void stream_end(struct server_client *c)
{
	stream_leave(c);
	if (server_queue(c, "0\r\n\r\n", 5)) {
		client_close(c);
		return;
	}
	loop_timer_start(c->srv->loop, &c->deadline, SERVER_WRITE_TIMEOUT_MS);
	client_flush(c);
}

int server_chunk(struct server_client *c, const char *s, size_t len)
{
	char head[32];
	int n;

	n = snprintf(head, sizeof(head), "%zx\r\n", len + 1);
	if (server_queue(c, head, (size_t)n) || server_queue(c, s, len) ||
	    server_queue(c, "\n\r\n", 3))
		return -ENOMEM;
	return 0;
}

void server_stream_send(struct server_client *c, const char *s, size_t len)
{
	if (strbuf_pending(&c->out) + len + 64 > SERVER_STREAM_MAX) {
		log_info("api: dropping a %s reader %zu bytes behind",
			 c->stream->name, strbuf_pending(&c->out));
		c->srv->metrics->api_dropped++;
		client_close(c);
		return;
	}
	if (server_chunk(c, s, len)) {
		client_close(c);
		return;
	}
	client_flush(c);
}

static bool cache_hit(const struct server *s, const struct server_client *c)
{
	return !c->status && c->rq.method == HTTP_GET && s->cache.resp.len &&
	       loop_now(s->loop) - s->cache.ms < SERVER_CACHE_MS &&
	       !strcmp(s->cache.url, c->rq.url);
}

static void cache_store(struct server *s, const struct server_client *c)
{
	strbuf_release(&s->cache.resp);
	if (strbuf_add(&s->cache.resp, c->out.p + c->out.off,
		       strbuf_pending(&c->out)))
		return;
	s->cache.ms = loop_now(s->loop);
	s->cache.label = c->label;
}

static void serve(struct server_client *c)
{
	struct server *s = c->srv;
	bool fresh = false;
	int err;

	c->ready = false;
	c->label = SERVER_LABEL_OTHER;
	c->rq.url[c->rq.url_len] = '\0';
	if (s->out_total > SERVER_OUT_MAX) {
		err = server_respond_error(c, 503,
					   "busy: too many answers in flight");
	} else if (cache_hit(s, c)) {
		c->label = s->cache.label;
		err = server_queue(c, s->cache.resp.p, s->cache.resp.len);
	} else if (c->status) {
		err = server_respond_error(c, c->status, c->why);
	} else {
		/* The routes cut the URL up: keep it whole for the cache. */
		memcpy(s->cache.url, c->rq.url, c->rq.url_len + 1);
		s->cache.resp.len = 0;
		err = s->ops->answer(s->ops->arg, c);
		fresh = true;
	}
	if (err) {
		/* Whatever was queued is dropped with the client. */
		log_warn("api: %s", strerror(-err));
		client_close(c);
		return;
	}
	if (c->waiting)
		return;
	if (fresh && !c->stream && !c->more && sent_status(c) == 200 &&
	    c->rq.method == HTTP_GET)
		cache_store(s, c);
	answer_sent(c);
}

/* @c had its turn: the others that want more go first next time. */
static void to_tail(struct server_client *c)
{
	struct server *s = c->srv;

	if (!c->next)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else
		s->head = c->next;
	c->next->prev = c->prev;
	c->prev = s->tail;
	c->next = NULL;
	s->tail->next = c;
	s->tail = c;
}

/*
 * Answers queued requests and makes the next batch of long answers whose
 * clients have read the last, a few ms per pass, so engines go between.
 */
static void render_fn(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, render);
	uint64_t start = clock_mono_ms();
	struct server_client *c, *next;
	unsigned int n = s->nclients;

	/* Those moved to the tail come round again only in the next pass. */
	for (c = s->head; c && n--; c = next) {
		next = c->next;
		if (!c->ready && !wants_more(c))
			continue;
		if (clock_mono_ms() - start >=
		    SERVER_RENDER_BUDGET_MS) {
			loop_timer_start(s->loop, &s->render, 0);
			return;
		}
		if (c->ready)
			serve(c);
		else
			make_more(c, start);
		if (!c->closed && c->more)
			to_tail(c);
	}
	if (s->batch.cap > SERVER_WHOLE_MAX)
		strbuf_release(&s->batch);
}

static void request_done(struct server_client *c)
{
	struct server *s = c->srv;

	c->complete = true;
	c->ready = true;
	loop_timer_stop(s->loop, &c->deadline);
	loop_io_mod(s->loop, &c->io, 0);
	if (!loop_timer_active(&s->render))
		loop_timer_start(s->loop, &s->render, 0);
}

/*
 * A request that cannot be served: answered at once, not queued behind
 * real work (an error costs nothing to build), then closed.
 */
static void reject(struct server_client *c, unsigned int status,
		   const char *why)
{
	struct server *s = c->srv;

	c->status = status;
	c->why = why;
	c->complete = true;
	loop_timer_stop(s->loop, &c->deadline);
	loop_io_mod(s->loop, &c->io, 0);
	serve(c);
}

static void client_read(struct server_client *c)
{
	char buf[4096];
	unsigned int st;
	ssize_t n;

	for (;;) {
		n = recv(c->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			client_close(c);
			return;
		}
		c->heard = true;
		/* A stream's reader has nothing to say, nor a refused one. */
		if (c->complete)
			continue;
		st = api_head_feed(&c->rq, buf, (size_t)n);
		if (st) {
			reject(c, st, c->rq.why);
			return;
		}
		if (c->rq.complete)
			break;
	}
	c->head = c->rq.method == HTTP_HEAD;
	request_done(c);
}

static void client_io(struct loop_io *io, uint32_t events)
{
	struct server_client *c = container_of(io, struct server_client, io);

	if (events & (LOOP_READ | LOOP_ERROR))
		client_read(c);
	if (!c->closed && (events & LOOP_WRITE))
		client_flush(c);
}

static void client_deadline(struct loop_timer *t)
{
	struct server_client *c = container_of(t, struct server_client,
					       deadline);

	/* A stream's own end (a Docker /events reader's until=). */
	if (c->stream) {
		stream_end(c);
		return;
	}
	if (!c->lingering)
		c->srv->metrics->api_timeouts++;
	if (c->complete) {
		client_close(c);
		return;
	}
	reject(c, 408, "request not received in time");
}

static int client_new(struct server *s, int fd)
{
	struct server_client *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->srv = s;
	c->fd = fd;
	c->since_ms = loop_now(s->loop);
	c->label = SERVER_LABEL_OTHER;
	api_head_init(&c->rq);
	loop_timer_init(&c->deadline, client_deadline);
	err = loop_io_add(s->loop, &c->io, fd, LOOP_READ, client_io);
	if (err) {
		free(c);
		return err;
	}
	c->prev = s->tail;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	s->nclients++;
	s->metrics->api_clients++;
	/* Absolute, not reset by each byte: a slowloris gets no more. */
	loop_timer_start(s->loop, &c->deadline, SERVER_HEADER_TIMEOUT_MS);
	return 0;
}

static void accept_resume_fn(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, accept_resume);

	if (s->nclients < s->cfg->max_clients)
		listeners_watch(s, true);
}

/*
 * Accept failed for want of something (descriptors, memory): the client
 * stays in the listen backlog, so the listeners would wake the loop again
 * at once, forever. They sleep a moment instead, as nginx does, and the
 * loop serves what it has meanwhile.
 */
static void accept_pause(struct server *s, int err)
{
	log_warn("api: accept: %s: not accepting for %u ms", strerror(err),
		 SERVER_ACCEPT_PAUSE_MS);
	s->metrics->api_accept_paused++;
	listeners_watch(s, false);
	loop_timer_start(s->loop, &s->accept_resume, SERVER_ACCEPT_PAUSE_MS);
}

/*
 * At the limit, clients that connected and said nothing hold the places
 * of those who would speak at once: a flood of them kept an operator
 * waiting for their header deadline and the linger after it, 10 s. So
 * one silent for SERVER_SILENT_MS gives its place to the next to come:
 * told 503 and closed (it sent nothing, so nothing unread makes the close
 * a reset), as nginx reuses connections that have not begun a request.
 * One that has begun keeps its place until its header deadline: it may be
 * slow, not idle. Those waiting are taken from each listener in turn, so
 * a flood on one (TCP) does not keep out the other (the UNIX socket).
 */
static struct server_client *oldest_silent(struct server *s)
{
	uint64_t now = loop_now(s->loop);
	struct server_client *c;
	char b;

	/* Silent ones never move to the tail: the list's order is theirs. */
	for (c = s->head; c && now - c->since_ms >= SERVER_SILENT_MS;
	     c = c->next) {
		if (c->heard || c->complete)
			continue;
		/* Said something since the loop last looked: not silent. */
		if (recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT) != -1 ||
		    errno != EAGAIN)
			continue;
		return c;
	}
	return NULL;
}

/* Listen again when the oldest silent client may give its place. */
static void silent_arm(struct server *s)
{
	uint64_t age;
	struct server_client *c;

	for (c = s->head; c && (c->heard || c->complete); c = c->next)
		;
	if (!c || loop_timer_active(&s->silent))
		return;
	/* One already old enough has said something the loop has not read. */
	age = loop_now(s->loop) - c->since_ms;
	loop_timer_start(s->loop, &s->silent, age < SERVER_SILENT_MS ?
			 SERVER_SILENT_MS - age : SERVER_SILENT_MS / 10);
}

static void give_place(struct server *s, struct server_client *c)
{
	s->metrics->api_silent++;
	log_warn("api: %u clients, the limit: one silent for %llu ms gave its place",
		 s->cfg->max_clients,
		 (unsigned long long)(loop_now(s->loop) - c->since_ms));
	/* An empty socket buffer takes it whole; if not, the close says it. */
	if (!server_respond_error(c, 503,
				  "busy: too many clients, and this one said nothing"))
		send(c->fd, c->out.p + c->out.off, strbuf_pending(&c->out),
		     MSG_NOSIGNAL | MSG_DONTWAIT);
	client_close(c);
}

/*
 * Full: whoever waits is admitted, listener by listener in turn, each in
 * the place of a silent client; with none waiting, a listener wakes us.
 */
static void admit(struct server *s)
{
	struct server_listener *l;
	struct server_client *c;
	unsigned int i;
	int fd = -1, err;

	while (s->nclients >= s->cfg->max_clients) {
		c = oldest_silent(s);
		if (!c) {
			s->metrics->api_full++;
			listeners_watch(s, false);
			silent_arm(s);
			return;
		}
		for (i = 0; i < SERVER_LISTENERS && fd < 0; i++) {
			l = &s->listeners[(s->turn + i) % SERVER_LISTENERS];
			if (l->fd < 0)
				continue;
			fd = accept4(l->fd, NULL, NULL,
				     SOCK_NONBLOCK | SOCK_CLOEXEC);
			if (fd < 0 && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED) {
				accept_pause(s, errno);
				return;
			}
		}
		if (fd < 0) {
			listeners_watch(s, true);
			return;
		}
		s->turn = (s->turn + i) % SERVER_LISTENERS;
		give_place(s, c);
		err = client_new(s, fd);
		if (err) {
			log_warn("api: %s", strerror(-err));
			close(fd);
		}
		fd = -1;
	}
}

static void silent_fn(struct loop_timer *t)
{
	struct server *s = container_of(t, struct server, silent);

	if (s->full && !loop_timer_active(&s->accept_resume))
		admit(s);
}

static void listener_io(struct loop_io *io, uint32_t events)
{
	struct server_listener *l = container_of(io, struct server_listener,
						 io);
	struct server *s = l->srv;
	int fd, err;

	(void)events;
	for (;;) {
		if (s->nclients >= s->cfg->max_clients) {
			admit(s);
			return;
		}
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EINTR &&
			    errno != ECONNABORTED)
				accept_pause(s, errno);
			return;
		}
		err = client_new(s, fd);
		if (err) {
			log_warn("api: %s", strerror(-err));
			close(fd);
		}
	}
}

/* Accepts from @fd, a listening socket, from now on; @fd is its. */
static int listener_start(struct server *s, struct server_listener *l,
			  int fd)
{
	int err;

	l->srv = s;
	err = loop_io_add(s->loop, &l->io, fd, LOOP_READ, listener_io);
	if (err)
		close(fd);
	else
		l->fd = fd;
	return err;
}

int server_new(struct server **sp, struct loop *loop, struct metrics *m,
	       const struct server_cfg *cfg, const struct server_ops *ops,
	       const char **why)
{
	struct server *s;
	int fd, err = 0;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->cfg = cfg;
	s->ops = ops;
	s->loop = loop;
	s->metrics = m;
	s->listeners[0].fd = -1;
	s->listeners[1].fd = -1;
	loop_timer_init(&s->render, render_fn);
	loop_timer_init(&s->trim, trim_fn);
	loop_timer_init(&s->accept_resume, accept_resume_fn);
	loop_timer_init(&s->silent, silent_fn);
	if (cfg->socket) {
		err = listener_unix(cfg->socket, &fd, why);
		s->unlink_socket = !err;
		if (!err)
			err = listener_start(s, &s->listeners[0], fd);
	}
	if (!err && cfg->listen) {
		err = listener_tcp(cfg->listen, cfg->listen_len, &fd, why);
		if (!err)
			err = listener_start(s, &s->listeners[1], fd);
	}
	if (err) {
		server_free(s);
		return err;
	}
	*sp = s;
	return 0;
}

void server_free(struct server *s)
{
	struct server_listener *l;

	if (!s)
		return;
	while (s->head)
		client_close(s->head);
	loop_timer_stop(s->loop, &s->render);
	loop_timer_stop(s->loop, &s->trim);
	loop_timer_stop(s->loop, &s->accept_resume);
	loop_timer_stop(s->loop, &s->silent);
	for (l = s->listeners; l < s->listeners + SERVER_LISTENERS; l++) {
		if (l->fd >= 0) {
			loop_io_del(s->loop, &l->io);
			close(l->fd);
		}
	}
	if (s->unlink_socket)
		unlink(s->cfg->socket);
	strbuf_release(&s->cache.resp);
	strbuf_release(&s->batch);
	free(s);
}
