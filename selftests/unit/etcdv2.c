// SPDX-License-Identifier: GPL-2.0
/*
 * etcd's v2 keyspace as Swarm's discovery left it, read as etcdv2.c and
 * etcdsrc.c read it: answers captured from Debian's etcd 3.4.23 (started
 * with --enable-v2) after `curl -XPUT .../v2/keys/swarm/docker/swarm/
 * nodes/ADDR -d value=ADDR -d ttl=N`, the way libkv's etcd store wrote.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "etcdsrc.h"
#include "etcdv2.h"

#define DIR_ "/swarm/docker/swarm/nodes"

static const char list_answer[] =
	"{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"nodes\":["
	"{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.1:2375\",\"value\":\"10.0.0.1:2375\",\"expiration\":\"2026-12-06T16:51:04.686089334Z\",\"ttl\":60,\"modifiedIndex\":4,\"createdIndex\":4},"
	"{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.2:2375\",\"value\":\"10.0.0.2:2375\",\"expiration\":\"2026-12-06T16:50:05.795254455Z\",\"ttl\":1,\"modifiedIndex\":5,\"createdIndex\":5}"
	"],\"modifiedIndex\":4,\"createdIndex\":4}}";

static const char delete_event[] =
	"{\"action\":\"delete\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.1:2375\",\"modifiedIndex\":7,\"createdIndex\":4},"
	"\"prevNode\":{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.1:2375\",\"value\":\"10.0.0.1:2375\",\"expiration\":\"2026-12-06T16:51:04.686089334Z\",\"ttl\":57,\"modifiedIndex\":4,\"createdIndex\":4}}";

static const char expire_event[] =
	"{\"action\":\"expire\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.2:2375\",\"modifiedIndex\":6,\"createdIndex\":5},"
	"\"prevNode\":{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.2:2375\",\"value\":\"10.0.0.2:2375\",\"modifiedIndex\":5,\"createdIndex\":5}}";

static const char set_event[] =
	"{\"action\":\"set\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/10.0.0.3:2375\",\"value\":\"10.0.0.3:2375\",\"expiration\":\"2026-12-06T16:51:04.686089334Z\",\"ttl\":60,\"modifiedIndex\":8,\"createdIndex\":8}}";

struct warned {
	int n;
	char key[128];
};

static void warn(void *arg, const char *key, const char *why)
{
	struct warned *w = arg;

	w->n++;
	snprintf(w->key, sizeof(w->key), "%s", key ? key : "");
	(void)why;
}

static const char *addr(struct json_object *nodes, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(nodes, key, &v))
		return NULL;
	return json_object_get_string(v);
}

TEST(list_then_events)
{
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	const char *why = NULL;
	uint64_t index = 0;
	bool relist = true;

	o = json_tokener_parse(list_answer);
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, etcdv2_parse_list(o, DIR_, nodes, warn, &w, &why));
	json_object_put(o);
	EXPECT_EQ(2, json_object_object_length(nodes));
	EXPECT_STREQ("10.0.0.1:2375", addr(nodes, DIR_ "/10.0.0.1:2375"));
	EXPECT_EQ(0, w.n);

	o = json_tokener_parse(expire_event);
	ASSERT_EQ(0, etcdv2_apply_event(o, DIR_, nodes, &index, &relist, warn,
					&w, &why));
	json_object_put(o);
	EXPECT_EQ(6U, index);
	EXPECT_FALSE(relist);
	EXPECT_EQ(NULL, addr(nodes, DIR_ "/10.0.0.2:2375"));

	o = json_tokener_parse(delete_event);
	ASSERT_EQ(0, etcdv2_apply_event(o, DIR_, nodes, &index, &relist, warn,
					&w, &why));
	json_object_put(o);
	EXPECT_EQ(7U, index);
	EXPECT_EQ(0, json_object_object_length(nodes));

	o = json_tokener_parse(set_event);
	ASSERT_EQ(0, etcdv2_apply_event(o, DIR_, nodes, &index, &relist, warn,
					&w, &why));
	json_object_put(o);
	EXPECT_EQ(8U, index);
	EXPECT_STREQ("10.0.0.3:2375", addr(nodes, DIR_ "/10.0.0.3:2375"));
	json_object_put(nodes);
}

/* An empty directory has no "nodes"; a listing replaces what was read. */
TEST(empty_directory)
{
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	const char *why = NULL;

	json_object_object_add(nodes, "/old", json_object_new_string("x:1"));
	o = json_tokener_parse("{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"modifiedIndex\":4,\"createdIndex\":4}}");
	ASSERT_EQ(0, etcdv2_parse_list(o, DIR_, nodes, warn, &w, &why));
	json_object_put(o);
	EXPECT_EQ(0, json_object_object_length(nodes));
	json_object_put(nodes);
}

/* Bad values, deeper keys and child directories: skipped, the first told. */
TEST(bad_entries_are_skipped)
{
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	const char *why = NULL;

	o = json_tokener_parse("{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"nodes\":["
		"{\"key\":\"/swarm/docker/swarm/nodes/bad\",\"value\":\"bad\",\"modifiedIndex\":4},"
		"{\"key\":\"/swarm/docker/swarm/nodes/d\",\"dir\":true,\"nodes\":[{\"key\":\"/swarm/docker/swarm/nodes/d/x\",\"value\":\"10.0.0.9:1\"}]},"
		"{\"key\":\"/elsewhere/10.0.0.8:1\",\"value\":\"10.0.0.8:1\"},"
		"{\"value\":\"10.0.0.7:1\"}, 42,"
		"{\"key\":\"/swarm/docker/swarm/nodes/ok\",\"value\":\"10.0.0.6:1\"}"
		"]}}");
	ASSERT_NE(NULL, o);
	ASSERT_EQ(0, etcdv2_parse_list(o, DIR_, nodes, warn, &w, &why));
	json_object_put(o);
	EXPECT_EQ(1, json_object_object_length(nodes));
	EXPECT_STREQ("10.0.0.6:1", addr(nodes, DIR_ "/ok"));
	EXPECT_EQ(3, w.n);
	json_object_put(nodes);
}

