// SPDX-License-Identifier: GPL-2.0
/*
 * What the control API and the state file show of the fleet, as JSON, and
 * the filters that select it. Filters are checked before anything is
 * built, so a malformed one costs nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fleet.h"
#include "views.h"

/* What dockerd reports in a container's State. */
static const char *const container_states[] = {
	"created", "running", "paused", "restarting", "removing", "exited",
	"dead",
};

struct json_object *view_time(uint64_t ms)
{
	time_t sec = (time_t)(ms / 1000);
	char buf[64];
	struct tm tm;

	gmtime_r(&sec, &tm);
	snprintf(buf, sizeof(buf), "%04d-%02d-%02dT%02d:%02d:%02d.%03uZ",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (unsigned int)(ms % 1000));
	return json_object_new_string(buf);
}

struct json_object *view_container_labels(const struct docker_container *c)
{
	struct json_object *o = json_object_new_object();
	const char *k, *v;
	uint32_t pos = 0;

	while (o && docker_label_next(c, &pos, &k, &v))
		json_object_object_add(o, k, json_object_new_string(v));
	return o;
}

static struct json_object *container_json(const struct engine *e,
					  const struct docker_container *c)
{
	struct json_object *o = json_object_new_object();
	char id[DOCKER_ID_MAX];

	if (!o)
		return NULL;
	json_object_object_add(o, "id", json_object_new_string(
				       docker_container_id(c, id)));
	json_object_object_add(o, "name", json_object_new_string(
				       docker_container_name(c)));
	json_object_object_add(o, "image", json_object_new_string(
				       docker_container_image(c)));
	json_object_object_add(o, "state", json_object_new_string(
				       docker_container_state(c)));
	json_object_object_add(o, "labels", view_container_labels(c));
	if (c->labels_dropped)
		json_object_object_add(o, "labels_dropped",
				       json_object_new_int(c->labels_dropped));
	if (e) {
		json_object_object_add(o, "node", json_object_new_string(e->addr));
		json_object_object_add(o, "node_name",
				       json_object_new_string(
					       docker_info_name(&e->info)));
		json_object_object_add(o, "node_state",
				       json_object_new_string(engine_state_name(e->state)));
		json_object_object_add(o, "stale",
				       json_object_new_boolean(view_stale(e)));
		json_object_object_add(o, "listed", e->refreshed_ms ?
				       view_time(e->refreshed_ms) : NULL);
	}
	return o;
}

/*
 * A healthy engine's listing is kept current by its events; any other
 * state means nobody is telling us what changed since the last one.
 */
bool view_stale(const struct engine *e)
{
	return e->state != ENGINE_HEALTHY;
}

static struct json_object *containers_json(const struct engine *e)
{
	struct json_object *a = json_object_new_array_ext((int)e->inv.n);
	size_t i;

	for (i = 0; a && i < e->inv.n; i++)
		json_object_array_add(a, container_json(NULL, &e->inv.v[i]));
	return a;
}

/* The engine's labels as dockerd's /info gives them: "k=v" strings. */
static struct json_object *engine_labels_json(const struct engine *e)
{
	struct json_object *a = json_object_new_array_ext(e->info.nlabels);
	uint32_t pos = 0;
	const char *l;

	while (a && docker_info_label_next(&e->info, &pos, &l))
		json_object_array_add(a, json_object_new_string(l));
	return a;
}

struct json_object *view_node(const struct engine *e, bool list)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "addr", json_object_new_string(e->addr));
	json_object_object_add(o, "id", json_object_new_string(e->info.id));
	json_object_object_add(o, "name",
			       json_object_new_string(docker_info_name(&e->info)));
	json_object_object_add(o, "state",
			       json_object_new_string(engine_state_name(e->state)));
	json_object_object_add(o, "cause", e->cause == CAUSE_NONE ? NULL :
			       json_object_new_string(cause_name(e->cause)));
	json_object_object_add(o, "error", e->error[0] ?
			       json_object_new_string(e->error) : NULL);
	json_object_object_add(o, "since", view_time(e->since_ms));
	json_object_object_add(o, "failures", json_object_new_int64(e->failures));
	json_object_object_add(o, "requests", json_object_new_uint64(e->requests));
	json_object_object_add(o, "refreshed", e->refreshed_ms ?
			       view_time(e->refreshed_ms) : NULL);
	json_object_object_add(o, "server_version",
			       json_object_new_string(e->info.server_version));
	json_object_object_add(o, "api_version",
			       json_object_new_string(e->api_version));
	json_object_object_add(o, "ncpu", json_object_new_int64(e->info.ncpu));
	json_object_object_add(o, "mem_total",
			       json_object_new_int64(e->info.mem_total));
	json_object_object_add(o, "labels", engine_labels_json(e));
	json_object_object_add(o, "cookie",
			       json_object_new_uint64(engine_cookie(e)));
	json_object_object_add(o, "events_cookie",
			       json_object_new_uint64(engine_events_cookie(e)));
	json_object_object_add(o, "containers", list ? containers_json(e) :
			       json_object_new_int64((int64_t)e->inv.n));
	return o;
}

