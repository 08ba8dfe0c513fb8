// SPDX-License-Identifier: GPL-2.0
/*
 * The Docker Engine API façade's routes (see facade.h): each answers
 * with what dockerapi*.c builds from the fleet; an inspect waits for the
 * engine that owns the container; /events readers get every engine's
 * events as they come, and since= what the ring still holds.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dockerapi.h"
#include "facade.h"
#include "fleet.h"
#include "forward.h"
#include "views.h"
#include "clock.h"

#define FACADE_RING	256		/* events kept for since=, as dockerd */

const struct server_dialect facade_dialect = {
	.headers = DOCKERAPI_HEADERS,
	.error_key = "message",
	.json_newline = true,
};

/* An engine's event, tagged, kept as text for since=. */
struct facade_ev {
	char *s;
	size_t len;
	long long ns;
};

struct facade {
	struct fleet *fleet;
	struct server_stream readers;	/* of /events; each holds its query */
	struct facade_ev ring[FACADE_RING];
	unsigned int nring;
};

/* Each answer of the facade covers this agent's engines: said so. */
static int answer_json(struct server_client *c, const struct fleet *f,
		       struct json_object *o)
{
	char scope[VIEW_SCOPE_MAX];
	int err;

	if (!o)
		return -ENOMEM;
	view_scope_header(f, scope, sizeof(scope));
	err = server_respond_json_ext(c, 200, o, scope);
	json_object_put(o);
	return err;
}

int facade_ping(void *router, struct server_client *c,
		const struct api_req *r)
{
	static const char extra[] =
		"Cache-Control: no-cache, no-store, must-revalidate\r\n"
		"Pragma: no-cache\r\n";

	(void)router;
	(void)r;
	return server_respond(c, 200, "text/plain; charset=utf-8", extra,
			      "OK", 2);
}

int facade_version(void *router, struct server_client *c,
		   const struct api_req *r)
{
	const struct facade *fc = router;

	(void)r;
	return answer_json(c, fc->fleet, dockerapi_version(fc->fleet));
}

int facade_info(void *router, struct server_client *c,
		const struct api_req *r)
{
	const struct facade *fc = router;
	struct dockerapi_info *in;
	char scope[VIEW_SCOPE_MAX];
	int err;

	(void)r;
	err = dockerapi_info_new(&in, fc->fleet,
				 c->dialect && c->dialect->json_newline);
	if (err)
		return err;
	server_attach(c, in, dockerapi_info_free);
	view_scope_header(fc->fleet, scope, sizeof(scope));
	return server_respond_more(c, "application/json", scope,
				   dockerapi_info_more);
}

int facade_containers(void *router, struct server_client *c,
		      const struct api_req *r)
{
	const struct facade *fc = router;
	struct dockerapi_list *l;
	char why[512], scope[VIEW_SCOPE_MAX];
	int err;

	err = dockerapi_list_new(&l, fc->fleet, r,
				 c->dialect && c->dialect->json_newline, why,
				 sizeof(why));
	if (err == -EINVAL)
		return server_respond_error(c, 400, why);
	if (err)
		return err;
	server_attach(c, l, dockerapi_list_free);
	view_scope_header(fc->fleet, scope, sizeof(scope));
	return server_respond_more(c, "application/json", scope,
				   dockerapi_list_more);
}

/* The engine's answer to an inspect, relayed as it came. */
static void forwarded(void *arg, unsigned int status, const char *body,
		      size_t len, const char *why)
{
	struct server_client *c = arg;
	char msg[300];
	int err;

	/* Done: the forward frees itself. */
	server_attach(c, NULL, NULL);
	if (!status) {
		snprintf(msg, sizeof(msg), "peerwatchd: %s", why);
		err = server_respond_error(c, 502, msg);
	} else {
		err = server_respond(c, status, "application/json", "", body,
				     len);
	}
	server_answered(c, err);
}

static void forward_release(void *data)
{
	forward_cancel(data);
}

