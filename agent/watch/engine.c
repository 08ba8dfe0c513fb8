// SPDX-License-Identifier: GPL-2.0
/*
 * One Docker engine: its polling connection and /events stream, the Docker
 * API requests in Swarm's order, and the node state with its cause.
 *
 * Health: a failure that says the engine cannot be reached (user timeout,
 * reset, refused...) makes it down at once; any other failure (a request
 * deadline, bad HTTP, an error status) counts, and --engine-failure-retry
 * of them in a row make it unhealthy. Both retry with exponential backoff
 * and full jitter; a complete refresh (ping, version, info, containers)
 * makes it healthy again and resets the counters.
 *
 * Between refreshes, a polling connection idle for --ping-interval gets a
 * /_ping: a frozen engine then fails it like a refresh (ping-timeout), and
 * a blackholed one has data of ours to retransmit. The idle wait and the
 * ping's deadline use the channel's one deadline timer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backoff.h"
#include "container_of.h"
#include "duration.h"
#include "engine.h"
#include "hostport.h"
#include "kevents.h"
#include "log.h"
#include "pool.h"
#include "rand.h"
#include "resolver.h"

/* The body of Go's answer to plain HTTP on a TLS port. */
#define GO_PLAIN_TO_TLS "Client sent an HTTP request to an HTTPS server."

/* One /events line; dockerd's are well under 1 KiB. */
#define ENGINE_MAX_EVENT_BYTES	(1024 * 1024)

enum {
	W_PING = 1 << 0,
	W_VERSION = 1 << 1,
	W_INFO = 1 << 2,
	W_CONTAINERS = 1 << 3,
	W_TARGETED = 1 << 4,
	/* A full refresh: what a new or recovering engine must answer. */
	W_CYCLE = W_PING | W_VERSION | W_INFO | W_CONTAINERS,
};