bool view_node_is(const struct engine *e, const char *key)
{
	const char *name = docker_info_name(&e->info);

	return !strcmp(e->addr, key) || (e->info.id[0] && !strcmp(e->info.id, key)) ||
	       (name[0] && !strcmp(name, key));
}

/* "127.1.0.3" for "127.1.0.3:2375", "::1" for "[::1]:2375". */
static bool host_is(const char *addr, const char *key)
{
	size_t len = strlen(key);

	if (addr[0] == '[')
		return !strncmp(addr + 1, key, len) && addr[len + 1] == ']';
	return !strncmp(addr, key, len) && addr[len] == ':';
}

#define VIEW_MAX_CANDIDATES	5

int view_node_find(const struct fleet *f, const char *key,
		   const struct engine **out, char *why, size_t len)
{
	const struct engine *hit[VIEW_MAX_CANDIDATES];
	size_t i, n = 0, klen = strlen(key), off;

	for (i = 0; i < f->n; i++) {
		if (view_node_is(f->v[i], key)) {
			*out = f->v[i];
			return 0;
		}
	}
	for (i = 0; klen && i < f->n; i++) {
		const struct engine *e = f->v[i];

		if (!host_is(e->addr, key) && strncmp(e->info.id, key, klen))
			continue;
		if (n < VIEW_MAX_CANDIDATES)
			hit[n] = e;
		n++;
	}
	if (n == 1) {
		*out = hit[0];
		return 0;
	}
	if (!n)
		return -ENOENT;
	off = (size_t)snprintf(why, len, "'%s' is ambiguous: %zu engines match:",
			       key, n);
	for (i = 0; i < n && i < VIEW_MAX_CANDIDATES && off < len; i++)
		off += (size_t)snprintf(why + off, len - off, "%s %s (ID %.12s)",
					i ? "," : "", hit[i]->addr,
					hit[i]->info.id[0] ? hit[i]->info.id : "-");
	if (n > VIEW_MAX_CANDIDATES && off < len)
		snprintf(why + off, len - off, ", ...");
	return -EINVAL;
}

/* "k" holds when the engine has label k; "k=v" when it has it with v. */
static bool has_label(const struct engine *e, const char *want)
{
	size_t wlen = strlen(want);
	bool key_only = !strchr(want, '=');
	const char *l;
	uint32_t pos = 0;

	while (docker_info_label_next(&e->info, &pos, &l))
		if (key_only ? !strncmp(l, want, wlen) &&
			       (l[wlen] == '=' || !l[wlen]) : !strcmp(l, want))
			return true;
	return false;
}

/* Whether @name is one of the comma-separated values of @v. */
static bool in_list(const char *const *v, unsigned int n, const char *name)
{
	size_t len = strlen(name);
	const char *p, *end;
	unsigned int i;

	for (i = 0; i < n; i++) {
		for (p = v[i]; p; p = end ? end + 1 : NULL) {
			end = strchr(p, ',');
			if (!strncmp(p, name, len) && (!p[len] || p[len] == ','))
				return true;
		}
	}
	return false;
}

/* Every value of @v is one of @names (@n of them); else -EINVAL, @why. */
static int check_states(const char *const *v, unsigned int nv,
			const char *const *names, size_t n, const char *hint,
			const char **why)
{
	const char *p, *end;
	unsigned int i;
	size_t len, k;

	for (i = 0; i < nv; i++) {
		for (p = v[i]; p; p = end ? end + 1 : NULL) {
			end = strchr(p, ',');
			len = end ? (size_t)(end - p) : strlen(p);
			for (k = 0; k < n; k++)
				if (strlen(names[k]) == len &&
				    !strncmp(p, names[k], len))
					break;
			if (k == n) {
				*why = hint;
				return -EINVAL;
			}
		}
	}
	return 0;
}

static const char *const engine_states[] = {
	"pending", "healthy", "suspect", "unhealthy", "down",
};

#define ENGINE_STATES_HINT \
	"state: want pending, healthy, suspect, unhealthy or down, or several: down,unhealthy"

