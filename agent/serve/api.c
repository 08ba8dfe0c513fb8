// SPDX-License-Identifier: GPL-2.0
/*
 * The control API: HTTP/1.1 + JSON on a UNIX socket (and optionally TCP),
 * one request per connection, served by the agent's own loop.
 *
 *   GET /v1/nodes           ?state=S &label=K[=V]...
 *   GET /v1/nodes/{addr|id|name}
 *   GET /v1/containers      ?node=N &state=S &label=K[=V]... &name=PART
 *                           (label: the container's labels, as its engine
 *                           last listed them)
 *   GET /v1/events          chunked JSON lines, as transitions happen
 *   GET /v1/summary         counts and the latest transitions (peerwatch top)
 *   GET /metrics            Prometheus text
 *
 * and, on the same sockets, the Docker Engine API (1.41, with or without
 * its /vX.Y prefix) as one read-only daemon that is the whole fleet, for
 * the docker CLI (dockerapi.c): /_ping, /version, /info, /containers/json,
 * /containers/{id}/json (forwarded to the engine that owns it, forward.c)
 * and /events (every engine's, merged); anything else that would change
 * an engine is refused with dockerd's error format.
 *
 * Clients must never delay the engines: a request is bounded in size and
 * must arrive whole within a deadline; clients are limited in number (more
 * wait in the kernel's listen backlog, costing us nothing), and so are the
 * bytes all answers hold; answers are built a few milliseconds
 * per pass, between engine events; a /v1/events reader that falls behind
 * is dropped rather than buffered.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <http_parser.h>

#include "api.h"
#include "apireq.h"
#include "container_of.h"
#include "dockerapi.h"
#include "fleet.h"
#include "forward.h"
#include "hostport.h"
#include "log.h"
#include "metrics.h"
#include "views.h"

#define API_HEADER_TIMEOUT_MS	5000
#define API_WRITE_TIMEOUT_MS	10000
#define API_STREAM_MAX		(256 * 1024)	/* unsent /v1/events bytes */
#define API_OUT_MAX		(128 << 20)	/* unsent bytes, all answers */
#define API_RENDER_BUDGET_MS	5		/* per loop pass */
#define API_RECENT		32		/* transitions in /v1/summary */
#define API_CACHE_MS		100		/* an answer serves its twins */
#define API_TRIM_BYTES		(1 << 20)	/* an answer this big... */
#define API_TRIM_DELAY_MS	1000		/* ...trims this long after */
#define API_LINGER_MS		5000		/* reading after an error */
#define API_DOCKER_RING		256		/* kept for since=, as dockerd */

struct api_client {
	struct api *api;
	struct api_client *prev, *next;
	int fd;
	struct loop_io io;
	struct loop_timer deadline;
	struct loop_defer free_work;
	struct api_head rq;		/* the request as it arrives */
	unsigned int status;		/* set early by a bad request */
	const char *why;
	bool complete;			/* the request is whole */
	bool ready;			/* waiting for its answer */
	bool streaming;			/* /v1/events or Docker's /events */
	bool docker;			/* a request of the Docker façade */
	bool head;			/* HEAD: headers only */
	bool has_body;			/* sent a body, not read */
	unsigned int method;		/* http_parser's */
	struct dockerapi_evq *evq;	/* a Docker /events reader's */
	struct forward *forward;	/* an inspect waiting for its engine */
	bool lingering;			/* answered an error, draining input */
	bool closed;
	struct strbuf out;
};

struct api_listener {
	struct api *api;
	int fd;
	struct loop_io io;
};

/*
 * The last answer, whole: a thousand clients asking the same thing within
 * API_CACHE_MS cost one rendering, not a thousand.
 */
struct api_cache {
	char url[API_MAX_REQUEST];
	uint64_t ms;			/* loop time it was built */
	enum api_route route;
	struct strbuf resp;
};

struct api {
	const struct api_cfg *cfg;
	struct loop *loop;
	struct fleet *fleet;
	struct metrics *metrics;
	struct engine_observer observer;
	struct api_listener unix_l, tcp_l;
	bool unlink_socket;
	struct api_client *head, *tail;
	unsigned int nclients;
	bool full;			/* listeners paused at the limit */
	size_t out_total;
	struct loop_timer render;
	struct loop_timer trim;		/* memory back after big answers */
	struct json_object *recent[API_RECENT];	/* ring of transitions */
	unsigned int nrecent;
	struct api_cache cache;
	/* The engines' Docker events, tagged, for since= */
	struct dring_ev {
		char *s;		/* the serialised event, owned */
		size_t len;
		long long ns;
	} dring[API_DOCKER_RING];
	unsigned int ndring;
	unsigned int docker_streams;
};

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void listener_watch(struct api *a, struct api_listener *l, bool on)
{
	if (l->fd >= 0)
		loop_io_mod(a->loop, &l->io, on ? LOOP_READ : 0);
}

