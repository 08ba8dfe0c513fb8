// SPDX-License-Identifier: GPL-2.0
/*
 * What the agent takes from Docker's JSON, read from the captured bodies
 * of dockerd and podman, and the incremental decoder under every split.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "docker.h"
#include "fixture.h"
#include "intern.h"
#include "jsonl.h"

static struct json_object *parse_whole(const char *name)
{
	size_t len;
	char *body = fixture_body(name, &len);
	struct json_object *o = body ? json_tokener_parse(body) : NULL;

	free(body);
	return o;
}

TEST(info_dockerd_and_podman)
{
	struct docker_info info;
	struct json_object *o;

	o = parse_whole("dockerd/info.http");
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, docker_info_parse(o, &info));
	EXPECT_STREQ("BUB3:ODJB:746R:HDL4:AZZ6:TJZY:RDMQ:ETFA:LVZW:625Y:SOTG:OVBZ", info.id);
	EXPECT_STREQ("20.10.24+dfsg1", info.server_version);
	EXPECT_GT(info.ncpu, 0);
	EXPECT_GT(info.mem_total, 0);
	/* "Labels": [] */
	EXPECT_EQ(NULL, info.labels);
	EXPECT_EQ(0, info.nlabels);
	docker_info_clear(&info);

	o = parse_whole("podman/info.http");
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, docker_info_parse(o, &info));
	EXPECT_EQ(0, strncmp(info.id, "2cc50c56-", 9));
	EXPECT_GT(info.ncpu, 0);
	docker_info_clear(&info);
}

/*
 * Two engines of one fleet: what they share (version, labels) is held
 * once, what is theirs (ID, name) is not interned, an absent name is "",
 * and all is given back.
 */
TEST(info_strings_interned)
{
	static const char a[] = "{\"ID\":\"A\",\"ServerVersion\":\"24.0.7\","
				"\"Labels\":[\"zone=a\"]}";
	static const char b[] = "{\"ID\":\"B\",\"ServerVersion\":\"24.0.7\","
				"\"Labels\":[\"zone=a\"]}";
	struct docker_info ia, ib;

	ASSERT_EQ(0U, intern_count());
	ASSERT_EQ(0, docker_info_parse(json_tokener_parse(a), &ia));
	ASSERT_EQ(0, docker_info_parse(json_tokener_parse(b), &ib));
	EXPECT_STREQ("A", ia.id);
	EXPECT_STREQ("B", ib.id);
	EXPECT_STREQ("", docker_info_name(&ia));
	EXPECT_EQ(ia.server_version, ib.server_version);
	EXPECT_EQ(ia.labels, ib.labels);
	/* The version, the labels. */
	EXPECT_EQ(2U, intern_count());
	docker_info_clear(&ia);
	EXPECT_STREQ("", ia.id);
	EXPECT_EQ(NULL, ia.labels);
	EXPECT_EQ(2U, intern_count());
	docker_info_clear(&ib);
	EXPECT_EQ(0U, intern_count());
}

