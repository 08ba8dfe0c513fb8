// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <fcntl.h>
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

#define REPORT_JSON	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * Engines and states; traffic and errors: this agent's. The nodes follow,
 * written one at a time (write_nodes()).
 */
static struct json_object *state_json(const struct fleet *f, size_t *n)
{
	struct json_object *root, *states;
	size_t counts[ENGINE_NSTATES];
	struct pool_stats ps;
	int s;

	root = json_object_new_object();
	states = json_object_new_object();
	if (!root || !states) {
		json_object_put(root);
		json_object_put(states);
		return NULL;
	}
	*n = view_fleet_count(f, counts);
	for (s = 0; s < ENGINE_REMOVED; s++)
		json_object_object_add(states, engine_state_name(s),
				       json_object_new_int64((int64_t)counts[s]));
	pool_stats(f->env.pool, &ps);
	json_object_object_add(root, "pid", json_object_new_int(getpid()));
	json_object_object_add(root, "engines", json_object_new_int64((int64_t)*n));
	json_object_object_add(root, "states", states);
	view_traffic(root, f);
	json_object_object_add(root, "errors_by_cause", causes_json(&f->env.stats));
	json_object_object_add(root, "transitions",
			       json_object_new_uint64(f->env.stats.transitions));
	json_object_object_add(root, "pool_in_use",
			       json_object_new_int64((int64_t)(ps.bufs_used + ps.toks_used)));
	json_object_object_add(root, "cluster", view_cluster(f));
	return root;
}

/*
 * The state object, its last member "nodes" written node by node: a
 * dump holds one engine's JSON at a time, never the fleet's (the whole
 * fleet as a json-c tree is many times its inventories: under a memory
 * limit, a dump that builds it is where the OOM killer strikes).
 */
static int write_state(FILE *out, const struct fleet *f)
{
	struct json_object *root, *node;
	const char *head;
	size_t n, i;
	int err = 0;

	root = state_json(f, &n);
	if (!root)
		return -ENOMEM;
	head = json_object_to_json_string_ext(root, REPORT_JSON);
	/* "{...}" without its "}", then the nodes. */
	if (!head || fprintf(out, "%.*s,\"nodes\":[", (int)strlen(head) - 1,
			     head) < 0)
		err = head ? -EIO : -ENOMEM;
	json_object_put(root);
	for (i = 0; !err && i < n; i++) {
		const char *s;

		node = view_fleet_node(f, i);
		s = node ? json_object_to_json_string_ext(node, REPORT_JSON) :
			   NULL;
		if (!s)
			err = -ENOMEM;
		else if (fprintf(out, "%s%s", i ? "," : "", s) < 0)
			err = -EIO;
		json_object_put(node);
	}
	if (!err && fputs("]}", out) < 0)
		err = -EIO;
	return err;
}

int report_dump(const struct fleet *f, const char *path)
{
	char tmp[4096];
	FILE *out;
	int fd, err;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	out = fdopen(fd, "w");
	if (!out) {
		err = -errno;
		close(fd);
		unlink(tmp);
		return err;
	}
	err = write_state(out, f);
	if (fclose(out) && !err)
		err = errno ? -errno : -EIO;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}
