// SPDX-License-Identifier: GPL-2.0
/*
 * The Docker Engine API façade (see dockerapi.h): answers built from the
 * fleet and its inventory, in dockerd's shapes and with its semantics
 * where they carry over to a fleet (filters, limit, ID prefixes).
 */
#include <ctype.h>
#include <errno.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/utsname.h>

#include "dockerapi.h"
#include "fleet.h"
#include "views.h"

#ifndef PEERWATCH_VERSION
#define PEERWATCH_VERSION "unknown"
#endif

#define SERVER_NAME	"peerwatchd"

const char *dockerapi_headers(void)
{
	return "Api-Version: " DOCKERAPI_VERSION "\r\n"
	       "Docker-Experimental: false\r\n"
	       "Ostype: linux\r\n"
	       "Server: " SERVER_NAME "/" PEERWATCH_VERSION " (linux)\r\n";
}

unsigned int dockerapi_check_version(const struct api_req *r, char *why,
				     size_t len)
{
	if (!r->version)
		return 0;
	if (api_version_cmp(r->version, DOCKERAPI_MIN_VERSION) < 0) {
		snprintf(why, len, "client version %s is too old. Minimum supported API version is %s, please upgrade your client to a newer version",
			 r->version, DOCKERAPI_MIN_VERSION);
		return 400;
	}
	if (api_version_cmp(r->version, DOCKERAPI_VERSION) > 0) {
		snprintf(why, len, "client version %s is too new. Maximum supported API version is %s",
			 r->version, DOCKERAPI_VERSION);
		return 400;
	}
	return 0;
}

