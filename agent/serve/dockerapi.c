// SPDX-License-Identifier: GPL-2.0
/*
 * The Docker Engine API façade (see dockerapi.h), the daemon itself: the
 * API version it speaks, /version and /info for the fleet as a whole.
 * Its containers are in dockerapi_containers.c, its events in
 * dockerapi_events.c.
 */
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>

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
	return e->info.name[0] ? e->info.name : e->addr;
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

/* An engine watched here: its status, and its containers counted. */
static void own_status(struct json_object *st, const struct fleet *f,
		       const struct engine *e, struct info_sums *sum)
{
	char buf[DOCKER_NAME_MAX + 160];
	size_t r = 0, p = 0, j;

	for (j = 0; j < e->inv.n; j++) {
		r += !strcmp(e->inv.v[j].state, "running");
		p += !strcmp(e->inv.v[j].state, "paused");
	}
	sum->total += e->inv.n;
	sum->running += r;
	sum->paused += p;
	sum->ncpu += e->info.ncpu;
	sum->mem += e->info.mem_total;
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
 * Nodes: the whole fleet, as each of Swarm's managers showed it, the
 * others' engines with their watcher's word; containers, CPUs and memory
 * only of the engines watched here ("Scope" says so).
 */
struct json_object *dockerapi_info(const struct fleet *f)
{
	struct json_object *o = json_object_new_object(), *st, *sw, *empty;
	size_t counts[ENGINE_NSTATES], nfleet, i, k = 0;
	struct info_sums sum = { 0 };
	struct fleet_peer_view pv;
	struct utsname un;
	char buf[DOCKER_NAME_MAX + 160];

	if (!o)
		return NULL;
	uname(&un);
	st = json_object_new_array();
	status_pair(st, "Role", "peerwatchd (read-only)");
	nfleet = view_fleet_count(f, counts);
	snprintf(buf, sizeof(buf), "%zu", nfleet);
	status_pair(st, "Nodes", buf);
	if (f->share) {
		snprintf(buf, sizeof(buf), "agent %s: containers of its %zu engines of %zu",
			 f->share->name, f->n, f->all.n);
		status_pair(st, "Scope", buf);
	}
	/* Both lists are sorted by address, ours a part of the fleet's. */
	for (i = 0; f->share && i < f->all.n; i++) {
		if (k < f->n && !strcmp(f->v[k]->addr, f->all.v[i]))
			own_status(st, f, f->v[k++], &sum);
		else
			peer_status(st, f->all.v[i],
				    f->share->peer(f->share->arg, f->all.v[i],
						   &pv) ? &pv : NULL);
	}
	for (i = 0; !f->share && i < f->n; i++)
		own_status(st, f, f->v[i], &sum);
	dockerapi_add_str(o, "ID", DOCKERAPI_SERVER);
	dockerapi_add_int(o, "Containers", (int64_t)sum.total);
	dockerapi_add_int(o, "ContainersRunning", (int64_t)sum.running);
	dockerapi_add_int(o, "ContainersPaused", (int64_t)sum.paused);
	dockerapi_add_int(o, "ContainersStopped",
			  (int64_t)(sum.total - sum.running - sum.paused));
	dockerapi_add_int(o, "Images", 0);
	dockerapi_add_str(o, "Driver", "");
	json_object_object_add(o, "DriverStatus", json_object_new_array());
	json_object_object_add(o, "SystemStatus", st);
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