static void poll_next(struct engine *e);
static void events_open(struct engine *e);
static void chan_fail(struct engine_chan *ch, enum cause cause,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

const char *engine_state_name(enum engine_state s)
{
	static const char *const names[] = {
		[ENGINE_PENDING] = "pending",
		[ENGINE_HEALTHY] = "healthy",
		[ENGINE_SUSPECT] = "suspect",
		[ENGINE_UNHEALTHY] = "unhealthy",
		[ENGINE_DOWN] = "down",
		[ENGINE_REMOVED] = "removed",
	};

	return (unsigned int)s < ENGINE_NSTATES ? names[s] : "?";
}

uint64_t engine_cookie(const struct engine *e)
{
	return e->poll.connected ? conn_cookie(e->poll.conn) : 0;
}

uint64_t engine_events_cookie(const struct engine *e)
{
	return e->events.connected ? conn_cookie(e->events.conn) : 0;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static struct loop *loop_of(const struct engine *e)
{
	return e->env->loop;
}

static const struct engine_cfg *cfg_of(const struct engine *e)
{
	return e->env->cfg;
}

/* Every transition is logged here, once, with its cause. */
static void set_state(struct engine *e, enum engine_state state,
		      enum cause cause)
{
	const struct engine_observer *obs = e->env->observer;
	enum engine_state from = e->state;

	if (e->state == state)
		return;
	if (cause != CAUSE_NONE)
		log_info("engine %s: %s -> %s (%s%s%s)", e->addr,
			 engine_state_name(e->state), engine_state_name(state),
			 cause_name(cause), e->error[0] ? ": " : "", e->error);
	else
		log_info("engine %s: %s -> %s", e->addr,
			 engine_state_name(e->state), engine_state_name(state));
	e->state = state;
	e->cause = cause;
	e->since_ms = wall_ms();
	e->env->stats.transitions++;
	if (obs)
		obs->transition(obs->arg, e, from);
}

/* Drops what a request holds; the connection itself stays. */
static void chan_idle(struct engine_chan *ch)
{
	struct engine *e = ch->e;

	loop_timer_stop(loop_of(e), &ch->deadline);
	if (ch->jl.tok) {
		pool_tok_put(e->env->pool, ch->jl.tok);
		ch->jl.tok = NULL;
	}
	json_object_put(ch->result);
	ch->result = NULL;
	ch->req = REQ_NONE;
	ch->late_mark = false;
	ch->pinged = false;
	ch->ping_answer = false;
	ch->ping_due = false;
	ch->idle_ping = false;
}

static void chan_close(struct engine_chan *ch)
{
	cookie_map_del(&ch->e->env->chans, &ch->cnode);
	chan_idle(ch);
	conn_close(ch->conn);
	ch->conn = NULL;
	ch->connected = false;
	ch->streaming = false;
	ch->suspect = false;
	ch->served = 0;
}

static void chan_retry_in(struct engine_chan *ch, unsigned int attempt)
{
	struct engine *e = ch->e;
	uint64_t delay = backoff_delay(attempt, BACKOFF_BASE_MS,
				       cfg_of(e)->backoff_max_ms, rand_u64());

	loop_timer_start(loop_of(e), &ch->retry, delay);
}

static void engine_down(struct engine *e, enum cause cause)
{
	chan_close(&e->poll);
	chan_close(&e->events);
	loop_timer_stop(loop_of(e), &e->events.retry);
	set_state(e, ENGINE_DOWN, cause);
	chan_retry_in(&e->poll, e->poll.attempts++);
}

static void chan_fail(struct engine_chan *ch, enum cause cause,
		      const char *fmt, ...)
{
	struct engine *e = ch->e;
	bool is_events = ch == &e->events;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->error, sizeof(e->error), fmt, ap);
	va_end(ap);
	e->env->stats.errors++;
	e->env->stats.errors_by_cause[cause]++;
	/* Retries of an engine already marked bad would only repeat it. */
	log_msg(e->state == ENGINE_DOWN || e->state == ENGINE_UNHEALTHY ?
		LOG_DEBUG : LOG_WARN, "engine %s: %s%s: %s", e->addr,
		is_events ? "events: " : "", cause_name(cause), e->error);
	chan_close(ch);
	ch->resend = false;
	if (cause_is_down(cause)) {
		e->failures++;
		engine_down(e, cause);
		return;
	}
	if (is_events) {
		/* A broken stream is retried; it is no verdict on the engine. */
		chan_retry_in(ch, ch->attempts++);
		return;
	}
	e->failures++;
	if (e->failures >= cfg_of(e)->failure_retry)
		set_state(e, ENGINE_UNHEALTHY, cause);
	chan_retry_in(ch, e->failures - 1);
}

static void engine_error(struct engine_chan *ch, int err)
{
	struct conn *c = ch->conn;
	enum cause cause = CAUSE_NONE;
	char why[160];

	/*
	 * The kernel wakes us for a dead socket's error before it sends its
	 * DEAD event: read that first, so that the cause is the kernel's.
	 */
	if (c && ch->connected) {
		kevents_drain(ch->e->env->kev);
		if (ch->conn != c)
			return;
	}
	if (ch->conn)
		cause = conn_error_cause(ch->conn, err, why, sizeof(why));
	if (cause != CAUSE_NONE)
		chan_fail(ch, cause, "%s", why);
	else
		chan_fail(ch, cause_from_errno(err, ch->connected), "%s",
			  strerror(-err));
}

static int chan_json_value(void *arg, struct json_object *obj);
static int chan_body(void *arg, const char *data, size_t len);

static void chan_send(struct engine_chan *ch, enum engine_req req,
		      const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The answer to @req is what comes next on the connection. */
static void chan_expect(struct engine_chan *ch, enum engine_req req)
{
	const struct engine_cfg *cfg = cfg_of(ch->e);

	ch->req = req;
	ch->tls_port = false;
	http_resp_init(&ch->resp, cfg->max_body, req == REQ_EVENTS, false,
		       chan_body, ch);
	/* The tokener is lent by the pool when the body starts. */
	jsonl_init(&ch->jl, NULL,
		   req == REQ_EVENTS ? ENGINE_MAX_EVENT_BYTES : cfg->max_body,
		   chan_json_value, ch);
}

/* 0, or -errno after the channel failed. */
static int chan_write_get(struct engine_chan *ch, const char *path)
{
	struct engine *e = ch->e;
	char buf[512];
	int n, err;

	n = http_request_format(buf, sizeof(buf), "GET", e->addr, path);
	if (n < 0) {
		chan_fail(ch, CAUSE_ERROR, "request too long");
		return n;
	}
	err = conn_write(ch->conn, buf, (size_t)n);
	if (err) {
		engine_error(ch, err);
		return err;
	}
	e->env->stats.requests++;
	e->requests++;
	return 0;
}

/* A request's deadline: a /_ping has its own, shorter one. */
static uint64_t req_timeout(const struct engine_chan *ch)
{
	const struct engine_cfg *cfg = cfg_of(ch->e);

	if (ch->req == REQ_PING && cfg->ping_timeout_ms &&
	    cfg->ping_timeout_ms < cfg->request_timeout_ms)
		return cfg->ping_timeout_ms;
	return cfg->request_timeout_ms;
}

static void chan_send(struct engine_chan *ch, enum engine_req req,
		      const char *fmt, ...)
{
	struct engine *e = ch->e;
	const struct engine_cfg *cfg = cfg_of(e);
	uint64_t late = cfg->late_ping_ms, timeout;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(ch->path, sizeof(ch->path), fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(ch->path)) {
		chan_fail(ch, CAUSE_ERROR, "request path too long");
		return;
	}
	chan_expect(ch, req);
	ch->ping_due = false;
	if (chan_write_get(ch, ch->path))
		return;
	/*
	 * One timer: first the late-ping mark, then the deadline. An idle
	 * ping needs no ping behind it: it is itself data to retransmit.
	 */
	timeout = req_timeout(ch);
	ch->late_mark = req != REQ_EVENTS && !ch->idle_ping && late &&
			late < timeout;
	loop_timer_start(loop_of(e), &ch->deadline,
			 ch->late_mark ? late : timeout);
}

/*
 * The answer is late. With our request acknowledged and the answer lost
 * (a blackhole just then), the connection holds nothing of ours to
 * retransmit: no retransmission timeout, no SUSPECT from the kernel, and
 * the user timeout waits for keepalive. A /_ping pipelined behind the
 * request is data in flight again: one RTO later the kernel retransmits
 * it. A live engine answers both, in order (HTTP/1.1); the ping's answer
 * is read and checked like any other. Never on a suspect connection.
 */
static void late_ping(struct engine_chan *ch)
{
	struct engine *e = ch->e;

	if (ch->suspect || ch->pinged || !ch->connected)
		return;
	if (chan_write_get(ch, "/_ping"))
		return;
	ch->pinged = true;
	e->env->stats.late_pings++;
}

/* The request was answered: now the answer of the ping behind it. */
static void await_ping(struct engine_chan *ch)
{
	chan_expect(ch, REQ_PING);
	snprintf(ch->path, sizeof(ch->path), "/_ping");
	ch->ping_answer = true;
	loop_timer_start(loop_of(ch->e), &ch->deadline, req_timeout(ch));
}

/*
 * The polling connection has nothing to ask: its deadline timer waits for
 * the next liveness ping. Not on a suspect connection, whose retransmits
 * the kernel reports (a request would only queue behind them).
 */
static void ping_wait(struct engine_chan *ch)
{
	uint64_t interval = cfg_of(ch->e)->ping_interval_ms;

	if (!interval || !ch->connected || ch->suspect || ch->req != REQ_NONE ||
	    ch->ping_due)
		return;
	ch->ping_due = !loop_timer_start(loop_of(ch->e), &ch->deadline,
					 interval);
}

/* Idle for --ping-interval: is the engine still answering? */
static void idle_ping(struct engine_chan *ch)
{
	struct engine *e = ch->e;

	ch->ping_due = false;
	if (!ch->connected || ch->suspect || ch->req != REQ_NONE)
		return;
	ch->idle_ping = true;
	e->env->stats.pings++;
	chan_send(ch, REQ_PING, "/_ping");
}

static void schedule_refresh(struct engine *e)
{
	const struct engine_cfg *cfg = cfg_of(e);

	loop_timer_start(loop_of(e), &e->refresh,
			 rand_range(cfg->refresh_min_ms, cfg->refresh_max_ms));
}

static void forget_engine(struct engine *e)
{
	inventory_clear(&e->inv);
	docker_info_clear(&e->info);
	memset(&e->version, 0, sizeof(e->version));
}

static int handle_ping(struct engine *e, struct engine_chan *ch)
{
	const char *v = ch->resp.api_version;

	/* Without the header, unversioned paths get the daemon's default. */
	if (!v[0]) {
		e->api_prefix[0] = '\0';
		return 0;
	}
	if (!docker_api_version_valid(v))
		return -EPROTO;
	snprintf(e->api_prefix, sizeof(e->api_prefix), "/v%s", v);
	return 0;
}

/* Takes @obj. */
static int handle_info(struct engine *e, struct json_object *obj)
{
	struct docker_info info;
	int err;

	err = docker_info_parse(obj, &info);
	if (err)
		return err;
	if (e->info.id[0] && strcmp(e->info.id, info.id)) {
		snprintf(e->error, sizeof(e->error), "ID %.60s -> %.60s",
			 e->info.id, info.id);
		forget_engine(e);
		set_state(e, ENGINE_PENDING, CAUSE_ID_CHANGE);
		e->work |= W_CONTAINERS;
	}
	docker_info_clear(&e->info);
	e->info = info;
	return 0;
}

/* A request's work is done only when its answer was good. */
static int handle_result(struct engine *e, struct engine_chan *ch)
{
	struct docker_version version;
	unsigned int done;
	int err;

	switch (ch->req) {
	case REQ_PING:
		err = handle_ping(e, ch);
		done = W_PING;
		break;
	case REQ_VERSION:
		err = docker_version_parse(ch->result, &version);
		if (!err)
			e->version = version;
		done = W_VERSION;
		break;
	case REQ_INFO:
		err = handle_info(e, ch->result);
		ch->result = NULL;
		if (!err)
			e->info_due = loop_now(loop_of(e)) +
				      cfg_of(e)->info_interval_ms;
		done = W_INFO;
		break;
	case REQ_CONTAINERS:
		err = inventory_replace(&e->inv, ch->result);
		ch->result = NULL;
		if (!err) {
			e->refreshed_ms = wall_ms();
			schedule_refresh(e);
			pace_done(&e->pace, &e->inv);
		}
		done = W_CONTAINERS;
		break;
	case REQ_CONTAINER:
		err = inventory_update(&e->inv, ch->result);
		ch->result = NULL;
		if (!err)
			pace_done(&e->pace, &e->inv);
		done = W_TARGETED;
		break;
	default:
		return -EPROTO;
	}
	if (!err)
		e->work &= ~done;
	return err;
}

static void poll_complete(struct engine *e, struct engine_chan *ch)
{
	unsigned int status = http_resp_status(&ch->resp);
	bool keep_alive = ch->resp.keep_alive;
	bool pinged = ch->pinged;
	int err;

	loop_timer_stop(loop_of(e), &ch->deadline);
	if (ch->tls_port) {
		chan_fail(ch, CAUSE_TLS_REQUIRED,
			  "the engine wants TLS on this port: plain HTTP refused (use --tls)");
		return;
	}
	if (status != 200) {
		chan_fail(ch, CAUSE_STATUS, "GET %s: HTTP %u", ch->path, status);
		return;
	}
	if (ch->req != REQ_PING && !ch->result) {
		chan_fail(ch, CAUSE_PROTOCOL, "GET %s: empty body", ch->path);
		return;
	}
	err = handle_result(e, ch);
	if (err) {
		chan_fail(ch, CAUSE_PROTOCOL, "GET %s: unexpected answer (%s)",
			  ch->path, strerror(-err));
		return;
	}
	chan_idle(ch);
	ch->served++;
	/* Closing: the daemon never reads the ping behind, if any. */
	if (!keep_alive)
		chan_close(ch);
	else if (pinged)
		await_ping(ch);
	e->failures = 0;
	if (!(e->work & W_CYCLE) && e->state != ENGINE_HEALTHY &&
	    !e->poll.suspect && !e->events.suspect) {
		e->poll.attempts = 0;
		set_state(e, ENGINE_HEALTHY, CAUSE_NONE);
		e->error[0] = '\0';
	}
	if (e->state == ENGINE_HEALTHY && cfg_of(e)->events &&
	    !e->events.conn && !loop_timer_active(&e->events.retry))
		events_open(e);
	poll_next(e);
}

static void handle_event(struct engine *e, const struct docker_event *ev,
			 struct json_object *raw)
{
	if (e->env->observer)
		e->env->observer->container(e->env->observer->arg, e, ev, raw);
	if (strcmp(ev->type, "container"))
		return;
	log_debug("engine %s: container %.12s %s", e->addr, ev->id,
		  ev->action);
	pace_event(&e->pace, &e->inv, ev);
}

/* Events want containers refreshed now (pace.c). */
static void pace_fire(struct pace *p, bool full)
{
	struct engine *e = container_of(p, struct engine, pace);

	e->work |= full ? W_CONTAINERS : W_TARGETED;
	poll_next(e);
}

/* Events flood: the stream is read again when the pace allows. */
static void pace_hold(struct pace *p, bool on)
{
	struct engine *e = container_of(p, struct engine, pace);

	if (e->events.conn && conn_read_pause(e->events.conn, on))
		chan_fail(&e->events, CAUSE_ERROR, "events: cannot %s reading",
			  on ? "pause" : "resume");
}

static const struct pace_ops pace_ops = {
	.fire = pace_fire,
	.hold = pace_hold,
};

static int chan_json_value(void *arg, struct json_object *obj)
{
	struct engine_chan *ch = arg;
	struct docker_event ev;

	if (ch->req == REQ_EVENTS) {
		int err = docker_event_parse(obj, &ev);

		if (!err)
			handle_event(ch->e, &ev, obj);
		json_object_put(obj);
		if (err)
			return err;
		/* The refresh it started may have found the engine down. */
		return ch->conn ? 0 : -ECANCELED;
	}
	if (ch->result) {
		json_object_put(obj);
		return -EPROTO;
	}
	ch->result = obj;
	return 0;
}

static int chan_body(void *arg, const char *data, size_t len)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	struct pool *pool = e->env->pool;
	int err;

	/* Go's TLS server answers plain HTTP so, as dockerd --tls does. */
	if (!e->env->tls && http_resp_status(&ch->resp) == 400 &&
	    memmem(data, len, GO_PLAIN_TO_TLS, sizeof(GO_PLAIN_TO_TLS) - 1))
		ch->tls_port = true;
	/* The ping says "OK"; error bodies are not worth parsing. */
	if (ch->req == REQ_PING || http_resp_status(&ch->resp) != 200)
		return 0;
	if (!ch->jl.tok) {
		ch->jl.tok = pool_tok_get(pool);
		if (!ch->jl.tok)
			return -ENOMEM;
	}
	err = jsonl_feed(&ch->jl, data, len);
	/* A quiet stream holds no tokener between its events. */
	if (!err && ch->req == REQ_EVENTS && !jsonl_partial(&ch->jl)) {
		pool_tok_put(pool, ch->jl.tok);
		ch->jl.tok = NULL;
	}
	return err;
}

static void events_headers(struct engine *e, struct engine_chan *ch)
{
	unsigned int status = http_resp_status(&ch->resp);

	if (status != 200) {
		chan_fail(ch, CAUSE_STATUS, "GET %s: HTTP %u", ch->path, status);
		return;
	}
	/* The stream may stay silent for hours: keepalive watches it now. */
	loop_timer_stop(loop_of(e), &ch->deadline);
	ch->streaming = true;
	ch->attempts = 0;
}

static void events_data(struct engine *e, struct engine_chan *ch)
{
	if (!ch->streaming && ch->resp.headers_done) {
		events_headers(e, ch);
		if (!ch->conn)
			return;
	}
	if (ch->resp.complete) {
		/* The daemon ended the stream: come back later. */
		chan_close(ch);
		chan_retry_in(ch, ch->attempts++);
	}
}

static void chan_data(void *arg, const char *buf, size_t len)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	ssize_t used;

	if (ch->req == REQ_NONE) {
		chan_fail(ch, CAUSE_PROTOCOL, "data without a request");
		return;
	}
	e->alive_ms = loop_now(loop_of(e));
	for (;;) {
		used = http_resp_feed(&ch->resp, buf, len);
		if (!ch->conn)
			return;
		if (used < 0) {
			chan_fail(ch, used == -EMSGSIZE || used == -EPROTO ?
				  CAUSE_PROTOCOL : CAUSE_ERROR, "GET %s: %s",
				  ch->path, ch->resp.error ? ch->resp.error :
				  ch->jl.error ? ch->jl.error :
				  strerror((int)-used));
			return;
		}
		if (ch->req == REQ_EVENTS) {
			events_data(e, ch);
			return;
		}
		if (!ch->resp.complete)
			return;
		/* Only the answer to a pipelined ping may follow. */
		if ((size_t)used < len && !ch->pinged) {
			chan_fail(ch, CAUSE_PROTOCOL,
				  "GET %s: data after the response", ch->path);
			return;
		}
		if (jsonl_partial(&ch->jl)) {
			chan_fail(ch, CAUSE_PROTOCOL, "GET %s: truncated JSON",
				  ch->path);
			return;
		}
		poll_complete(e, ch);
		if ((size_t)used == len || !ch->conn)
			return;
		buf += used;
		len -= (size_t)used;
	}
}

