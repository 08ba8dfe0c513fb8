// SPDX-License-Identifier: GPL-2.0
/* The control API's views: filters select, malformed ones are refused. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "fleet.h"
#include "loop.h"
#include "metrics.h"
#include "strbuf.h"
#include "views.h"

static const char *const running_or_exited[] = { "running", "exited" };

/*
 * Engine i: engine-i at 127.0.0.(i+1):2375, zone z(i%2), 2 containers:
 * the running one labelled tier=web, the exited one tier=db.
 */
static struct engine *fake_engine(int i, enum engine_state state)
{
	struct engine *e = calloc(1, sizeof(*e));
	char buf[64], list[512];

	snprintf(buf, sizeof(buf), "127.0.0.%d:2375", i + 1);
	e->addr = strdup(buf);
	e->state = state;
	e->error = e->api_version = "";
	snprintf(list, sizeof(list),
		 "{\"ID\":\"ID%d\",\"Name\":\"engine-%d\","
		 "\"Labels\":[\"zone=z%d\",\"index=%d\"]}", i, i, i % 2, i);
	if (docker_info_parse(json_tokener_parse(list), &e->info))
		abort();
	/* Through the inventory's own path, as an engine would list them. */
	snprintf(list, sizeof(list),
		 "[{\"Id\":\"%064d\",\"Names\":[\"/web-%d-0\"],\"State\":\"%s\",\"Labels\":{\"tier\":\"web\"}},"
		 "{\"Id\":\"%064d\",\"Names\":[\"/web-%d-1\"],\"State\":\"%s\",\"Labels\":{\"tier\":\"db\"}}]",
		 i * 2, i, running_or_exited[0], i * 2 + 1, i,
		 running_or_exited[1]);
	if (inventory_replace(&e->inv, json_tokener_parse(list)))
		abort();
	return e;
}

FIXTURE(fleet) {
	struct fleet f;
};

FIXTURE_SETUP(fleet)
{
	int i;

	memset(&self->f, 0, sizeof(self->f));
	self->f.n = 4;
	self->f.v = calloc(4, sizeof(*self->f.v));
	for (i = 0; i < 4; i++)
		self->f.v[i] = fake_engine(i, i == 3 ? ENGINE_DOWN : ENGINE_HEALTHY);
}

FIXTURE_TEARDOWN(fleet)
{
	size_t i;

	for (i = 0; i < self->f.n; i++) {
		struct engine *e = self->f.v[i];

		docker_info_clear(&e->info);
		inventory_clear(&e->inv);
		free(e->addr);
		free(e);
	}
	free(self->f.v);
}

/* One state filter, as ?state=@s; NULL: none. */
static void set_state(struct view_filter *flt, const char *s)
{
	flt->nstates = s ? 1 : 0;
	flt->states[0] = s;
}

/*
 * A view as the API answers it, a batch at a time, into @b; how many
 * batches in *@batches. 0, or what view_cursor_new() refused.
 */
static int view_text(struct fleet *f, struct view_filter *flt,
		     bool containers, struct strbuf *b, int *batches,
		     const char **why)
{
	struct view_cursor *vc;
	bool done = false;
	int err;

	err = view_cursor_new(&vc, f, flt, containers, why);
	for (*batches = 0; !err && !done; (*batches)++)
		if (view_cursor_more(vc, b, &done))
			abort();
	if (!err)
		view_cursor_free(vc);
	return err;
}

/* The same, parsed: the array in *@a, untouched when refused. */
static int view_all(struct fleet *f, struct view_filter *flt,
		    bool containers, struct json_object **a, const char **why)
{
	struct strbuf b = { 0 };
	int batches, err;

	err = view_text(f, flt, containers, &b, &batches, why);
	if (!err) {
		strbuf_add(&b, "", 1);
		*a = json_tokener_parse(b.p);
		if (!json_object_is_type(*a, json_type_array))
			abort();
	}
	strbuf_release(&b);
	return err;
}

static int count_nodes(struct fleet *f, struct view_filter *flt)
{
	struct json_object *a;
	const char *why = NULL;
	int n;

	if (view_all(f, flt, false, &a, &why))
		return -1;
	n = (int)json_object_array_length(a);
	json_object_put(a);
	return n;
}

static int count_containers(struct fleet *f, struct view_filter *flt)
{
	struct json_object *a;
	const char *why = NULL;
	int n;

	if (view_all(f, flt, true, &a, &why))
		return -1;
	n = (int)json_object_array_length(a);
	json_object_put(a);
	return n;
}