static bool node_matches(const struct engine *e, const struct view_filter *flt)
{
	unsigned int i;

	if (flt->nstates && !in_list(flt->states, flt->nstates,
				     engine_state_name(e->state)))
		return false;
	for (i = 0; i < flt->nlabels; i++)
		if (!has_label(e, flt->labels[i]))
			return false;
	return true;
}

/* Every label filter of /v1/containers is on the container's labels. */
static bool container_matches(const struct docker_container *c,
			      const struct view_filter *flt)
{
	unsigned int i;

	if (flt->nstates &&
	    !in_list(flt->states, flt->nstates, docker_container_state(c)))
		return false;
	if (flt->name && !strstr(docker_container_name(c), flt->name))
		return false;
	for (i = 0; i < flt->nlabels; i++)
		if (!docker_container_has_label(c, flt->labels[i]))
			return false;
	return true;
}

static int check_labels(const struct view_filter *flt, const char **why)
{
	unsigned int i;

	for (i = 0; i < flt->nlabels; i++) {
		if (!flt->labels[i][0] || flt->labels[i][0] == '=') {
			*why = "label: want KEY or KEY=VALUE";
			return -EINVAL;
		}
	}
	return 0;
}

void view_traffic(struct json_object *o, const struct fleet *f)
{
	json_object_object_add(o, "connections",
			       json_object_new_int64((int64_t)conn_open_count()));
	json_object_object_add(o, "requests",
			       json_object_new_uint64(f->env.stats.requests));
	json_object_object_add(o, "errors",
			       json_object_new_uint64(f->env.stats.errors));
}

/* An engine another agent watches: what it wrote of it, if anything. */
static struct json_object *peer_node(const char *addr,
				     const struct fleet_peer_view *pv)
{
	struct json_object *o = json_object_new_object();

	if (!o)
		return NULL;
	json_object_object_add(o, "addr", json_object_new_string(addr));
	json_object_object_add(o, "state", json_object_new_string(pv ?
			       engine_state_name(pv->state) : "pending"));
	json_object_object_add(o, "cause", pv && pv->cause != CAUSE_NONE ?
			       json_object_new_string(cause_name(pv->cause)) :
			       NULL);
	json_object_object_add(o, "since", pv ? view_time(pv->since_ms) : NULL);
	json_object_object_add(o, "watcher", pv ?
			       json_object_new_string(pv->watcher) : NULL);
	return o;
}

/*
 * Our engine, unless we only just took it over (pending here) and its
 * last watcher's verdict is the better word.
 */
const struct engine *view_shown(const struct fleet *f, const char *addr,
				  struct fleet_peer_view *pv, bool *known)
{
	const struct fleet_share *sh = f->share;
	const struct engine *e = fleet_find(f, addr);

	*known = sh->peer(sh->arg, addr, pv);
	return e && (e->state != ENGINE_PENDING || !*known) ? e : NULL;
}

size_t view_fleet_count(const struct fleet *f, size_t counts[ENGINE_NSTATES])
{
	const struct engine *e;
	struct fleet_peer_view pv;
	bool known;
	size_t i;

	if (!f->share) {
		fleet_count(f, counts);
		return f->n;
	}
	memset(counts, 0, ENGINE_NSTATES * sizeof(counts[0]));
	for (i = 0; i < f->all.n; i++) {
		e = view_shown(f, f->all.v[i], &pv, &known);
		counts[e ? e->state : known ? pv.state : ENGINE_PENDING]++;
	}
	return f->all.n;
}

void view_scope_header(const struct fleet *f, char *buf, size_t len)
{
	if (!f->share) {
		buf[0] = '\0';
		return;
	}
	snprintf(buf, len, VIEW_SCOPE_HEADER ": agent=%s; engines=%zu; fleet=%zu\r\n",
		 f->share->name, f->n, f->all.n);
}

/* One engine of a shared fleet, with its watcher; @list: as view_node(). */
/*
 * A node of a shared fleet as the views show it into *@out: ours, or
 * another agent's word; NULL when @flt does not select it.
 */
static int shared_node(const struct fleet *f, const char *addr,
		       const struct view_filter *flt, bool list,
		       struct json_object **out)
{
	const struct fleet_share *sh = f->share;
	struct fleet_peer_view pv;
	bool known;
	const struct engine *e = view_shown(f, addr, &pv, &known);
	struct json_object *o;

	*out = NULL;
	if (e) {
		if (!node_matches(e, flt))
			return 0;
		o = view_node(e, list);
		if (o)
			json_object_object_add(o, "watcher",
					       json_object_new_string(sh->name));
	} else {
		if (flt->nlabels || (flt->nstates &&
				     !in_list(flt->states, flt->nstates, known ?
					      engine_state_name(pv.state) : "pending")))
			return 0;
		o = peer_node(addr, known ? &pv : NULL);
	}
	*out = o;
	return o ? 0 : -ENOMEM;
}