static void add_str(struct json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

static void add_int(struct json_object *o, const char *k, int64_t v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

struct json_object *dockerapi_version(const struct fleet *f)
{
	struct json_object *o = json_object_new_object();
	struct json_object *plat, *comps, *comp, *det;
	struct utsname un;
	char name[96];

	if (!o)
		return NULL;
	uname(&un);
	snprintf(name, sizeof(name), "peerwatchd (read-only, %zu engines)",
		 f->n);
	plat = json_object_new_object();
	add_str(plat, "Name", name);
	json_object_object_add(o, "Platform", plat);
	comps = json_object_new_array();
	comp = json_object_new_object();
	det = json_object_new_object();
	add_str(comp, "Name", SERVER_NAME);
	add_str(comp, "Version", PEERWATCH_VERSION);
	add_str(det, "ApiVersion", DOCKERAPI_VERSION);
	add_str(det, "MinAPIVersion", DOCKERAPI_MIN_VERSION);
	add_str(det, "Os", "linux");
	add_str(det, "KernelVersion", un.release);
	json_object_object_add(comp, "Details", det);
	json_object_array_add(comps, comp);
	json_object_object_add(o, "Components", comps);
	add_str(o, "Version", PEERWATCH_VERSION);
	add_str(o, "ApiVersion", DOCKERAPI_VERSION);
	add_str(o, "MinAPIVersion", DOCKERAPI_MIN_VERSION);
	add_str(o, "GitCommit", "");
	add_str(o, "GoVersion", "");
	add_str(o, "Os", "linux");
	add_str(o, "Arch", un.machine);
	add_str(o, "KernelVersion", un.release);
	return o;
}

static const char *node_name(const struct engine *e)
{
	return e->info.name[0] ? e->info.name : e->addr;
}

static void status_pair(struct json_object *a, const char *k, const char *v)
{
	struct json_object *p = json_object_new_array_ext(2);

	json_object_array_add(p, json_object_new_string(k));
	json_object_array_add(p, json_object_new_string(v));
	json_object_array_add(a, p);
}

struct json_object *dockerapi_info(const struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *st, *sw, *empty;
	size_t total = 0, running = 0, paused = 0, i, j;
	size_t counts[ENGINE_NSTATES];
	int64_t ncpu = 0, mem = 0;
	struct utsname un;
	char buf[DOCKER_NAME_MAX + 160];

	if (!o)
		return NULL;
	uname(&un);
	st = json_object_new_array();
	fleet_count(f, counts);
	status_pair(st, "Role", "peerwatchd (read-only)");
	snprintf(buf, sizeof(buf), "%zu", f->n);
	status_pair(st, "Nodes", buf);
	for (i = 0; i < f->n; i++) {
		const struct engine *e = f->v[i];
		size_t r = 0, p = 0;

		for (j = 0; j < e->inv.n; j++) {
			r += !strcmp(e->inv.v[j].state, "running");
			p += !strcmp(e->inv.v[j].state, "paused");
		}
		total += e->inv.n;
		running += r;
		paused += p;
		ncpu += e->info.ncpu;
		mem += e->info.mem_total;
		snprintf(buf, sizeof(buf), " %s", node_name(e));
		status_pair(st, buf, e->addr);
		status_pair(st, "  └ ID", e->info.id[0] ? e->info.id : "-");
		snprintf(buf, sizeof(buf), "%s%s%s", engine_state_name(e->state),
			 e->cause != CAUSE_NONE ? " " : "",
			 e->cause != CAUSE_NONE ? cause_name(e->cause) : "");
		status_pair(st, "  └ Status", buf);
		snprintf(buf, sizeof(buf), "%zu (%zu Running, %zu Paused, %zu Stopped)",
			 e->inv.n, r, p, e->inv.n - r - p);
		status_pair(st, "  └ Containers", buf);
		status_pair(st, "  └ Error", e->error[0] ? e->error : "(none)");
		status_pair(st, "  └ ServerVersion", e->info.server_version[0] ?
			    e->info.server_version : "-");
	}
	add_str(o, "ID", SERVER_NAME);
	add_int(o, "Containers", (int64_t)total);
	add_int(o, "ContainersRunning", (int64_t)running);
	add_int(o, "ContainersPaused", (int64_t)paused);
	add_int(o, "ContainersStopped", (int64_t)(total - running - paused));
	add_int(o, "Images", 0);
	add_str(o, "Driver", "");
	json_object_object_add(o, "DriverStatus", json_object_new_array());
	json_object_object_add(o, "SystemStatus", st);
	add_int(o, "NCPU", ncpu);
	add_int(o, "MemTotal", mem);
	add_str(o, "Name", SERVER_NAME);
	empty = json_object_new_array();
	snprintf(buf, sizeof(buf), "peerwatch.engines=%zu", f->n);
	json_object_array_add(empty, json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "peerwatch.healthy=%zu", counts[ENGINE_HEALTHY]);
	json_object_array_add(empty, json_object_new_string(buf));
	json_object_object_add(o, "Labels", empty);
	snprintf(buf, sizeof(buf), "%s/%s", SERVER_NAME, PEERWATCH_VERSION);
	add_str(o, "ServerVersion", buf);
	add_str(o, "OperatingSystem", "peerwatchd: a read-only view of the fleet");
	add_str(o, "OSType", "linux");
	add_str(o, "Architecture", un.machine);
	add_str(o, "KernelVersion", un.release);
	add_str(o, "IndexServerAddress", "");
	add_str(o, "DockerRootDir", "");
	add_str(o, "LoggingDriver", "");
	add_str(o, "CgroupDriver", "");
	add_str(o, "DefaultRuntime", "");
	json_object_object_add(o, "Runtimes", json_object_new_object());
	json_object_object_add(o, "SecurityOptions", json_object_new_array());
	json_object_object_add(o, "Warnings", json_object_new_array());
	sw = json_object_new_object();
	add_str(sw, "NodeID", "");
	add_str(sw, "NodeAddr", "");
	add_str(sw, "LocalNodeState", "inactive");
	json_object_object_add(sw, "ControlAvailable", json_object_new_boolean(0));
	add_str(sw, "Error", "");
	json_object_object_add(o, "Swarm", sw);
	return o;
}

/* "/node/name", the name the façade gives a container. */
static void fleet_name(const struct engine *e, const struct docker_container *c,
		       char *out, size_t len)
{
	snprintf(out, len, "/%s/%s", node_name(e), c->name);
}

static struct json_object *container_json(const struct engine *e,
					  const struct docker_container *c)
{
	struct json_object *o = json_object_new_object(), *names, *node;
	char name[2 * DOCKER_NAME_MAX + 8];

	if (!o)
		return NULL;
	add_str(o, "Id", c->id);
	names = json_object_new_array();
	fleet_name(e, c, name, sizeof(name));
	json_object_array_add(names, json_object_new_string(name));
	json_object_object_add(o, "Names", names);
	add_str(o, "Image", c->image);
	add_str(o, "ImageID", c->image_id);
	add_str(o, "Command", c->command);
	add_int(o, "Created", c->created);
	json_object_object_add(o, "Ports", json_object_new_array());
	json_object_object_add(o, "Labels", view_container_labels(c));
	add_str(o, "State", c->state);
	add_str(o, "Status", c->status);
	json_object_object_add(o, "Mounts", json_object_new_array());
	/* Where it runs, as Swarm said it. */
	node = json_object_new_object();
	add_str(node, "ID", e->info.id);
	add_str(node, "Name", node_name(e));
	add_str(node, "Addr", e->addr);
	add_str(node, "State", engine_state_name(e->state));
	json_object_object_add(o, "Node", node);
	return o;
}

struct listed {
	const struct engine *e;
	const struct docker_container *c;
};

static int newest_first(const void *a, const void *b)
{
	const struct listed *x = a, *y = b;

	if (x->c->created != y->c->created)
		return x->c->created > y->c->created ? -1 : 1;
	return strcmp(x->c->id, y->c->id);
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

static bool any_value(const struct docker_filters *f, const char *key,
		      bool *given, bool (*match)(const char *v, const void *arg),
		      const void *arg)
{
	unsigned int i;
	bool hit = false;

	*given = false;
	for (i = 0; i < f->n; i++) {
		if (strcmp(f->key[i], key))
			continue;
		*given = true;
		if (match(f->value[i], arg))
			hit = true;
	}
	return hit;
}

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

	return filter_match(a->re, v, a->c->id);
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
	if (filter_match(a->re, v, name) || filter_match(a->re, v, a->c->name))
		return true;
	snprintf(name, sizeof(name), "/%s", a->c->name);
	return filter_match(a->re, v, name);
}

static bool match_status(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;

	return !strcmp(a->c->state, v);
}

static bool match_ancestor(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;
	size_t n = strlen(v);

	size_t m = strlen(a->c->image);

	/* The image as named, with ":latest" implied, or an ID prefix. */
	return !strcmp(a->c->image, v) ||
	       (!strncmp(a->c->image, v, n) && !strcmp(a->c->image + n, ":latest")) ||
	       (!strncmp(v, a->c->image, m) && !strcmp(v + m, ":latest")) ||
	       (n >= 4 && (!strncmp(a->c->image_id, v, n) ||
			   (!strncmp(a->c->image_id, "sha256:", 7) &&
			    !strncmp(a->c->image_id + 7, v, n))));
}

static bool match_node(const char *v, const void *arg)
{
	const struct ctr_arg *a = arg;

	return view_node_is(a->e, v);
}

static bool container_passes(const struct docker_filters *f,
			     const struct filter_res *re,
			     const struct engine *e,
			     const struct docker_container *c)
{
	struct ctr_arg a = { e, c, re };
	unsigned int i;
	bool given;

	/* Values of one key: any; keys: all; labels: every one. */
	if (!any_value(f, "id", &given, match_id, &a) && given)
		return false;
	if (!any_value(f, "name", &given, match_name, &a) && given)
		return false;
	if (!any_value(f, "status", &given, match_status, &a) && given)
		return false;
	if (!any_value(f, "ancestor", &given, match_ancestor, &a) && given)
		return false;
	if (!any_value(f, "node", &given, match_node, &a) && given)
		return false;
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], "label") &&
		    !docker_container_has_label(c, f->value[i]))
			return false;
	return true;
}

