// SPDX-License-Identifier: GPL-2.0
/*
 * The action table (agent/watch/events.c) against the /events streams
 * captured from dockerd 20.10 and podman 4.3: every container action they
 * hold is known and classed as documented, and replaying a stream over
 * the inventory applies what the events say, asking only where needed.
 */
#include <stdbool.h>
#include <string.h>

#include "kselftest_harness.h"
#include "fixture.h"
#include "events.h"
#include "jsonl.h"

struct replay {
	bool collect;			/* first pass: the IDs only */
	char ids[8][DOCKER_ID_MAX];
	unsigned int nids;
	struct inventory inv;
	struct event_stats st;
	unsigned int containers, refreshes, unknown;
	char unknown_action[DOCKER_NAME_MAX];
	char seen[32][DOCKER_NAME_MAX];	/* actions, with their class */
	enum event_class class[32];
	unsigned int nseen;
};

static int on_event(void *arg, struct json_object *o)
{
	struct replay *r = arg;
	struct docker_event ev;
	enum event_class c;
	unsigned int i;
	int err = docker_event_parse(o, &ev);

	json_object_put(o);
	if (err)
		return err;
	if (strcmp(ev.type, "container"))
		return 0;
	if (r->collect) {
		for (i = 0; i < r->nids && strcmp(r->ids[i], ev.id); i++)
			;
		if (i == r->nids && i < 8)
			memcpy(r->ids[r->nids++], ev.id, sizeof(ev.id));
		return 0;
	}
	r->containers++;
	c = event_classify(ev.action);
	if (c == EVENT_UNKNOWN) {
		r->unknown++;
		memcpy(r->unknown_action, ev.action, sizeof(ev.action));
	}
	for (i = 0; i < r->nseen && strcmp(r->seen[i], ev.action); i++)
		;
	if (i == r->nseen && i < 32) {
		memcpy(r->seen[i], ev.action, sizeof(ev.action));
		r->class[i] = c;
		r->nseen++;
	}
	if (event_apply(&r->inv, &ev, &r->st))
		r->refreshes++;
	return 0;
}

static int feed(struct replay *r, const char *file)
{
	json_tokener *tok = json_tokener_new();
	struct jsonl jl;
	size_t len;
	char *body = fixture_body(file, &len);
	int err = body ? 0 : -ENOENT;

	if (!err) {
		jsonl_init(&jl, tok, 1 << 20, on_event, r);
		err = jsonl_feed(&jl, body, len);
	}
	json_tokener_free(tok);
	free(body);
	return err;
}

/*
 * The stream replayed over an inventory that lists its containers
 * already (created), as the engine's first listing would.
 */
static int replay(struct replay *r, const char *file)
{
	char listing[4096];
	size_t len = 0;
	unsigned int i;
	int err;

	r->collect = true;
	err = feed(r, file);
	r->collect = false;
	if (err)
		return err;
	len += snprintf(listing + len, sizeof(listing) - len, "[");
	for (i = 0; i < r->nids; i++)
		len += snprintf(listing + len, sizeof(listing) - len,
				"%s{\"Id\":\"%s\",\"State\":\"created\"}",
				i ? "," : "", r->ids[i]);
	snprintf(listing + len, sizeof(listing) - len, "]");
	err = inventory_replace(&r->inv, json_tokener_parse(listing));
	return err ? err : feed(r, file);
}

static enum event_class class_of(const struct replay *r, const char *action)
{
	unsigned int i;

	for (i = 0; i < r->nseen; i++)
		if (!strcmp(r->seen[i], action))
			return r->class[i];
	return EVENT_NCLASSES;
}

struct expect {
	const char *action;
	enum event_class class;
};

FIXTURE(capture)
{
	struct replay r;
};

FIXTURE_VARIANT(capture)
{
	const char *file;
	struct expect want[16];
	unsigned int refreshes;		/* events of the stream wanting one */
};

/*
 * dockerd: docker run (create, attach, start), a container exiting by
 * itself (die, destroy with --rm), docker top, pause/unpause, docker stop
 * (kill 15, kill 9, die, stop). Of its 18 container events, 7 ask.
 */
FIXTURE_VARIANT_ADD(capture, dockerd)
{
	.file = "dockerd/events_container_lifecycle_raw.http",
	.want = {
		{ "create", EVENT_REFRESH }, { "attach", EVENT_IGNORED },
		{ "start", EVENT_REFRESH }, { "die", EVENT_APPLIED },
		{ "destroy", EVENT_APPLIED }, { "top", EVENT_IGNORED },
		{ "pause", EVENT_APPLIED }, { "unpause", EVENT_APPLIED },
		{ "kill", EVENT_IGNORED }, { "stop", EVENT_IGNORED },
	},
	/* 3 create, 4 start. */
	.refreshes = 7,
};

FIXTURE_VARIANT_ADD(capture, dockerd_replay)
{
	.file = "dockerd/events_replay_since_until_start_die.http",
	.want = { { "start", EVENT_REFRESH }, { "die", EVENT_APPLIED } },
	.refreshes = 3,
};