struct json_object *view_cluster(const struct fleet *f)
{
	struct fleet_share_stats st = { 0 };
	struct json_object *o;

	if (!f->share)
		return NULL;
	f->share->stats(f->share->arg, &st);
	o = json_object_new_object();
	if (!o)
		return NULL;
	json_object_object_add(o, "name", json_object_new_string(f->share->name));
	json_object_object_add(o, "up", json_object_new_boolean(st.up));
	json_object_object_add(o, "agents", json_object_new_int64((int64_t)st.agents));
	json_object_object_add(o, "engines_fleet",
			       json_object_new_int64((int64_t)f->all.n));
	json_object_object_add(o, "engines_here",
			       json_object_new_int64((int64_t)f->n));
	json_object_object_add(o, "etcd_requests", json_object_new_uint64(st.requests));
	json_object_object_add(o, "etcd_errors", json_object_new_uint64(st.errors));
	json_object_object_add(o, "etcd_writes", json_object_new_uint64(st.writes));
	json_object_object_add(o, "etcd_keepalives",
			       json_object_new_uint64(st.keepalives));
	return o;
}

/*
 * A view answered a batch at a time (see views.h). Each batch re-reads
 * the fleet, so the engines are taken by index and the one a node filter
 * names by address: an engine removed or added meanwhile is at worst
 * missed or shown twice, never read after it was freed.
 */
struct view_cursor {
	const struct fleet *f;
	bool containers;
	struct view_filter flt;		/* its strings in @strings */
	char only[256];			/* address of the node filter's engine */
	bool started, ended;
	size_t i, j;			/* next engine, next container of it */
	size_t rows;
	char strings[VIEW_FILTER_MAX];
};

/* Copies @s into the cursor's strings at *@used: its copy, or NULL. */
static const char *keep(struct view_cursor *vc, size_t *used, const char *s)
{
	size_t len;
	char *p;

	if (!s)
		return NULL;
	len = strlen(s) + 1;
	if (*used + len > sizeof(vc->strings))
		return NULL;
	p = memcpy(vc->strings + *used, s, len);
	*used += len;
	return p;
}

/* The filter @flt, its strings copied: the request's go with it. */
static int keep_filter(struct view_cursor *vc, const struct view_filter *flt)
{
	struct view_filter *k = &vc->flt;
	size_t used = 0;
	unsigned int i;

	k->nstates = flt->nstates;
	k->nnode_states = flt->nnode_states;
	k->nlabels = flt->nlabels;
	for (i = 0; i < flt->nstates; i++)
		if (!(k->states[i] = keep(vc, &used, flt->states[i])))
			return -E2BIG;
	for (i = 0; i < flt->nnode_states; i++)
		if (!(k->node_states[i] = keep(vc, &used, flt->node_states[i])))
			return -E2BIG;
	for (i = 0; i < flt->nlabels; i++)
		if (!(k->labels[i] = keep(vc, &used, flt->labels[i])))
			return -E2BIG;
	if (flt->name && !(k->name = keep(vc, &used, flt->name)))
		return -E2BIG;
	return 0;
}

static int check_nodes(const struct view_filter *flt, const char **why)
{
	int err;

	err = check_states(flt->states, flt->nstates, engine_states,
			   sizeof(engine_states) / sizeof(engine_states[0]),
			   ENGINE_STATES_HINT, why);
	if (err)
		return err;
	if (flt->nnode_states) {
		*why = "node_state: a filter of /v1/containers only";
		return -EINVAL;
	}
	if (flt->name) {
		*why = "name: a filter of /v1/containers only";
		return -EINVAL;
	}
	return check_labels(flt, why);
}

/*
 * The filters of /v1/containers checked; the engine a node filter names
 * into @only ("" when it names none: no containers).
 */
static int check_containers(const struct fleet *f, struct view_filter *flt,
			    char *only, size_t len, const char **why)
{
	const struct engine *e = NULL;
	int err;

	err = check_states(flt->states, flt->nstates, container_states,
			   sizeof(container_states) / sizeof(container_states[0]),
			   "state: want created, running, paused, restarting, removing, exited or dead, or several: exited,dead",
			   why);
	if (!err)
		err = check_states(flt->node_states, flt->nnode_states,
				   engine_states,
				   sizeof(engine_states) / sizeof(engine_states[0]),
				   "node_state: want pending, healthy, suspect, unhealthy or down, or several: down,unhealthy",
				   why);
	if (!err && flt->node) {
		err = view_node_find(f, flt->node, &e, flt->why,
				     sizeof(flt->why));
		if (err == -EINVAL)
			*why = flt->why;
		/* No such node: no containers, as for any other filter. */
		if (err == -ENOENT)
			err = 0;
		if (!err && e)
			snprintf(only, len, "%s", e->addr);
	}
	return err ? err : check_labels(flt, why);
}