TEST(wrong_shapes_are_refused)
{
	static const char *const bad[] = {
		"[]",
		"{\"errorCode\":100,\"message\":\"Key not found\",\"cause\":\"/swarm\",\"index\":3}",
		"{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"value\":\"x\"}}",
		"{\"action\":\"get\",\"node\":{\"key\":\"/other\",\"dir\":true}}",
		"{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"nodes\":{}}}",
	};
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		o = json_tokener_parse(bad[i]);
		ASSERT_NE(NULL, o);
		EXPECT_EQ(-EPROTO, etcdv2_parse_list(o, DIR_, nodes, warn, &w,
						     &why));
		EXPECT_NE(NULL, why);
		json_object_put(o);
	}
	json_object_put(nodes);
}

/* The directory itself, or one above it, changed: read it all again. */
TEST(events_on_the_directory_relist)
{
	static const char *const ev[] = {
		"{\"action\":\"delete\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"modifiedIndex\":9}}",
		"{\"action\":\"expire\",\"node\":{\"key\":\"/swarm\",\"dir\":true,\"modifiedIndex\":9}}",
		"{\"action\":\"set\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes\",\"dir\":true,\"modifiedIndex\":9}}",
	};
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	const char *why = NULL;
	uint64_t index;
	bool relist;
	size_t i;

	for (i = 0; i < sizeof(ev) / sizeof(ev[0]); i++) {
		relist = false;
		o = json_tokener_parse(ev[i]);
		ASSERT_EQ(0, etcdv2_apply_event(o, DIR_, nodes, &index, &relist,
						warn, &w, &why));
		EXPECT_TRUE(relist);
		EXPECT_EQ(9U, index);
		json_object_put(o);
	}
	/* A sibling that has the directory's name as a prefix: not ours. */
	o = json_tokener_parse("{\"action\":\"set\",\"node\":{\"key\":\"/swarm/docker/swarm/nodesx\",\"value\":\"10.0.0.1:1\",\"modifiedIndex\":10}}");
	ASSERT_EQ(0, etcdv2_apply_event(o, DIR_, nodes, &index, &relist, warn,
					&w, &why));
	EXPECT_FALSE(relist);
	EXPECT_EQ(0, json_object_object_length(nodes));
	json_object_put(o);
	json_object_put(nodes);
}

TEST(bad_events_are_refused)
{
	static const char *const bad[] = {
		"{\"node\":{\"key\":\"/swarm/docker/swarm/nodes/a\",\"modifiedIndex\":3}}",
		"{\"action\":\"get\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/a\",\"modifiedIndex\":3}}",
		"{\"action\":\"set\"}",
		"{\"action\":\"set\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/a\",\"value\":\"10.0.0.1:1\"}}",
		"{\"action\":\"set\",\"node\":{\"key\":\"/swarm/docker/swarm/nodes/a\",\"value\":\"10.0.0.1:1\",\"modifiedIndex\":\"3\"}}",
		"{\"action\":\"set\",\"node\":{\"key\":\"relative\",\"value\":\"10.0.0.1:1\",\"modifiedIndex\":3}}",
	};
	struct json_object *nodes = json_object_new_object(), *o;
	struct warned w = { 0 };
	uint64_t index;
	bool relist;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *why = NULL;

		o = json_tokener_parse(bad[i]);
		ASSERT_NE(NULL, o);
		EXPECT_EQ(-EPROTO, etcdv2_apply_event(o, DIR_, nodes, &index,
						      &relist, warn, &w, &why));
		EXPECT_NE(NULL, why);
		json_object_put(o);
	}
	EXPECT_EQ(0, json_object_object_length(nodes));
	json_object_put(nodes);
}

/* libkv's path.Join(PATH, "docker/swarm/nodes"), with a leading '/'. */
TEST(urls)
{
	struct etcdsrc_url u;
	const char *why = NULL;

	ASSERT_EQ(0, etcdsrc_parse_url("etcd://10.0.0.1:2379,etcd.example:2379/swarm",
				       &u, &why));
	EXPECT_EQ(2U, u.nep);
	EXPECT_STREQ("etcd.example", u.ep[1].host);
	EXPECT_EQ(2379, u.ep[1].port);
	EXPECT_STREQ("/swarm/docker/swarm/nodes", u.dir);
	ASSERT_EQ(0, etcdsrc_parse_url("etcd://h:1", &u, &why));
	EXPECT_STREQ("/docker/swarm/nodes", u.dir);
	ASSERT_EQ(0, etcdsrc_parse_url("etcd://h:1//a//b/", &u, &why));
	EXPECT_STREQ("/a/b/docker/swarm/nodes", u.dir);
	EXPECT_EQ(-EINVAL, etcdsrc_parse_url("etcd://h/swarm", &u, &why));
	EXPECT_EQ(-EINVAL, etcdsrc_parse_url("etcd:///swarm", &u, &why));
	EXPECT_EQ(-EINVAL, etcdsrc_parse_url("etcd://h:1/a b", &u, &why));
	EXPECT_EQ(-EINVAL, etcdsrc_parse_url("etcd://h:1/a?x", &u, &why));
	EXPECT_EQ(-EINVAL, etcdsrc_parse_url("etcd://h:1/"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		&u, &why));
	EXPECT_NE(NULL, why);
}

TEST_HARNESS_MAIN