TEST_F(fleet, nodes_by_state_and_labels)
{
	struct view_filter flt = { 0 };

	EXPECT_EQ(4, count_nodes(&self->f, &flt));
	set_state(&flt, "healthy");
	EXPECT_EQ(3, count_nodes(&self->f, &flt));
	set_state(&flt, "down");
	EXPECT_EQ(1, count_nodes(&self->f, &flt));
	set_state(&flt, NULL);
	flt.labels[flt.nlabels++] = "zone=z1";
	EXPECT_EQ(2, count_nodes(&self->f, &flt));
	/* Labels add up: all must hold. */
	flt.labels[flt.nlabels++] = "index=3";
	EXPECT_EQ(1, count_nodes(&self->f, &flt));
	/* A key alone matches any value, but not a longer key. */
	flt.nlabels = 0;
	flt.labels[flt.nlabels++] = "zone";
	EXPECT_EQ(4, count_nodes(&self->f, &flt));
	flt.labels[0] = "zon";
	EXPECT_EQ(0, count_nodes(&self->f, &flt));
}

TEST_F(fleet, malformed_filters_are_refused)
{
	struct view_filter flt = { 0 };
	struct json_object *a = NULL;
	const char *why = NULL;

	set_state(&flt, "removed");

	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, false, &a, &why));
	EXPECT_NE(NULL, why);
	set_state(&flt, "running");
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, false, &a, &why));
	set_state(&flt, "healthy");
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, true, &a, &why));
	set_state(&flt, NULL);
	flt.name = "web";
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, false, &a, &why));
	flt.name = NULL;
	flt.labels[flt.nlabels++] = "=v";
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, true, &a, &why));
	EXPECT_EQ(NULL, a);
}

TEST_F(fleet, containers_aggregated_and_filtered)
{
	struct view_filter flt = { 0 };

	EXPECT_EQ(8, count_containers(&self->f, &flt));
	set_state(&flt, "running");
	EXPECT_EQ(4, count_containers(&self->f, &flt));
	flt.node = "engine-2";
	EXPECT_EQ(1, count_containers(&self->f, &flt));
	flt.node = "127.0.0.3:2375";
	EXPECT_EQ(1, count_containers(&self->f, &flt));
	flt.node = "ID2";
	EXPECT_EQ(1, count_containers(&self->f, &flt));
	set_state(&flt, NULL);
	flt.node = NULL;
	flt.name = "web-1-";
	EXPECT_EQ(2, count_containers(&self->f, &flt));
	/* Labels of /v1/containers are the containers', not the engines'. */
	flt.labels[flt.nlabels++] = "zone=z0";
	EXPECT_EQ(0, count_containers(&self->f, &flt));
	flt.name = NULL;
	flt.labels[0] = "tier";
	EXPECT_EQ(8, count_containers(&self->f, &flt));
	flt.labels[0] = "tier=web";
	EXPECT_EQ(4, count_containers(&self->f, &flt));
	flt.labels[0] = "tie";
	EXPECT_EQ(0, count_containers(&self->f, &flt));
	flt.labels[0] = "tier=we";
	EXPECT_EQ(0, count_containers(&self->f, &flt));
	flt.labels[flt.nlabels++] = "tier=db";
	flt.labels[0] = "tier=web";
	EXPECT_EQ(0, count_containers(&self->f, &flt));
}