int dockerapi_containers(const struct fleet *f, const struct api_req *r,
			 struct json_object **out, char *why, size_t len)
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
	struct listed *v;
	struct json_object *a;
	size_t n = 0, i, j, k;
	long limit = -1;
	bool all;
	char *end;

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
			if (!all && limit <= 0 && strcmp(c->state, "running"))
				continue;
			if (!container_passes(&flt, &re, e, c))
				continue;
			v[n].e = e;
			v[n++].c = c;
		}
	}
	filter_res_free(&re);
	qsort(v, n, sizeof(*v), newest_first);
	if (limit > 0 && (size_t)limit < n)
		n = (size_t)limit;
	a = json_object_new_array_ext((int)n);
	for (i = 0; a && i < n; i++) {
		if (json_object_array_add(a, container_json(v[i].e, v[i].c))) {
			json_object_put(a);
			a = NULL;
		}
	}
	free(v);
	if (!a)
		return -ENOMEM;
	*out = a;
	return 0;
}

/* Whether @ref, "node/name" or "/node/name", names @c on @e. */
static bool is_fleet_name(const char *ref, const struct engine *e,
			  const struct docker_container *c)
{
	const char *n = node_name(e);
	size_t len = strlen(n);

	if (*ref == '/')
		ref++;
	return !strncmp(ref, n, len) && ref[len] == '/' &&
	       !strcmp(ref + len + 1, c->name);
}

