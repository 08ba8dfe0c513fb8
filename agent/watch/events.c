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
 *             prune; kill oom stop (a signal or the end of a stop changes
 *             nothing by itself: the process ending is "die", which
 *             always comes too); update (resources and restart policy,
 *             neither kept). podman: exec exec_died cleanup mount unmount
 *             sync renumber
 *   applied   destroy (podman: remove) drops the container; rename takes
 *             the new name from Attributes.name. Nothing left to ask.
 *   refresh   create (the listing has what the event lacks); start
 *             restart unpause (running now); die (podman's libpod:
 *             died; exited, the code from Attributes.exitCode); pause;
 *             health_status, when the kept status shows another health
 *             (dockerd sends it on a change, podman 4.3 on every run);
 *             podman: init checkpoint restore
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
	{ "die", EVENT_REFRESH, FX_EXITED },
	{ "died", EVENT_REFRESH, FX_EXITED },
	{ "exec", EVENT_IGNORED, FX_NONE },
	{ "exec_create", EVENT_IGNORED, FX_NONE },
	{ "exec_detach", EVENT_IGNORED, FX_NONE },
	{ "exec_die", EVENT_IGNORED, FX_NONE },
	{ "exec_died", EVENT_IGNORED, FX_NONE },
	{ "exec_start", EVENT_IGNORED, FX_NONE },
	{ "export", EVENT_IGNORED, FX_NONE },
	{ "extract-to-dir", EVENT_IGNORED, FX_NONE },
	{ "health_status", EVENT_REFRESH, FX_HEALTH },
	{ "init", EVENT_REFRESH, FX_NONE },
	{ "kill", EVENT_IGNORED, FX_NONE },
	{ "mount", EVENT_IGNORED, FX_NONE },
	{ "oom", EVENT_IGNORED, FX_NONE },
	{ "pause", EVENT_REFRESH, FX_PAUSED },
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
	{ "unpause", EVENT_REFRESH, FX_RUNNING },
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

/*
 * Whether the kept status already shows @health, as docker ps does:
 * "Up 2 hours (healthy)", "Up 3 seconds (health: starting)".
 */
static bool status_shows(const char *status, const char *health)
{
	char want[DOCKER_STATE_MAX + 16];
	size_t n = strlen(status), k;

	snprintf(want, sizeof(want), "(%s)", health);
	k = strlen(want);
	if (n >= k && !strcmp(status + n - k, want))
		return true;
	snprintf(want, sizeof(want), "(health: %s)", health);
	k = strlen(want);
	return n >= k && !strcmp(status + n - k, want);
}

/* The effect of @ev on its container: whether a refresh is still wanted. */
static bool apply(struct inventory *inv, const struct docker_event *ev,
		  enum event_effect fx)
{
	const struct docker_container *c = inventory_find(inv, ev->id);
	const char *state = NULL, *status = NULL;
	char exited[DOCKER_STATUS_MAX];

	/* Not known yet (its create missed, or a listing late): ask. */
	if (!c)
		return fx != FX_REMOVE;
	switch (fx) {
	case FX_REMOVE:
		/* Without memory to lay the rest out, the refresh drops it. */
		return inventory_remove(inv, ev->id) != 0;
	case FX_RENAME:
		return !ev->name[0] ||
		       inventory_patch(inv, ev->id, NULL, NULL, ev->name);
	case FX_HEALTH:
		return !event_health(ev)[0] ||
		       !status_shows(c->status, event_health(ev));
	case FX_RUNNING:
		/* What docker ps says of a container just started. */
		state = "running";
		status = "Up Less than a second";
		break;
	case FX_EXITED:
		state = "exited";
		status = "Exited";
		if (ev->exit_code >= 0) {
			snprintf(exited, sizeof(exited),
				 "Exited (%d) Less than a second ago",
				 ev->exit_code);
			status = exited;
		}
		break;
	case FX_PAUSED:
		state = "paused";
		break;
	case FX_NONE:
		return true;
	}
	/* At once; the refresh that follows confirms it (or, out of memory, does it). */
	(void)inventory_patch(inv, ev->id, state, status, NULL);
	return true;
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