/* Engine labels: kept in order, bounded like a container's. */
TEST(info_labels)
{
	struct docker_info info;
	const char *l;
	uint32_t pos = 0;
	char big[1 << 17], *p;
	int i, n;

	ASSERT_EQ(0, docker_info_parse(json_tokener_parse(
		"{\"ID\":\"x\",\"Labels\":[\"zone=a\",\"gpu\",\"\",\"k=v\\u0000x\"]}"), &info));
	EXPECT_EQ(2, info.nlabels);
	EXPECT_EQ(2, info.labels_dropped);	/* empty, and holding a NUL */
	ASSERT_TRUE(docker_info_label_next(&info, &pos, &l));
	EXPECT_STREQ("zone=a", l);
	ASSERT_TRUE(docker_info_label_next(&info, &pos, &l));
	EXPECT_STREQ("gpu", l);
	EXPECT_FALSE(docker_info_label_next(&info, &pos, &l));
	docker_info_clear(&info);
	EXPECT_EQ(NULL, info.labels);

	EXPECT_EQ(-EPROTO, docker_info_parse(json_tokener_parse(
		"{\"ID\":\"x\",\"Labels\":[\"a=b\",1]}"), &info));
	EXPECT_EQ(NULL, info.labels);
	EXPECT_EQ(-EPROTO, docker_info_parse(json_tokener_parse(
		"{\"ID\":\"x\",\"Labels\":{\"a\":\"b\"}}"), &info));

	/* 100 labels of 1000 bytes: 16 fit in 16 KiB, the rest counted. */
	p = big + sprintf(big, "{\"ID\":\"x\",\"Labels\":[");
	for (i = 0; i < 100; i++)
		p += sprintf(p, "%s\"k%02d=%0995d\"", i ? "," : "", i, 0);
	strcpy(p, "]}");
	ASSERT_EQ(0, docker_info_parse(json_tokener_parse(big), &info));
	EXPECT_EQ(16, info.nlabels);
	EXPECT_EQ(84, info.labels_dropped);
	EXPECT_GE(DOCKER_LABELS_BYTES, (int)info.labels_len);
	for (n = 0, pos = 0; docker_info_label_next(&info, &pos, &l); n++)
		EXPECT_EQ(999U, strlen(l));
	EXPECT_EQ(16, n);
	docker_info_clear(&info);
}

TEST(version)
{
	struct docker_version v;
	struct json_object *o;

	o = parse_whole("dockerd/version.http");
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, docker_version_parse(o, &v));
	EXPECT_STREQ("1.41", v.api_version);
	EXPECT_STREQ("20.10.24+dfsg1", v.version);
	EXPECT_STREQ("linux", v.os);
	json_object_put(o);
	o = parse_whole("podman/version.http");
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, docker_version_parse(o, &v));
	EXPECT_STREQ("1.41", v.api_version);
	json_object_put(o);
	/* The "client version too new" error body is no version. */
	o = parse_whole("dockerd/v150_version.http");
	ASSERT_NE(NULL, o);
	EXPECT_EQ(-EPROTO, docker_version_parse(o, &v));
	json_object_put(o);
}

TEST(containers)
{
	static const char *const files[] = {
		"dockerd/containers_all.http", "dockerd/containers_all_with_running.http",
		"dockerd/containers_all_after_stop.http", "podman/containers_all.http",
		"podman/containers_all_with_running.http",
		"podman/containers_all_after_stop.http",
	};
	static const size_t counts[] = { 0, 1, 2, 0, 2, 2 };
	char id[DOCKER_ID_MAX];
	struct docker_container *v;
	struct json_object *o;
	size_t i, n;

	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		o = parse_whole(files[i]);
		ASSERT_NE(NULL, o) TH_LOG("%s", files[i]);
		ASSERT_EQ(0, docker_containers_parse(o, &v, &n)) TH_LOG("%s", files[i]);
		EXPECT_EQ(counts[i], n) TH_LOG("%s", files[i]);
		if (i == 1) {
			EXPECT_STREQ("sleeper", docker_container_name(&v[0]));
			EXPECT_STREQ("running", docker_container_state(&v[0]));
			EXPECT_STREQ("bb:latest", docker_container_image(&v[0]));
			EXPECT_TRUE(docker_id_valid(docker_container_id(&v[0], id)));
		}
		docker_containers_free(v, n);
		json_object_put(o);
	}
}

struct events {
	int n, containers, errors;
	struct docker_event first;
};

static int on_event(void *arg, struct json_object *o)
{
	struct events *ev = arg;
	struct docker_event e;

	if (docker_event_parse(o, &e))
		ev->errors++;
	else if (!strcmp(e.type, "container") && docker_id_valid(e.id))
		ev->containers++;
	if (!ev->n++)
		ev->first = e;
	json_object_put(o);
	return 0;
}

/* The /events bodies as lines: the same events for every cut. */
/*
 * Every split of every stream parses all of it again: seconds of CPU, more
 * under ASan on a loaded machine. The timeout is a hang detector, not a
 * speed test.
 */