TEST_F(fleet, states_combine)
{
	struct view_filter flt = { 0 };
	struct json_object *a = NULL, *c, *v;
	const char *why = NULL;

	self->f.v[2]->state = ENGINE_UNHEALTHY;
	/* state=down,unhealthy and state=down&state=unhealthy: either. */
	set_state(&flt, "down,unhealthy");
	EXPECT_EQ(2, count_nodes(&self->f, &flt));
	flt.states[0] = "down";
	flt.states[flt.nstates++] = "unhealthy";
	EXPECT_EQ(2, count_nodes(&self->f, &flt));
	set_state(&flt, "down,bogus");
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, false, &a, &why));
	EXPECT_STREQ("state: want pending, healthy, suspect, unhealthy or down, or several: down,unhealthy", why);
	set_state(&flt, "down,");
	EXPECT_EQ(-1, count_nodes(&self->f, &flt));
	set_state(&flt, "exited,running");
	EXPECT_EQ(8, count_containers(&self->f, &flt));
	/* Containers by their engine's state, marked stale when not healthy. */
	set_state(&flt, NULL);
	flt.node_states[flt.nnode_states++] = "down,unhealthy";
	ASSERT_EQ(0, view_all(&self->f, &flt, true, &a, &why));
	ASSERT_EQ(4, (int)json_object_array_length(a));
	c = json_object_array_get_idx(a, 0);
	ASSERT_TRUE(json_object_object_get_ex(c, "stale", &v));
	EXPECT_TRUE(json_object_get_boolean(v));
	ASSERT_TRUE(json_object_object_get_ex(c, "node_state", &v));
	EXPECT_STREQ("unhealthy", json_object_get_string(v));
	json_object_put(a);
	flt.node_states[0] = "healthy";
	ASSERT_EQ(0, view_all(&self->f, &flt, true, &a, &why));
	c = json_object_array_get_idx(a, 0);
	ASSERT_TRUE(json_object_object_get_ex(c, "stale", &v));
	EXPECT_FALSE(json_object_get_boolean(v));
	json_object_put(a);
	flt.node_states[0] = "running";
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, true, &a, &why));
	EXPECT_EQ(-EINVAL, view_all(&self->f, &flt, false, &a, &why));
}

/*
 * A fleet too big for one batch: the batches joined are, byte for byte,
 * the array json-c writes whole, and every container is listed once.
 */
TEST_F(fleet, views_in_batches_are_the_whole_answer)
{
	struct view_filter flt = { 0 };
	struct json_object *whole, *a;
	struct strbuf b = { 0 };
	const char *why = NULL, *s;
	int batches, i;

	self->f.v = realloc(self->f.v, 400 * sizeof(*self->f.v));
	ASSERT_NE(NULL, self->f.v);
	for (i = 4; i < 400; i++)
		self->f.v[self->f.n++] = fake_engine(i, ENGINE_HEALTHY);
	whole = json_object_new_array();
	for (i = 0; i < 400; i++)
		json_object_array_add(whole, view_node(self->f.v[i], false));
	s = json_object_to_json_string_ext(whole, JSON_C_TO_STRING_PLAIN |
					   JSON_C_TO_STRING_NOSLASHESCAPE);
	ASSERT_EQ(0, view_text(&self->f, &flt, false, &b, &batches, &why));
	EXPECT_LT(2, batches);
	ASSERT_EQ(strlen(s), b.len);
	EXPECT_EQ(0, memcmp(s, b.p, b.len));
	json_object_put(whole);
	strbuf_release(&b);
	EXPECT_EQ(800, count_containers(&self->f, &flt));
	/* One engine's, a node filter: its own two. */
	flt.node = "127.0.0.9:2375";
	ASSERT_EQ(0, view_all(&self->f, &flt, true, &a, &why));
	EXPECT_EQ(2, (int)json_object_array_length(a));
	json_object_put(a);
}

TEST_F(fleet, node_found_by_host_or_id_prefix)
{
	const struct engine *e = NULL;
	char why[512];

	ASSERT_EQ(0, view_node_find(&self->f, "127.0.0.3", &e, why, sizeof(why)));
	EXPECT_EQ(self->f.v[2], e);
	ASSERT_EQ(0, view_node_find(&self->f, "engine-1", &e, why, sizeof(why)));
	EXPECT_EQ(self->f.v[1], e);
	/* "ID3" exactly; "ID" is every engine's prefix. */
	ASSERT_EQ(0, view_node_find(&self->f, "ID3", &e, why, sizeof(why)));
	EXPECT_EQ(self->f.v[3], e);
	EXPECT_EQ(-EINVAL, view_node_find(&self->f, "ID", &e, why, sizeof(why)));
	EXPECT_STREQ("'ID' is ambiguous: 4 engines match: 127.0.0.1:2375 (ID ID0), 127.0.0.2:2375 (ID ID1), 127.0.0.3:2375 (ID ID2), 127.0.0.4:2375 (ID ID3)", why);
	EXPECT_EQ(-ENOENT, view_node_find(&self->f, "127.0.0.9", &e, why, sizeof(why)));
	EXPECT_EQ(-ENOENT, view_node_find(&self->f, "127.0.0", &e, why, sizeof(why)));
}

TEST_F(fleet, one_node_lists_its_containers)
{
	struct json_object *o = view_node(self->f.v[1], true), *c;

	ASSERT_NE(NULL, o);
	ASSERT_TRUE(json_object_object_get_ex(o, "containers", &c));
	EXPECT_EQ(2, (int)json_object_array_length(c));
	json_object_put(o);
	o = view_node(self->f.v[1], false);
	ASSERT_TRUE(json_object_object_get_ex(o, "containers", &c));
	EXPECT_EQ(2, json_object_get_int(c));
	json_object_put(o);
}