/* At the client limit, new clients wait in the backlog until one leaves. */
static void listeners_watch(struct api *a, bool on)
{
	a->full = !on;
	listener_watch(a, &a->unix_l, on);
	listener_watch(a, &a->tcp_l, on);
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
	struct api *a = container_of(t, struct api, trim);

	if (loop_now(a->loop) - a->cache.ms >= API_CACHE_MS) {
		strbuf_release(&a->cache.resp);
		a->cache.url[0] = '\0';
	}
	malloc_trim(0);
}

static void trim_soon(struct api *a)
{
	if (!loop_timer_active(&a->trim))
		loop_timer_start(a->loop, &a->trim, API_TRIM_DELAY_MS);
}

static void client_free_fn(struct loop_defer *d)
{
	struct api_client *c = container_of(d, struct api_client, free_work);

	if (c->out.cap >= API_TRIM_BYTES)
		trim_soon(c->api);
	strbuf_release(&c->out);
	free(c->evq);
	free(c);
}

/* The only way a client ends; freed after the current pass. */
static void client_close(struct api_client *c)
{
	struct api *a = c->api;

	if (c->closed)
		return;
	c->closed = true;
	loop_io_del(a->loop, &c->io);
	loop_timer_stop(a->loop, &c->deadline);
	close(c->fd);
	a->out_total -= strbuf_pending(&c->out);
	if (c->prev)
		c->prev->next = c->next;
	else
		a->head = c->next;
	if (c->next)
		c->next->prev = c->prev;
	else
		a->tail = c->prev;
	a->nclients--;
	a->metrics->api_clients--;
	if (a->full)
		listeners_watch(a, true);
	if (c->streaming && !c->evq)
		a->metrics->api_streams--;
	if (c->streaming && c->evq)
		a->docker_streams--;
	forward_cancel(c->forward);
	c->forward = NULL;
	loop_defer(a->loop, &c->free_work, client_free_fn);
}

static int client_queue(struct api_client *c, const void *data, size_t len)
{
	int err = strbuf_add(&c->out, data, len);

	if (!err)
		c->api->out_total += len;
	return err;
}