/* podman's Docker-compatible /events: init and cleanup around start and die. */
FIXTURE_VARIANT_ADD(capture, podman)
{
	.file = "podman/events_container_lifecycle_raw.http",
	.want = {
		{ "create", EVENT_REFRESH }, { "init", EVENT_REFRESH },
		{ "start", EVENT_REFRESH }, { "die", EVENT_APPLIED },
		{ "cleanup", EVENT_IGNORED }, { "stop", EVENT_IGNORED },
	},
	/* 2 create, 3 init, 3 start. */
	.refreshes = 8,
};

/* libpod's own stream says "died" where the compatible one says "die". */
FIXTURE_VARIANT_ADD(capture, libpod)
{
	.file = "podman/libpod_events_raw.http",
	.want = {
		{ "create", EVENT_REFRESH }, { "start", EVENT_REFRESH },
		{ "died", EVENT_APPLIED }, { "init", EVENT_REFRESH },
		{ "cleanup", EVENT_IGNORED }, { "stop", EVENT_IGNORED },
	},
	.refreshes = 8,
};

FIXTURE_SETUP(capture)
{
	memset(&self->r, 0, sizeof(self->r));
}

FIXTURE_TEARDOWN(capture)
{
	inventory_clear(&self->r.inv);
}

TEST_F(capture, every_action_known_and_classed)
{
	const struct expect *w;
	unsigned int total = 0, c;

	ASSERT_EQ(0, replay(&self->r, variant->file));
	EXPECT_LT(0U, self->r.containers);
	EXPECT_EQ(0U, self->r.unknown) TH_LOG("unknown: %s", self->r.unknown_action);
	for (w = variant->want; w->action; w++)
		EXPECT_EQ((int)w->class, (int)class_of(&self->r, w->action)) TH_LOG("%s", w->action);
	/* Every action of the stream is one the variant names. */
	for (c = 0; c < self->r.nseen; c++) {
		for (w = variant->want; w->action; w++)
			if (!strcmp(w->action, self->r.seen[c]))
				break;
		EXPECT_NE(NULL, w->action) TH_LOG("%s not checked", self->r.seen[c]);
	}
	EXPECT_EQ(variant->refreshes, self->r.refreshes);
	for (c = 0; c < EVENT_NCLASSES; c++)
		total += self->r.st.by_class[c];
	EXPECT_EQ(self->r.containers, total);
}

#define ID_A "42a0e3732633036faf6f66f2c5620515dc21fac9362e628c2ea1d2cd7a0c2b9b"
#define ID_F "a9061eb3ce1c0115e083af663be525314ed8605c2f1aeb007b2af4bfd5d4b6e4"
#define ID_S "46b6470db57091a72b8233505da0a9c2d660779f59e6c8f2cc804bccad72dddb"

/* One event in dockerd 20.10's shape. */
static bool apply_one(struct replay *r, const char *action, const char *id,
		      const char *attrs)
{
	char buf[2048];
	struct json_object *o;
	struct docker_event ev;
	bool want;

	snprintf(buf, sizeof(buf),
		 "{\"status\":\"%s\",\"id\":\"%s\",\"Type\":\"container\","
		 "\"Action\":\"%s\",\"Actor\":{\"ID\":\"%s\",\"Attributes\":"
		 "{%s}},\"scope\":\"local\"}", action, id, action, id, attrs);
	o = json_tokener_parse(buf);
	if (!o || docker_event_parse(o, &ev)) {
		json_object_put(o);
		return true;
	}
	json_object_put(o);
	want = event_apply(&r->inv, &ev, &r->st);
	return want;
}

static void seed(struct replay *r, const char *failer_status)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "[{\"Id\":\"" ID_A "\",\"Names\":[\"/distracted_swartz\"],\"State\":\"running\",\"Status\":\"Up 1 second\"},"
		 "{\"Id\":\"" ID_F "\",\"Names\":[\"/failer\"],\"State\":\"running\",\"Status\":\"%s\"},"
		 "{\"Id\":\"" ID_S "\",\"Names\":[\"/sleeper\"],\"State\":\"running\",\"Status\":\"Up 9 seconds\"}]",
		 failer_status);
	inventory_clear(&r->inv);
	inventory_replace(&r->inv, json_tokener_parse(buf));
}

