// SPDX-License-Identifier: GPL-2.0
/*
 * A client of etcd v3's JSON gateway on the agent's loop: HTTP/1.1 POSTs
 * over conn.c (TCP, or TLS as etcdctl speaks it), answers parsed by
 * http.c and jsonl.c as their bytes arrive, bounded, and checked by
 * etcd_msg.c. Unary calls queue on one keep-alive connection, one at a
 * time; each stream (a watch) has a connection of its own. All of them
 * use the current endpoint; any failure moves to the next one, so a dead
 * member costs one failed call. The client never retries a call itself:
 * whether a write may be repeated is the caller's business.
 *
 * Why /v3/lease/keepalive is a call and not a stream: over HTTP/1.1, Go's
 * server may no longer read a request body once the answer has begun, so
 * the gateway cannot take a second keepalive on a stream that answered
 * the first. Each keepalive is one POST with its own body on the
 * keep-alive connection; etcd answers it, then sees the end of the body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conn.h"
#include "container_of.h"
#include "etcd.h"
#include "etcd_msg.h"
#include "http.h"
#include "jsonl.h"
#include "loop.h"
#include "resolver.h"
#include "tls.h"

#define ETCD_JSON_DEPTH		32
/* A request must fit the connection's one pending buffer (pool.h). */
#define ETCD_MAX_REQUEST	4096

struct etcd_call {
	struct etcd_call *next;
	char path[32];
	char *req;			/* the whole HTTP request */
	size_t reqlen;
	etcd_done_fn fn;
	void *arg;
};

/* One HTTP connection and the answer being read on it. */
struct etcd_chan {
	struct etcd *e;
	struct conn *conn;
	struct tls_peer *peer;
	struct resolver_query *query;
	bool stream;
	struct http_resp resp;
	json_tokener *tok;
	struct jsonl jl;
	struct json_object *answer;	/* a call's, once complete */
	struct loop_timer deadline;
	char error[200];		/* an HTTP error's body, in short */
	size_t nerror;
	char *pending;			/* the request, until connected */
	size_t npending;
};

struct etcd_stream {
	struct etcd_chan ch;
	etcd_msg_fn msg;
	etcd_end_fn end;
	void *arg;
	bool ended;
};

/* A queue of calls and the connection they go on, one at a time. */
struct etcd_lane {
	struct etcd_chan ch;
	bool busy;			/* the head call is in flight */
	struct etcd_call *head, *tail;
	struct loop_timer kick_timer;
};

/* Keepalives have a lane of their own: never behind a train of writes. */
enum { LANE_CALLS, LANE_URGENT, LANES };

struct etcd {
	struct loop *loop;
	struct pool *pool;
	struct resolver *resolver;
	struct etcd_cfg cfg;
	unsigned int cur;		/* the endpoint in use */
	struct etcd_lane lane[LANES];
	struct etcd_stats st;
};

static void chan_fail(struct etcd_chan *ch, int err, const char *why);
static void kick(struct etcd_lane *l);

static int format_post(char **out, size_t *outlen, const struct etcd *e,
		       const char *path, struct json_object *req)
{
	const struct etcd_endpoint *ep = &e->cfg.ep[e->cur];
	const char *body = json_object_to_json_string_ext(req,
							JSON_C_TO_STRING_PLAIN);
	char *buf;
	int n;

	if (!body)
		return -ENOMEM;
	buf = malloc(ETCD_MAX_REQUEST);
	if (!buf)
		return -ENOMEM;
	n = snprintf(buf, ETCD_MAX_REQUEST,
		     "POST %s HTTP/1.1\r\n"
		     "Host: %s:%u\r\n"
		     "User-Agent: peerwatchd\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n"
		     "\r\n%s", path, ep->host, ep->port, strlen(body), body);
	if (n < 0 || n >= ETCD_MAX_REQUEST) {
		free(buf);
		return -EMSGSIZE;
	}
	*out = buf;
	*outlen = (size_t)n;
	return 0;
}

static void chan_close(struct etcd_chan *ch)
{
	if (ch->query)
		resolver_cancel(ch->query);
	ch->query = NULL;
	conn_close(ch->conn);
	ch->conn = NULL;
	tls_peer_free(ch->peer);
	ch->peer = NULL;
	loop_timer_stop(ch->e->loop, &ch->deadline);
	json_object_put(ch->answer);
	ch->answer = NULL;
	free(ch->pending);
	ch->pending = NULL;
}