/* Sends what it can; the rest waits for LOOP_WRITE. */
static void client_flush(struct api_client *c)
{
	struct api *a = c->api;
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
		a->out_total -= (size_t)n;
		if (!c->streaming)
			loop_timer_start(a->loop, &c->deadline,
					 API_WRITE_TIMEOUT_MS);
	}
	if (!strbuf_pending(&c->out) && !c->streaming && c->complete &&
	    !c->ready) {
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
		loop_timer_start(a->loop, &c->deadline, API_LINGER_MS);
		loop_io_mod(a->loop, &c->io, LOOP_READ);
		return;
	}
	loop_io_mod(a->loop, &c->io, (c->streaming ? LOOP_READ : 0) |
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

static int respond_ext(struct api_client *c, unsigned int status,
		       const char *type, const char *extra, const char *body,
		       size_t len)
{
	char head[768];
	int n, err;

	n = snprintf(head, sizeof(head),
		     "HTTP/1.1 %u %s\r\n%s%sContent-Type: %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		     status, status_text(status),
		     c->docker ? dockerapi_headers() : "", extra, type, len);
	err = client_queue(c, head, (size_t)n);
	/* A HEAD is answered as its GET would be, without the body. */
	if (!err && !c->head)
		err = client_queue(c, body, len);
	return err;
}

static int respond(struct api_client *c, unsigned int status,
		   const char *type, const char *body, size_t len)
{
	return respond_ext(c, status, type, "", body, len);
}

static int respond_json(struct api_client *c, unsigned int status,
			struct json_object *o)
{
	size_t len;
	const char *s = json_object_to_json_string_length(o,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);

	if (!s)
		return -ENOMEM;
	if (c->docker) {
		/* As Go's json.Encoder: a newline after the value. */
		struct strbuf b = { 0 };
		int err = strbuf_add(&b, s, len);

		if (!err)
			err = strbuf_add(&b, "\n", 1);
		if (!err)
			err = respond(c, status, "application/json", b.p, b.len);
		strbuf_release(&b);
		return err;
	}
	return respond(c, status, "application/json", s, len);
}

static int respond_error(struct api_client *c, unsigned int status,
			 const char *why)
{
	struct json_object *o = json_object_new_object();
	int err;

	if (!o)
		return -ENOMEM;
	/* dockerd's errors are {"message": ...}; ours {"error": ...}. */
	json_object_object_add(o, c->docker ? "message" : "error",
			       json_object_new_string(why));
	err = respond_json(c, status, o);
	json_object_put(o);
	return err;
}

/* Checks the decoded query of @r, allowing only @allowed keys, into @flt. */
static int parse_query(const struct api_req *r, const char *const *allowed,
		       const char *hint, struct view_filter *flt,
		       const char **why)
{
	unsigned int i;

	for (i = 0; i < r->nparams; i++) {
		const char *key = r->key[i], *val = r->value[i];
		const char *const *k;
		const char **slot = NULL;

		if (!val || !val[0]) {
			*why = "a filter needs a value: KEY=VALUE";
			return -EINVAL;
		}
		for (k = allowed; *k && strcmp(*k, key); k++)
			;
		if (!*k) {
			*why = hint;
			return -EINVAL;
		}
		if (!strcmp(key, "label")) {
			if (flt->nlabels == VIEW_MAX_LABELS) {
				*why = "too many label filters";
				return -EINVAL;
			}
			flt->labels[flt->nlabels++] = val;
			continue;
		}
		if (!strcmp(key, "state"))
			slot = &flt->state;
		else if (!strcmp(key, "node"))
			slot = &flt->node;
		else
			slot = &flt->name;
		if (*slot) {
			*why = "a filter given twice";
			return -EINVAL;
		}
		*slot = val;
	}
	return 0;
}

static int answer_view(struct api_client *c, const struct api_req *r,
		       bool containers)
{
	static const char *const node_keys[] = { "state", "label", NULL };
	static const char *const container_keys[] = {
		"node", "state", "label", "name", NULL,
	};
	struct view_filter flt = { 0 };
	struct json_object *o = NULL;
	const char *why = NULL;
	int err;

	err = parse_query(r, containers ? container_keys : node_keys,
			  containers ? "unknown filter: node, state, label and name are" :
			  "unknown filter: state and label are", &flt, &why);
	if (!err)
		err = containers ? view_containers(c->api->fleet, &flt, &o, &why) :
				   view_nodes(c->api->fleet, &flt, &o, &why);
	if (err == -EINVAL)
		return respond_error(c, 400, why);
	if (err)
		return err;
	err = respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

static int answer_node(struct api_client *c, const char *key)
{
	const struct fleet *f = c->api->fleet;
	struct json_object *o;
	size_t i;
	int err;

	for (i = 0; i < f->n; i++)
		if (view_node_is(f->v[i], key))
			break;
	if (i == f->n)
		return respond_error(c, 404, "no such node");
	o = view_node(f->v[i], true);
	if (!o)
		return -ENOMEM;
	err = respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

static int answer_summary(struct api_client *c)
{
	const struct api *a = c->api;
	const struct fleet *f = a->fleet;
	struct json_object *o, *states, *recent;
	size_t counts[ENGINE_NSTATES], containers = 0, i;
	int s, err;

	o = json_object_new_object();
	states = json_object_new_object();
	recent = json_object_new_array();
	if (!o || !states || !recent) {
		json_object_put(o);
		json_object_put(states);
		json_object_put(recent);
		return -ENOMEM;
	}
	fleet_count(f, counts);
	for (s = 0; s < ENGINE_REMOVED; s++)
		json_object_object_add(states, engine_state_name(s),
				       json_object_new_int64((int64_t)counts[s]));
	for (i = 0; i < f->n; i++)
		containers += f->v[i]->inv.n;
	/* Oldest first: the ring's next slot holds the oldest. */
	for (i = 0; i < API_RECENT; i++) {
		struct json_object *t = a->recent[(a->nrecent + i) % API_RECENT];

		if (t)
			json_object_array_add(recent, json_object_get(t));
	}
	json_object_object_add(o, "time", view_time(wall_ms()));
	json_object_object_add(o, "engines", json_object_new_int64((int64_t)f->n));
	json_object_object_add(o, "states", states);
	json_object_object_add(o, "containers",
			       json_object_new_int64((int64_t)containers));
	json_object_object_add(o, "connections",
			       json_object_new_int64((int64_t)conn_open_count()));
	json_object_object_add(o, "requests",
			       json_object_new_uint64(f->env.stats.requests));
	json_object_object_add(o, "errors",
			       json_object_new_uint64(f->env.stats.errors));
	json_object_object_add(o, "transitions",
			       json_object_new_uint64(f->env.stats.transitions));
	json_object_object_add(o, "api_clients",
			       json_object_new_uint64(a->metrics->api_clients));
	json_object_object_add(o, "recent", recent);
	err = respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

static int answer_metrics(struct api_client *c)
{
	struct strbuf body = { 0 };
	int err;

	err = metrics_render(c->api->metrics, &body);
	if (!err)
		err = respond(c, 200, "text/plain; version=0.0.4; charset=utf-8",
			      body.p, body.len);
	strbuf_release(&body);
	return err;
}

static int answer_events(struct api_client *c)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
		"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n";

	c->streaming = true;
	c->api->metrics->api_streams++;
	loop_timer_stop(c->api->loop, &c->deadline);
	return client_queue(c, head, sizeof(head) - 1);
}

static unsigned int sent_status(const struct api_client *c)
{
	/* "HTTP/1.1 NNN": the first answer queued tells. */
	return c->out.len - c->out.off >= 12 ?
	       (unsigned int)atoi(c->out.p + c->out.off + 9) : 500;
}

/* peerwatch's own routes. */
static int answer_ours(struct api_client *c, const struct api_req *r,
		       enum api_route *route)
{
	if (c->rq.method != HTTP_GET)
		return respond_error(c, 405, "only GET");
	if (c->rq.has_body)
		return respond_error(c, 413, "a request has no body here");
	switch (r->route) {
	case AR_NODES:
		*route = ROUTE_NODES;
		return answer_view(c, r, false);
	case AR_NODE:
		*route = ROUTE_NODE;
		return r->nparams ? respond_error(c, 400, "no filters here") :
				    answer_node(c, r->ref);
	case AR_CONTAINERS:
		*route = ROUTE_CONTAINERS;
		return answer_view(c, r, true);
	case AR_EVENTS:
		*route = ROUTE_EVENTS;
		return r->nparams ? respond_error(c, 400, "no filters here") :
				    answer_events(c);
	case AR_SUMMARY:
		*route = ROUTE_SUMMARY;
		return answer_summary(c);
	case AR_METRICS:
		*route = ROUTE_METRICS;
		return answer_metrics(c);
	default:
		return respond_error(c, 404, "no such endpoint");
	}
}

static int docker_json(struct api_client *c, struct json_object *o)
{
	int err;

	if (!o)
		return -ENOMEM;
	err = respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

/* The engine's answer to an inspect, relayed as it came. */
static void forwarded(void *arg, unsigned int status, const char *body,
		      size_t len, const char *why)
{
	struct api_client *c = arg;
	struct api *a = c->api;
	char msg[300];
	int err;

	c->forward = NULL;
	if (!status) {
		snprintf(msg, sizeof(msg), "peerwatchd: %s", why);
		err = respond_error(c, 502, msg);
	} else {
		err = respond(c, status, "application/json", body, len);
	}
	if (err) {
		client_close(c);
		return;
	}
	status = sent_status(c);
	a->metrics->api_requests[ROUTE_DOCKER][status / 100 < 6 ? status / 100 : 5]++;
	loop_timer_start(a->loop, &c->deadline, API_WRITE_TIMEOUT_MS);
	client_flush(c);
}

static int docker_inspect(struct api_client *c, const struct api_req *r)
{
	const struct docker_container *ct;
	struct engine *e;
	char why[512], path[256];
	unsigned int st;
	int err;

	st = dockerapi_find(c->api->fleet, r->ref, &e, &ct, why, sizeof(why));
	if (st)
		return respond_error(c, st, why);
	snprintf(path, sizeof(path), "%s/containers/%s/json", e->api_prefix,
		 ct->id);
	err = forward_start(&c->forward, e, path, forwarded, c);
	if (err == -ENOMEM)
		return err;
	if (err) {
		c->forward = NULL;
		snprintf(why, sizeof(why), "peerwatchd: engine %s cannot be asked: %s",
			 e->addr, err == -EDESTADDRREQ ? "no address yet" :
			 strerror(-err));
		return respond_error(c, 502, why);
	}
	return 0;
}

/* One tagged event to a Docker /events reader, as dockerd frames it. */
static int docker_event_send(struct api_client *c, const char *s, size_t len)
{
	char head[32];
	int n;

	n = snprintf(head, sizeof(head), "%zx\r\n", len + 1);
	if (client_queue(c, head, (size_t)n) || client_queue(c, s, len) ||
	    client_queue(c, "\n\r\n", 3))
		return -ENOMEM;
	return 0;
}

static const char *event_string(struct json_object *ev, size_t *len)
{
	return json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN |
						 JSON_C_TO_STRING_NOSLASHESCAPE,
						 len);
}

/* The last chunk: a Docker /events reader's until= has come. */
static int docker_events_last(struct api_client *c)
{
	c->streaming = false;
	c->api->docker_streams--;
	return client_queue(c, "0\r\n\r\n", 5);
}

static void docker_events_end(struct api_client *c)
{
	if (docker_events_last(c)) {
		client_close(c);
		return;
	}
	loop_timer_start(c->api->loop, &c->deadline, API_WRITE_TIMEOUT_MS);
	client_flush(c);
}

static int docker_events(struct api_client *c, const struct api_req *r)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n";
	struct api *a = c->api;
	struct dockerapi_evq *q;
	uint64_t now = wall_ms();
	char why[512];
	unsigned int i;
	int err;

	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	if (dockerapi_events_query(r, q, now, why, sizeof(why))) {
		free(q);
		return respond_error(c, 400, why);
	}
	c->evq = q;
	err = client_queue(c, head, sizeof(head) - 1);
	if (!err)
		err = client_queue(c, dockerapi_headers(),
				   strlen(dockerapi_headers()));
	if (!err)
		err = client_queue(c, "\r\n", 2);
	/* since=: what the ring still holds, oldest first. */
	for (i = 0; !err && q->since_ns && i < API_DOCKER_RING; i++) {
		const struct dring_ev *d =
			&a->dring[(a->ndring + i) % API_DOCKER_RING];
		struct json_object *ev;
		bool match;

		if (!d->s || d->ns < q->since_ns ||
		    (q->until_ns && d->ns > q->until_ns))
			continue;
		ev = json_tokener_parse(d->s);
		if (!ev)
			continue;
		match = dockerapi_event_match(q, ev);
		json_object_put(ev);
		if (match)
			err = docker_event_send(c, d->s, d->len);
	}
	if (err)
		return err;
	c->streaming = true;
	a->docker_streams++;
	loop_timer_stop(a->loop, &c->deadline);
	if (q->until_ns) {
		long long left = q->until_ns / 1000000 - (long long)now;

		/* Past already: the replay was all; serve() sends it. */
		if (left <= 0)
			return docker_events_last(c);
		loop_timer_start(a->loop, &c->deadline, (uint64_t)left);
	}
	return 0;
}

/* The Docker Engine API façade. */
static int answer_docker(struct api_client *c, const struct api_req *r)
{
	static const char pong_extra[] =
		"Cache-Control: no-cache, no-store, must-revalidate\r\n"
		"Pragma: no-cache\r\n";
	const char *bad = NULL;
	struct json_object *o;
	char why[512];
	unsigned int st;
	int err;

	if (c->api->cfg->no_docker)
		return respond_error(c, 404, "peerwatchd: the Docker Engine API is off here (--no-docker-api); the control API is under /v1/");
	st = dockerapi_check_version(r, why, sizeof(why));
	if (st)
		return respond_error(c, st, why);
	if (r->method == METHOD_OTHER) {
		snprintf(why, sizeof(why), "peerwatchd is a read-only view of the fleet: %s %s would change an engine; send it to that engine's own daemon",
			 r->method_name, r->path);
		return respond_error(c, 403, why);
	}
	if (c->head && r->route != AR_D_PING)
		return respond_error(c, 405, "peerwatchd: HEAD is for /_ping only");
	switch (r->route) {
	case AR_D_PING:
		return respond_ext(c, 200, "text/plain; charset=utf-8",
				   pong_extra, "OK", 2);
	case AR_D_VERSION:
		return docker_json(c, dockerapi_version(c->api->fleet));
	case AR_D_INFO:
		return docker_json(c, dockerapi_info(c->api->fleet));
	case AR_D_CONTAINERS:
		err = dockerapi_containers(c->api->fleet, r, &o, why,
					   sizeof(why));
		if (err == -EINVAL)
			return respond_error(c, 400, why);
		return err ? err : docker_json(c, o);
	case AR_D_INSPECT:
		return docker_inspect(c, r);
	case AR_D_EVENTS:
		return docker_events(c, r);
	default:
		bad = r->path;
		snprintf(why, sizeof(why), "peerwatchd: GET %.200s is not served: the read-only fleet has /_ping, /version, /info, /containers/json, /containers/{id}/json and /events",
			 bad);
		return respond_error(c, 404, why);
	}
}

/* Routes a whole request; the route of its answer for the metrics. */
static int answer(struct api_client *c, enum api_route *route)
{
	struct api_req *r;
	const char *why = NULL;
	unsigned int st;
	int err;

	*route = ROUTE_OTHER;
	if (c->status)
		return respond_error(c, c->status, c->why);
	r = malloc(sizeof(*r));
	if (!r)
		return -ENOMEM;
	st = api_req_parse(r, c->rq.url, c->rq.url_len, c->rq.method, &why);
	c->docker = r->docker;
	if (r->docker)
		*route = ROUTE_DOCKER;
	if (st)
		err = respond_error(c, st, why);
	else if (r->docker)
		err = answer_docker(c, r);
	else
		err = answer_ours(c, r, route);
	free(r);
	return err;
}

static bool cache_hit(const struct api *a, const struct api_client *c)
{
	return !c->status && c->rq.method == HTTP_GET && a->cache.resp.len &&
	       loop_now(a->loop) - a->cache.ms < API_CACHE_MS &&
	       !strcmp(a->cache.url, c->rq.url);
}

static void cache_store(struct api *a, const struct api_client *c,
			enum api_route route)
{
	strbuf_release(&a->cache.resp);
	if (strbuf_add(&a->cache.resp, c->out.p + c->out.off,
		       strbuf_pending(&c->out)))
		return;
	a->cache.ms = loop_now(a->loop);
	a->cache.route = route;
}

static void serve(struct api_client *c)
{
	struct api *a = c->api;
	enum api_route route;
	unsigned int status;
	bool fresh = false;
	int err;

	c->ready = false;
	c->rq.url[c->rq.url_len] = '\0';
	if (a->out_total > API_OUT_MAX) {
		route = ROUTE_OTHER;
		err = respond_error(c, 503, "busy: too many answers in flight");
	} else if (cache_hit(a, c)) {
		route = a->cache.route;
		err = client_queue(c, a->cache.resp.p, a->cache.resp.len);
	} else {
		/* answer() cuts the URL up: keep it whole for the cache. */
		memcpy(a->cache.url, c->rq.url, c->rq.url_len + 1);
		a->cache.resp.len = 0;
		err = answer(c, &route);
		fresh = true;
	}
	if (err) {
		/* Whatever was queued is dropped with the client. */
		log_warn("api: %s", strerror(-err));
		client_close(c);
		return;
	}
	/* An inspect is answered when its engine has. */
	if (c->forward)
		return;
	status = sent_status(c);
	if (fresh && !c->streaming && status == 200 && c->rq.method == HTTP_GET)
		cache_store(a, c, route);
	if (!c->streaming)
		loop_timer_start(a->loop, &c->deadline, API_WRITE_TIMEOUT_MS);
	a->metrics->api_requests[route][status / 100 < 6 ? status / 100 : 5]++;
	client_flush(c);
}

/* Answers queued requests, a few ms per pass, so engines go between. */
static void render_fn(struct loop_timer *t)
{
	struct api *a = container_of(t, struct api, render);
	uint64_t start = mono_ms();
	struct api_client *c, *next;

	for (c = a->head; c; c = next) {
		next = c->next;
		if (!c->ready)
			continue;
		if (mono_ms() - start >= API_RENDER_BUDGET_MS) {
			loop_timer_start(a->loop, &a->render, 0);
			return;
		}
		serve(c);
	}
}

static void request_done(struct api_client *c)
{
	struct api *a = c->api;

	c->complete = true;
	c->ready = true;
	loop_timer_stop(a->loop, &c->deadline);
	loop_io_mod(a->loop, &c->io, 0);
	if (!loop_timer_active(&a->render))
		loop_timer_start(a->loop, &a->render, 0);
}

/*
 * A request that cannot be served: answered at once, not queued behind
 * real work (an error costs nothing to build), then closed.
 */
static void reject(struct api_client *c, unsigned int status, const char *why)
{
	struct api *a = c->api;

	c->status = status;
	c->why = why;
	c->complete = true;
	loop_timer_stop(a->loop, &c->deadline);
	loop_io_mod(a->loop, &c->io, 0);
	serve(c);
}

static void client_read(struct api_client *c)
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
	struct api_client *c = container_of(io, struct api_client, io);

	if (events & (LOOP_READ | LOOP_ERROR))
		client_read(c);
	if (!c->closed && (events & LOOP_WRITE))
		client_flush(c);
}

static void client_deadline(struct loop_timer *t)
{
	struct api_client *c = container_of(t, struct api_client, deadline);

	if (c->streaming && c->evq) {
		/* A Docker /events reader's until= */
		docker_events_end(c);
		return;
	}
	if (!c->lingering)
		c->api->metrics->api_timeouts++;
	if (c->complete) {
		client_close(c);
		return;
	}
	reject(c, 408, "request not received in time");
}

static int client_new(struct api *a, int fd)
{
	struct api_client *c;
	int err;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->api = a;
	c->fd = fd;
	api_head_init(&c->rq);
	loop_timer_init(&c->deadline, client_deadline);
	err = loop_io_add(a->loop, &c->io, fd, LOOP_READ, client_io);
	if (err) {
		free(c);
		return err;
	}
	c->prev = a->tail;
	if (a->tail)
		a->tail->next = c;
	else
		a->head = c;
	a->tail = c;
	a->nclients++;
	a->metrics->api_clients++;
	/* Absolute, not reset by each byte: a slowloris gets no more. */
	loop_timer_start(a->loop, &c->deadline, API_HEADER_TIMEOUT_MS);
	return 0;
}

static void listener_io(struct loop_io *io, uint32_t events)
{
	struct api_listener *l = container_of(io, struct api_listener, io);
	struct api *a = l->api;
	int fd, err;

	(void)events;
	for (;;) {
		fd = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors: the backlog waits for a close. */
			if (errno != EAGAIN && errno != EINTR)
				log_warn("api: accept: %s", strerror(errno));
			return;
		}
		err = client_new(a, fd);
		if (err) {
			log_warn("api: %s", strerror(-err));
			close(fd);
		}
		if (a->nclients >= a->cfg->max_clients) {
			a->metrics->api_full++;
			listeners_watch(a, false);
			return;
		}
	}
}