/* What the captured events say is in the inventory before any listing. */
TEST(applied_at_once)
{
	struct replay r = { 0 };
	const struct docker_container *c;

	seed(&r, "Up 3 seconds");
	ASSERT_EQ(3U, r.inv.n);
	/* The capture's own die, with its exit code: nothing to ask. */
	EXPECT_FALSE(apply_one(&r, "die", ID_F, "\"exitCode\":\"3\",\"image\":\"bb:latest\",\"name\":\"failer\""));
	c = inventory_find(&r.inv, ID_F);
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("exited", docker_container_state(c));
	EXPECT_STREQ("Exited (3) Less than a second ago", docker_container_status(c));
	EXPECT_TRUE(apply_one(&r, "start", ID_F, "\"name\":\"failer\""));
	EXPECT_STREQ("running", docker_container_state(inventory_find(&r.inv, ID_F)));
	EXPECT_FALSE(apply_one(&r, "pause", ID_S, "\"name\":\"sleeper\""));
	EXPECT_STREQ("paused", docker_container_state(inventory_find(&r.inv, ID_S)));
	EXPECT_FALSE(apply_one(&r, "unpause", ID_S, "\"name\":\"sleeper\""));
	EXPECT_STREQ("running", docker_container_state(inventory_find(&r.inv, ID_S)));
	EXPECT_FALSE(apply_one(&r, "pause", ID_S, "\"name\":\"sleeper\""));
	/* destroy and rename: nothing left to ask. */
	EXPECT_FALSE(apply_one(&r, "destroy", ID_A, "\"image\":\"bb:latest\",\"name\":\"distracted_swartz\""));
	EXPECT_EQ(NULL, inventory_find(&r.inv, ID_A));
	EXPECT_EQ(2U, r.inv.n);
	EXPECT_FALSE(apply_one(&r, "destroy", ID_A, "\"name\":\"distracted_swartz\""));
	EXPECT_FALSE(apply_one(&r, "rename", ID_S, "\"name\":\"napper\",\"oldName\":\"/sleeper\""));
	EXPECT_STREQ("napper", docker_container_name(inventory_find(&r.inv, ID_S)));
	/* A rename of a container not known yet: its listing is wanted. */
	EXPECT_TRUE(apply_one(&r, "rename", ID_A, "\"name\":\"x\""));
	EXPECT_EQ(8U, r.st.by_class[EVENT_APPLIED]);
	EXPECT_EQ(1U, r.st.by_class[EVENT_REFRESH]);
	inventory_clear(&r.inv);
}

/* A healthcheck every second: exec events cost nothing, health only on a change. */
TEST(healthchecks_cost_nothing)
{
	static const char *const runs[] = {
		"exec_create: /bin/sh -c wget -q -O /dev/null http://localhost/ || exit 1",
		"exec_start: /bin/sh -c wget -q -O /dev/null http://localhost/ || exit 1",
		"exec_die",
	};
	struct replay r = { 0 };
	char longcmd[600];
	unsigned int i;

	seed(&r, "Up 2 minutes (healthy)");
	for (i = 0; i < 3 * 30; i++)
		EXPECT_FALSE(apply_one(&r, runs[i % 3], ID_F, "\"execID\":\"e1\",\"exitCode\":\"0\",\"name\":\"failer\""));
	EXPECT_EQ(90U, r.st.by_class[EVENT_IGNORED]);
	/* An action longer than the bound is cut, not a broken stream. */
	memset(longcmd, 'x', sizeof(longcmd) - 1);
	longcmd[sizeof(longcmd) - 1] = '\0';
	memcpy(longcmd, "exec_start: ", 12);
	EXPECT_FALSE(apply_one(&r, longcmd, ID_F, "\"name\":\"failer\""));
	/* dockerd says health on a change; podman 4.3 on every run. */
	EXPECT_FALSE(apply_one(&r, "health_status: healthy", ID_F, "\"name\":\"failer\""));
	EXPECT_FALSE(apply_one(&r, "health_status", ID_F, "\"health_status\":\"healthy\""));
	EXPECT_FALSE(apply_one(&r, "health_status: unhealthy", ID_F, "\"name\":\"failer\""));
	EXPECT_STREQ("Up 2 minutes (unhealthy)", docker_container_status(inventory_find(&r.inv, ID_F)));
	seed(&r, "Up 2 seconds (health: starting)");
	EXPECT_FALSE(apply_one(&r, "health_status: starting", ID_F, ""));
	EXPECT_STREQ("Up 2 seconds (health: starting)", docker_container_status(inventory_find(&r.inv, ID_F)));
	EXPECT_FALSE(apply_one(&r, "health_status: healthy", ID_F, ""));
	EXPECT_STREQ("Up 2 seconds (healthy)", docker_container_status(inventory_find(&r.inv, ID_F)));
	seed(&r, "Up 2 seconds");
	EXPECT_FALSE(apply_one(&r, "health_status: starting", ID_F, ""));
	EXPECT_STREQ("Up 2 seconds (health: starting)", docker_container_status(inventory_find(&r.inv, ID_F)));
	/* A health this table does not know: asked. */
	EXPECT_TRUE(apply_one(&r, "health_status: dizzy", ID_F, ""));
	EXPECT_EQ((int)EVENT_UNKNOWN, (int)event_classify("frobnicate"));
	EXPECT_EQ((int)EVENT_IGNORED, (int)event_classify("exec_start: sh"));
	EXPECT_EQ((int)EVENT_UNKNOWN, (int)event_classify("star"));
	EXPECT_EQ((int)EVENT_UNKNOWN, (int)event_classify("starts"));
	EXPECT_STREQ("refresh", event_class_name(EVENT_REFRESH));
	inventory_clear(&r.inv);
}

TEST_HARNESS_MAIN
