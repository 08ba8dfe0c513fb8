// SPDX-License-Identifier: GPL-2.0
/*
 * An HTTP/1.1 channel: one request at a time on a kept-alive connection,
 * its answer or its stream of JSON values, and its one deadline timer,
 * whose meaning (channel_timer) follows the channel's state: the next
 * liveness ping while idle; the late-ping mark, then the deadline, while
 * asked; nothing while a stream flows (keepalive watches it then).
 *
 * The late ping: with our request acknowledged and the answer lost (a
 * blackhole just then), the connection holds nothing of ours to
 * retransmit: no retransmission timeout, no word from the kernel, and the
 * user timeout waits for keepalive. A ping pipelined behind the request is
 * data in flight again: one RTO later the kernel retransmits it. A live
 * peer answers both, in order (HTTP/1.1); the ping's answer is read and
 * reported like any other. Never on a suspect connection, whose
 * retransmits the kernel reports (a request would only queue behind them).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "channel.h"
#include "container_of.h"
#include "duration.h"
#include "pool.h"
#include "tls.h"

/* The body of Go's answer to plain HTTP on a TLS port (dockerd, etcd). */
#define GO_PLAIN_TO_TLS "Client sent an HTTP request to an HTTPS server."

_Static_assert(sizeof(struct channel_flight) <= POOL_STATE_SIZE,
	       "a request's state must fit the pool's");
_Static_assert(sizeof(struct channel_park) <= POOL_SMALL_SIZE,
	       "a parked stream's state must fit the pool's small ones");