static void chan_eof(void *arg)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;
	int err;

	if (ch->req == REQ_EVENTS && ch->streaming) {
		chan_close(ch);
		chan_retry_in(ch, ch->attempts++);
		return;
	}
	/* An idle keep-alive connection closed: the next request reconnects. */
	if (ch->req == REQ_NONE) {
		chan_close(ch);
		return;
	}
	/* Or closed after an answer, before the late ping's: the same. */
	if (ch->ping_answer && !ch->resp.header_bytes) {
		chan_close(ch);
		poll_next(e);
		return;
	}
	/*
	 * Closed as we reused it, before any byte of the answer: the daemon
	 * ended an idle connection just then. Not a failure; the request goes
	 * again on a new connection, which asks nothing more first, so that
	 * even a daemon closing after every answer makes progress.
	 */
	if (ch->served && !ch->resp.header_bytes) {
		chan_close(ch);
		ch->resend = true;
		poll_next(e);
		return;
	}
	err = http_resp_eof(&ch->resp);
	if (err || ch->req == REQ_EVENTS) {
		chan_fail(ch, CAUSE_CLOSED, "GET %s: closed before the answer",
			  ch->path);
		return;
	}
	chan_data(ch, NULL, 0);
}

static void chan_error(void *arg, int err)
{
	engine_error(arg, err);
}

