// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch's own API (see v1.h): views of the fleet, the /v1/events
 * stream of transitions and container events, the summary that
 * peerwatch top shows, and /metrics.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fleet.h"
#include "metrics.h"
#include "clock.h"
#include "server.h"
#include "v1.h"
#include "views.h"

#define V1_RECENT	32		/* transitions in /v1/summary */

struct v1 {
	const struct fleet *fleet;
	struct metrics *metrics;
	/* of /v1/events: every event, engine transitions, container events */
	struct server_stream readers, engine_readers, container_readers;
	struct json_object *recent[V1_RECENT];	/* ring of transitions */
	unsigned int nrecent;
};

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
		if (!strcmp(key, "state") || !strcmp(key, "node_state")) {
			bool node = key[0] == 'n';
			unsigned int *n = node ? &flt->nnode_states : &flt->nstates;

			if (*n == VIEW_MAX_STATES) {
				*why = "too many state filters";
				return -EINVAL;
			}
			(node ? flt->node_states : flt->states)[(*n)++] = val;
			continue;
		}
		if (!strcmp(key, "node"))
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

static int answer_view(struct v1 *v, struct server_client *c,
		       const struct api_req *r, bool containers)
{
	static const char *const node_keys[] = { "state", "label", NULL };
	static const char *const container_keys[] = {
		"node", "state", "node_state", "label", "name", NULL,
	};
	char scope[VIEW_SCOPE_MAX] = "";
	struct view_filter flt = { 0 };
	struct view_cursor *vc;
	const char *why = NULL;
	int err;

	err = parse_query(r, containers ? container_keys : node_keys,
			  containers ? "unknown filter: node, state, node_state, label and name are" :
			  "unknown filter: state and label are", &flt, &why);
	if (!err)
		err = view_cursor_new(&vc, v->fleet, &flt, containers, &why);
	if (err == -EINVAL)
		return server_respond_error(c, 400, why);
	if (err)
		return err;
	server_attach(c, vc, view_cursor_free);
	/* The containers of this agent's engines only, and a header says so. */
	if (containers)
		view_scope_header(v->fleet, scope, sizeof(scope));
	return server_respond_more(c, "application/json", scope,
				   view_cursor_more);
}

int v1_nodes(void *router, struct server_client *c, const struct api_req *r)
{
	return answer_view(router, c, r, false);
}

int v1_containers(void *router, struct server_client *c,
		  const struct api_req *r)
{
	return answer_view(router, c, r, true);
}

