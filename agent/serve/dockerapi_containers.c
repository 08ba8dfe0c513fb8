// SPDX-License-Identifier: GPL-2.0
/*
 * The façade's containers (see dockerapi.h): GET /containers/json over
 * every engine's inventory, in dockerd's shape and with its semantics
 * where they carry over to a fleet (filters, limit, ID prefixes), and the
 * container an inspect names.
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "clock.h"
#include "dockerapi.h"
#include "fleet.h"
#include "views.h"

/* "/node/name", the name the façade gives a container. */
static void fleet_name(const struct engine *e, const struct docker_container *c,
		       char *out, size_t len)
{
	snprintf(out, len, "/%s/%s", dockerapi_node_name(e),
		 docker_container_name(c));
}

void dockerapi_age(uint64_t since_ms, char *buf, size_t len)
{
	uint64_t now = clock_wall_ms();
	unsigned long long s = now > since_ms ? (now - since_ms) / 1000 : 0;

	if (s < 120)
		snprintf(buf, len, "%llus", s);
	else if (s < 7200)
		snprintf(buf, len, "%llum", s / 60);
	else
		snprintf(buf, len, "%lluh", s / 3600);
}

/*
 * Status is text for people: "Up 2 hours (engine down 30s)" tells a
 * docker ps reader that the line is as of the engine's last listing,
 * while State, which scripts read, keeps the container's own word.
 */
static void add_status(struct json_object *o, const struct engine *e,
		       const struct docker_container *c)
{
	const char *own = docker_container_status(c);
	char age[16], status[256];

	if (!view_stale(e)) {
		dockerapi_add_str(o, "Status", own);
		return;
	}
	dockerapi_age(e->since_ms, age, sizeof(age));
	snprintf(status, sizeof(status), "%s%s(engine %s %s)", own,
		 own[0] ? " " : "", engine_state_name(e->state), age);
	dockerapi_add_str(o, "Status", status);
}

static struct json_object *container_json(const struct engine *e,
					  const struct docker_container *c)
{
	struct json_object *o = json_object_new_object(), *names, *node;
	char name[2 * DOCKER_NAME_MAX + 8], id[DOCKER_ID_MAX];

	if (!o)
		return NULL;
	dockerapi_add_str(o, "Id", docker_container_id(c, id));
	names = json_object_new_array();
	fleet_name(e, c, name, sizeof(name));
	json_object_array_add(names, json_object_new_string(name));
	json_object_object_add(o, "Names", names);
	dockerapi_add_str(o, "Image", docker_container_image(c));
	dockerapi_add_str(o, "ImageID", docker_container_image_id(c));
	dockerapi_add_str(o, "Command", docker_container_command(c));
	dockerapi_add_int(o, "Created", c->created);
	json_object_object_add(o, "Ports", json_object_new_array());
	json_object_object_add(o, "Labels", view_container_labels(c));
	dockerapi_add_str(o, "State", docker_container_state(c));
	add_status(o, e, c);
	json_object_object_add(o, "Mounts", json_object_new_array());
	/* Where it runs, as Swarm said it. */
	node = json_object_new_object();
	dockerapi_add_str(node, "ID", e->info.id);
	dockerapi_add_str(node, "Name", dockerapi_node_name(e));
	dockerapi_add_str(node, "Addr", e->addr);
	dockerapi_add_str(node, "State", engine_state_name(e->state));
	json_object_object_add(o, "Node", node);
	return o;
}

struct listed {
	const struct engine *e;
	const struct docker_container *c;
	uint32_t ei, ci;		/* where: f->v[ei]->inv.v[ci] */
};

/*
 * A container listed, found again by its place when its turn comes, and
 * known by the start of its ID: an inventory replaced meanwhile (each
 * refresh) may have moved it, and then its row is left out.
 */
struct listed_at {
	uint32_t ei, ci;
	char key[16];
};

struct dockerapi_list {
	const struct fleet *f;
	struct listed_at *v;
	size_t n, next;
	size_t rows;			/* written */
	bool started, newline;
};

static int newest_first(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	if (x->c->created != y->c->created)
		return x->c->created > y->c->created ? -1 : 1;
	return docker_container_id_cmp(x->c, y->c);
}

/* httputils.BoolValue: anything but "", 0, no, false and none is true. */
static bool bool_value(const char *s)
{
	return s && *s && strcmp(s, "0") && strcasecmp(s, "no") &&
	       strcasecmp(s, "false") && strcasecmp(s, "none");
}