FIXTURE(split) {
};

FIXTURE_SETUP(split)
{
}

FIXTURE_TEARDOWN(split)
{
}

TEST_F_TIMEOUT(split, event_streams_split_at_every_byte, 600)
{
	static const char *const files[] = {
		"dockerd/events_container_lifecycle_raw.http",
		"dockerd/events_replay_since_until_start_die.http",
		"dockerd/events_raw_chunked.http",
		"podman/events_container_lifecycle_raw.http",
		"podman/libpod_events_raw.http",
	};
	size_t f, cut, len;

	for (f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		char *body = fixture_body(files[f], &len);
		struct events whole = { 0 };
		json_tokener *tok = json_tokener_new();
		struct jsonl jl;

		ASSERT_NE(NULL, body);
		jsonl_init(&jl, tok, 1 << 20, on_event, &whole);
		ASSERT_EQ(0, jsonl_feed(&jl, body, len));
		EXPECT_FALSE(jsonl_partial(&jl));
		EXPECT_GT(whole.n, 1) TH_LOG("%s", files[f]);
		EXPECT_EQ(0, whole.errors) TH_LOG("%s", files[f]);
		for (cut = 0; cut <= len; cut++) {
			struct events part = { 0 };

			jsonl_init(&jl, tok, 1 << 20, on_event, &part);
			ASSERT_EQ(0, jsonl_feed(&jl, body, cut));
			ASSERT_EQ(0, jsonl_feed(&jl, body + cut, len - cut));
			ASSERT_EQ(whole.n, part.n) TH_LOG("%s cut %zu", files[f], cut);
			ASSERT_EQ(whole.containers, part.containers);
		}
		if (f == 0) {
			EXPECT_STREQ("container", whole.first.type);
			EXPECT_STREQ("create", whole.first.action);
			EXPECT_EQ(64U, strlen(whole.first.id));
			EXPECT_GT(whole.containers, 10);
		}
		if (f == 2)
			EXPECT_EQ(0, whole.containers);
		json_tokener_free(tok);
		free(body);
	}
}

TEST(old_event_shape_and_rejections)
{
	struct docker_event e;
	struct docker_container *v;
	struct json_object *o;
	size_t n;

	o = json_tokener_parse("{\"status\":\"die\",\"id\":\"abc123\",\"from\":\"x\"}");
	ASSERT_EQ(0, docker_event_parse(o, &e));
	EXPECT_STREQ("container", e.type);
	EXPECT_STREQ("die", e.action);
	EXPECT_STREQ("abc123", e.id);
	json_object_put(o);
	/* Image events carry IDs that are no container's: ignored, not refused. */
	o = json_tokener_parse("{\"Type\":\"image\",\"Action\":\"pull\",\"Actor\":{\"ID\":\"sha256:0123456789012345678901234567890123456789012345678901234567890123456789\"}}");
	ASSERT_EQ(0, docker_event_parse(o, &e));
	EXPECT_STREQ("", e.id);
	json_object_put(o);
	o = json_tokener_parse("[{\"Id\":\"../../x\",\"Names\":[\"/a\"]}]");
	EXPECT_EQ(-EPROTO, docker_containers_parse(o, &v, &n));
	json_object_put(o);
	o = json_tokener_parse("[{\"Id\":\"abc\",\"Names\":\"/a\"}]");
	EXPECT_EQ(-EPROTO, docker_containers_parse(o, &v, &n));
	json_object_put(o);
	o = json_tokener_parse("{\"Id\":\"abc\"}");
	EXPECT_EQ(-EPROTO, docker_containers_parse(o, &v, &n));
	json_object_put(o);
	o = json_tokener_parse("{\"ID\":7}");
	{
		struct docker_info info;

		EXPECT_EQ(-EPROTO, docker_info_parse(o, &info));
	}
	EXPECT_TRUE(docker_api_version_valid("1.41"));
	EXPECT_FALSE(docker_api_version_valid("1.41/../x"));
	EXPECT_FALSE(docker_api_version_valid("v1.41"));
	EXPECT_FALSE(docker_id_valid(""));
	EXPECT_FALSE(docker_id_valid("ABC"));
}

