// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <json-c/json.h>

#include "fleet.h"
#include "log.h"
#include "pool.h"
#include "report.h"
#include "views.h"

void report_summary(struct report *r, const struct fleet *f, uint64_t now_ms)
{
	const struct engine_stats *st = &f->env.stats;
	size_t counts[ENGINE_NSTATES];
	uint64_t dt = now_ms - r->last_ms;
	char line[512];
	size_t off = 0;
	int s;

	fleet_count(f, counts);
	off += snprintf(line, sizeof(line), "engines %zu:", f->n);
	for (s = 0; s < ENGINE_REMOVED; s++)
		off += snprintf(line + off, sizeof(line) - off, " %s %zu",
				engine_state_name(s), counts[s]);
	snprintf(line + off, sizeof(line) - off,
		 " | connections %zu | %.1f req/s | errors %llu (+%llu)",
		 conn_open_count(),
		 dt ? (double)(st->requests - r->last_requests) * 1000 / dt : 0.0,
		 (unsigned long long)st->errors,
		 (unsigned long long)(st->errors - r->last_errors));
	log_info("%s", line);
	r->last_ms = now_ms;
	r->last_requests = st->requests;
	r->last_errors = st->errors;
}

static struct json_object *causes_json(const struct engine_stats *st)
{
	struct json_object *o = json_object_new_object();
	int c;

	for (c = CAUSE_NONE + 1; o && c <= CAUSE_ERROR; c++)
		if (st->errors_by_cause[c])
			json_object_object_add(o, cause_name(c),
					       json_object_new_uint64(st->errors_by_cause[c]));
	return o;
}

/*
 * Engines, states and nodes: the whole fleet, each node with its watcher
 * when shared; traffic and errors: this agent's.
 */
static struct json_object *state_json(const struct fleet *f)
{
	struct json_object *root, *nodes, *states;
	size_t counts[ENGINE_NSTATES], n;
	struct pool_stats ps;
	int s;

	root = json_object_new_object();
	nodes = view_fleet_nodes(f);
	states = json_object_new_object();
	if (!root || !nodes || !states) {
		json_object_put(root);
		json_object_put(nodes);
		json_object_put(states);
		return NULL;
	}
	n = view_fleet_count(f, counts);
	for (s = 0; s < ENGINE_REMOVED; s++)
		json_object_object_add(states, engine_state_name(s),
				       json_object_new_int64((int64_t)counts[s]));
	pool_stats(f->env.pool, &ps);
	json_object_object_add(root, "pid", json_object_new_int(getpid()));
	json_object_object_add(root, "engines", json_object_new_int64((int64_t)n));
	json_object_object_add(root, "states", states);
	view_traffic(root, f);
	json_object_object_add(root, "errors_by_cause", causes_json(&f->env.stats));
	json_object_object_add(root, "transitions",
			       json_object_new_uint64(f->env.stats.transitions));
	json_object_object_add(root, "pool_in_use",
			       json_object_new_int64((int64_t)(ps.bufs_used + ps.toks_used)));
	json_object_object_add(root, "cluster", view_cluster(f));
	json_object_object_add(root, "nodes", nodes);
	return root;
}

int report_dump(const struct fleet *f, const char *path)
{
	struct json_object *root;
	char tmp[4096];
	int err = 0;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	root = state_json(f);
	if (!root)
		return -ENOMEM;
	if (json_object_to_file_ext(tmp, root, JSON_C_TO_STRING_PLAIN |
				    JSON_C_TO_STRING_NOSLASHESCAPE))
		err = errno ? -errno : -EIO;
	else if (rename(tmp, path))
		err = -errno;
	json_object_put(root);
	if (err)
		unlink(tmp);
	return err;
}