static const char *const container_states[] = {
	"created", "restarting", "running", "removing", "paused", "exited",
	"dead", NULL,
};

/*
 * id and name filters are regular expressions, as in dockerd (Go's RE2
 * there, POSIX extended here: the same for what docker ps is given:
 * literals, anchors, classes, alternation, repetition). Each is compiled
 * once per request. One that does not compile matches nothing, as in
 * dockerd; so do backreferences (RE2 has none; glibc may take exponential
 * time on them) and repetition counts that multiply past 1,000 (RE2's
 * bound), which could make a huge automaton: the loop stays responsive.
 */
#define FILTER_RE_MAX_LEN	512
#define FILTER_RE_MAX_REPEAT	1000

struct filter_re {
	const char *value;
	regex_t re;
	bool ok;
};

struct filter_res {
	struct filter_re v[DOCKER_FILTERS_MAX];
	unsigned int n;
};

/* Backreferences, and the product of every {n,m}'s larger count. */
static bool re_acceptable(const char *p)
{
	unsigned long product = 1, a, b;
	char *end;

	if (strlen(p) > FILTER_RE_MAX_LEN)
		return false;
	for (; *p; p++) {
		if (*p == '\\') {
			if (isdigit((unsigned char)p[1]))
				return false;
			if (p[1])
				p++;
			continue;
		}
		if (*p != '{' || !isdigit((unsigned char)p[1]))
			continue;
		a = strtoul(p + 1, &end, 10);
		b = a;
		if (*end == ',' && isdigit((unsigned char)end[1]))
			b = strtoul(end + 1, &end, 10);
		else if (*end == ',')
			end++;
		if (a > FILTER_RE_MAX_REPEAT || b > FILTER_RE_MAX_REPEAT)
			return false;
		if (b < a)
			b = a;
		product *= b ? b : 1;
		if (product > FILTER_RE_MAX_REPEAT)
			return false;
		p = end - 1;
	}
	return true;
}

static void filter_res_build(struct filter_res *r,
			     const struct docker_filters *f)
{
	unsigned int i;

	r->n = 0;
	for (i = 0; i < f->n; i++) {
		struct filter_re *x = &r->v[r->n];

		if (strcmp(f->key[i], "id") && strcmp(f->key[i], "name"))
			continue;
		x->value = f->value[i];
		x->ok = re_acceptable(x->value) &&
			!regcomp(&x->re, x->value, REG_EXTENDED | REG_NOSUB);
		r->n++;
	}
}

static void filter_res_free(struct filter_res *r)
{
	unsigned int i;

	for (i = 0; i < r->n; i++)
		if (r->v[i].ok)
			regfree(&r->v[i].re);
	r->n = 0;
}

/* dockerd's filters.Match: the value itself, or its expression, matches. */
static bool filter_match(const struct filter_res *r, const char *v,
			 const char *s)
{
	unsigned int i;

	if (!strcmp(v, s))
		return true;
	for (i = 0; i < r->n; i++)
		if (r->v[i].value == v)
			return r->v[i].ok && !regexec(&r->v[i].re, s, 0, NULL, 0);
	return false;
}

struct ctr_arg {
	const struct engine *e;
	const struct docker_container *c;
	const struct filter_res *re;
};

static bool match_id(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;
	char id[DOCKER_ID_MAX];

	return filter_match(a->re, v, docker_container_id(a->c, id));
}

/*
 * The name in the fleet, "/ENGINE/NAME", or as its engine has it, "/NAME"
 * and "NAME" (dockerd tries both), so that "^/web$" finds every
 * container named web and "^/engine-7/" every container of engine-7.
 */
static bool match_name(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;
	char name[2 * DOCKER_NAME_MAX + 8];

	fleet_name(a->e, a->c, name, sizeof(name));
	if (filter_match(a->re, v, name) ||
	    filter_match(a->re, v, docker_container_name(a->c)))
		return true;
	snprintf(name, sizeof(name), "/%s", docker_container_name(a->c));
	return filter_match(a->re, v, name);
}

static bool match_status(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;

	return !strcmp(docker_container_state(a->c), v);
}

static bool match_ancestor(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;
	const char *image = docker_container_image(a->c);
	const char *image_id = docker_container_image_id(a->c);
	size_t n = strlen(v), m = strlen(image);

	/* The image as named, with ":latest" implied, or an ID prefix. */
	return !strcmp(image, v) ||
	       (!strncmp(image, v, n) && !strcmp(image + n, ":latest")) ||
	       (!strncmp(v, image, m) && !strcmp(v + m, ":latest")) ||
	       (n >= 4 && (!strncmp(image_id, v, n) ||
			   (!strncmp(image_id, "sha256:", 7) &&
			    !strncmp(image_id + 7, v, n))));
}

