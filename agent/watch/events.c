// SPDX-License-Identifier: GPL-2.0
/*
 * Container events, action by action: what each changes of what the
 * inventory keeps (state, status, name, image, command, labels), what the
 * event itself says of it, and so whether the engine must be asked.
 *
 * A healthcheck alone makes exec_create, exec_start and exec_die every
 * time it runs: refreshing on every event asked each engine about its
 * containers several times a second for nothing. The table holds the
 * container actions of dockerd 20.10 (API 1.41) and of podman 4.3's
 * Docker-compatible /events, checked against the captures in
 * selftests/fixtures/docker-api/{dockerd,podman}/ (selftests/unit/events.c):
 *
 *   ignored   attach detach exec_create exec_start exec_detach exec_die
 *             top resize commit copy archive-path extract-to-dir export
 *             prune; kill oom stop (a signal, or the end of a stop,
 *             changes nothing by itself: the process ending is "die",
 *             which always comes too); update (resources and restart
 *             policy, neither kept). podman: exec exec_died cleanup mount
 *             unmount sync renumber
 *   applied   the event says all of it, and nothing is asked:
 *             destroy (podman: remove) drops the container; rename takes
 *             Attributes.name; die (libpod: died) makes it exited with
 *             Attributes.exitCode; pause and unpause set the state;
 *             health_status ("health_status: healthy", or podman's
 *             Attributes.health_status) puts the health in the status
 *             as docker ps shows it.
 *             dockerd sends die, pause and unpause before its listing
 *             shows them (handleContainerExit logs "die", then
 *             checkpoints the container's view): a listing asked at once
 *             would undo what the event says. The periodic listing
 *             confirms them later.
 *   refresh   create, start, restart; podman: init checkpoint restore.
 *             Start and restart are applied at once too (running).
 *   unknown   anything else: refreshed, as a new action may change what
 *             is kept.
 *
 * Refreshes are then gathered and paced per engine by pace.c.
 */
#include <stdio.h>
#include <string.h>

#include "events.h"

/* What an event says by itself of its container. */
enum event_effect {
	FX_NONE,
	FX_REMOVE,
	FX_RENAME,
	FX_RUNNING,
	FX_EXITED,
	FX_PAUSED,
	FX_UNPAUSED,
	FX_HEALTH,
};

struct event_action {
	const char *name;
	enum event_class class;
	enum event_effect fx;
};

static const struct event_action actions[] = {
	{ "archive-path", EVENT_IGNORED, FX_NONE },
	{ "attach", EVENT_IGNORED, FX_NONE },
	{ "checkpoint", EVENT_REFRESH, FX_NONE },
	{ "cleanup", EVENT_IGNORED, FX_NONE },
	{ "commit", EVENT_IGNORED, FX_NONE },
	{ "copy", EVENT_IGNORED, FX_NONE },
	{ "create", EVENT_REFRESH, FX_NONE },
	{ "destroy", EVENT_APPLIED, FX_REMOVE },
	{ "detach", EVENT_IGNORED, FX_NONE },
	{ "die", EVENT_APPLIED, FX_EXITED },
	{ "died", EVENT_APPLIED, FX_EXITED },
	{ "exec", EVENT_IGNORED, FX_NONE },
	{ "exec_create", EVENT_IGNORED, FX_NONE },
	{ "exec_detach", EVENT_IGNORED, FX_NONE },
	{ "exec_die", EVENT_IGNORED, FX_NONE },
	{ "exec_died", EVENT_IGNORED, FX_NONE },
	{ "exec_start", EVENT_IGNORED, FX_NONE },
	{ "export", EVENT_IGNORED, FX_NONE },
	{ "extract-to-dir", EVENT_IGNORED, FX_NONE },
	{ "health_status", EVENT_APPLIED, FX_HEALTH },
	{ "init", EVENT_REFRESH, FX_NONE },
	{ "kill", EVENT_IGNORED, FX_NONE },
	{ "mount", EVENT_IGNORED, FX_NONE },
	{ "oom", EVENT_IGNORED, FX_NONE },
	{ "pause", EVENT_APPLIED, FX_PAUSED },
	{ "prune", EVENT_IGNORED, FX_NONE },
	{ "remove", EVENT_APPLIED, FX_REMOVE },
	{ "rename", EVENT_APPLIED, FX_RENAME },
	{ "renumber", EVENT_IGNORED, FX_NONE },
	{ "resize", EVENT_IGNORED, FX_NONE },
	{ "restart", EVENT_REFRESH, FX_RUNNING },
	{ "restore", EVENT_REFRESH, FX_NONE },
	{ "start", EVENT_REFRESH, FX_RUNNING },
	{ "stop", EVENT_IGNORED, FX_NONE },
	{ "sync", EVENT_IGNORED, FX_NONE },
	{ "top", EVENT_IGNORED, FX_NONE },
	{ "unmount", EVENT_IGNORED, FX_NONE },
	{ "unpause", EVENT_APPLIED, FX_UNPAUSED },
	{ "update", EVENT_IGNORED, FX_NONE },
};

