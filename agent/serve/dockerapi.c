// SPDX-License-Identifier: GPL-2.0
/*
 * The Docker Engine API façade (see dockerapi.h), the daemon itself: the
 * API version it speaks, /version and /info for the fleet as a whole.
 * Its containers are in dockerapi_containers.c, its events in
 * dockerapi_events.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <json-c/printbuf.h>

#include "dockerapi.h"
#include "fleet.h"
#include "views.h"

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
	dockerapi_add_str(plat, "Name", name);
	json_object_object_add(o, "Platform", plat);
	comps = json_object_new_array();
	comp = json_object_new_object();
	det = json_object_new_object();
	dockerapi_add_str(comp, "Name", DOCKERAPI_SERVER);
	dockerapi_add_str(comp, "Version", PEERWATCH_VERSION);
	dockerapi_add_str(det, "ApiVersion", DOCKERAPI_VERSION);
	dockerapi_add_str(det, "MinAPIVersion", DOCKERAPI_MIN_VERSION);
	dockerapi_add_str(det, "Os", "linux");
	dockerapi_add_str(det, "KernelVersion", un.release);
	json_object_object_add(comp, "Details", det);
	json_object_array_add(comps, comp);
	json_object_object_add(o, "Components", comps);
	dockerapi_add_str(o, "Version", PEERWATCH_VERSION);
	dockerapi_add_str(o, "ApiVersion", DOCKERAPI_VERSION);
	dockerapi_add_str(o, "MinAPIVersion", DOCKERAPI_MIN_VERSION);
	dockerapi_add_str(o, "GitCommit", "");
	dockerapi_add_str(o, "GoVersion", "");
	dockerapi_add_str(o, "Os", "linux");
	dockerapi_add_str(o, "Arch", un.machine);
	dockerapi_add_str(o, "KernelVersion", un.release);
	return o;
}

const char *dockerapi_node_name(const struct engine *e)
{
	const char *name = docker_info_name(&e->info);

	return name[0] ? name : e->addr;
}

static void status_pair(struct json_object *a, const char *k, const char *v)
{
	struct json_object *p = json_object_new_array_ext(2);

	json_object_array_add(p, json_object_new_string(k));
	json_object_array_add(p, json_object_new_string(v));
	json_object_array_add(a, p);
}

/* An engine another agent watches: what it wrote of it, if anything. */
static void peer_status(struct json_object *st, const char *addr,
			const struct fleet_peer_view *pv)
{
	char buf[96];

	snprintf(buf, sizeof(buf), " %s", addr);
	status_pair(st, buf, addr);
	snprintf(buf, sizeof(buf), "%s%s%s",
		 pv ? engine_state_name(pv->state) : "pending",
		 pv && pv->cause != CAUSE_NONE ? " " : "",
		 pv && pv->cause != CAUSE_NONE ? cause_name(pv->cause) : "");
	status_pair(st, "  └ Status", buf);
	status_pair(st, "  └ Watcher", pv ? pv->watcher : "-");
}

struct info_sums {
	size_t total, running, paused;
	int64_t ncpu, mem;
};

/* The running and paused containers of @e, into @sum with the rest. */
static void engine_sums(const struct engine *e, struct info_sums *sum,
			size_t *running, size_t *paused)
{
	size_t r = 0, p = 0, j;

	for (j = 0; j < e->inv.n; j++) {
		r += e->inv.v[j].state == DOCKER_STATE_RUNNING;
		p += e->inv.v[j].state == DOCKER_STATE_PAUSED;
	}
	sum->total += e->inv.n;
	sum->running += r;
	sum->paused += p;
	sum->ncpu += e->info.ncpu;
	sum->mem += e->info.mem_total;
	*running = r;
	*paused = p;
}

/* An engine watched here: its status. */
static void own_status(struct json_object *st, const struct fleet *f,
		       const struct engine *e)
{
	char buf[DOCKER_NAME_MAX + 160];
	struct info_sums none = { 0 };
	size_t r, p;

	engine_sums(e, &none, &r, &p);
	snprintf(buf, sizeof(buf), " %s", dockerapi_node_name(e));
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
	if (f->share)
		status_pair(st, "  └ Watcher", f->share->name);
}

/*
 * Where SystemStatus's rows go in /info as first written: a byte json-c
 * never writes (it escapes control characters in strings).
 */
