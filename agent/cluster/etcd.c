// SPDX-License-Identifier: GPL-2.0
/*
 * A client of etcd v3's JSON gateway on the agent's loop: HTTP/1.1 POSTs
 * on the channel (channel.h) that also carries the engines' requests,
 * answers bounded and parsed there, checked by etcd_msg.c. Unary calls
 * queue on a keep-alive channel, one at a time; keepalives have a lane of
 * their own, so that they never wait behind a train of writes; each
 * stream (a watch) has a channel of its own. All of them use the current
 * endpoint; any failure moves to the next one, so a dead member costs one
 * failed call. The client never retries a call itself: whether a write
 * may be repeated is the caller's business.
 *
 * Why /v3/lease/keepalive is a call and not a stream: over HTTP/1.1, Go's
 * server may no longer read a request body once the answer has begun, so
 * the gateway cannot take a second keepalive on a stream that answered
 * the first. Each keepalive is one POST with its own body on the
 * keep-alive channel; etcd answers it, then sees the end of the body.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "container_of.h"
#include "etcd.h"
#include "etcd_msg.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"
#include "tls.h"

/* A request body must fit the connection's one pending buffer (pool.h). */
#define ETCD_MAX_REQUEST	4096

struct etcd_call {
	struct etcd_call *next;
	char path[32];
	char *body;			/* JSON */
	size_t len;
	etcd_done_fn fn;
	void *arg;
};

/* A channel to the current endpoint, and what it is to send. */
struct etcd_link {
	struct etcd *e;
	struct channel ch;
	struct resolver_query *query;
	struct tls_peer *peer;
	char host[272];			/* "host:port", the Host header */
	struct channel_req req;		/* waiting for the connection */
	bool pending;
	bool stream;
};

/* A queue of calls and the link they go on, one at a time. */
struct etcd_lane {
	struct etcd_link link;
	bool busy;			/* the head call is in flight */
	struct etcd_call *head, *tail;
	struct loop_timer kick_timer;
};

struct etcd_stream {
	struct etcd_link link;
	char path[32];
	char *body;
	size_t len;
	etcd_msg_fn msg;
	etcd_end_fn end;
	void *arg;
	bool ended;
};

enum { LANE_CALLS, LANE_URGENT, LANES };

struct etcd {
	struct loop *loop;
	struct resolver *resolver;
	struct etcd_cfg cfg;
	unsigned int cur;		/* the endpoint in use */
	struct channel_env env;
	struct etcd_lane lane[LANES];
	struct etcd_stats st;
};

static void link_fail(struct etcd_link *l, int err, const char *why);
static void kick(struct etcd_lane *l);

static struct etcd_lane *lane_of(struct etcd_link *l)
{
	return container_of(l, struct etcd_lane, link);
}

static struct etcd_stream *stream_of(struct etcd_link *l)
{
	return container_of(l, struct etcd_stream, link);
}

static void link_close(struct etcd_link *l)
{
	if (l->query)
		resolver_cancel(l->query);
	l->query = NULL;
	channel_close(&l->ch);
	tls_peer_free(l->peer);
	l->peer = NULL;
	l->pending = false;
}

void etcd_failover(struct etcd *e)
{
	if (e->cfg.nep > 1)
		e->cur = (e->cur + 1) % e->cfg.nep;
	e->st.failovers++;
}

static void call_done(struct etcd_lane *l, int err, struct json_object *answer,
		      const char *why)
{
	struct etcd *e = l->link.e;
	struct etcd_call *c = l->head;
	struct json_object *body = NULL;
	int64_t rev = 0;

	l->head = c->next;
	if (!l->head)
		l->tail = NULL;
	l->busy = false;
	if (!err && !answer) {
		err = -EPROTO;
		why = "an empty answer";
	}
	if (!err)
		err = etcd_msg_open(answer, &body, &rev, &why);
	if (err)
		e->st.errors++;
	/* Not etcd's JSON: not etcd, or not one to trust; try the next. */
	if (err == -EPROTO && answer) {
		link_close(&l->link);
		etcd_failover(e);
	}
	c->fn(c->arg, err, err ? NULL : body, rev, why);
	free(c->body);
	free(c);
	kick(l);
}