static int drop(void *arg, struct json_object *o)
{
	(void)arg;
	json_object_put(o);
	return 0;
}

TEST(jsonl_bounds_and_garbage)
{
	json_tokener *tok = json_tokener_new();
	struct jsonl jl;
	char big[300];

	ASSERT_NE(NULL, tok);
	memset(big, ' ', sizeof(big));
	big[0] = '[';
	big[sizeof(big) - 1] = '\0';
	jsonl_init(&jl, tok, 100, drop, NULL);
	EXPECT_EQ(-EMSGSIZE, jsonl_feed(&jl, big, strlen(big)));
	jsonl_init(&jl, tok, 100, drop, NULL);
	EXPECT_EQ(-EPROTO, jsonl_feed(&jl, "{\"a\":}", 6));
	jsonl_init(&jl, tok, 100, drop, NULL);
	EXPECT_EQ(-EPROTO, jsonl_feed(&jl, "<html>", 6));
	jsonl_init(&jl, tok, 100, drop, NULL);
	EXPECT_EQ(0, jsonl_feed(&jl, "{\"a\":1}\n{\"b\":", 13));
	EXPECT_TRUE(jsonl_partial(&jl));
	json_tokener_free(tok);
}

static int count(void *arg, struct json_object *o)
{
	(*(int *)arg)++;
	json_object_put(o);
	return 0;
}

/*
 * Found by fuzzing: json-c reads past a complete value, over whitespace
 * and comments, so a bad comment right after a value used to undo it or
 * not depending on the split; and it misreads a number cut in two. Values
 * are now delimited before json-c sees them, numbers are handed over
 * whole (up to 64 characters), and only objects and arrays are accepted.
 */
TEST(same_values_whatever_the_split_even_before_garbage)
{
	static const char *const inputs[] = {
		"{}/\"", "[1] [2]\n{}x", "{\"a\":\"}]\\\"\"}\n[]", "12\t\"\"",
		"{\"a\":1}{\"b\":[{},{}]} \"s\"", "[}", "{\"a\":[1,2}]",
		/* json-c reads "[1" then "-2]" as [1]: numbers are never cut. */
		"[1-2]", "[12345e-6,-7.5E+3]",
		/* 64 characters, then 65 (doubles: json-c since 0.17 refuses
		 * an integer beyond 64 bits). */
		"[1.11111111111111111111111111111111111111111111111111111111111111]",
		"[1.111111111111111111111111111111111111111111111111111111111111111]",
	};
	static const int want_values[] = { 1, 3, 2, 0, 2, 0, 0, 0, 1, 1, 0 };
	static const int want_err[] = { -EPROTO, -EPROTO, 0, -EPROTO, -EPROTO,
					-EPROTO, -EPROTO, -EPROTO, 0, 0,
					-EPROTO };
	json_tokener *tok = json_tokener_new();
	size_t i, cut;

	ASSERT_NE(NULL, tok);
	for (i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		size_t len = strlen(inputs[i]);

		for (cut = 0; cut <= len; cut++) {
			struct jsonl jl;
			int n = 0, err;

			jsonl_init(&jl, tok, 1000, count, &n);
			err = jsonl_feed(&jl, inputs[i], cut);
			if (!err)
				err = jsonl_feed(&jl, inputs[i] + cut, len - cut);
			if (!err && jsonl_partial(&jl))
				err = -EPROTO;
			EXPECT_EQ(want_err[i], err) TH_LOG("input %zu cut %zu", i, cut);
			EXPECT_EQ(want_values[i], n) TH_LOG("input %zu cut %zu", i, cut);
		}
	}
	json_tokener_free(tok);
}

TEST_HARNESS_MAIN