#define INFO_ROWS_MARK	'\001'

static int rows_mark(struct json_object *o, struct printbuf *pb, int level,
		     int flags)
{
	(void)o;
	(void)level;
	(void)flags;
	return printbuf_memappend(pb, "\001", 1) < 0 ? -1 : 0;
}

/*
 * GET /info a batch at a time. Nodes: the whole fleet, as each of
 * Swarm's managers showed it, the others' engines with their watcher's
 * word; containers, CPUs and memory only of the engines watched here
 * ("Scope" says so). The sums are made first (no JSON, quick); then the
 * object around SystemStatus, split where its rows go; then the rows, an
 * engine's at a time.
 */
struct dockerapi_info {
	const struct fleet *f;
	struct strbuf text;		/* the object, INFO_ROWS_MARK inside */
	size_t mark;			/* where it is in text */
	bool newline;			/* after the body: the dialect's */
	unsigned int part;		/* head, engines, tail */
	size_t i, k;			/* next engine of the fleet, of ours */
};

/* The object around SystemStatus, its rows @st_head (Role, Nodes...). */
static struct json_object *info_object(const struct fleet *f,
				       struct json_object *st_head)
{
	struct json_object *o = json_object_new_object(), *sw, *empty, *mark;
	size_t counts[ENGINE_NSTATES], nfleet, i, r, p;
	struct info_sums sum = { 0 };
	struct utsname un;
	char buf[DOCKER_NAME_MAX + 160];

	mark = json_object_new_array();
	if (!o || !mark) {
		json_object_put(o);
		json_object_put(mark);
		return NULL;
	}
	json_object_set_serializer(mark, rows_mark, NULL, NULL);
	uname(&un);
	status_pair(st_head, "Role", "peerwatchd (read-only)");
	nfleet = view_fleet_count(f, counts);
	snprintf(buf, sizeof(buf), "%zu", nfleet);
	status_pair(st_head, "Nodes", buf);
	if (f->share) {
		snprintf(buf, sizeof(buf), "agent %s: containers of its %zu engines of %zu",
			 f->share->name, f->n, f->all.n);
		status_pair(st_head, "Scope", buf);
	}
	for (i = 0; i < f->n; i++)
		engine_sums(f->v[i], &sum, &r, &p);
	dockerapi_add_str(o, "ID", DOCKERAPI_SERVER);
	dockerapi_add_int(o, "Containers", (int64_t)sum.total);
	dockerapi_add_int(o, "ContainersRunning", (int64_t)sum.running);
	dockerapi_add_int(o, "ContainersPaused", (int64_t)sum.paused);
	dockerapi_add_int(o, "ContainersStopped",
			  (int64_t)(sum.total - sum.running - sum.paused));
	dockerapi_add_int(o, "Images", 0);
	dockerapi_add_str(o, "Driver", "");
	json_object_object_add(o, "DriverStatus", json_object_new_array());
	json_object_object_add(o, "SystemStatus", mark);
	dockerapi_add_int(o, "NCPU", sum.ncpu);
	dockerapi_add_int(o, "MemTotal", sum.mem);
	dockerapi_add_str(o, "Name", DOCKERAPI_SERVER);
	empty = json_object_new_array();
	snprintf(buf, sizeof(buf), "peerwatch.engines=%zu", nfleet);
	json_object_array_add(empty, json_object_new_string(buf));
	snprintf(buf, sizeof(buf), "peerwatch.healthy=%zu", counts[ENGINE_HEALTHY]);
	json_object_array_add(empty, json_object_new_string(buf));
	json_object_object_add(o, "Labels", empty);
	snprintf(buf, sizeof(buf), "%s/%s", DOCKERAPI_SERVER, PEERWATCH_VERSION);
	dockerapi_add_str(o, "ServerVersion", buf);
	dockerapi_add_str(o, "OperatingSystem", "peerwatchd: a read-only view of the fleet");
	dockerapi_add_str(o, "OSType", "linux");
	dockerapi_add_str(o, "Architecture", un.machine);
	dockerapi_add_str(o, "KernelVersion", un.release);
	dockerapi_add_str(o, "IndexServerAddress", "");
	dockerapi_add_str(o, "DockerRootDir", "");
	dockerapi_add_str(o, "LoggingDriver", "");
	dockerapi_add_str(o, "CgroupDriver", "");
	dockerapi_add_str(o, "DefaultRuntime", "");
	json_object_object_add(o, "Runtimes", json_object_new_object());
	json_object_object_add(o, "SecurityOptions", json_object_new_array());
	json_object_object_add(o, "Warnings", json_object_new_array());
	sw = json_object_new_object();
	dockerapi_add_str(sw, "NodeID", "");
	dockerapi_add_str(sw, "NodeAddr", "");
	dockerapi_add_str(sw, "LocalNodeState", "inactive");
	json_object_object_add(sw, "ControlAvailable", json_object_new_boolean(0));
	dockerapi_add_str(sw, "Error", "");
	json_object_object_add(o, "Swarm", sw);
	return o;
}