int facade_inspect(void *router, struct server_client *c,
		   const struct api_req *r)
{
	const struct facade *fc = router;
	const struct docker_container *ct;
	struct forward *fwd;
	struct engine *e;
	char why[512], path[256], id[DOCKER_ID_MAX];
	unsigned int st;
	int err;

	st = dockerapi_find(fc->fleet, r->ref, &e, &ct, why, sizeof(why));
	/* Another agent's engine may hold it: where to look is said. */
	if (st == 404 && fc->fleet->share)
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " among the %zu engines agent %s watches (of %zu: ask their watchers, peerwatch nodes)",
			 fc->fleet->n, fc->fleet->share->name,
			 fc->fleet->all.n);
	if (st)
		return server_respond_error(c, st, why);
	docker_container_id(ct, id);
	/*
	 * An engine known down or unhealthy would only make the client wait
	 * the request timeout: its state and cause now, as dockerd's error.
	 */
	if (e->state == ENGINE_DOWN || e->state == ENGINE_UNHEALTHY) {
		char age[16];

		dockerapi_age(e->since_ms, age, sizeof(age));
		snprintf(why, sizeof(why), "peerwatchd: container %.12s is on engine %s (%s), %s for %s (%s%s%s): its details cannot be asked now",
			 id, dockerapi_node_name(e), e->addr,
			 engine_state_name(e->state), age, cause_name(e->cause),
			 e->error[0] ? ": " : "", e->error);
		return server_respond_error(c, 503, why);
	}
	snprintf(path, sizeof(path), "%s/containers/%s/json", e->api_prefix,
		 id);
	err = forward_start(&fwd, e, path, forwarded, c);
	if (err == -ENOMEM)
		return err;
	if (err) {
		snprintf(why, sizeof(why), "peerwatchd: engine %s cannot be asked: %s",
			 e->addr, err == -EDESTADDRREQ ? "no address yet" :
			 strerror(-err));
		return server_respond_error(c, 502, why);
	}
	server_attach(c, fwd, forward_release);
	server_wait(c);
	return 0;
}

/* since=: what the ring still holds, oldest first. */
static int replay(const struct facade *fc, struct server_client *c,
		  const struct dockerapi_evq *q)
{
	unsigned int i;
	int err = 0;

	for (i = 0; !err && q->since_ns && i < FACADE_RING; i++) {
		const struct facade_ev *d =
			&fc->ring[(fc->nring + i) % FACADE_RING];
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
			err = server_chunk(c, d->s, d->len);
	}
	return err;
}

int facade_events(void *router, struct server_client *c,
		  const struct api_req *r)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
		"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n"
		DOCKERAPI_HEADERS;
	struct facade *fc = router;
	struct dockerapi_evq *q;
	uint64_t now = clock_wall_ms();
	char why[512], scope[VIEW_SCOPE_MAX];
	long long left;
	int err;

	q = malloc(sizeof(*q));
	if (!q)
		return -ENOMEM;
	if (dockerapi_events_query(r, q, now, why, sizeof(why))) {
		free(q);
		return server_respond_error(c, 400, why);
	}
	server_attach(c, q, free);
	view_scope_header(fc->fleet, scope, sizeof(scope));
	err = server_queue(c, head, sizeof(head) - 1);
	if (!err)
		err = server_queue(c, scope, strlen(scope));
	if (!err)
		err = server_queue(c, "\r\n", 2);
	if (!err)
		err = replay(fc, c, q);
	if (err)
		return err;
	left = q->until_ns ? q->until_ns / 1000000 - (long long)now : 0;
	/* until= past already: the replay was all. */
	if (q->until_ns && left <= 0)
		return server_queue(c, "0\r\n\r\n", 5);
	server_stream_start(c, &fc->readers);
	if (q->until_ns)
		server_stream_until(c, (uint64_t)left);
	return 0;
}

static void ring_keep(struct facade *fc, struct json_object *ev,
		      const char *s, size_t len)
{
	struct facade_ev *d = &fc->ring[fc->nring % FACADE_RING];

	/*
	 * Kept as text: a json-c tree costs several times its text, and the
	 * ring is read only by a since= replay, which parses it again.
	 */
	free(d->s);
	d->s = s ? malloc(len + 1) : NULL;
	if (d->s) {
		memcpy(d->s, s, len + 1);
		d->len = len;
		d->ns = dockerapi_event_ns(ev);
		fc->nring++;
	}
}

void facade_event(struct facade *fc, const struct engine *e,
		  struct json_object *raw)
{
	struct server_client *c, *next;
	struct json_object *ev;
	const char *s;
	size_t len = 0;

	ev = dockerapi_event_tag(e, raw, clock_wall_ms());
	if (!ev)
		return;
	s = json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	for (c = fc->readers.head; c && s; c = next) {
		next = c->snext;
		if (dockerapi_event_match(c->data, ev))
			server_stream_send(c, s, len);
	}
	ring_keep(fc, ev, s, len);
	json_object_put(ev);
}

int facade_new(struct facade **fp, struct fleet *f)
{
	struct facade *fc;

	fc = calloc(1, sizeof(*fc));
	if (!fc)
		return -ENOMEM;
	fc->fleet = f;
	fc->readers.name = "Docker /events";
	*fp = fc;
	return 0;
}

void facade_free(struct facade *fc)
{
	unsigned int i;

	if (!fc)
		return;
	for (i = 0; i < FACADE_RING; i++)
		free(fc->ring[i].s);
	free(fc);
}