static void on_connected(void *arg)
{
	struct etcd_link *l = arg;
	int err;

	if (!l->pending)
		return;
	l->pending = false;
	err = channel_send(&l->ch, &l->req);
	if (err && err != -EBUSY)
		return;			/* failed() told */
	if (err)
		link_fail(l, err, "the channel is busy");
}

static void on_answer(void *arg, struct channel_answer *ans)
{
	struct etcd_link *l = arg;
	struct json_object *body;
	const char *msg = NULL;
	char why[256];
	int64_t rev;
	int err;

	if (ans->ping) {
		json_object_put(ans->body);
		return;
	}
	if (ans->status != 200) {
		/*
		 * etcd explains a refusal in its body ({"error", "code",
		 * "message"}): said, bounded. Anything else is no etcd at
		 * all, and the next endpoint may be one.
		 */
		err = -EPROTO;
		if (ans->body)
			err = etcd_msg_open(ans->body, &body, &rev, &msg);
		if (err == -EIO)
			snprintf(why, sizeof(why), "HTTP %u from etcd: %.160s",
				 ans->status, msg);
		else
			snprintf(why, sizeof(why),
				 "HTTP %u and no etcd error: not etcd's gateway?",
				 ans->status);
		json_object_put(ans->body);
		link_fail(l, err == -EIO ? -EIO : -EPROTO, why);
		return;
	}
	if (l->stream) {
		json_object_put(ans->body);
		return;
	}
	if (lane_of(l)->busy)
		call_done(lane_of(l), 0, ans->body, NULL);
	json_object_put(ans->body);
}

static int on_event(void *arg, struct json_object *obj)
{
	struct etcd_link *l = arg;
	struct etcd_stream *s = stream_of(l);
	struct json_object *body;
	const char *why = NULL;
	int64_t rev;
	int err;

	err = etcd_msg_open(obj, &body, &rev, &why);
	if (err)
		log_warn("etcd %s: %.160s", s->path, why);
	else
		err = s->msg(s->arg, body, rev);
	return err;
}

static void on_closed(void *arg, enum channel_end how)
{
	struct etcd_link *l = arg;

	/* An idle keep-alive channel closed: the next call reconnects. */
	if (!l->stream && (how == CHANNEL_END_IDLE ||
			   how == CHANNEL_END_ANSWERED || !lane_of(l)->busy))
		return;
	link_fail(l, -EPIPE, "etcd closed the connection");
}

static void on_failed(void *arg, enum cause cause, const char *why)
{
	char msg[256];

	if (cause == CAUSE_PROTOCOL) {
		snprintf(msg, sizeof(msg), "not etcd's gateway: %s", why);
		why = msg;
	}
	link_fail(arg, -ECONNABORTED, why);
}

static void on_sent(void *arg, enum channel_sent what)
{
	(void)arg;
	(void)what;
}

static const struct channel_ops link_ops = {
	.connected = on_connected,
	.answer = on_answer,
	.event = on_event,
	.closed = on_closed,
	.failed = on_failed,
	.sent = on_sent,
};

static void resolved(void *arg, int err, const struct sockaddr *sa,
		     socklen_t salen)
{
	struct etcd_link *l = arg;
	struct etcd *e = l->e;

	l->query = NULL;
	if (err) {
		link_fail(l, err, err == -ENOENT ? "no such host" :
			  "lookup failed");
		return;
	}
	if (e->cfg.tls) {
		err = tls_peer_new(&l->peer, e->cfg.tls, e->cfg.ep[e->cur].host);
		if (err) {
			link_fail(l, err, "TLS");
			return;
		}
	}
	channel_connect(&l->ch, sa, salen, l->peer);
}

/* Send @req on @l, connecting first if it has no connection. */
static int link_send(struct etcd_link *l, const char *path, const char *body,
		     size_t len)
{
	struct etcd *e = l->e;
	const struct etcd_endpoint *ep = &e->cfg.ep[e->cur];

	e->st.requests++;
	l->req = (struct channel_req){
		.method = "POST", .path = path, .body = body, .body_len = len,
		.mode = l->stream ? CHANNEL_STREAM : CHANNEL_ANSWER,
	};
	if (channel_connected(&l->ch))
		return channel_send(&l->ch, &l->req);
	snprintf(l->host, sizeof(l->host), "%s:%u", ep->host, ep->port);
	l->pending = true;
	return resolver_lookup(e->resolver, ep->host, ep->port, resolved, l,
			       &l->query);
}

