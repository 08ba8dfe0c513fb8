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
	}
	dockerapi_add_str(o, "ID", DOCKERAPI_SERVER);
	dockerapi_add_int(o, "Containers", (int64_t)total);
	dockerapi_add_int(o, "ContainersRunning", (int64_t)running);
	dockerapi_add_int(o, "ContainersPaused", (int64_t)paused);
	dockerapi_add_int(o, "ContainersStopped", (int64_t)(total - running - paused));
	dockerapi_add_int(o, "Images", 0);
	dockerapi_add_str(o, "Driver", "");
	json_object_object_add(o, "DriverStatus", json_object_new_array());
	json_object_object_add(o, "SystemStatus", st);
	dockerapi_add_int(o, "NCPU", ncpu);
	dockerapi_add_int(o, "MemTotal", mem);
	dockerapi_add_str(o, "Name", DOCKERAPI_SERVER);
	empty = json_object_new_array();
	snprintf(buf, sizeof(buf), "peerwatch.engines=%zu", f->n);
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