static void chan_connected(void *arg)
{
	struct engine_chan *ch = arg;
	struct engine *e = ch->e;

	ch->connected = true;
	/* Without memory for the index, kernel events miss this one only. */
	if (conn_cookie(ch->conn))
		cookie_map_add(&e->env->chans, &ch->cnode,
			       conn_cookie(ch->conn));
	if (ch == &e->events) {
		chan_send(ch, REQ_EVENTS,
			  "%s/events?filters=%%7B%%22type%%22%%3A%%5B%%22container%%22%%5D%%7D",
			  e->api_prefix);
		return;
	}
	/* A new connection may reach a new daemon: ask who it is. */
	if (!ch->resend)
		e->work |= W_PING | W_INFO;
	ch->resend = false;
	if (e->state != ENGINE_HEALTHY)
		e->work |= W_CYCLE;
	poll_next(e);
}

static const struct conn_cbs chan_cbs = {
	.connected = chan_connected,
	.data = chan_data,
	.eof = chan_eof,
	.error = chan_error,
};

static void chan_connect(struct engine_chan *ch)
{
	struct engine *e = ch->e;
	struct conn_opts opts = cfg_of(e)->conn;
	struct conn_transport *tr = NULL;
	int err = 0;

	opts.connect_timeout_ms = cfg_of(e)->request_timeout_ms;
	if (e->tls)
		err = tls_transport_new(&tr, e->tls);
	if (!err)
		err = conn_new(&ch->conn, loop_of(e), e->env->pool,
			       (struct sockaddr *)&e->sa, e->salen, &opts, tr,
			       &chan_cbs, ch);
	if (err) {
		ch->conn = NULL;
		engine_error(ch, err);
	}
}