const char *event_class_name(enum event_class c)
{
	static const char *const names[] = {
		[EVENT_IGNORED] = "ignored",
		[EVENT_APPLIED] = "applied",
		[EVENT_REFRESH] = "refresh",
		[EVENT_UNKNOWN] = "unknown",
	};

	return (unsigned int)c < EVENT_NCLASSES ? names[c] : "?";
}

/* The entry of @action, up to a ':' (what dockerd appends), or NULL. */
static const struct event_action *lookup(const char *action)
{
	size_t len = strcspn(action, ":");
	int lo = 0, hi = (int)(sizeof(actions) / sizeof(actions[0])) - 1;

	while (lo <= hi) {
		int mid = (lo + hi) / 2;
		int c = strncmp(actions[mid].name, action, len);

		if (!c && actions[mid].name[len])
			c = 1;
		if (!c)
			return &actions[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid - 1;
	}
	return NULL;
}

enum event_class event_classify(const char *action)
{
	const struct event_action *a = lookup(action);

	return a ? a->class : EVENT_UNKNOWN;
}

/* dockerd's "health_status: healthy", or podman's attribute. */
static const char *event_health(const struct docker_event *ev)
{
	const char *p = strchr(ev->action, ':');

	if (ev->health[0])
		return ev->health;
	if (!p)
		return "";
	return p + strspn(p + 1, " ") + 1;
}

static bool health_known(const char *h)
{
	return !strcmp(h, "healthy") || !strcmp(h, "unhealthy") ||
	       !strcmp(h, "starting");
}

/*
 * @status with @health as docker ps shows it: "Up 2 hours (healthy)",
 * "Up 3 seconds (health: starting)"; what it showed before replaced.
 */
static void status_health(const char *status, const char *health, char *out,
			  size_t size)
{
	const char *paren = strrchr(status, '(');
	size_t n = strlen(status);

	if (paren && paren > status && paren[-1] == ' ' &&
	    (!strcmp(paren, "(healthy)") || !strcmp(paren, "(unhealthy)") ||
	     !strncmp(paren, "(health: ", 9)))
		n = (size_t)(paren - status - 1);
	snprintf(out, size, "%.*s (%s%s)", (int)n, status,
		 strcmp(health, "starting") ? "" : "health: ", health);
}

/* The effect of @ev on its container: whether a refresh is still wanted. */
static bool apply(struct inventory *inv, const struct docker_event *ev,
		  enum event_effect fx)
{
	const struct docker_container *c = inventory_find(inv, ev->id);
	const char *state = NULL, *status = NULL;
	char buf[DOCKER_STATUS_MAX];

	/* Not known yet (its create missed, or a listing late): ask. */
	if (!c)
		return fx != FX_REMOVE;
	switch (fx) {
	case FX_NONE:
		return true;
	case FX_REMOVE:
		/* Without memory to lay the rest out, the refresh drops it. */
		return inventory_remove(inv, ev->id) != 0;
	case FX_RENAME:
		return !ev->name[0] ||
		       inventory_patch(inv, ev->id, NULL, NULL, ev->name);
	case FX_HEALTH:
		if (!health_known(event_health(ev)))
			return true;
		status_health(docker_container_status(c), event_health(ev), buf,
			      sizeof(buf));
		if (!strcmp(buf, docker_container_status(c)))
			return false;
		status = buf;
		break;
	case FX_RUNNING:
		/* What docker ps says of a container just started. */
		state = "running";
		status = "Up Less than a second";
		break;
	case FX_EXITED:
		state = "exited";
		status = "Exited";
		if (ev->exit_code >= 0) {
			snprintf(buf, sizeof(buf),
				 "Exited (%d) Less than a second ago",
				 ev->exit_code);
			status = buf;
		}
		break;
	case FX_PAUSED:
		state = "paused";
		break;
	case FX_UNPAUSED:
		state = "running";
		break;
	}
	/* Out of memory, a listing does it. */
	return inventory_patch(inv, ev->id, state, status, NULL) != 0 ||
	       fx == FX_RUNNING;
}

bool event_apply(struct inventory *inv, const struct docker_event *ev,
		 struct event_stats *st)
{
	const struct event_action *a = lookup(ev->action);
	enum event_class class = a ? a->class : EVENT_UNKNOWN;

	st->by_class[class]++;
	if (class == EVENT_IGNORED || !docker_id_valid(ev->id))
		return false;
	return apply(inv, ev, a ? a->fx : FX_NONE);
}