static bool match_node(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;

	return view_node_is(a->e, v);
}

static bool match_label(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;

	return docker_container_has_label(a->c, v);
}

static bool container_passes(const struct docker_filters *f,
			     const struct filter_res *re,
			     const struct engine *e,
			     const struct docker_container *c)
{
	static const struct docker_filter_key keys[] = {
		{ "id", match_id, false },
		{ "name", match_name, false },
		{ "status", match_status, false },
		{ "ancestor", match_ancestor, false },
		{ "node", match_node, false },
		{ "label", match_label, true },
		{ NULL, NULL, false },
	};
	struct ctr_arg a = { e, c, re };

	return docker_filters_pass(f, keys, &a);
}

int dockerapi_list_new(struct dockerapi_list **lp, const struct fleet *f,
		       const struct api_req *r, bool newline, char *why,
		       size_t len)
{
	static const char *const supported[] = {
		"id", "name", "label", "status", "ancestor", "node", NULL,
	};
	static const char *const daemons[] = {
		"before", "since", "exited", "health", "isolation", "is-task",
		"network", "publish", "expose", "volume", NULL,
	};
	static struct docker_filters flt;
	static struct filter_res re;
	const char *s, *bad = NULL, *msg = NULL;
	struct dockerapi_list *l;
	struct listed *v;
	size_t n = 0, i, j, k;
	long limit = -1;
	char *end, id[DOCKER_ID_MAX];
	bool all;

	s = api_req_param(r, "filters");
	if (docker_filters_parse(s ? s : "", &flt, &msg)) {
		snprintf(why, len, "%s", msg);
		return -EINVAL;
	}
	if (!docker_filters_known(&flt, supported, &bad)) {
		for (k = 0; daemons[k] && strcmp(daemons[k], bad); k++)
			;
		if (daemons[k])
			snprintf(why, len, "peerwatchd: filter '%s' is not served for the fleet (id, name, label, status, ancestor and node are)",
				 bad);
		else
			snprintf(why, len, "invalid filter '%s'", bad);
		return -EINVAL;
	}
	all = bool_value(api_req_param(r, "all"));
	for (i = 0; i < flt.n; i++) {
		if (strcmp(flt.key[i], "status"))
			continue;
		for (k = 0; container_states[k] &&
		     strcmp(container_states[k], flt.value[i]); k++)
			;
		if (!container_states[k]) {
			snprintf(why, len, "invalid filter 'status=%s'",
				 flt.value[i]);
			return -EINVAL;
		}
		/* A status filter shows stopped containers too, as dockerd. */
		all = true;
	}
	for (i = 0; i < flt.n; i++) {
		if (!strcmp(flt.key[i], "label") &&
		    (!flt.value[i][0] || flt.value[i][0] == '=')) {
			snprintf(why, len, "invalid filter 'label=%s'", flt.value[i]);
			return -EINVAL;
		}
	}
	s = api_req_param(r, "limit");
	if (s && *s) {
		limit = strtol(s, &end, 10);
		if (*end || end - s > 9) {
			snprintf(why, len, "invalid limit: %s", s);
			return -EINVAL;
		}
	}
	for (i = 0; i < f->n; i++)
		n += f->v[i]->inv.n;
	v = malloc((n ? n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	filter_res_build(&re, &flt);
	n = 0;
	for (i = 0; i < f->n; i++) {
		const struct engine *e = f->v[i];

		for (j = 0; j < e->inv.n; j++) {
			const struct docker_container *c = &e->inv.v[j];

			/* -n N lists the N newest whatever their state. */
			if (!all && limit <= 0 &&
			    c->state != DOCKER_STATE_RUNNING)
				continue;
			if (!container_passes(&flt, &re, e, c))
				continue;
			v[n].e = e;
			v[n].c = c;
			v[n].ei = (uint32_t)i;
			v[n++].ci = (uint32_t)j;
		}
	}
	filter_res_free(&re);
	qsort(v, n, sizeof(*v), newest_first);
	if (limit > 0 && (size_t)limit < n)
		n = (size_t)limit;
	l = calloc(1, sizeof(*l));
	if (l)
		l->v = malloc((n ? n : 1) * sizeof(*l->v));
	if (!l || !l->v) {
		free(l);
		free(v);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		l->v[i].ei = v[i].ei;
		l->v[i].ci = v[i].ci;
		docker_container_id(v[i].c, id);
		memcpy(l->v[i].key, id, sizeof(l->v[i].key));
	}
	free(v);
	l->f = f;
	l->n = n;
	l->newline = newline;
	*lp = l;
	return 0;
}

void dockerapi_list_free(void *list)
{
	struct dockerapi_list *l = list;

	if (!l)
		return;
	free(l->v);
	free(l);
}

/* The container at @at, if it is still the one listed. */
static const struct docker_container *
found_again(const struct fleet *f, const struct listed_at *at,
	    const struct engine **ep)
{
	const struct engine *e;
	char id[DOCKER_ID_MAX];

	if (at->ei >= f->n)
		return NULL;
	e = f->v[at->ei];
	if (at->ci >= e->inv.n ||
	    strncmp(docker_container_id(&e->inv.v[at->ci], id), at->key,
		    sizeof(at->key)))
		return NULL;
	*ep = e;
	return &e->inv.v[at->ci];
}

int dockerapi_list_more(void *list, struct strbuf *out, bool *done)
{
	struct dockerapi_list *l = list;
	size_t start = out->len, len;
	const struct docker_container *c;
	const struct engine *e;
	struct json_object *o;
	const char *s;
	int err = 0;

	*done = false;
	if (!l->started) {
		l->started = true;
		err = strbuf_add(out, "[", 1);
	}
	for (; !err && l->next < l->n && out->len - start < DOCKERAPI_BATCH;
	     l->next++) {
		c = found_again(l->f, &l->v[l->next], &e);
		if (!c)
			continue;
		o = container_json(e, c);
		s = o ? json_object_to_json_string_length(o,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE, &len) : NULL;
		if (!s)
			err = -ENOMEM;
		/* As json-c writes the whole array: rows joined by commas. */
		if (!err && l->rows++)
			err = strbuf_add(out, ",", 1);
		err = err ?: strbuf_add(out, s, len);
		json_object_put(o);
	}
	if (!err && l->next >= l->n) {
		err = strbuf_add(out, "]", 1);
		err = err ?: l->newline ? strbuf_add(out, "\n", 1) : 0;
		*done = !err;
	}
	return err;
}

static bool is_fleet_name(const char *ref, const struct engine *e,
			  const struct docker_container *c)
{
	const char *n = dockerapi_node_name(e);
	size_t len = strlen(n);

	if (*ref == '/')
		ref++;
	return !strncmp(ref, n, len) && ref[len] == '/' &&
	       !strcmp(ref + len + 1, docker_container_name(c));
}

unsigned int dockerapi_find(const struct fleet *f, const char *ref,
			    struct engine **ep,
			    const struct docker_container **cp, char *why,
			    size_t len)
{
	struct engine *byname = NULL, *byprefix = NULL;
	const struct docker_container *cname = NULL, *cprefix = NULL;
	size_t i, j, names = 0, prefixes = 0;
	bool hex = docker_id_valid(ref);
	const char *plain = *ref == '/' ? ref + 1 : ref;

	for (i = 0; i < f->n; i++) {
		struct engine *e = f->v[i];

		for (j = 0; j < e->inv.n; j++) {
			const struct docker_container *c = &e->inv.v[j];

			/* As dockerd: the full ID, then a name, then a prefix. */
			if (docker_container_id_is(c, ref)) {
				*ep = e;
				*cp = c;
				return 0;
			}
			if (is_fleet_name(ref, e, c)) {
				*ep = e;
				*cp = c;
				return 0;
			}
			if (!strcmp(docker_container_name(c), plain)) {
				names++;
				byname = e;
				cname = c;
			}
			if (hex && docker_container_id_has_prefix(c, ref)) {
				prefixes++;
				byprefix = e;
				cprefix = c;
			}
		}
	}
	if (names == 1) {
		*ep = byname;
		*cp = cname;
		return 0;
	}
	if (names > 1) {
		snprintf(why, len, "peerwatchd: %zu containers are named %s on the fleet: name one as NODE/NAME",
			 names, plain);
		return 409;
	}
	if (prefixes == 1) {
		*ep = byprefix;
		*cp = cprefix;
		return 0;
	}
	if (prefixes > 1) {
		snprintf(why, len, "Multiple IDs found with provided prefix: %s", ref);
		return 500;
	}
	snprintf(why, len, "No such container: %s", ref);
	return 404;
}