static void resolved(void *arg, int err, const struct sockaddr *sa,
		     socklen_t salen)
{
	struct engine *e = arg;

	e->query = NULL;
	if (err) {
		chan_fail(&e->poll, CAUSE_DNS, "%s: %s", e->host,
			  err == -ENOENT ? "no such host" : "lookup failed");
		return;
	}
	memcpy(&e->sa, sa, salen);
	e->salen = salen;
	chan_connect(&e->poll);
}

static void poll_open(struct engine *e)
{
	int err;

	if (e->literal) {
		chan_connect(&e->poll);
		return;
	}
	/* Names are looked up again on every new connection. */
	err = resolver_lookup(e->env->resolver, e->host, e->port, resolved, e,
			      &e->query);
	if (err)
		chan_retry_in(&e->poll, e->poll.attempts++);
}

/* The containers events want refreshed, in one filtered listing. */
static void poll_targeted(struct engine *e, struct engine_chan *ch)
{
	char filter[200];
	int n = inventory_filter(&e->inv, filter, sizeof(filter));

	if (n > 0) {
		chan_send(ch, REQ_CONTAINER,
			  "%s/containers/json?all=1&filters=%s", e->api_prefix,
			  filter);
		return;
	}
	/* Answered by a full listing meanwhile; or, too long, one is due. */
	e->work &= ~W_TARGETED;
	if (n < 0)
		e->work |= W_CONTAINERS;
	else
		pace_done(&e->pace, &e->inv);
	poll_next(e);
}