static void fail(struct channel *ch, enum cause cause, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static struct loop *loop_of(const struct channel *ch)
{
	return ch->env->loop;
}

static const struct channel_cfg *cfg_of(const struct channel *ch)
{
	return &ch->env->cfg;
}

/* Of what is asked: a byte kept, not the owner's pointer. */
static const char *method_of(const struct channel *ch)
{
	return ch->post ? "POST" : "GET";
}

uint64_t channel_cookie(const struct channel *ch)
{
	return channel_connected(ch) ? conn_cookie(ch->conn) : 0;
}

int channel_fd(const struct channel *ch)
{
	return channel_connected(ch) ? conn_fd(ch->conn) : -1;
}

struct channel *channel_by_cookie(struct channel_env *env, uint64_t cookie)
{
	struct cookie_node *node = cookie_map_find(&env->conns, cookie);

	return node ? container_of(node, struct channel, cnode) : NULL;
}

static void set_timer(struct channel *ch, enum channel_timer what,
		      uint64_t ms)
{
	ch->timer = loop_timer_start(loop_of(ch), &ch->deadline, ms) ?
		    CHANNEL_TIMER_OFF : what;
}

static void stop_timer(struct channel *ch)
{
	loop_timer_stop(loop_of(ch), &ch->deadline);
	ch->timer = CHANNEL_TIMER_OFF;
}

/* Gives back what a request holds; the connection itself stays. */
static void go_idle(struct channel *ch)
{
	struct channel_flight *fl = ch->parked ? NULL : ch->fl;

	stop_timer(ch);
	if (ch->parked) {
		pool_state_put(ch->env->pool, ch->park);
		ch->park = NULL;
		ch->parked = false;
	} else if (fl) {
		pool_tok_put(ch->env->pool, fl->jl.tok);
		fl->jl.tok = NULL;
		json_object_put(fl->result);
		fl->result = NULL;
		/* The parser is still in it: on_data() gives it back. */
		if (!ch->feeding) {
			pool_state_put(ch->env->pool, fl);
			ch->fl = NULL;
		}
	}
	ch->ping_behind = false;
	if (channel_connected(ch))
		ch->state = CHANNEL_IDLE;
}

void channel_close(struct channel *ch)
{
	cookie_map_del(&ch->env->conns, &ch->cnode);
	go_idle(ch);
	conn_close(ch->conn);
	ch->conn = NULL;
	ch->state = CHANNEL_CLOSED;
	ch->suspect = false;
	ch->served = 0;
}

static void fail(struct channel *ch, enum cause cause, const char *fmt, ...)
{
	char why[160];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	channel_close(ch);
	ch->ops->failed(ch->arg, cause, why);
}

static void conn_failed(struct channel *ch, int err)
{
	struct conn *c = ch->conn;
	bool connected = channel_connected(ch);
	enum cause cause = CAUSE_NONE;
	char why[160];

	/*
	 * The kernel wakes us for a dead socket's error before it sends its
	 * DEAD event: hear that first, so that the cause is the kernel's.
	 */
	if (c && connected && ch->env->catch_up) {
		ch->env->catch_up(ch->env->catch_up_arg);
		if (ch->conn != c)
			return;
	}
	if (ch->conn)
		cause = conn_error_cause(ch->conn, err, why, sizeof(why));
	if (cause != CAUSE_NONE)
		fail(ch, cause, "%s", why);
	else
		fail(ch, cause_from_errno(err, connected), "%s", strerror(-err));
}

/* A request's deadline: a ping has its own, shorter one. */
static uint64_t req_timeout(const struct channel *ch)
{
	const struct channel_cfg *cfg = cfg_of(ch);

	if (ch->mode == CHANNEL_PING && cfg->ping_timeout_ms &&
	    cfg->ping_timeout_ms < cfg->request_timeout_ms)
		return cfg->ping_timeout_ms;
	return cfg->request_timeout_ms;
}

static int on_value(void *arg, struct json_object *obj)
{
	struct channel *ch = arg;
	struct conn *c = ch->conn;
	int err;

	if (ch->mode == CHANNEL_STREAM) {
		err = ch->ops->event(ch->arg, obj);
		json_object_put(obj);
		if (err)
			return err;
		/* The owner may have closed it. */
		return ch->conn == c ? 0 : -ECANCELED;
	}
	if (ch->fl->result) {
		json_object_put(obj);
		return -EPROTO;
	}
	ch->fl->result = obj;
	return 0;
}

static int on_body(void *arg, const char *data, size_t len)
{
	struct channel *ch = arg;
	struct pool *pool = ch->env->pool;
	struct jsonl *jl = &ch->fl->jl;
	unsigned int status = http_resp_status(&ch->fl->resp);
	int err;

	if (!ch->tls && status == 400 &&
	    memmem(data, len, GO_PLAIN_TO_TLS, sizeof(GO_PLAIN_TO_TLS) - 1))
		ch->tls_port = true;
	/*
	 * A ping's body says nothing more; error bodies are worth reading
	 * only to an owner whose peer explains itself there.
	 */
	if (ch->mode == CHANNEL_PING ||
	    (status != 200 && !(ch->mode == CHANNEL_ANSWER &&
				cfg_of(ch)->error_bodies)))
		return 0;
	if (ch->mode == CHANNEL_RAW)
		return ch->ops->body(ch->arg, data, len);
	if (!jl->tok) {
		jl->tok = pool_tok_get(pool);
		if (!jl->tok)
			return -ENOMEM;
	}
	err = jsonl_feed(jl, data, len);
	/* A quiet stream holds no tokener between its events. */
	if (!err && ch->mode == CHANNEL_STREAM && !jsonl_partial(jl)) {
		pool_tok_put(pool, jl->tok);
		jl->tok = NULL;
	}
	return err;
}

/* The bound of one value of the body: a stream's, or the whole body's. */
static size_t max_value(const struct channel *ch, bool stream)
{
	return stream ? CHANNEL_MAX_STREAM_VALUE : cfg_of(ch)->max_body;
}

/*
 * The answer of @mode to @method @path is what comes next on the
 * connection, read with state the pool lends: 0, or -ENOMEM.
 */
static int expect(struct channel *ch, enum channel_mode mode,
		  const char *method, const char *path)
{
	const struct channel_cfg *cfg = cfg_of(ch);
	bool stream = mode == CHANNEL_STREAM;
	struct channel_flight *fl = ch->fl;

	if (!fl) {
		fl = pool_state_get(ch->env->pool);
		if (!fl)
			return -ENOMEM;
		ch->fl = fl;
	}
	ch->state = CHANNEL_ASKED;
	ch->mode = mode;
	ch->tls_port = false;
	ch->post = !strcmp(method, "POST");
	snprintf(fl->path, sizeof(fl->path), "%s", path);
	fl->result = NULL;
	http_resp_init(&fl->resp, cfg->max_body, stream, false, on_body, ch);
	/* The tokener is lent by the pool when the body starts. */
	jsonl_init(&fl->jl, NULL, max_value(ch, stream), on_value, ch);
	return 0;
}

/*
 * A flowing stream at the end of a value keeps only its channel_park:
 * its flight (and the tokener, given back at each value's end already)
 * goes back to the pool until bytes come. With no small state to spare,
 * it keeps its flight.
 */
static void park(struct channel *ch)
{
	struct channel_flight *fl = ch->fl;
	struct channel_park *pk;

	if (jsonl_partial(&fl->jl))
		return;
	pk = pool_small_get(ch->env->pool);
	if (!pk)
		return;
	pk->parser = fl->resp.parser;
	snprintf(pk->path, sizeof(pk->path), "%.*s",
		 (int)sizeof(pk->path) - 1, fl->path);
	pool_state_put(ch->env->pool, fl);
	ch->park = pk;
	ch->parked = true;
}

/* Bytes for a parked stream: its flight lent again, as it was. */
static int unpark(struct channel *ch)
{
	struct channel_park *pk = ch->park;
	struct channel_flight *fl = pool_state_get(ch->env->pool);

	if (!fl)
		return -ENOMEM;
	http_resp_resume(&fl->resp, &pk->parser, cfg_of(ch)->max_body,
			 on_body, ch);
	jsonl_init(&fl->jl, NULL, max_value(ch, true), on_value, ch);
	fl->result = NULL;
	snprintf(fl->path, sizeof(fl->path), "%s", pk->path);
	pool_state_put(ch->env->pool, pk);
	ch->fl = fl;
	ch->parked = false;
	return 0;
}

/* 0, or -errno after the channel failed. */
static int write_request(struct channel *ch, const char *method,
			 const char *path, const char *body, size_t body_len)
{
	char buf[512];
	int n, err;

	n = http_request_format_body(buf, sizeof(buf), method, ch->host, path,
				     body ? "application/json" : NULL,
				     body_len);
	if (n < 0) {
		fail(ch, CAUSE_ERROR, "request too long");
		return n;
	}
	err = conn_write(ch->conn, buf, (size_t)n);
	if (!err && body)
		err = conn_write(ch->conn, body, body_len);
	if (err) {
		conn_failed(ch, err);
		return err;
	}
	ch->ops->sent(ch->arg, CHANNEL_SENT_REQUEST);
	return 0;
}

/* An idle ping needs no late ping behind it: it is itself data in flight. */
static int ask(struct channel *ch, const struct channel_req *req,
	       bool idle_ping)
{
	uint64_t late = cfg_of(ch)->late_ping_ms, timeout;
	int err;

	if (strlen(req->path) >= CHANNEL_PATH_MAX) {
		fail(ch, CAUSE_ERROR, "request path too long");
		return -ENAMETOOLONG;
	}
	err = expect(ch, req->mode, req->method, req->path);
	if (err) {
		fail(ch, CAUSE_ERROR, "%s %s: no memory to read the answer",
		     req->method, req->path);
		return err;
	}
	err = write_request(ch, req->method, req->path, req->body,
			    req->body_len);
	if (err)
		return err;
	timeout = req_timeout(ch);
	if (req->mode != CHANNEL_STREAM && !idle_ping && late && late < timeout)
		set_timer(ch, CHANNEL_TIMER_LATE_MARK, late);
	else
		set_timer(ch, CHANNEL_TIMER_DEADLINE, timeout);
	return 0;
}

int channel_send(struct channel *ch, const struct channel_req *req)
{
	if (!channel_idle(ch))
		return -EBUSY;
	return ask(ch, req, false);
}

static void late_ping(struct channel *ch)
{
	const char *path = cfg_of(ch)->ping_path;

	if (ch->suspect || ch->ping_behind || !channel_connected(ch))
		return;
	if (write_request(ch, "GET", path, NULL, 0))
		return;
	ch->ping_behind = true;
	ch->ops->sent(ch->arg, CHANNEL_SENT_LATE_PING);
}

/*
 * The request was answered: now the answer of the ping behind it. With
 * no memory to read it, the connection closes, as if the peer had closed
 * it after the answer: the next request connects again.
 */
static void await_ping(struct channel *ch)
{
	if (expect(ch, CHANNEL_PING, "GET", cfg_of(ch)->ping_path)) {
		channel_close(ch);
		return;
	}
	ch->state = CHANNEL_PING_BEHIND;
	set_timer(ch, CHANNEL_TIMER_DEADLINE, req_timeout(ch));
}

void channel_wait_ping(struct channel *ch)
{
	uint64_t interval = cfg_of(ch)->ping_interval_ms;

	if (!interval || !channel_idle(ch) || ch->suspect ||
	    ch->timer == CHANNEL_TIMER_IDLE_PING)
		return;
	set_timer(ch, CHANNEL_TIMER_IDLE_PING, interval);
}

/* Idle for the ping interval: is the peer still answering? */
static void idle_ping(struct channel *ch)
{
	struct channel_req req = {
		.method = "GET",
		.path = cfg_of(ch)->ping_path,
		.mode = CHANNEL_PING,
	};

	if (!channel_idle(ch) || ch->suspect)
		return;
	ch->ops->sent(ch->arg, CHANNEL_SENT_IDLE_PING);
	ask(ch, &req, true);
}

void channel_set_suspect(struct channel *ch, bool on)
{
	ch->suspect = on;
}

int channel_read_pause(struct channel *ch, bool pause)
{
	return ch->conn ? conn_read_pause(ch->conn, pause) : 0;
}

static void deadline_fn(struct loop_timer *t)
{
	struct channel *ch = container_of(t, struct channel, deadline);
	enum channel_timer what = ch->timer;
	char d[32];

	ch->timer = CHANNEL_TIMER_OFF;
	switch (what) {
	case CHANNEL_TIMER_IDLE_PING:
		idle_ping(ch);
		return;
	case CHANNEL_TIMER_LATE_MARK:
		set_timer(ch, CHANNEL_TIMER_DEADLINE,
			  req_timeout(ch) - cfg_of(ch)->late_ping_ms);
		late_ping(ch);
		return;
	default:
		duration_format(req_timeout(ch), d, sizeof(d));
		/* A ping asks nothing but "are you there?": its own cause. */
		fail(ch, ch->mode == CHANNEL_PING ? CAUSE_PING_TIMEOUT :
		     CAUSE_DEADLINE, "%s %s: no answer within %s",
		     method_of(ch), ch->fl->path, d);
	}
}

/* A whole answer: the channel is ready for the next, then the owner told. */
static void answered(struct channel *ch)
{
	struct channel_flight *fl = ch->fl;
	struct channel_answer ans = {
		.method = method_of(ch),
		.status = http_resp_status(&fl->resp),
		.ping = ch->mode == CHANNEL_PING,
	};
	bool keep_alive = fl->resp.keep_alive, behind = ch->ping_behind;

	stop_timer(ch);
	if (ch->tls_port) {
		fail(ch, CAUSE_TLS_REQUIRED,
		     "the peer wants TLS on this port: plain HTTP refused");
		return;
	}
	snprintf(ans.path, sizeof(ans.path), "%s", fl->path);
	snprintf(ans.api_version, sizeof(ans.api_version), "%s",
		 fl->resp.api_version);
	ans.etcd_index = fl->resp.etcd_index;
	ans.body = fl->result;
	fl->result = NULL;
	go_idle(ch);
	ch->served++;
	/* Closing: the peer never reads the ping behind, if any. */
	if (!keep_alive)
		channel_close(ch);
	else if (behind)
		await_ping(ch);
	ch->ops->answer(ch->arg, &ans);
}

static void stream_data(struct channel *ch)
{
	struct conn *c = ch->conn;
	struct channel_flight *fl = ch->fl;
	struct channel_answer ans = { .method = method_of(ch) };

	if (ch->state == CHANNEL_ASKED && fl->resp.headers_done) {
		ans.status = http_resp_status(&fl->resp);
		ans.etcd_index = fl->resp.etcd_index;
		/* It may stay silent for hours: keepalive watches it now. */
		if (ans.status == 200) {
			stop_timer(ch);
			ch->state = CHANNEL_STREAMING;
		}
		snprintf(ans.path, sizeof(ans.path), "%s", fl->path);
		ch->ops->answer(ch->arg, &ans);
		if (ch->conn != c)
			return;
	}
	if (fl->resp.complete) {
		channel_close(ch);
		ch->ops->closed(ch->arg, CHANNEL_END_STREAM);
	}
}

static void on_data(void *arg, const char *buf, size_t len)
{
	struct channel *ch = arg;
	struct conn *c = ch->conn;
	struct channel_flight *fl;
	ssize_t used;

	if (ch->parked && unpark(ch)) {
		fail(ch, CAUSE_ERROR, "%s %s: no memory to read the stream",
		     method_of(ch), ch->park->path);
		return;
	}
	if (!ch->fl) {
		fail(ch, CAUSE_PROTOCOL, "data without a request");
		return;
	}
	ch->alive_ms = loop_now(loop_of(ch));
	for (;;) {
		/* Lent again for the ping behind an answer. */
		fl = ch->fl;
		ch->feeding = true;
		used = http_resp_feed(&fl->resp, buf, len);
		ch->feeding = false;
		if (ch->conn != c) {
			/* Closed by an event's owner, unless asked again since. */
			if (ch->fl && ch->state < CHANNEL_ASKED) {
				pool_state_put(ch->env->pool, ch->fl);
				ch->fl = NULL;
			}
			return;
		}
		if (used < 0) {
			fail(ch, used == -EMSGSIZE || used == -EPROTO ?
			     CAUSE_PROTOCOL : CAUSE_ERROR, "%s %s: %s",
			     method_of(ch), fl->path, fl->resp.error ?
			     fl->resp.error : fl->jl.error ? fl->jl.error :
			     strerror((int)-used));
			return;
		}
		if (ch->mode == CHANNEL_STREAM) {
			stream_data(ch);
			if (ch->conn == c && ch->state == CHANNEL_STREAMING)
				park(ch);
			return;
		}
		if (!fl->resp.complete)
			return;
		/* Only the answer to a pipelined ping may follow. */
		if ((size_t)used < len && !ch->ping_behind) {
			fail(ch, CAUSE_PROTOCOL, "%s %s: data after the response",
			     method_of(ch), fl->path);
			return;
		}
		if (jsonl_partial(&fl->jl)) {
			fail(ch, CAUSE_PROTOCOL, "%s %s: truncated JSON",
			     method_of(ch), fl->path);
			return;
		}
		answered(ch);
		if ((size_t)used == len || ch->conn != c)
			return;
		buf += used;
		len -= (size_t)used;
	}
}

static void end(struct channel *ch, enum channel_end how)
{
	channel_close(ch);
	ch->ops->closed(ch->arg, how);
}

static void on_eof(void *arg)
{
	struct channel *ch = arg;
	struct channel_flight *fl = ch->fl;

	if (ch->state == CHANNEL_STREAMING) {
		end(ch, CHANNEL_END_STREAM);
		return;
	}
	/* An idle keep-alive connection closed: the next request reconnects. */
	if (ch->state == CHANNEL_IDLE || !fl) {
		end(ch, CHANNEL_END_IDLE);
		return;
	}
	/* Or closed after an answer, before the late ping's: the same. */
	if (ch->state == CHANNEL_PING_BEHIND && !fl->resp.header_bytes) {
		end(ch, CHANNEL_END_ANSWERED);
		return;
	}
	/*
	 * Closed as we reused it, before any byte of the answer: the peer
	 * ended an idle connection just then. Not a failure.
	 */
	if (ch->served && !fl->resp.header_bytes) {
		end(ch, CHANNEL_END_UNANSWERED);
		return;
	}
	if (http_resp_eof(&fl->resp) || ch->mode == CHANNEL_STREAM) {
		fail(ch, CAUSE_CLOSED, "%s %s: closed before the answer",
		     method_of(ch), fl->path);
		return;
	}
	on_data(ch, NULL, 0);
}

static void on_error(void *arg, int err)
{
	conn_failed(arg, err);
}

static void on_connected(void *arg)
{
	struct channel *ch = arg;

	ch->state = CHANNEL_IDLE;
	/* Without memory for the index, kernel events miss this one only. */
	if (conn_cookie(ch->conn))
		cookie_map_add(&ch->env->conns, &ch->cnode,
			       conn_cookie(ch->conn));
	ch->ops->connected(ch->arg);
}

static const struct conn_cbs channel_cbs = {
	.connected = on_connected,
	.data = on_data,
	.eof = on_eof,
	.error = on_error,
};

void channel_connect(struct channel *ch, const struct sockaddr *sa,
		     socklen_t salen, struct tls_peer *peer)
{
	struct conn_opts opts = cfg_of(ch)->conn;
	struct conn_transport *tr = NULL;
	int err = 0;

	opts.connect_timeout_ms = cfg_of(ch)->request_timeout_ms;
	ch->tls = peer;
	ch->state = CHANNEL_CONNECTING;
	if (peer)
		err = tls_transport_new(&tr, peer);
	if (!err)
		err = conn_new(&ch->conn, loop_of(ch), ch->env->pool, sa, salen,
			       &opts, tr, &channel_cbs, ch);
	if (err) {
		ch->conn = NULL;
		conn_failed(ch, err);
	}
}

void channel_init(struct channel *ch, struct channel_env *env,
		  const char *host, const struct channel_ops *ops, void *arg)
{
	ch->env = env;
	ch->host = host;
	ch->ops = ops;
	ch->arg = arg;
	ch->fl = NULL;
	ch->parked = false;
	loop_timer_init(&ch->deadline, deadline_fn);
}