static int listener_start(struct api *a, struct api_listener *l, int fd)
{
	l->api = a;
	l->fd = fd;
	if (listen(fd, SOMAXCONN))
		return -errno;
	return loop_io_add(a->loop, &l->io, fd, LOOP_READ, listener_io);
}

/* A socket file left by a dead agent is replaced; a live agent's is not. */
static int clear_stale(const char *path, const struct sockaddr_un *sun)
{
	struct stat st;
	int fd, err = 0;

	if (lstat(path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (!connect(fd, (const struct sockaddr *)sun, sizeof(*sun)))
		err = -EADDRINUSE;
	else if (errno == ECONNREFUSED)
		err = unlink(path) ? -errno : 0;
	else
		err = -errno;
	close(fd);
	return err;
}

static int unix_start(struct api *a, const char **why)
{
	const char *path = a->cfg->socket;
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	char *copy;
	mode_t old;
	int fd, err;

	*why = "--api-socket";
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	/* The default lives under /run, which may not have it yet. */
	copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	if (mkdir(dirname(copy), 0755) && errno != EEXIST)
		log_warn("api: cannot create the directory of %s: %s", path,
			 strerror(errno));
	free(copy);
	err = clear_stale(path, &sun);
	if (err) {
		*why = err == -EADDRINUSE ? "--api-socket: another agent serves it" :
		       err == -EEXIST ? "--api-socket: not a socket, left alone" :
		       "--api-socket";
		return err;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	/* Created 0660 from the start: no window with a wider mode. */
	old = umask(0117);
	err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
	umask(old);
	if (!err) {
		a->unlink_socket = true;
		err = listener_start(a, &a->unix_l, fd);
	}
	if (err) {
		close(fd);
		a->unix_l.fd = -1;
	}
	return err;
}

int api_listen_addr(const char *s, bool any, struct sockaddr_storage *ss,
		    socklen_t *len, const char **why)
{
	struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
	char host[256];
	uint16_t port;
	bool loopback;

	memset(ss, 0, sizeof(*ss));
	if (hostport_parse(s, host, sizeof(host), &port, why))
		return -EINVAL;
	if (!strcmp(host, "localhost"))
		strcpy(host, "127.0.0.1");
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons(port);
		*len = sizeof(*s4);
		loopback = (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons(port);
		*len = sizeof(*s6);
		loopback = IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	} else {
		*why = "an IP address (or localhost) is needed";
		return -EINVAL;
	}
	if (!loopback && !any) {
		*why = "not a loopback address: the API has no authentication; add --api-listen-any to mean it";
		return -EINVAL;
	}
	return 0;
}

static int tcp_start(struct api *a, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, err, one = 1;

	*why = "--api-listen";
	err = api_listen_addr(a->cfg->listen, a->cfg->listen_any, &ss, &len, why);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	err = bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
	if (!err)
		err = listener_start(a, &a->tcp_l, fd);
	if (err) {
		close(fd);
		a->tcp_l.fd = -1;
	}
	return err;
}

/* One line to every /v1/events reader; one too far behind is dropped. */
static void broadcast(struct api *a, struct json_object *o)
{
	struct api_client *c, *next;
	const char *s;
	char head[32];
	size_t len;
	int n;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (!s)
		return;
	n = snprintf(head, sizeof(head), "%zx\r\n", len + 1);
	for (c = a->head; c; c = next) {
		next = c->next;
		if (!c->streaming || c->evq)
			continue;
		if (strbuf_pending(&c->out) + len + 64 > API_STREAM_MAX) {
			log_info("api: dropping a /v1/events reader %zu bytes behind",
				 strbuf_pending(&c->out));
			a->metrics->api_dropped++;
			client_close(c);
			continue;
		}
		if (client_queue(c, head, (size_t)n) || client_queue(c, s, len) ||
		    client_queue(c, "\n\r\n", 3)) {
			client_close(c);
			continue;
		}
		client_flush(c);
	}
}

static struct json_object *event_json(const struct engine *e, const char *type)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "time", view_time(wall_ms()));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "addr", json_object_new_string(e->addr));
	json_object_object_add(o, "id", json_object_new_string(e->info.id));
	json_object_object_add(o, "name", json_object_new_string(e->info.name));
	return o;
}