int view_cursor_new(struct view_cursor **cp, const struct fleet *f,
		    struct view_filter *flt, bool containers, const char **why)
{
	struct view_cursor *vc;
	int err;

	vc = calloc(1, sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	vc->f = f;
	vc->containers = containers;
	if (containers)
		err = check_containers(f, flt, vc->only, sizeof(vc->only), why);
	else
		err = check_nodes(flt, why);
	if (!err) {
		err = keep_filter(vc, flt);
		if (err == -E2BIG)
			*why = "filters too long";
		err = err ? -EINVAL : 0;
	}
	/* A node filter that names no engine selects nothing. */
	vc->ended = containers && flt->node && !vc->only[0];
	if (err) {
		free(vc);
		return err;
	}
	*cp = vc;
	return 0;
}

void view_cursor_free(void *cur)
{
	free(cur);
}

/* The next node selected, into *@o; NULL at the end. */
static int next_node(struct view_cursor *vc, struct json_object **o)
{
	const struct fleet *f = vc->f;

	*o = NULL;
	while (!*o && f->share && vc->i < f->all.n)
		if (shared_node(f, f->all.v[vc->i++], &vc->flt, false, o))
			return -ENOMEM;
	while (!*o && !f->share && vc->i < f->n) {
		const struct engine *e = f->v[vc->i++];

		if (node_matches(e, &vc->flt) && !(*o = view_node(e, false)))
			return -ENOMEM;
	}
	return 0;
}

/* Where the node filter's engine is now; false when it is gone. */
static bool find_only(struct view_cursor *vc)
{
	const struct fleet *f = vc->f;
	size_t i;

	if (vc->i < f->n && !strcmp(f->v[vc->i]->addr, vc->only))
		return true;
	for (i = 0; i < f->n; i++) {
		if (!strcmp(f->v[i]->addr, vc->only)) {
			vc->i = i;
			return true;
		}
	}
	return false;
}

/* The next container selected, into *@o; NULL at the end. */
static int next_container(struct view_cursor *vc, struct json_object **o)
{
	const struct fleet *f = vc->f;
	const struct view_filter *flt = &vc->flt;

	*o = NULL;
	if (vc->only[0] && !find_only(vc))
		return 0;
	for (; vc->i < f->n; vc->i++, vc->j = 0) {
		const struct engine *e = f->v[vc->i];

		if (flt->nnode_states &&
		    !in_list(flt->node_states, flt->nnode_states,
			     engine_state_name(e->state)))
			continue;
		while (vc->j < e->inv.n) {
			const struct docker_container *c = &e->inv.v[vc->j++];

			if (!container_matches(c, flt))
				continue;
			*o = container_json(e, c);
			return *o ? 0 : -ENOMEM;
		}
		if (vc->only[0])
			break;
	}
	return 0;
}

int view_cursor_more(void *cur, struct strbuf *out, bool *done)
{
	struct view_cursor *vc = cur;
	size_t start = out->len, len;
	struct json_object *o;
	const char *s;
	int err = 0;

	if (!vc->started) {
		vc->started = true;
		err = strbuf_add(out, "[", 1);
	}
	while (!err && !vc->ended && out->len - start < VIEW_BATCH) {
		err = vc->containers ? next_container(vc, &o) :
				       next_node(vc, &o);
		if (err || !o) {
			vc->ended = !err;
			break;
		}
		/* As json-c writes the whole array: rows joined by commas. */
		s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						      JSON_C_TO_STRING_NOSLASHESCAPE,
						      &len);
		if (!s)
			err = -ENOMEM;
		if (!err && vc->rows++)
			err = strbuf_add(out, ",", 1);
		if (!err)
			err = strbuf_add(out, s, len);
		json_object_put(o);
	}
	if (!err && vc->ended)
		err = strbuf_add(out, "]", 1);
	*done = !err && vc->ended;
	return err;
}

struct json_object *view_fleet_node(const struct fleet *f, size_t i)
{
	const struct view_filter none = { 0 };
	struct json_object *o;

	if (!f->share)
		return view_node(f->v[i], true);
	return shared_node(f, f->all.v[i], &none, true, &o) ? NULL : o;
}