static void poll_next(struct engine *e)
{
	struct engine_chan *ch = &e->poll;
	const char *p = e->api_prefix;

	if (!ch->conn) {
		if (e->work && !e->query && !loop_timer_active(&ch->retry))
			poll_open(e);
		return;
	}
	if (!ch->connected || ch->req != REQ_NONE || ch->suspect)
		return;
	if (!e->work)
		ping_wait(ch);
	else if (e->work & W_PING)
		chan_send(ch, REQ_PING, "/_ping");
	else if (e->work & W_VERSION)
		chan_send(ch, REQ_VERSION, "%s/version", p);
	else if (e->work & W_INFO)
		chan_send(ch, REQ_INFO, "%s/info", p);
	else if (e->work & W_CONTAINERS) {
		inventory_sent_all(&e->inv);
		chan_send(ch, REQ_CONTAINERS, "%s/containers/json?all=1", p);
	} else if (e->work & W_TARGETED)
		poll_targeted(e, ch);
}

static void deadline_fn(struct loop_timer *t)
{
	struct engine_chan *ch = container_of(t, struct engine_chan, deadline);
	const struct engine_cfg *cfg = cfg_of(ch->e);
	char d[32];

	if (ch->ping_due) {
		idle_ping(ch);
		return;
	}
	if (ch->late_mark) {
		ch->late_mark = false;
		loop_timer_start(loop_of(ch->e), &ch->deadline,
				 req_timeout(ch) - cfg->late_ping_ms);
		late_ping(ch);
		return;
	}
	duration_format(req_timeout(ch), d, sizeof(d));
	/* A ping asks nothing but "are you there?": its own cause. */
	chan_fail(ch, ch->req == REQ_PING ? CAUSE_PING_TIMEOUT : CAUSE_DEADLINE,
		  "GET %s: no answer within %s", ch->path, d);
}