static void on_transition(void *arg, const struct engine *e,
			  enum engine_state from)
{
	struct api *a = arg;
	struct json_object *o;

	metrics_transition(a->metrics, e, from);
	o = event_json(e, "engine");
	if (!o)
		return;
	json_object_object_add(o, "from",
			       json_object_new_string(engine_state_name(from)));
	json_object_object_add(o, "state",
			       json_object_new_string(engine_state_name(e->state)));
	json_object_object_add(o, "cause", e->cause == CAUSE_NONE ? NULL :
			       json_object_new_string(cause_name(e->cause)));
	/* The error that made it leave: a recovery has none. */
	json_object_object_add(o, "error", e->cause != CAUSE_NONE && e->error[0] ?
			       json_object_new_string(e->error) : NULL);
	broadcast(a, o);
	json_object_put(a->recent[a->nrecent % API_RECENT]);
	a->recent[a->nrecent++ % API_RECENT] = o;
}

/* An engine's event to the Docker /events readers, and into the ring. */
static void docker_broadcast(struct api *a, const struct engine *e,
			     struct json_object *raw)
{
	struct api_client *c, *next;
	struct dring_ev *d;
	struct json_object *ev;
	const char *s;
	size_t len = 0;

	ev = dockerapi_event_tag(e, raw, wall_ms());
	if (!ev)
		return;
	s = event_string(ev, &len);
	for (c = a->head; c && s && a->docker_streams; c = next) {
		next = c->next;
		if (!c->streaming || !c->evq ||
		    !dockerapi_event_match(c->evq, ev))
			continue;
		if (strbuf_pending(&c->out) + len + 64 > API_STREAM_MAX) {
			log_info("api: dropping a Docker /events reader %zu bytes behind",
				 strbuf_pending(&c->out));
			a->metrics->api_dropped++;
			client_close(c);
			continue;
		}
		if (docker_event_send(c, s, len)) {
			client_close(c);
			continue;
		}
		client_flush(c);
	}
	/*
	 * Kept as text: a json-c tree costs several times its text, and the
	 * ring is read only by a since= replay, which parses it again.
	 */
	d = &a->dring[a->ndring % API_DOCKER_RING];
	free(d->s);
	d->s = s ? malloc(len + 1) : NULL;
	if (d->s) {
		memcpy(d->s, s, len + 1);
		d->len = len;
		d->ns = dockerapi_event_ns(ev);
		a->ndring++;
	}
	json_object_put(ev);
}