void etcd_failover(struct etcd *e)
{
	if (e->cfg.nep > 1)
		e->cur = (e->cur + 1) % e->cfg.nep;
	e->st.failovers++;
}

/* A value of the body: a call keeps it, a stream hands it on. */
static int on_value(void *arg, struct json_object *obj)
{
	struct etcd_chan *ch = arg;
	struct etcd_stream *s;
	struct json_object *body;
	const char *why = NULL;
	int64_t rev;
	int err;

	if (!ch->stream) {
		if (ch->answer) {
			json_object_put(obj);
			ch->jl.error = "more than one JSON value in an answer";
			return -EPROTO;
		}
		ch->answer = obj;
		return 0;
	}
	s = container_of(ch, struct etcd_stream, ch);
	err = etcd_msg_open(obj, &body, &rev, &why);
	if (!err)
		err = s->msg(s->arg, body, rev);
	json_object_put(obj);
	if (err)
		ch->jl.error = why ? why : "the stream's owner refused a message";
	return err;
}

static int on_body(void *arg, const char *data, size_t len)
{
	struct etcd_chan *ch = arg;
	size_t n;

	/* An error's body is kept, in short, for the log. */
	if (http_resp_status(&ch->resp) != 200) {
		n = sizeof(ch->error) - 1 - ch->nerror;
		n = len < n ? len : n;
		memcpy(ch->error + ch->nerror, data, n);
		ch->nerror += n;
		ch->error[ch->nerror] = '\0';
		return 0;
	}
	return jsonl_feed(&ch->jl, data, len);
}

static void resp_start(struct etcd_chan *ch)
{
	http_resp_init(&ch->resp, ch->stream ? ETCD_MAX_MESSAGE : ETCD_MAX_ANSWER,
		       ch->stream, false, on_body, ch);
	jsonl_init(&ch->jl, ch->tok, ch->stream ? ETCD_MAX_MESSAGE :
		   ETCD_MAX_ANSWER, on_value, ch);
	ch->nerror = 0;
	ch->error[0] = '\0';
}

static struct etcd_lane *lane_of(struct etcd_chan *ch)
{
	return container_of(ch, struct etcd_lane, ch);
}

static void call_done(struct etcd_lane *l, int err, const char *why)
{
	struct etcd *e = l->ch.e;
	struct etcd_call *c = l->head;
	struct json_object *body = NULL, *answer = l->ch.answer;
	int64_t rev = 0;

	l->head = c->next;
	if (!l->head)
		l->tail = NULL;
	l->busy = false;
	l->ch.answer = NULL;
	loop_timer_stop(e->loop, &l->ch.deadline);
	if (!err && !answer) {
		err = -EPROTO;
		why = "an empty answer";
	}
	if (!err)
		err = etcd_msg_open(answer, &body, &rev, &why);
	if (err)
		e->st.errors++;
	c->fn(c->arg, err, err ? NULL : body, rev, why);
	json_object_put(answer);
	free(c->req);
	free(c);
	kick(l);
}

static void chan_complete(struct etcd_chan *ch)
{
	unsigned int status = http_resp_status(&ch->resp);
	char why[256];

	if (status != 200) {
		snprintf(why, sizeof(why), "HTTP %u%s%s", status,
			 ch->nerror ? ": " : "", ch->error);
		chan_fail(ch, -EIO, why);
		return;
	}
	if (ch->stream) {
		chan_fail(ch, -EPIPE, "etcd ended the stream");
		return;
	}
	if (!ch->resp.keep_alive)
		chan_close(ch);
	else
		resp_start(ch);
	call_done(lane_of(ch), 0, NULL);
}

static void chan_data(void *arg, const char *buf, size_t len)
{
	struct etcd_chan *ch = arg;
	ssize_t n;

	if (!ch->stream && !lane_of(ch)->busy) {
		chan_fail(ch, -EPROTO, "etcd sent bytes nobody asked for");
		return;
	}
	n = http_resp_feed(&ch->resp, buf, len);
	if (n < 0) {
		chan_fail(ch, (int)n, ch->jl.error ? ch->jl.error :
			  ch->resp.error ? ch->resp.error : "bad answer");
		return;
	}
	if (ch->resp.complete)
		chan_complete(ch);
	else if ((size_t)n < len)
		chan_fail(ch, -EPROTO, "etcd sent bytes after its answer");
}