static void poll_retry_fn(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine, poll.retry);

	e->work |= W_PING;
	poll_next(e);
}

static void events_retry_fn(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine, events.retry);

	if (e->state == ENGINE_HEALTHY && !e->events.conn)
		events_open(e);
}

static void events_open(struct engine *e)
{
	chan_connect(&e->events);
}

static void refresh_fn(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine, refresh);

	e->work |= W_CONTAINERS;
	if (loop_now(loop_of(e)) >= e->info_due)
		e->work |= W_VERSION | W_INFO;
	poll_next(e);
}

static void chan_init(struct engine *e, struct engine_chan *ch,
		      loop_timer_fn retry_fn)
{
	ch->e = e;
	loop_timer_init(&ch->deadline, deadline_fn);
	loop_timer_init(&ch->retry, retry_fn);
}

int engine_new(struct engine **ep, struct engine_env *env, const char *addr)
{
	struct engine *e;
	const char *why;
	int err;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->env = env;
	e->addr = strdup(addr);
	err = e->addr ? hostport_parse(addr, e->host, sizeof(e->host),
				       &e->port, &why) : -ENOMEM;
	if (err)
		goto err;
	e->literal = host_is_literal(e->host);
	if (env->tls) {
		err = tls_peer_new(&e->tls, env->tls, e->host);
		if (err)
			goto err;
	}
	if (e->literal) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&e->sa;
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&e->sa;

		if (inet_pton(AF_INET, e->host, &s4->sin_addr) == 1) {
			s4->sin_family = AF_INET;
			s4->sin_port = htons(e->port);
			e->salen = sizeof(*s4);
		} else {
			inet_pton(AF_INET6, e->host, &s6->sin6_addr);
			s6->sin6_family = AF_INET6;
			s6->sin6_port = htons(e->port);
			e->salen = sizeof(*s6);
		}
	}
	e->state = ENGINE_PENDING;
	e->since_ms = wall_ms();
	chan_init(e, &e->poll, poll_retry_fn);
	chan_init(e, &e->events, events_retry_fn);
	loop_timer_init(&e->refresh, refresh_fn);
	pace_init(&e->pace, env->loop, &env->events, e->addr, &pace_ops);
	*ep = e;
	return 0;

