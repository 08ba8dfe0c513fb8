// SPDX-License-Identifier: GPL-2.0
/*
 * /events streams. Each engine with at least one stream open has a timer
 * on its synthetic schedule (see sim_fleet.c); an event is formatted once and
 * sent as one chunk to every stream of the engine. Events of a frozen
 * engine are dropped, as if its daemon never produced them, and are not
 * counted as sent.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "clock.h"
#include "events.h"
#include "sim_conn.h"
#include "sim_fleet.h"
#include "sim_http.h"

/* A stream that fell this far behind the schedule skips ahead. */
#define MAX_CATCHUP	16

static void events_emit(struct engine *e, const struct ctr *ct,
			const char *action, int64_t t_ms)
{
	struct list_head *pos, *tmp;
	char line[1024], exit_attr[32] = "";
	int n;

	if (e->fault == FAULT_FREEZE)
		return;
	e->sim->stats.events_sent++;
	if (!strcmp(action, "die"))
		snprintf(exit_attr, sizeof(exit_attr), "\"exitCode\":\"%d\",",
			 ct->exit_code);
	n = snprintf(line, sizeof(line),
		     "{\"status\":\"%s\",\"id\":\"%s\",\"from\":\"%s\","
		     "\"Type\":\"container\",\"Action\":\"%s\",\"Actor\":"
		     "{\"ID\":\"%s\",\"Attributes\":{%s\"image\":\"%s\","
		     "\"name\":\"%s\"}},\"scope\":\"local\",\"time\":%lld,"
		     "\"timeNano\":%lld}\n",
		     action, ct->id, ct->image, action, ct->id, exit_attr,
		     ct->image, ct->name, (long long)(t_ms / 1000),
		     (long long)t_ms * 1000000);
	if (n < 0 || (size_t)n >= sizeof(line))
		return;
	list_for_each_safe(pos, tmp, &e->streams) {
		struct conn *c = container_of(pos, struct conn, stream_node);

		if (http_chunk(c, line, n))
			conn_close(c);
		else
			conn_progress(c);
	}
}

static void events_arm(struct engine *e)
{
	struct sim *s = e->sim;
	int64_t now = clock_wall_ms();
	int64_t when = engine_slot_time(e, e->ev_next_slot);

	loop_timer_start(s->loop, &e->ev_timer, when > now ? when - now : 0);
}

static void events_tick(struct loop_timer *t)
{
	struct engine *e = container_of(t, struct engine, ev_timer);
	int64_t now = clock_wall_ms();
	int64_t fired = engine_slot_fired(e, now);

	if (fired - e->ev_next_slot >= MAX_CATCHUP)
		e->ev_next_slot = fired - MAX_CATCHUP + 1;
	for (; e->ev_next_slot <= fired; e->ev_next_slot++) {
		int64_t at = engine_slot_time(e, e->ev_next_slot);
		struct ctr ct;

		engine_container(e, engine_slot_container(e, e->ev_next_slot),
				 at, &ct);
		events_emit(e, &ct, ct.state == CTR_RUNNING ? "start" : "die",
			    at);
		if (list_empty(&e->streams))
			return;
	}
	events_arm(e);
}

void events_init(struct fleet *f)
{
	unsigned int i;

	for (i = 0; i < f->count; i++)
		loop_timer_init(&f->engines[i].ev_timer, events_tick);
}

int events_subscribe(struct conn *c)
{
	struct engine *e = c->engine;
	struct sim *s = c->sim;
	int first = list_empty(&e->streams);

	c->streaming = 1;
	list_add_tail(&c->stream_node, &e->streams);
	s->stats.streams_open++;
	if (first && s->opts.events_interval_ms && s->opts.containers) {
		e->ev_next_slot = engine_slot_fired(e, clock_wall_ms()) + 1;
		events_arm(e);
	}
	return 0;
}

void events_unsubscribe(struct conn *c)
{
	struct engine *e = c->engine;

	list_del(&c->stream_node);
	c->sim->stats.streams_open--;
	if (list_empty(&e->streams))
		loop_timer_stop(c->sim->loop, &e->ev_timer);
}

/* The container an action applies to when none is named. */
static int events_pick(struct engine *e, int want_running, int64_t now,
		       struct ctr *ct)
{
	unsigned int i, n = engine_nr_containers(e);

	for (i = 0; i < n; i++) {
		engine_container(e, i, now, ct);
		if ((ct->state == CTR_RUNNING) == want_running)
			return 0;
	}
	return -ENOENT;
}

/* "event ADDR start|stop|die|create [NAME]" from the control socket. */
int events_command(struct engine *e, const char *action, const char *name,
		   char *reply, size_t size)
{
	int64_t now = clock_wall_ms();
	int stop = !strcmp(action, "stop");
	int die = !strcmp(action, "die");
	unsigned int idx;
	struct ctr ct;
	int err;

	if (!strcmp(action, "create")) {
		err = engine_create_container(e, name, now, &idx);
		if (err == -EEXIST)
			snprintf(reply, size, "name in use: %s", name);
		else if (err)
			snprintf(reply, size, "%s", strerror(-err));
		if (err)
			return err;
		engine_container(e, idx, now, &ct);
		events_emit(e, &ct, "create", now);
		goto out;
	}
	if (!stop && !die && strcmp(action, "start")) {
		snprintf(reply, size, "unknown action: %s", action);
		return -EINVAL;
	}
	if (name)
		err = engine_find_container(e, name, now, &ct);
	else
		err = events_pick(e, stop || die, now, &ct);
	if (err) {
		snprintf(reply, size, "no such container: %s",
			 name ? name : (stop || die) ? "(none running)" :
			 "(none stopped)");
		return err;
	}
	err = engine_set_state(e, ct.idx, stop || die ? CTR_EXITED : CTR_RUNNING,
			       die ? 1 : 0, now);
	if (err) {
		snprintf(reply, size, "%s", strerror(-err));
		return err;
	}
	engine_container(e, ct.idx, now, &ct);
	events_emit(e, &ct, stop || die ? "die" : "start", now);
	if (stop)
		events_emit(e, &ct, "stop", now);
out:
	snprintf(reply, size, "%s %.12s %s", action, ct.id, ct.name);
	return 0;
}