static void chan_eof(void *arg)
{
	struct etcd_chan *ch = arg;
	int err;

	if (!ch->stream && !lane_of(ch)->busy) {
		chan_close(ch);		/* an idle keep-alive closed */
		return;
	}
	err = http_resp_eof(&ch->resp);
	if (!err && ch->resp.complete) {
		chan_complete(ch);
		return;
	}
	chan_fail(ch, err ? err : -EPIPE, "etcd closed the connection");
}

static void chan_error(void *arg, int err)
{
	struct etcd_chan *ch = arg;
	char why[256], msg[160];

	if (ch->conn && conn_error_cause(ch->conn, err, msg, sizeof(msg)) !=
	    CAUSE_NONE)
		snprintf(why, sizeof(why), "%s", msg);
	else
		snprintf(why, sizeof(why), "%s", strerror(-err));
	if (!ch->stream && !lane_of(ch)->busy) {
		chan_close(ch);
		return;
	}
	chan_fail(ch, err, why);
}

static void chan_connected(void *arg)
{
	(void)arg;
}

static const struct conn_cbs chan_cbs = {
	.connected = chan_connected,
	.data = chan_data,
	.eof = chan_eof,
	.error = chan_error,
};

static void deadline_fn(struct loop_timer *t)
{
	struct etcd_chan *ch = container_of(t, struct etcd_chan, deadline);

	chan_fail(ch, -ETIMEDOUT, "no answer in time");
}

static void resolved(void *arg, int err, const struct sockaddr *sa,
		     socklen_t salen)
{
	struct etcd_chan *ch = arg;
	struct etcd *e = ch->e;
	const struct etcd_endpoint *ep = &e->cfg.ep[e->cur];
	struct conn_opts opts = {
		.user_timeout_ms = (uint32_t)e->cfg.timeout_ms,
		.keepidle_s = 5, .keepintvl_s = 1, .keepcnt = 3,
		.connect_timeout_ms = e->cfg.timeout_ms,
	};
	struct conn_transport *tr = NULL;

	ch->query = NULL;
	if (err) {
		chan_fail(ch, err, err == -ENOENT ? "no such host" :
			  "lookup failed");
		return;
	}
	if (e->cfg.tls) {
		err = tls_peer_new(&ch->peer, e->cfg.tls, ep->host);
		if (!err)
			err = tls_transport_new(&tr, ch->peer);
	}
	if (!err)
		err = conn_new(&ch->conn, e->loop, e->pool, sa, salen, &opts,
			       tr, &chan_cbs, ch);
	if (!err)
		err = conn_write(ch->conn, ch->pending, ch->npending);
	free(ch->pending);
	ch->pending = NULL;
	if (err)
		chan_fail(ch, err, strerror(-err));
}

/* Send @req (taken) on @ch, connecting first if it has no connection. */
static int chan_send(struct etcd_chan *ch, char *req, size_t len)
{
	struct etcd *e = ch->e;
	const struct etcd_endpoint *ep = &e->cfg.ep[e->cur];
	int err;

	resp_start(ch);
	e->st.requests++;
	/*
	 * A watch answers when etcd has something to say: only its connect
	 * has a deadline (conn.c's); a member that dies under it is found
	 * by the keepalives, whose failure closes the watches.
	 */
	if (!ch->stream)
		loop_timer_start(e->loop, &ch->deadline, e->cfg.timeout_ms);
	if (ch->conn) {
		err = conn_write(ch->conn, req, len);
		free(req);
		return err;
	}
	ch->pending = req;
	ch->npending = len;
	return resolver_lookup(e->resolver, ep->host, ep->port, resolved, ch,
			       &ch->query);
}

static void kick_fn(struct loop_timer *t)
{
	struct etcd_lane *l = container_of(t, struct etcd_lane, kick_timer);
	struct etcd_call *c = l->head;
	int err;

	if (l->busy || !c)
		return;
	l->busy = true;
	err = chan_send(&l->ch, c->req, c->reqlen);
	c->req = NULL;
	if (err)
		chan_fail(&l->ch, err, strerror(-err));
}

/* Calls start from the loop, never inside etcd_call() or a callback. */
static void kick(struct etcd_lane *l)
{
	if (l->busy || !l->head || loop_timer_active(&l->kick_timer))
		return;
	loop_timer_start(l->ch.e->loop, &l->kick_timer, 0);
}