err:
	tls_peer_free(e->tls);
	free(e->addr);
	free(e);
	return err;
}

struct engine *engine_by_cookie(struct engine_env *env, uint64_t cookie)
{
	struct cookie_node *node = cookie_map_find(&env->chans, cookie);

	return node ? container_of(node, struct engine_chan, cnode)->e : NULL;
}

static struct engine_chan *chan_of(struct engine *e, uint64_t cookie)
{
	if (cookie && engine_cookie(e) == cookie)
		return &e->poll;
	if (cookie && engine_events_cookie(e) == cookie)
		return &e->events;
	return NULL;
}

int engine_kernel_suspect(struct engine *e, uint64_t cookie, bool on)
{
	struct engine_chan *ch = chan_of(e, cookie);

	if (!ch)
		return -ENOENT;
	ch->suspect = on;
	if (on && e->state == ENGINE_HEALTHY) {
		snprintf(e->error, sizeof(e->error), "%s connection retransmits",
			 ch == &e->poll ? "polling" : "events");
		set_state(e, ENGINE_SUSPECT, CAUSE_KERNEL_SUSPECT);
	} else if (!on && e->state == ENGINE_SUSPECT && !e->poll.suspect &&
		   !e->events.suspect) {
		e->error[0] = '\0';
		set_state(e, ENGINE_HEALTHY, CAUSE_NONE);
	}
	/* What waited for the retransmits to end: work, or the next ping. */
	if (!on && ch == &e->poll)
		poll_next(e);
	return 0;
}

int engine_conn_failed(struct engine *e, uint64_t cookie, enum cause cause,
		       const char *why)
{
	struct engine_chan *ch = chan_of(e, cookie);

	if (!ch)
		return -ENOENT;
	chan_fail(ch, cause, "%s", why);
	return 0;
}

void engine_start(struct engine *e)
{
	e->work = W_CYCLE;
	poll_next(e);
}

void engine_remove(struct engine *e)
{
	e->error[0] = '\0';
	set_state(e, ENGINE_REMOVED, CAUSE_DISCOVERY);
	engine_free(e);
}

void engine_free(struct engine *e)
{
	if (!e)
		return;
	chan_close(&e->poll);
	chan_close(&e->events);
	loop_timer_stop(loop_of(e), &e->poll.retry);
	loop_timer_stop(loop_of(e), &e->events.retry);
	loop_timer_stop(loop_of(e), &e->refresh);
	pace_stop(&e->pace);
	resolver_cancel(e->query);
	forget_engine(e);
	tls_peer_free(e->tls);
	free(e->addr);
	free(e);
}