/* The rows of @st into @out as SystemStatus's, without their brackets. */
static int add_rows(struct strbuf *out, struct json_object *st, bool first)
{
	size_t len;
	const char *s = json_object_to_json_string_length(st,
		JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
	int err;

	if (!s || len < 2)
		return -ENOMEM;
	if (len == 2)
		return 0;
	err = first ? 0 : strbuf_add(out, ",", 1);
	return err ?: strbuf_add(out, s + 1, len - 2);
}

int dockerapi_info_new(struct dockerapi_info **ip, const struct fleet *f,
		       bool newline)
{
	struct dockerapi_info *in = calloc(1, sizeof(*in));
	struct json_object *o, *st = json_object_new_array();
	const char *s, *m;
	size_t len;
	int err = -ENOMEM;

	o = st && in ? info_object(f, st) : NULL;
	s = o ? json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN |
						  JSON_C_TO_STRING_NOSLASHESCAPE,
						  &len) : NULL;
	m = s ? memchr(s, INFO_ROWS_MARK, len) : NULL;
	if (m) {
		in->f = f;
		in->newline = newline;
		/* The head, "[" and the first rows; the engines' go here. */
		err = strbuf_add(&in->text, s, (size_t)(m - s));
		err = err ?: strbuf_add(&in->text, "[", 1);
		err = err ?: add_rows(&in->text, st, true);
		in->mark = in->text.len;
		err = err ?: strbuf_add(&in->text, m + 1,
					len - (size_t)(m - s) - 1);
	}
	json_object_put(o);
	json_object_put(st);
	if (err) {
		dockerapi_info_free(in);
		return err;
	}
	*ip = in;
	return 0;
}

void dockerapi_info_free(void *info)
{
	struct dockerapi_info *in = info;

	if (!in)
		return;
	strbuf_release(&in->text);
	free(in);
}

/* The next engine's rows, whoever watches it: false at the end. */
static bool next_rows(struct dockerapi_info *in, struct json_object *st)
{
	const struct fleet *f = in->f;
	struct fleet_peer_view pv;

	if (!f->share) {
		if (in->i >= f->n)
			return false;
		own_status(st, f, f->v[in->i++]);
		return true;
	}
	if (in->i >= f->all.n)
		return false;
	/* Both lists are sorted by address, ours a part of the fleet's. */
	if (in->k < f->n && !strcmp(f->v[in->k]->addr, f->all.v[in->i]))
		own_status(st, f, f->v[in->k++]);
	else
		peer_status(st, f->all.v[in->i],
			    f->share->peer(f->share->arg, f->all.v[in->i],
					   &pv) ? &pv : NULL);
	in->i++;
	return true;
}

int dockerapi_info_more(void *info, struct strbuf *out, bool *done)
{
	struct dockerapi_info *in = info;
	size_t start = out->len;
	struct json_object *st;
	int err = 0;

	*done = false;
	if (in->part == 0) {
		err = strbuf_add(out, in->text.p, in->mark);
		in->part++;
	}
	while (!err && in->part == 1 && out->len - start < DOCKERAPI_BATCH) {
		st = json_object_new_array();
		if (!st)
			return -ENOMEM;
		if (next_rows(in, st))
			err = add_rows(out, st, false);
		else
			in->part++;
		json_object_put(st);
	}
	if (!err && in->part == 2) {
		err = strbuf_add(out, "]", 1);
		err = err ?: strbuf_add(out, in->text.p + in->mark,
					in->text.len - in->mark);
		err = err ?: in->newline ? strbuf_add(out, "\n", 1) : 0;
		*done = !err;
	}
	return err;
}
