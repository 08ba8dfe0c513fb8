// SPDX-License-Identifier: GPL-2.0
/*
 * Discovery from etcd, as Swarm did it: the engines that `swarm join`
 * registered under PATH/docker/swarm/nodes/ in etcd's v2 keyspace (etcd
 * 3.4 serves it with --enable-v2), read with a recursive GET and then
 * followed with recursive long polls (wait=true), each from the index
 * after the last one seen: the GET's X-Etcd-Index, then each event's
 * modifiedIndex. An expired key is an "expire" event: that engine goes.
 *
 * Why long polls and not v2's stream=true: a stream watch given an old
 * waitIndex sends the first event of its history and then only new ones,
 * so what changed between the GET and the watch would be lost. A long
 * poll answers exactly the first event at or after its index. Polls go
 * one after the other on one keep-alive connection, as libkv's did.
 *
 * On the agent's loop, on one channel (channel.h), never blocking. When
 * etcd says the index is gone from its history (HTTP 400, errorCode 401)
 * or the directory itself changed, the directory is read again whole.
 * Any failure moves to the next endpoint and keeps the last list: the
 * agent goes on watching the engines it has, and says so once.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channel.h"
#include "container_of.h"
#include "etcdsrc.h"
#include "hostport.h"
#include "log.h"
#include "loop.h"
#include "resolver.h"

/* Swarm's kv.path for its nodes (cli/manage.go), under PATH. */
#define SWARM_NODES		"docker/swarm/nodes"
/* Every endpoint failed: the next round waits this long. */
#define ETCDSRC_RETRY_MS	1000
/*
 * A poll of a quiet directory is asked again after this. etcd never ends
 * one by itself; TCP's keepalive finds a member gone, this one frozen.
 */
#define ETCDSRC_POLL_MS		60000
/* Events in a burst are one change for the agent. */
#define ETCDSRC_NOTIFY_MS	50

enum phase {
	PHASE_LIST,			/* the next request is the listing */
	PHASE_WATCH,			/* the next is a poll from index + 1 */
};

struct etcdsrc {
	struct discovery_env env;
	struct etcdsrc_url url;
	unsigned int cur;		/* the endpoint in use */
	unsigned int tried;		/* endpoints failed in a row */
	char host[272];			/* "host:port", the Host header */
	char path[CHANNEL_PATH_MAX];
	struct channel_env cenv;
	struct channel ch;
	struct resolver_query *query;
	enum phase phase;
	uint64_t index;			/* the last index read */
	struct json_object *nodes;	/* key -> address */
	bool listed;			/* a listing was read, once at least */
	bool down;			/* the failure was told */
	struct loop_timer retry_timer;
	struct loop_timer notify_timer;
};

static int parse_endpoint(struct etcdsrc_url *u, const char *s,
			  const char **why)
{
	struct etcdsrc_endpoint *ep;

	if (u->nep == ETCDSRC_MAX_ENDPOINTS) {
		*why = "too many etcd endpoints";
		return -EINVAL;
	}
	ep = &u->ep[u->nep];
	if (hostport_parse(s, ep->host, sizeof(ep->host), &ep->port, why)) {
		*why = "an etcd endpoint is not HOST:PORT";
		return -EINVAL;
	}
	u->nep++;
	return 0;
}

static bool path_char_ok(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
	       c == '/';
}

/* "/" + PATH's parts, without empty ones (as libkv's path.Join) + nodes. */
static int parse_dir(struct etcdsrc_url *u, const char *path,
		     const char **why)
{
	char buf[ETCDV2_MAX_DIR] = "";
	size_t n = 0;
	const char *p;
	int len;

	for (p = path; *p; p++) {
		if (!path_char_ok(*p)) {
			*why = "the etcd path may hold only letters, digits and - _ . /";
			return -EINVAL;
		}
		if (*p == '/' && (!n || buf[n - 1] == '/'))
			continue;
		if (n + 1 >= sizeof(buf))
			break;
		buf[n++] = *p;
	}
	buf[n] = '\0';
	if (n && buf[n - 1] == '/')
		buf[--n] = '\0';
	len = snprintf(u->dir, sizeof(u->dir), "/%s%s" SWARM_NODES, buf,
		       n ? "/" : "");
	if (*p || len < 0 || (size_t)len >= sizeof(u->dir)) {
		*why = "the etcd path is too long";
		return -EINVAL;
	}
	return 0;
}