static void chan_fail(struct etcd_chan *ch, int err, const char *why)
{
	struct etcd *e = ch->e;
	struct etcd_stream *s;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", why ? why : strerror(-err));
	chan_close(ch);
	/* A refusal from etcd itself is no reason to leave the member. */
	if (err != -EIO)
		etcd_failover(e);
	if (!ch->stream) {
		if (lane_of(ch)->busy)
			call_done(lane_of(ch), err, msg);
		return;
	}
	s = container_of(ch, struct etcd_stream, ch);
	if (s->ended)
		return;
	s->ended = true;
	e->st.errors++;
	s->end(s->arg, err, msg);
}

static int chan_init(struct etcd_chan *ch, struct etcd *e, bool stream)
{
	ch->e = e;
	ch->stream = stream;
	loop_timer_init(&ch->deadline, deadline_fn);
	ch->tok = json_tokener_new_ex(ETCD_JSON_DEPTH);
	return ch->tok ? 0 : -ENOMEM;
}

int etcd_call(struct etcd *e, const char *path, struct json_object *req,
	      bool urgent, etcd_done_fn fn, void *arg)
{
	struct etcd_lane *l = &e->lane[urgent ? LANE_URGENT : LANE_CALLS];
	struct etcd_call *c;
	int err = -ENOMEM;

	c = calloc(1, sizeof(*c));
	if (!c || !req || strlen(path) >= sizeof(c->path))
		goto err;
	strcpy(c->path, path);
	err = format_post(&c->req, &c->reqlen, e, path, req);
	if (err)
		goto err;
	json_object_put(req);
	c->fn = fn;
	c->arg = arg;
	if (l->tail)
		l->tail->next = c;
	else
		l->head = c;
	l->tail = c;
	kick(l);
	return 0;

err:
	json_object_put(req);
	free(c);
	return err;
}

int etcd_stream_open(struct etcd *e, struct etcd_stream **sp,
		     const char *path, struct json_object *req,
		     etcd_msg_fn msg, etcd_end_fn end, void *arg)
{
	struct etcd_stream *s;
	size_t len;
	char *buf;
	int err = -ENOMEM;

	s = calloc(1, sizeof(*s));
	if (!s || !req)
		goto err;
	err = chan_init(&s->ch, e, true);
	if (!err)
		err = format_post(&buf, &len, e, path, req);
	if (err)
		goto err;
	s->msg = msg;
	s->end = end;
	s->arg = arg;
	err = chan_send(&s->ch, buf, len);
	if (err)
		goto err;
	json_object_put(req);
	*sp = s;
	return 0;

err:
	json_object_put(req);
	if (s) {
		chan_close(&s->ch);
		if (s->ch.tok)
			json_tokener_free(s->ch.tok);
	}
	free(s);
	e->st.errors++;
	return err;
}

void etcd_stream_close(struct etcd_stream *s)
{
	if (!s)
		return;
	chan_close(&s->ch);
	json_tokener_free(s->ch.tok);
	free(s);
}

int etcd_new(struct etcd **ep, struct loop *loop, struct pool *pool,
	     struct resolver *resolver, const struct etcd_cfg *cfg)
{
	struct etcd *e;
	int err, i;

	if (!cfg->nep || cfg->nep > ETCD_MAX_ENDPOINTS)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->loop = loop;
	e->pool = pool;
	e->resolver = resolver;
	e->cfg = *cfg;
	for (i = 0; i < LANES; i++) {
		loop_timer_init(&e->lane[i].kick_timer, kick_fn);
		loop_timer_init(&e->lane[i].ch.deadline, deadline_fn);
		e->lane[i].ch.e = e;
	}
	for (i = 0; i < LANES; i++) {
		err = chan_init(&e->lane[i].ch, e, false);
		if (err) {
			etcd_free(e);
			return err;
		}
	}
	*ep = e;
	return 0;
}

void etcd_free(struct etcd *e)
{
	struct etcd_call *c;
	int i;

	if (!e)
		return;
	for (i = 0; i < LANES; i++) {
		struct etcd_lane *l = &e->lane[i];

		chan_close(&l->ch);
		if (l->ch.tok)
			json_tokener_free(l->ch.tok);
		while ((c = l->head)) {
			l->head = c->next;
			free(c->req);
			free(c);
		}
		loop_timer_stop(e->loop, &l->kick_timer);
	}
	free(e);
}

const struct etcd_endpoint *etcd_endpoint(const struct etcd *e)
{
	return &e->cfg.ep[e->cur];
}

void etcd_stats(const struct etcd *e, struct etcd_stats *st)
{
	*st = e->st;
}