static void kick_fn(struct loop_timer *t)
{
	struct etcd_lane *l = container_of(t, struct etcd_lane, kick_timer);
	struct etcd_call *c = l->head;
	int err;

	if (l->busy || !c)
		return;
	l->busy = true;
	err = link_send(&l->link, c->path, c->body, c->len);
	if (err && l->busy)
		link_fail(&l->link, err, strerror(-err));
}

/* Calls start from the loop, never inside etcd_call() or a callback. */
static void kick(struct etcd_lane *l)
{
	if (l->busy || !l->head || loop_timer_active(&l->kick_timer))
		return;
	loop_timer_start(l->link.e->loop, &l->kick_timer, 0);
}

static void link_fail(struct etcd_link *l, int err, const char *why)
{
	struct etcd *e = l->e;
	struct etcd_stream *s;
	char msg[256];

	snprintf(msg, sizeof(msg), "%s", why ? why : strerror(-err));
	link_close(l);
	/* A refusal from etcd itself is no reason to leave the member. */
	if (err != -EIO)
		etcd_failover(e);
	if (!l->stream) {
		if (lane_of(l)->busy)
			call_done(lane_of(l), err, NULL, msg);
		return;
	}
	s = stream_of(l);
	if (s->ended)
		return;
	s->ended = true;
	e->st.errors++;
	s->end(s->arg, err, msg);
}

static void link_init(struct etcd_link *l, struct etcd *e, bool stream)
{
	l->e = e;
	l->stream = stream;
	channel_init(&l->ch, &e->env, l->host, &link_ops, l);
}

static int body_of(struct json_object *req, char **body, size_t *len)
{
	const char *s = json_object_to_json_string_ext(req,
						       JSON_C_TO_STRING_PLAIN);

	if (!s)
		return -ENOMEM;
	*len = strlen(s);
	if (*len > ETCD_MAX_REQUEST)
		return -EMSGSIZE;
	*body = strdup(s);
	return *body ? 0 : -ENOMEM;
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
	err = body_of(req, &c->body, &c->len);
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
	int err = -ENOMEM;

	s = calloc(1, sizeof(*s));
	if (!s || !req || strlen(path) >= sizeof(s->path))
		goto err;
	link_init(&s->link, e, true);
	strcpy(s->path, path);
	err = body_of(req, &s->body, &s->len);
	if (err)
		goto err;
	s->msg = msg;
	s->end = end;
	s->arg = arg;
	err = link_send(&s->link, s->path, s->body, s->len);
	if (err)
		goto err;
	json_object_put(req);
	*sp = s;
	return 0;

err:
	json_object_put(req);
	if (s) {
		link_close(&s->link);
		free(s->body);
	}
	free(s);
	e->st.errors++;
	return err;
}

void etcd_stream_close(struct etcd_stream *s)
{
	if (!s)
		return;
	link_close(&s->link);
	free(s->body);
	free(s);
}

int etcd_new(struct etcd **ep, struct loop *loop, struct pool *pool,
	     struct resolver *resolver, const struct etcd_cfg *cfg)
{
	struct etcd *e;
	int i;

	if (!cfg->nep || cfg->nep > ETCD_MAX_ENDPOINTS)
		return -EINVAL;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->loop = loop;
	e->resolver = resolver;
	e->cfg = *cfg;
	e->env.loop = loop;
	e->env.pool = pool;
	e->env.cfg = (struct channel_cfg){
		.request_timeout_ms = cfg->timeout_ms,
		.max_body = ETCD_MAX_ANSWER,
		.ping_path = "/health",
		.error_bodies = true,
		/*
		 * A dead member under a watch is found by the keepalives,
		 * whose failure closes the watches; TCP's own bounds help.
		 */
		.conn = {
			.user_timeout_ms = (uint32_t)cfg->timeout_ms,
			.keepidle_s = 5, .keepintvl_s = 1, .keepcnt = 3,
		},
	};
	for (i = 0; i < LANES; i++) {
		loop_timer_init(&e->lane[i].kick_timer, kick_fn);
		link_init(&e->lane[i].link, e, false);
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

		link_close(&l->link);
		while ((c = l->head)) {
			l->head = c->next;
			free(c->body);
			free(c);
		}
		loop_timer_stop(e->loop, &l->kick_timer);
	}
	free(e->env.conns.b);
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