static void on_container(void *arg, const struct engine *e,
			 const struct docker_event *ev, struct json_object *raw)
{
	struct api *a = arg;
	struct json_object *o;

	docker_broadcast(a, e, raw);
	if (!a->metrics->api_streams || strcmp(ev->type, "container"))
		return;
	o = event_json(e, "container");
	if (!o)
		return;
	json_object_object_add(o, "action", json_object_new_string(ev->action));
	json_object_object_add(o, "container", json_object_new_string(ev->id));
	broadcast(a, o);
	json_object_put(o);
}

int api_new(struct api **ap, struct loop *loop, struct fleet *fleet,
	    const struct kevents *kev, const struct api_cfg *cfg,
	    const char **why)
{
	struct api *a;
	int err;

	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = cfg;
	a->loop = loop;
	a->fleet = fleet;
	a->unix_l.fd = -1;
	a->tcp_l.fd = -1;
	loop_timer_init(&a->render, render_fn);
	loop_timer_init(&a->trim, trim_fn);
	*why = "metrics";
	err = metrics_new(&a->metrics, loop, fleet, kev);
	if (!err && cfg->socket)
		err = unix_start(a, why);
	if (!err && cfg->listen)
		err = tcp_start(a, why);
	if (err)
		goto err;
	a->observer.transition = on_transition;
	a->observer.container = on_container;
	a->observer.arg = a;
	fleet->env.observer = &a->observer;
	*ap = a;
	return 0;

err:
	api_free(a);
	return err;
}

static void listener_stop(struct api *a, struct api_listener *l)
{
	if (l->fd < 0)
		return;
	loop_io_del(a->loop, &l->io);
	close(l->fd);
	l->fd = -1;
}

void api_free(struct api *a)
{
	unsigned int i;

	if (!a)
		return;
	if (a->fleet->env.observer == &a->observer)
		a->fleet->env.observer = NULL;
	while (a->head)
		client_close(a->head);
	loop_timer_stop(a->loop, &a->render);
	loop_timer_stop(a->loop, &a->trim);
	listener_stop(a, &a->unix_l);
	listener_stop(a, &a->tcp_l);
	if (a->unlink_socket)
		unlink(a->cfg->socket);
	for (i = 0; i < API_RECENT; i++)
		json_object_put(a->recent[i]);
	for (i = 0; i < API_DOCKER_RING; i++)
		free(a->dring[i].s);
	strbuf_release(&a->cache.resp);
	metrics_free(a->metrics);
	free(a);
}
