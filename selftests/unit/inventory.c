// SPDX-License-Identifier: GPL-2.0
/* An engine's containers: full listings, targeted updates after events. */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "fixture.h"
#include "intern.h"
#include "inventory.h"

#define ID_A "aaaa000000000000000000000000000000000000000000000000000000000001"
#define ID_B "bbbb000000000000000000000000000000000000000000000000000000000002"
#define ID_C "cccc000000000000000000000000000000000000000000000000000000000003"

static struct json_object *listing(const char *json)
{
	return json_tokener_parse(json);
}

TEST(listing_then_targeted_updates)
{
	const struct docker_container *c;
	struct inventory inv = { 0 };
	struct json_object *o;
	char f[256];

	o = listing("[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\"],\"State\":\"running\"},"
		    "{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"exited\"}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	ASSERT_EQ(2U, inv.n);
	EXPECT_STREQ("a", docker_container_name(inventory_find(&inv, ID_A)));

	/* b started, c created: one listing filtered on both. */
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_EQ(0, inventory_want(&inv, ID_C));
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	EXPECT_EQ(2U, inventory_pending(&inv));
	ASSERT_LT(0, inventory_filter(&inv, f, sizeof(f)));
	EXPECT_STREQ("%7B%22id%22%3A%5B%22bbbb00000000%22%2C%22cccc00000000%22%5D%7D", f);
	/* Wanted while asked: asked again after, the answer may predate it. */
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_EQ(0, inventory_want(&inv, ID_A));
	EXPECT_EQ(4U, inventory_pending(&inv));

	o = listing("[{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"running\"},"
		    "{\"Id\":\"" ID_C "\",\"Names\":[\"/c\"],\"State\":\"created\"}]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	c = inventory_find(&inv, ID_B);
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("running", docker_container_state(c));
	EXPECT_EQ(3U, inv.n);
	EXPECT_EQ(2U, inventory_pending(&inv));
	EXPECT_EQ(-EINVAL, inventory_update(&inv, listing("[]")));

	/* a removed, b unchanged: absent from the answer, a is gone. */
	ASSERT_LT(0, inventory_filter(&inv, f, sizeof(f)));
	o = listing("[{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"running\"}]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	EXPECT_EQ(2U, inv.n);
	EXPECT_EQ(NULL, inventory_find(&inv, ID_A));
	EXPECT_EQ(0U, inventory_pending(&inv));
	EXPECT_EQ(NULL, inv.pending);
	EXPECT_EQ(0, inventory_filter(&inv, f, sizeof(f)));
	/* Too short a buffer: nothing is marked asked. */
	ASSERT_EQ(0, inventory_want(&inv, ID_A));
	EXPECT_EQ(-ENOSPC, inventory_filter(&inv, f, 40));
	EXPECT_EQ(0U, inv.nsent);
	inventory_clear(&inv);
}

/* A full listing answers the IDs pending when it was asked for, only. */
TEST(full_listing_answers_what_was_pending)
{
	struct inventory inv = { 0 };
	char f[256];
	int i, n;

	ASSERT_EQ(0, inventory_want(&inv, ID_A));
	inventory_sent_all(&inv);
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_EQ(0, inventory_replace(&inv, listing("[]")));
	EXPECT_EQ(1U, inventory_pending(&inv));
	EXPECT_STREQ(ID_B, inv.pending[0]);
	inventory_clear(&inv);
	/* A full batch fits the engine's request path with room to spare. */
	for (i = 0; i < INVENTORY_MAX_PENDING; i++) {
		char id[DOCKER_ID_MAX];

		snprintf(id, sizeof(id), "%064x", i);
		ASSERT_EQ(0, inventory_want(&inv, id));
	}
	n = inventory_filter(&inv, f, sizeof(f));
	EXPECT_GE(200, n);
	EXPECT_LT(0, n);
	inventory_clear(&inv);
}

/* What events say, applied without a listing. */
TEST(patch_and_remove)
{
	struct inventory inv = { 0 };
	const struct docker_container *c;

	ASSERT_EQ(0, inventory_replace(&inv, listing(
		"[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\"],\"State\":\"running\","
		"\"Status\":\"Up 2 hours\",\"Labels\":{\"t\":\"web\"}},"
		"{\"Id\":\"" ID_B "\",\"Names\":[\"/b\"],\"State\":\"running\"}]")));
	ASSERT_EQ(0, inventory_patch(&inv, ID_A, "exited", "Exited (3)", "a2"));
	c = inventory_find(&inv, ID_A);
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("exited", docker_container_state(c));
	EXPECT_STREQ("Exited (3)", docker_container_status(c));
	EXPECT_STREQ("a2", docker_container_name(c));
	EXPECT_TRUE(docker_container_has_label(c, "t=web"));
	EXPECT_EQ(-ENOENT, inventory_patch(&inv, ID_C, "running", NULL, NULL));
	ASSERT_EQ(0, inventory_remove(&inv, ID_B));
	EXPECT_EQ(1U, inv.n);
	EXPECT_EQ(NULL, inventory_find(&inv, ID_B));
	EXPECT_EQ(-ENOENT, inventory_remove(&inv, ID_B));
	EXPECT_STREQ("a2", docker_container_name(inventory_find(&inv, ID_A)));
	inventory_clear(&inv);
}

TEST(bad_ids_refused_and_bursts_bounded)
{
	struct inventory inv = { 0 };
	char id[DOCKER_ID_MAX];
	int i;

	EXPECT_EQ(-EINVAL, inventory_want(&inv, "../../etc"));
	EXPECT_EQ(-EINVAL, inventory_want(&inv, ""));
	for (i = 0; i < INVENTORY_MAX_PENDING; i++) {
		snprintf(id, sizeof(id), "%064x", i);
		ASSERT_EQ(0, inventory_want(&inv, id));
	}
	EXPECT_EQ(-ENOSPC, inventory_want(&inv, ID_A));
	inventory_clear(&inv);
	EXPECT_EQ(0U, inv.npending);
}

TEST(a_bad_listing_changes_nothing)
{
	struct inventory inv = { 0 };
	struct json_object *o;

	o = listing("[{\"Id\":\"" ID_A "\"}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	o = listing("[{\"Id\":\"" ID_B "\"},{\"Id\":42}]");
	EXPECT_EQ(-EPROTO, inventory_replace(&inv, o));
	ASSERT_EQ(1U, inv.n);
	EXPECT_NE(NULL, inventory_find(&inv, ID_A));
	inventory_clear(&inv);
}


/* The body of a captured answer, parsed. */
static struct json_object *fixture_json(const char *name)
{
	struct json_object *o;
	size_t len;
	char *body = fixture_body(name, &len);

	if (!body)
		return NULL;
	o = json_tokener_parse(body);
	free(body);
	return o;
}

static int count_labels(const struct docker_container *c)
{
	const char *k, *v;
	uint32_t pos = 0;
	int n = 0;

	while (docker_label_next(c, &pos, &k, &v))
		n++;
	return n;
}

/* dockerd's and podman's real listings, as they are and with labels added. */
TEST(real_listings_with_labels)
{
	static const char *const files[] = {
		"dockerd/containers_all_with_running.http",
		"podman/containers_all_with_running.http",
	};
	struct docker_container *v;
	struct json_object *o, *labels;
	size_t i, j, n;

	for (i = 0; i < 2; i++) {
		o = fixture_json(files[i]);
		ASSERT_NE(NULL, o) TH_LOG("%s", files[i]);
		ASSERT_EQ(0, docker_containers_parse(o, &v, &n));
		ASSERT_LT(0U, n);
		/* Both daemons send "Labels":{}: no labels, nothing held. */
		EXPECT_EQ(0U, v[0].labels_len);
		EXPECT_EQ(0, v[0].nlabels);
		EXPECT_STREQ("/bin/sleep 3600", docker_container_command(&v[0]));
		EXPECT_EQ(0, strncmp(docker_container_status(&v[0]), "Up ", 3));
		EXPECT_LT(1700000000, v[0].created);
		EXPECT_EQ(0, strncmp(docker_container_image_id(&v[0]), "sha256:", 7));
		docker_containers_free(v, n);

		/* As docker compose labels them. */
		for (j = 0; j < json_object_array_length(o); j++) {
			json_object_object_get_ex(json_object_array_get_idx(o, j),
						  "Labels", &labels);
			json_object_object_add(labels, "com.docker.compose.project",
					       json_object_new_string("shop"));
			json_object_object_add(labels, "com.example.tier",
					       json_object_new_string(j ? "db" : "web"));
			json_object_object_add(labels, "empty",
					       json_object_new_string(""));
		}
		ASSERT_EQ(0, docker_containers_parse(o, &v, &n));
		EXPECT_EQ(3, v[0].nlabels);
		EXPECT_EQ(3, count_labels(&v[0]));
		EXPECT_TRUE(docker_container_has_label(&v[0], "com.example.tier"));
		EXPECT_TRUE(docker_container_has_label(&v[0], "com.example.tier=web"));
		EXPECT_FALSE(docker_container_has_label(&v[0], "com.example.tier=db"));
		EXPECT_FALSE(docker_container_has_label(&v[0], "com.example"));
		EXPECT_FALSE(docker_container_has_label(&v[0], "com.example.tier=we"));
		EXPECT_TRUE(docker_container_has_label(&v[0], "empty="));
		EXPECT_TRUE(docker_container_has_label(&v[0], "empty"));
		EXPECT_FALSE(docker_container_has_label(&v[0], "empty=x"));
		EXPECT_EQ(0, v[0].labels_dropped);
		docker_containers_free(v, n);
		json_object_put(o);
	}
}

static int parse_one(const char *labels_json, struct docker_container **v)
{
	char buf[1 << 17];
	struct json_object *o;
	size_t n;
	int err;

	snprintf(buf, sizeof(buf), "[{\"Id\":\"" ID_A "\",\"Labels\":%s}]",
		 labels_json);
	o = json_tokener_parse(buf);
	if (!o)
		return -EBADMSG;
	err = docker_containers_parse(o, v, &n);
	json_object_put(o);
	return err;
}

TEST(malformed_labels)
{
	struct docker_container *v;
	char big[1 << 16];
	size_t i, len;

	/* Wrong types: the answer is broken, the whole listing refused. */
	EXPECT_EQ(-EPROTO, parse_one("[\"a=b\"]", &v));
	EXPECT_EQ(-EPROTO, parse_one("\"a=b\"", &v));
	EXPECT_EQ(-EPROTO, parse_one("{\"a\":1}", &v));
	EXPECT_EQ(-EPROTO, parse_one("{\"a\":\"b\",\"c\":null}", &v));
	EXPECT_EQ(-EPROTO, parse_one("{\"a\":{\"b\":\"c\"}}", &v));

	/* null: none. */
	ASSERT_EQ(0, parse_one("null", &v));
	EXPECT_EQ(0U, v[0].labels_len);
	docker_containers_free(v, 1);

	/* Over the bounds: dropped and counted, the rest kept. */
	len = (size_t)snprintf(big, sizeof(big), "{\"\":\"empty key\","
			       "\"nul\":\"a\\u0000b\",\"ok\":\"1\",\"");
	memset(big + len, 'k', DOCKER_LABEL_KEY_MAX);
	len += DOCKER_LABEL_KEY_MAX;
	len += (size_t)snprintf(big + len, sizeof(big) - len, "\":\"long key\",\"v\":\"");
	memset(big + len, 'v', DOCKER_LABEL_VALUE_MAX);
	len += DOCKER_LABEL_VALUE_MAX;
	snprintf(big + len, sizeof(big) - len, "\"}");
	ASSERT_EQ(0, parse_one(big, &v));
	EXPECT_EQ(1, v[0].nlabels);
	EXPECT_EQ(4, v[0].labels_dropped);
	EXPECT_TRUE(docker_container_has_label(&v[0], "ok=1"));
	docker_containers_free(v, 1);

	/* Too many: the first DOCKER_MAX_LABELS kept. */
	len = (size_t)snprintf(big, sizeof(big), "{");
	for (i = 0; i < DOCKER_MAX_LABELS + 10; i++)
		len += (size_t)snprintf(big + len, sizeof(big) - len,
					"%s\"l%zu\":\"%zu\"", i ? "," : "", i, i);
	snprintf(big + len, sizeof(big) - len, "}");
	ASSERT_EQ(0, parse_one(big, &v));
	EXPECT_EQ(DOCKER_MAX_LABELS, v[0].nlabels);
	EXPECT_EQ(10, v[0].labels_dropped);
	EXPECT_EQ(DOCKER_MAX_LABELS, count_labels(&v[0]));
	docker_containers_free(v, 1);

	/* Too many bytes in all: cut at DOCKER_LABELS_BYTES. */
	len = (size_t)snprintf(big, sizeof(big), "{");
	for (i = 0; i < 40; i++) {
		len += (size_t)snprintf(big + len, sizeof(big) - len,
					"%s\"k%zu\":\"", i ? "," : "", i);
		memset(big + len, 'x', 1000);
		len += 1000;
		big[len++] = '"';
	}
	snprintf(big + len, sizeof(big) - len, "}");
	ASSERT_EQ(0, parse_one(big, &v));
	EXPECT_EQ(16, v[0].nlabels);
	EXPECT_EQ(24, v[0].labels_dropped);
	EXPECT_GE(DOCKER_LABELS_BYTES, (int)v[0].labels_len);
	docker_containers_free(v, 1);
}

/* Replaced, updated, removed: labels follow their container, none leak. */
TEST(labels_follow_updates)
{
	struct inventory inv = { 0 };
	struct json_object *o;
	char f[256];

	o = listing("[{\"Id\":\"" ID_A "\",\"Labels\":{\"t\":\"web\"}},"
		    "{\"Id\":\"" ID_B "\",\"Labels\":{\"t\":\"db\"}}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	ASSERT_EQ(0, inventory_want(&inv, ID_A));
	ASSERT_LT(0, inventory_filter(&inv, f, sizeof(f)));
	o = listing("[{\"Id\":\"" ID_A "\",\"Labels\":{\"t\":\"cache\"}}]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	EXPECT_TRUE(docker_container_has_label(inventory_find(&inv, ID_A), "t=cache"));
	ASSERT_EQ(0, inventory_want(&inv, ID_B));
	ASSERT_LT(0, inventory_filter(&inv, f, sizeof(f)));
	o = listing("[]");
	ASSERT_EQ(0, inventory_update(&inv, o));
	EXPECT_EQ(NULL, inventory_find(&inv, ID_B));
	o = listing("[{\"Id\":\"" ID_C "\",\"Labels\":{\"t\":\"x\"}}]");
	ASSERT_EQ(0, inventory_replace(&inv, o));
	EXPECT_EQ(1U, inv.n);
	inventory_clear(&inv);
}

/*
 * Two engines running the same image: one copy of what they repeat, each
 * its own names; a patch on one leaves the other as it was, and nothing
 * is left once both are cleared.
 */
TEST(engines_share_what_they_repeat)
{
	static const char *json =
		"[{\"Id\":\"" ID_A "\",\"Names\":[\"/a\"],\"State\":\"running\","
		"\"Image\":\"bb:latest\",\"ImageID\":\"sha256:12\","
		"\"Command\":\"sleep 1\",\"Status\":\"Up 2 hours\","
		"\"Labels\":{\"t\":\"web\"}}]";
	struct inventory x = { 0 }, y = { 0 };
	const struct docker_container *a, *b;

	ASSERT_EQ(0U, intern_count());
	ASSERT_EQ(0, inventory_replace(&x, listing(json)));
	ASSERT_EQ(0, inventory_replace(&y, listing(json)));
	a = inventory_find(&x, ID_A);
	b = inventory_find(&y, ID_A);
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	/* One shape (image, image ID, command, labels), one status. */
	EXPECT_EQ(a->shape, b->shape);
	EXPECT_EQ(a->status, b->status);
	EXPECT_EQ(docker_container_command(a), docker_container_command(b));
	EXPECT_NE(docker_container_name(a), docker_container_name(b));
	EXPECT_EQ(2U, intern_count());

	ASSERT_EQ(0, inventory_patch(&x, ID_A, "exited", "Exited (0)", NULL));
	a = inventory_find(&x, ID_A);
	EXPECT_STREQ("Exited (0)", docker_container_status(a));
	EXPECT_STREQ("Up 2 hours", docker_container_status(b));
	EXPECT_EQ(a->shape, b->shape);
	EXPECT_TRUE(docker_container_has_label(a, "t=web"));
	EXPECT_EQ(3U, intern_count());

	/* The same listing again, laid out over the old block. */
	ASSERT_EQ(0, inventory_replace(&x, listing(json)));
	EXPECT_EQ(2U, intern_count());
	inventory_clear(&x);
	EXPECT_EQ(2U, intern_count());
	EXPECT_STREQ("bb:latest", docker_container_image(b));
	inventory_clear(&y);
	EXPECT_EQ(0U, intern_count());
}

TEST_HARNESS_MAIN