int etcdsrc_parse_url(const char *url, struct etcdsrc_url *u,
		      const char **why)
{
	const char *p = url + strlen("etcd://"), *slash;
	char list[1024], *tok, *save = NULL;
	size_t n;
	int err;

	memset(u, 0, sizeof(*u));
	if (strncmp(url, "etcd://", 7)) {
		*why = "want etcd://HOST:PORT[,HOST:PORT...][/PATH]";
		return -EINVAL;
	}
	slash = strchr(p, '/');
	n = slash ? (size_t)(slash - p) : strlen(p);
	if (n >= sizeof(list)) {
		*why = "too many etcd endpoints";
		return -EINVAL;
	}
	memcpy(list, p, n);
	list[n] = '\0';
	for (tok = strtok_r(list, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		err = parse_endpoint(u, tok, why);
		if (err)
			return err;
	}
	if (!u->nep) {
		*why = "no etcd endpoint: want etcd://HOST:PORT[,HOST:PORT...][/PATH]";
		return -EINVAL;
	}
	return parse_dir(u, slash ? slash : "", why);
}

static const struct etcdsrc_endpoint *endpoint(const struct etcdsrc *s)
{
	return &s->url.ep[s->cur];
}

static void notify_fn(struct loop_timer *t)
{
	struct etcdsrc *s = container_of(t, struct etcdsrc, notify_timer);

	s->env.changed(s->env.arg);
}

static void changed(struct etcdsrc *s)
{
	if (!loop_timer_active(&s->notify_timer))
		loop_timer_start(s->env.loop, &s->notify_timer,
				 ETCDSRC_NOTIFY_MS);
}

static void warn_fn(void *arg, const char *key, const char *why)
{
	struct etcdsrc *s = arg;

	log_warn("discovery: etcd %s:%u: %s: %s", endpoint(s)->host,
		 endpoint(s)->port, key ? key : "(no key)", why);
}

static void stop(struct etcdsrc *s)
{
	if (s->query)
		resolver_cancel(s->query);
	s->query = NULL;
	channel_close(&s->ch);
}

/* Again from the loop after @ms, on the current endpoint. */
static void again(struct etcdsrc *s, uint64_t ms)
{
	stop(s);
	loop_timer_start(s->env.loop, &s->retry_timer, ms);
}

/*
 * Said once until etcd answers again; the engines read so far stay. A
 * refusal by etcd itself (HTTP status) is no reason to leave the member
 * for the next, but is retried like a failure.
 */
static void failed(struct etcdsrc *s, bool next, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void failed(struct etcdsrc *s, bool next, const char *fmt, ...)
{
	char why[256];
	va_list ap;
	bool round;

	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!s->down)
		log_err("discovery: etcd %s:%u: %s; keeping the %d engines read%s",
			endpoint(s)->host, endpoint(s)->port, why,
			json_object_object_length(s->nodes),
			s->url.nep > 1 ? ", trying the next endpoint" : "");
	s->down = true;
	s->phase = PHASE_LIST;
	s->tried++;
	round = s->tried % s->url.nep == 0;
	if (next)
		s->cur = (s->cur + 1) % s->url.nep;
	again(s, round || !next ? ETCDSRC_RETRY_MS : 0);
}

/*
 * The channel's deadline is read when a request goes: a listing gets the
 * agent's request timeout, a poll ETCDSRC_POLL_MS. The env is ours alone.
 */
static int ask(struct etcdsrc *s)
{
	struct channel_req req = { .method = "GET", .mode = CHANNEL_ANSWER };
	int n;

	if (s->phase == PHASE_LIST) {
		n = snprintf(s->path, sizeof(s->path),
			     "/v2/keys%s?recursive=true", s->url.dir);
		s->cenv.cfg.request_timeout_ms = s->env.timeout_ms;
	} else {
		n = snprintf(s->path, sizeof(s->path),
			     "/v2/keys%s?wait=true&recursive=true&waitIndex=%" PRIu64,
			     s->url.dir, s->index + 1);
		s->cenv.cfg.request_timeout_ms = ETCDSRC_POLL_MS;
	}
	if (n < 0 || (size_t)n >= sizeof(s->path))
		return -ENAMETOOLONG;
	req.path = s->path;
	return channel_send(&s->ch, &req);
}

/* A send that failed on the channel was told through on_failed(). */
static void send_next(struct etcdsrc *s)
{
	int err = ask(s);

	if (err && channel_idle(&s->ch))
		failed(s, false, "%s", strerror(-err));
}

static void resolved(void *arg, int err, const struct sockaddr *sa,
		     socklen_t salen)
{
	struct etcdsrc *s = arg;

	s->query = NULL;
	if (err) {
		failed(s, true, "%s", resolver_strerror(err));
		return;
	}
	channel_connect(&s->ch, sa, salen, NULL);
}

static void retry_fn(struct loop_timer *t)
{
	struct etcdsrc *s = container_of(t, struct etcdsrc, retry_timer);
	const struct etcdsrc_endpoint *ep = endpoint(s);
	int err;

	if (channel_idle(&s->ch)) {
		send_next(s);
		return;
	}
	if (s->ch.state != CHANNEL_CLOSED || s->query)
		return;
	snprintf(s->host, sizeof(s->host), "%s:%u", ep->host, ep->port);
	/* The connect deadline too. */
	s->cenv.cfg.request_timeout_ms = s->env.timeout_ms;
	err = resolver_lookup(s->env.resolver, ep->host, ep->port, resolved, s,
			      &s->query);
	if (err)
		failed(s, true, "lookup: %s", strerror(-err));
}

static void on_connected(void *arg)
{
	send_next(arg);
}

/* A listing replaces the engines read only once it is whole and sound. */
static int read_list(struct etcdsrc *s, struct json_object *body,
		     const char **why)
{
	struct json_object *nodes = json_object_new_object();
	int err;

	if (!nodes)
		return -ENOMEM;
	err = etcdv2_parse_list(body, s->url.dir, nodes, warn_fn, s, why);
	if (err) {
		json_object_put(nodes);
		return err;
	}
	json_object_put(s->nodes);
	s->nodes = nodes;
	return 0;
}

static void listed(struct etcdsrc *s, struct channel_answer *ans)
{
	const char *why = NULL;
	int err = 0;

	if ((ans->status == 200 || ans->status == 404) && !ans->etcd_index) {
		failed(s, true, "HTTP %u without X-Etcd-Index: not etcd's v2 API (etcd 3.4 needs --enable-v2)",
		       ans->status);
		return;
	}
	/* Not found: nobody registered yet (Swarm makes it on first use). */
	if (ans->status == 404) {
		etcdv2_clear(s->nodes);
	} else if (ans->status != 200) {
		failed(s, false, "HTTP %u to the listing", ans->status);
		return;
	} else if (!ans->body) {
		failed(s, true, "an empty listing");
		return;
	} else {
		err = read_list(s, ans->body, &why);
	}
	if (err) {
		failed(s, true, "listing %s: %s", s->url.dir,
		       why ? why : strerror(-err));
		return;
	}
	if (s->down || !s->listed)
		log_info("discovery: etcd %s:%u: %d engines under %s, following",
			 endpoint(s)->host, endpoint(s)->port,
			 json_object_object_length(s->nodes), s->url.dir);
	s->down = false;
	s->listed = true;
	s->tried = 0;
	s->index = ans->etcd_index;
	s->phase = PHASE_WATCH;
	changed(s);
	/* Go on from the loop, on this connection if it stays open. */
	loop_timer_start(s->env.loop, &s->retry_timer, 0);
}

static void polled(struct etcdsrc *s, struct channel_answer *ans)
{
	const char *why = NULL;
	uint64_t index = 0;
	bool relist = false;
	int err;

	/* 400 with errorCode 401: the index left etcd's event history. */
	if (ans->status == 400 && ans->etcd_index) {
		log_info("discovery: etcd %s:%u: index %" PRIu64 " is past etcd's history; reading the list again",
			 endpoint(s)->host, endpoint(s)->port, s->index + 1);
		s->phase = PHASE_LIST;
		again(s, 0);
		return;
	}
	if (ans->status != 200 || !ans->body) {
		failed(s, false, "HTTP %u to the watch%s", ans->status,
		       ans->body ? "" : ", no event");
		return;
	}
	err = etcdv2_apply_event(ans->body, s->url.dir, s->nodes, &index,
				 &relist, warn_fn, s, &why);
	if (err) {
		log_warn("discovery: etcd %s:%u: %s; reading the list again",
			 endpoint(s)->host, endpoint(s)->port, why);
		relist = true;
	}
	if (index > s->index)
		s->index = index;
	if (relist) {
		s->phase = PHASE_LIST;
		again(s, 0);
		return;
	}
	changed(s);
	loop_timer_start(s->env.loop, &s->retry_timer, 0);
}

static void on_answer(void *arg, struct channel_answer *ans)
{
	struct etcdsrc *s = arg;

	if (!ans->ping) {
		if (s->phase == PHASE_LIST)
			listed(s, ans);
		else
			polled(s, ans);
	}
	json_object_put(ans->body);
}

/* A keep-alive connection closed between requests: the next reconnects. */
static void on_closed(void *arg, enum channel_end how)
{
	(void)how;
	again(arg, 0);
}

static void on_failed(void *arg, enum cause cause, const char *why)
{
	struct etcdsrc *s = arg;

	/* A quiet poll: asked again, from the same index. */
	if (s->phase == PHASE_WATCH && cause == CAUSE_DEADLINE) {
		again(s, 0);
		return;
	}
	failed(s, true, "%s", why);
}

static void on_sent(void *arg, enum channel_sent what)
{
	(void)arg;
	(void)what;
}

static const struct channel_ops etcdsrc_ops = {
	.connected = on_connected,
	.answer = on_answer,
	.closed = on_closed,
	.failed = on_failed,
	.sent = on_sent,
};

int etcdsrc_new(struct etcdsrc **sp, const char *url,
		const struct discovery_env *env, const char **why)
{
	struct etcdsrc *s;
	int err;

	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	err = etcdsrc_parse_url(url, &s->url, why);
	if (err)
		goto err;
	s->nodes = json_object_new_object();
	if (!s->nodes) {
		err = -ENOMEM;
		goto err;
	}
	s->env = *env;
	s->cenv.loop = env->loop;
	s->cenv.pool = env->pool;
	s->cenv.cfg = (struct channel_cfg){
		.request_timeout_ms = env->timeout_ms,
		.max_body = ETCDSRC_MAX_ANSWER,
		.ping_path = "/health",
		/* A member gone under a quiet watch: TCP tells within ~10 s. */
		.conn = {
			.user_timeout_ms = (uint32_t)env->timeout_ms,
			.keepidle_s = 5, .keepintvl_s = 1, .keepcnt = 3,
		},
	};
	channel_init(&s->ch, &s->cenv, s->host, &etcdsrc_ops, s);
	loop_timer_init(&s->retry_timer, retry_fn);
	loop_timer_init(&s->notify_timer, notify_fn);
	loop_timer_start(env->loop, &s->retry_timer, 0);
	*sp = s;
	return 0;

err:
	free(s);
	return err;
}

void etcdsrc_free(struct etcdsrc *s)
{
	if (!s)
		return;
	stop(s);
	loop_timer_stop(s->env.loop, &s->retry_timer);
	loop_timer_stop(s->env.loop, &s->notify_timer);
	json_object_put(s->nodes);
	free(s->cenv.conns.b);
	free(s);
}

struct json_object *etcdsrc_nodes(const struct etcdsrc *s)
{
	return s->nodes;
}