TEST_F(fleet, metrics_histograms_are_cumulative)
{
	struct engine *e = self->f.v[0];
	struct strbuf out = { 0 };
	struct metrics *m;
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	ASSERT_EQ(0, metrics_new(&m, loop, &self->f, NULL));
	/* Last heard 3 s ago, down now: one observation in le=5 and up. */
	e->alive_ms = loop_now(loop) - 3000;
	e->state = ENGINE_DOWN;
	metrics_transition(m, e, ENGINE_HEALTHY);
	/* Not a detection: it was not working. */
	metrics_transition(m, e, ENGINE_PENDING);
	ASSERT_EQ(0, metrics_render(m, &out));
	ASSERT_EQ(0, strbuf_add(&out, "", 1));
	EXPECT_NE(NULL, strstr(out.p, "peerwatch_detection_latency_seconds_bucket{state=\"down\",le=\"2.5\"} 0\n"));
	EXPECT_NE(NULL, strstr(out.p, "peerwatch_detection_latency_seconds_bucket{state=\"down\",le=\"5\"} 1\n"));
	EXPECT_NE(NULL, strstr(out.p, "peerwatch_detection_latency_seconds_bucket{state=\"down\",le=\"+Inf\"} 1\n"));
	EXPECT_NE(NULL, strstr(out.p, "peerwatch_engines{state=\"healthy\"} 2\n"));
	EXPECT_NE(NULL, strstr(out.p, "peerwatch_containers 8\n"));
	strbuf_release(&out);
	metrics_free(m);
	loop_free(loop);
}

/* One set of series per engine, its name escaped as the format wants. */
TEST_F(fleet, metrics_name_each_engine)
{
	struct engine *e = self->f.v[3];
	struct strbuf out = { 0 };
	struct metrics *m;
	struct loop *loop;

	ASSERT_EQ(0, loop_new(&loop));
	ASSERT_EQ(0, metrics_new(&m, loop, &self->f, NULL));
	ASSERT_EQ(0, docker_info_set_names(&e->info, e->info.id,
					   "a\"b\\c\nd"));
	e->cause = CAUSE_RESET;
	e->since_ms = 1700000000500ULL;
	ASSERT_EQ(0, metrics_render(m, &out));
	ASSERT_EQ(0, strbuf_add(&out, "", 1));
	EXPECT_NE(NULL, strstr(out.p, "\npeerwatch_engine_up{engine=\"engine-0\",addr=\"127.0.0.1:2375\"} 1\n"));
	EXPECT_NE(NULL, strstr(out.p, "\npeerwatch_engine_up{engine=\"a\\\"b\\\\c\\nd\",addr=\"127.0.0.4:2375\"} 0\n"));
	EXPECT_NE(NULL, strstr(out.p, "\npeerwatch_engine_state_since_seconds{engine=\"a\\\"b\\\\c\\nd\",addr=\"127.0.0.4:2375\"} 1700000000.500\n"));
	EXPECT_NE(NULL, strstr(out.p, "\npeerwatch_engine_info{engine=\"a\\\"b\\\\c\\nd\",addr=\"127.0.0.4:2375\",state=\"down\",cause=\"reset\"} 1\n"));
	EXPECT_NE(NULL, strstr(out.p, "\npeerwatch_engine_info{engine=\"engine-1\",addr=\"127.0.0.2:2375\",state=\"healthy\",cause=\"\"} 1\n"));
	strbuf_release(&out);
	metrics_free(m);
	loop_free(loop);
}

TEST(strbuf_grows_and_consumes)
{
	struct strbuf b = { 0 };
	int i;

	for (i = 0; i < 2000; i++)
		ASSERT_EQ(0, strbuf_addf(&b, "%04d", i));
	EXPECT_EQ(8000U, strbuf_pending(&b));
	EXPECT_EQ(0, memcmp(b.p, "00000001", 8));
	strbuf_consume(&b, 7996);
	EXPECT_EQ(0, memcmp(b.p + b.off, "1999", 4));
	strbuf_consume(&b, 4);
	EXPECT_EQ(0U, strbuf_pending(&b));
	EXPECT_EQ(0U, b.off);
	strbuf_release(&b);
}

TEST_HARNESS_MAIN