unsigned int dockerapi_find(const struct fleet *f, const char *ref,
			    struct engine **ep,
			    const struct docker_container **cp, char *why,
			    size_t len)
{
	struct engine *byname = NULL, *byprefix = NULL;
	const struct docker_container *cname = NULL, *cprefix = NULL;
	size_t i, j, rlen = strlen(ref), names = 0, prefixes = 0;
	bool hex = docker_id_valid(ref);
	const char *plain = *ref == '/' ? ref + 1 : ref;

	for (i = 0; i < f->n; i++) {
		struct engine *e = f->v[i];

		for (j = 0; j < e->inv.n; j++) {
			const struct docker_container *c = &e->inv.v[j];

			/* As dockerd: the full ID, then a name, then a prefix. */
			if (!strcmp(c->id, ref)) {
				*ep = e;
				*cp = c;
				return 0;
			}
			if (is_fleet_name(ref, e, c)) {
				*ep = e;
				*cp = c;
				return 0;
			}
			if (!strcmp(c->name, plain)) {
				names++;
				byname = e;
				cname = c;
			}
			if (hex && !strncmp(c->id, ref, rlen)) {
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

int dockerapi_events_query(const struct api_req *r, struct dockerapi_evq *q,
			   uint64_t now_ms, char *why, size_t len)
{
	static const char *const supported[] = {
		"type", "event", "container", "image", "label", "node", NULL,
	};
	const char *s, *bad = NULL, *msg = NULL;

	(void)now_ms;
	memset(q, 0, offsetof(struct dockerapi_evq, flt.buf));
	s = api_req_param(r, "filters");
	if (docker_filters_parse(s ? s : "", &q->flt, &msg)) {
		snprintf(why, len, "%s", msg);
		return -EINVAL;
	}
	if (!docker_filters_known(&q->flt, supported, &bad)) {
		snprintf(why, len, "invalid filter '%s' (peerwatchd serves type, event, container, image, label and node)",
			 bad);
		return -EINVAL;
	}
	s = api_req_param(r, "since");
	if (s && *s && docker_timestamp_parse(s, &q->since_ns)) {
		snprintf(why, len, "invalid since: %s (want SECONDS[.NANOSECONDS])", s);
		return -EINVAL;
	}
	s = api_req_param(r, "until");
	if (s && *s && docker_timestamp_parse(s, &q->until_ns)) {
		snprintf(why, len, "invalid until: %s (want SECONDS[.NANOSECONDS])", s);
		return -EINVAL;
	}
	if (q->since_ns && q->until_ns && q->until_ns < q->since_ns) {
		snprintf(why, len, "`since` time (%s) cannot be after `until` time",
			 api_req_param(r, "since"));
		return -EINVAL;
	}
	return 0;
}

static const char *get_str(struct json_object *o, const char *k)
{
	struct json_object *v;

	if (!o || !json_object_object_get_ex(o, k, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

struct json_object *dockerapi_event_tag(const struct engine *e,
					struct json_object *raw,
					uint64_t now_ms)
{
	struct json_object *o = NULL, *actor, *attrs, *node;

	if (json_object_deep_copy(raw, &o, NULL) || !o)
		return NULL;
	if (!json_object_object_get_ex(o, "timeNano", NULL) &&
	    !json_object_object_get_ex(o, "time", NULL))
		add_int(o, "timeNano", (int64_t)now_ms * 1000000);
	node = json_object_new_object();
	add_str(node, "ID", e->info.id);
	add_str(node, "Name", node_name(e));
	add_str(node, "Addr", e->addr);
	json_object_object_add(o, "node", node);
	if (json_object_object_get_ex(o, "Actor", &actor) &&
	    json_object_is_type(actor, json_type_object)) {
		if (!json_object_object_get_ex(actor, "Attributes", &attrs) ||
		    !json_object_is_type(attrs, json_type_object)) {
			attrs = json_object_new_object();
			json_object_object_add(actor, "Attributes", attrs);
		}
		add_str(attrs, "node.name", node_name(e));
		add_str(attrs, "node.addr", e->addr);
	}
	return o;
}

long long dockerapi_event_ns(struct json_object *ev)
{
	struct json_object *v;

	if (json_object_object_get_ex(ev, "timeNano", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	if (json_object_object_get_ex(ev, "time", &v) &&
	    json_object_is_type(v, json_type_int))
		return json_object_get_int64(v) * 1000000000LL;
	return 0;
}

struct ev_arg {
	struct json_object *ev, *attrs;
	const char *type, *action, *id;
};

static bool match_type(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;

	return a->type && !strcmp(a->type, v);
}

static bool match_event(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	size_t n = strlen(v);

	/* "exec_start: sh" is an exec_start. */
	return a->action && !strncmp(a->action, v, n) &&
	       (!a->action[n] || a->action[n] == ':');
}

static bool match_ev_container(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	const char *name = get_str(a->attrs, "name");

	if (a->type && strcmp(a->type, "container"))
		return false;
	return (a->id && !strncmp(a->id, v, strlen(v))) ||
	       (name && !strcmp(name, v));
}

static bool match_ev_image(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	const char *img = get_str(a->attrs, "image");

	if (!img)
		img = get_str(a->ev, "from");
	return img && !strcmp(img, v);
}

static bool match_ev_node(const char *v, const void *arg)
{
	const struct ev_arg *a = arg;
	struct json_object *node = NULL;
	const char *name, *addr;

	json_object_object_get_ex(a->ev, "node", &node);
	name = get_str(node, "Name");
	addr = get_str(node, "Addr");
	return (name && !strcmp(name, v)) || (addr && !strcmp(addr, v));
}

static bool attrs_have(struct json_object *attrs, const char *want)
{
	const char *eq = strchr(want, '='), *v;
	char key[DOCKER_FILTERS_BYTES];

	snprintf(key, sizeof(key), "%.*s", eq ? (int)(eq - want) : (int)strlen(want),
		 want);
	v = get_str(attrs, key);
	return v && (!eq || !strcmp(v, eq + 1));
}

bool dockerapi_event_match(const struct dockerapi_evq *q,
			   struct json_object *ev)
{
	const struct docker_filters *f = &q->flt;
	struct json_object *actor = NULL;
	struct ev_arg a = { .ev = ev };
	unsigned int i;
	bool given;

	a.type = get_str(ev, "Type");
	a.action = get_str(ev, "Action");
	if (json_object_object_get_ex(ev, "Actor", &actor)) {
		a.id = get_str(actor, "ID");
		json_object_object_get_ex(actor, "Attributes", &a.attrs);
	}
	if (!a.type)
		a.type = "container";
	if (!a.action)
		a.action = get_str(ev, "status");
	if (!a.id)
		a.id = get_str(ev, "id");
	if (!any_value(f, "type", &given, match_type, &a) && given)
		return false;
	if (!any_value(f, "event", &given, match_event, &a) && given)
		return false;
	if (!any_value(f, "container", &given, match_ev_container, &a) && given)
		return false;
	if (!any_value(f, "image", &given, match_ev_image, &a) && given)
		return false;
	if (!any_value(f, "node", &given, match_ev_node, &a) && given)
		return false;
	for (i = 0; i < f->n; i++)
		if (!strcmp(f->key[i], "label") && !attrs_have(a.attrs, f->value[i]))
			return false;
	return true;
}