int v1_node(void *router, struct server_client *c, const struct api_req *r)
{
	const struct fleet *f = ((struct v1 *)router)->fleet;
	const struct engine *e;
	struct json_object *o;
	char why[512];
	int err;

	if (r->nparams)
		return server_respond_error(c, 400, "no filters here");
	err = view_node_find(f, r->ref, &e, why, sizeof(why));
	if (err == -ENOENT)
		return server_respond_error(c, 404, "no such node");
	if (err)
		return server_respond_error(c, 409, why);
	o = view_node(e, true);
	if (!o)
		return -ENOMEM;
	err = server_respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

int v1_summary(void *router, struct server_client *c,
	       const struct api_req *r)
{
	const struct v1 *v = router;
	const struct fleet *f = v->fleet;
	struct json_object *o, *states, *recent;
	size_t counts[ENGINE_NSTATES], containers = 0, i, n;
	int s, err;

	(void)r;
	o = json_object_new_object();
	states = json_object_new_object();
	recent = json_object_new_array();
	if (!o || !states || !recent) {
		json_object_put(o);
		json_object_put(states);
		json_object_put(recent);
		return -ENOMEM;
	}
	/* Engines and states: the whole fleet; the rest: this agent's. */
	n = view_fleet_count(f, counts);
	for (s = 0; s < ENGINE_REMOVED; s++)
		json_object_object_add(states, engine_state_name(s),
				       json_object_new_int64((int64_t)counts[s]));
	for (i = 0; i < f->n; i++)
		containers += f->v[i]->inv.n;
	/* Oldest first: the ring's next slot holds the oldest. */
	for (i = 0; i < V1_RECENT; i++) {
		struct json_object *t = v->recent[(v->nrecent + i) % V1_RECENT];

		if (t)
			json_object_array_add(recent, json_object_get(t));
	}
	json_object_object_add(o, "version",
			       json_object_new_string(PEERWATCH_VERSION));
	json_object_object_add(o, "time",
			       view_time(clock_wall_ms()));
	json_object_object_add(o, "version",
			       json_object_new_string(PEERWATCH_VERSION));
	json_object_object_add(o, "engines", json_object_new_int64((int64_t)n));
	json_object_object_add(o, "states", states);
	json_object_object_add(o, "containers",
			       json_object_new_int64((int64_t)containers));
	view_traffic(o, f);
	json_object_object_add(o, "transitions",
			       json_object_new_uint64(f->env.stats.transitions));
	json_object_object_add(o, "api_clients",
			       json_object_new_uint64(v->metrics->api_clients));
	json_object_object_add(o, "recent", recent);
	json_object_object_add(o, "cluster", view_cluster(f));
	err = server_respond_json(c, 200, o);
	json_object_put(o);
	return err;
}

int v1_metrics(void *router, struct server_client *c,
	       const struct api_req *r)
{
	const struct v1 *v = router;
	struct metrics_cursor *mc;
	int err;

	(void)r;
	err = metrics_cursor_new(&mc, v->metrics);
	if (err)
		return err;
	server_attach(c, mc, metrics_cursor_free);
	return server_respond_more(c, "text/plain; version=0.0.4; charset=utf-8",
				   "", metrics_more);
}

int v1_events(void *router, struct server_client *c, const struct api_req *r)
{
	static const char head[] =
		"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\n"
		"Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n\r\n";
	struct v1 *v = router;
	struct server_stream *st = &v->readers;
	int err;

	if (r->nparams > 1 || (r->nparams && strcmp(r->key[0], "type")))
		return server_respond_error(c, 400,
					    "unknown filter: type is the only one");
	if (r->nparams && r->value[0] && !strcmp(r->value[0], "engine"))
		st = &v->engine_readers;
	else if (r->nparams && r->value[0] && !strcmp(r->value[0], "container"))
		st = &v->container_readers;
	else if (r->nparams)
		return server_respond_error(c, 400,
					    "type: want engine or container");
	err = server_queue(c, head, sizeof(head) - 1);
	if (!err)
		server_stream_start(c, st);
	return err;
}

/* One line to every reader of /v1/events and of its filtered @typed. */
static void broadcast(struct v1 *v, struct server_stream *typed,
		      struct json_object *o)
{
	struct server_stream *st[] = { &v->readers, typed };
	struct server_client *c, *next;
	const char *s;
	size_t len, i;

	s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
					      JSON_C_TO_STRING_NOSLASHESCAPE,
					      &len);
	if (!s)
		return;
	for (i = 0; i < 2; i++) {
		for (c = st[i]->head; c; c = next) {
			next = c->snext;
			server_stream_send(c, s, len);
		}
	}
}

static struct json_object *event_json(const struct engine *e, const char *type)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "time",
			       view_time(clock_wall_ms()));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "addr", json_object_new_string(e->addr));
	json_object_object_add(o, "id", json_object_new_string(e->info.id));
	json_object_object_add(o, "name",
			       json_object_new_string(docker_info_name(&e->info)));
	return o;
}

void v1_transition(struct v1 *v, const struct engine *e,
		   enum engine_state from)
{
	struct json_object *o;

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
	broadcast(v, &v->engine_readers, o);
	json_object_put(v->recent[v->nrecent % V1_RECENT]);
	v->recent[v->nrecent++ % V1_RECENT] = o;
}

void v1_container(struct v1 *v, const struct engine *e,
		  const struct docker_event *ev)
{
	struct json_object *o;

	if ((!v->readers.n && !v->container_readers.n) ||
	    strcmp(ev->type, "container"))
		return;
	o = event_json(e, "container");
	if (!o)
		return;
	json_object_object_add(o, "action", json_object_new_string(ev->action));
	json_object_object_add(o, "container", json_object_new_string(ev->id));
	broadcast(v, &v->container_readers, o);
	json_object_put(o);
}

int v1_new(struct v1 **vp, const struct fleet *f, struct metrics *m)
{
	struct v1 *v;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	v->fleet = f;
	v->metrics = m;
	v->readers.name = "/v1/events";
	v->readers.gauge = &m->api_streams;
	v->engine_readers.name = "/v1/events?type=engine";
	v->engine_readers.gauge = &m->api_streams;
	v->container_readers.name = "/v1/events?type=container";
	v->container_readers.gauge = &m->api_streams;
	*vp = v;
	return 0;
}

void v1_free(struct v1 *v)
{
	unsigned int i;

	if (!v)
		return;
	for (i = 0; i < V1_RECENT; i++)
		json_object_put(v->recent[i]);
	free(v);
}
