// SPDX-License-Identifier: GPL-2.0
/*
 * etcd's JSON gateway as etcd 3.4.23 speaks it (answers captured from
 * Debian's etcd-server), and rendezvous hashing.
 */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "etcd_msg.h"
#include "hrw.h"

static struct json_object *parse(const char *s)
{
	return json_tokener_parse(s);
}

struct seen {
	char keys[4][64];
	char values[4][128];
	bool deleted[4];
	int64_t leases[4];
	int n;
};

static int collect(void *arg, const struct etcd_kv *kv)
{
	struct seen *s = arg;

	if (s->n == 4)
		return -E2BIG;
	snprintf(s->keys[s->n], sizeof(s->keys[0]), "%s", kv->key);
	snprintf(s->values[s->n], sizeof(s->values[0]), "%s", kv->value);
	s->deleted[s->n] = kv->deleted;
	s->leases[s->n] = kv->lease;
	s->n++;
	return 0;
}

TEST(requests_are_base64)
{
	struct json_object *o = etcd_req_range("/peerwatch/agents/", true);

	ASSERT_NE(NULL, o);
	/* range_end: the prefix with its last byte + 1 ('/' -> '0'). */
	EXPECT_STREQ("{\"key\":\"L3BlZXJ3YXRjaC9hZ2VudHMv\",\"range_end\":\"L3BlZXJ3YXRjaC9hZ2VudHMw\"}",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	o = etcd_req_grant(10);
	EXPECT_STREQ("{\"TTL\":\"10\"}",
		     json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
}

TEST(range_answer)
{
	struct json_object *o = parse("{\"header\":{\"cluster_id\":\"1\",\"member_id\":\"2\",\"revision\":\"7\",\"raft_term\":\"2\"},"
		"\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"3\",\"version\":\"2\",\"value\":\"YmFy\",\"lease\":\"4111120480137869573\"}],\"count\":\"1\"}");
	struct json_object *body;
	struct seen s = { 0 };
	const char *why = NULL;
	int64_t rev;

	ASSERT_EQ(0, etcd_msg_open(o, &body, &rev, &why));
	EXPECT_EQ(7, rev);
	ASSERT_EQ(0, etcd_msg_range(body, collect, &s, &why));
	ASSERT_EQ(1, s.n);
	EXPECT_STREQ("foo", s.keys[0]);
	EXPECT_STREQ("bar", s.values[0]);
	EXPECT_EQ(4111120480137869573LL, s.leases[0]);
	json_object_put(o);
}

TEST(errors_are_told)
{
	struct json_object *o = parse("{\"error\":\"invalid character 'b'\",\"message\":\"invalid character 'b'\",\"code\":3}");
	struct json_object *body;
	const char *why = NULL;
	int64_t rev;

	EXPECT_EQ(-EIO, etcd_msg_open(o, &body, &rev, &why));
	EXPECT_STREQ("invalid character 'b'", why);
	json_object_put(o);
	/* A stream's error, grpc-gateway style. */
	o = parse("{\"error\":{\"grpc_code\":14,\"http_code\":503,\"message\":\"etcdserver: no leader\"}}");
	EXPECT_EQ(-EIO, etcd_msg_open(o, &body, &rev, &why));
	EXPECT_STREQ("etcdserver: no leader", why);
	json_object_put(o);
	/* Not etcd at all. */
	o = parse("{\"Containers\":3}");
	EXPECT_EQ(-EPROTO, etcd_msg_open(o, &body, &rev, &why));
	json_object_put(o);
}

TEST(keys_are_checked)
{
	const char *bad[] = {
		"{\"kvs\":[{\"key\":\"Zm9\"}]}",		/* not base64 */
		"{\"kvs\":[{\"key\":\"AA==\"}]}",		/* a NUL */
		"{\"kvs\":[{\"value\":\"YmFy\"}]}",		/* no key */
		"{\"kvs\":[{\"key\":\"Zm9v\",\"lease\":\"x\"}]}",
		"{\"kvs\":[{\"key\":\"Zm9v\",\"mod_revision\":\"99999999999999999999999\"}]}",
		"{\"kvs\":{}}",
		"{\"kvs\":[3]}",
	};
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct json_object *o = parse(bad[i]);
		struct seen s = { 0 };
		const char *why = NULL;

		ASSERT_NE(NULL, o);
		EXPECT_EQ(-EPROTO, etcd_msg_range(o, collect, &s, &why)) {
			TH_LOG("%s", bad[i]);
		}
		EXPECT_NE(NULL, why);
		EXPECT_EQ(0, s.n);
		json_object_put(o);
	}
}

TEST(lease_answers)
{
	struct json_object *o = parse("{\"header\":{\"revision\":\"1\"},\"ID\":\"4111120480137869573\",\"TTL\":\"5\"}");
	struct json_object *gone = parse("{\"header\":{\"revision\":\"1\"},\"ID\":\"123\"}");
	const char *why = NULL;
	int64_t id, ttl;

	ASSERT_EQ(0, etcd_msg_grant(o, &id, &ttl, &why));
	EXPECT_EQ(4111120480137869573LL, id);
	EXPECT_EQ(5, ttl);
	EXPECT_EQ(0, etcd_msg_keepalive(o, id, &ttl, &why));
	EXPECT_EQ(5, ttl);
	/* An expired lease: no TTL. */
	EXPECT_EQ(0, etcd_msg_keepalive(gone, 123, &ttl, &why));
	EXPECT_EQ(0, ttl);
	EXPECT_EQ(-EPROTO, etcd_msg_keepalive(gone, 124, &ttl, &why));
	EXPECT_EQ(-EPROTO, etcd_msg_grant(gone, &id, &ttl, &why));
	json_object_put(o);
	json_object_put(gone);
}

TEST(create_and_watch)
{
	struct json_object *won = parse("{\"header\":{\"revision\":\"2\"},\"succeeded\":true,\"responses\":[{\"response_put\":{\"header\":{\"revision\":\"2\"}}}]}");
	struct json_object *lost = parse("{\"header\":{\"revision\":\"2\"},\"responses\":[{\"response_range\":{\"header\":{\"revision\":\"2\"},\"kvs\":[{\"key\":\"Zm9v\",\"create_revision\":\"2\",\"mod_revision\":\"2\",\"version\":\"1\",\"value\":\"YmFy\",\"lease\":\"77\"}],\"count\":\"1\"}}]}");
	struct json_object *w = parse("{\"result\":{\"header\":{\"revision\":\"4\"},\"events\":[{\"kv\":{\"key\":\"Zm9v\",\"mod_revision\":\"3\",\"value\":\"eA==\"}},{\"type\":\"DELETE\",\"kv\":{\"key\":\"Zm9v\",\"mod_revision\":\"4\"}}]}}");
	struct json_object *body;
	struct seen s = { 0 };
	bool created, canceled;
	const char *why = NULL;
	int64_t rev;

	ASSERT_EQ(0, etcd_msg_create(won, &created, collect, &s, &why));
	EXPECT_TRUE(created);
	ASSERT_EQ(0, etcd_msg_create(lost, &created, collect, &s, &why));
	EXPECT_FALSE(created);
	ASSERT_EQ(1, s.n);
	EXPECT_EQ(77, s.leases[0]);
	s.n = 0;
	ASSERT_EQ(0, etcd_msg_open(w, &body, &rev, &why));
	EXPECT_EQ(4, rev);
	ASSERT_EQ(0, etcd_msg_watch(body, &created, &canceled, collect, &s, &why));
	ASSERT_EQ(2, s.n);
	EXPECT_STREQ("x", s.values[0]);
	EXPECT_FALSE(s.deleted[0]);
	EXPECT_TRUE(s.deleted[1]);
	json_object_put(won);
	json_object_put(lost);
	json_object_put(w);
}

/* Shares within 5% of even, and a leaver's engines only move. */
TEST(rendezvous)
{
	const char *names[] = { "a0", "a1", "a2", "a3" };
	uint64_t h[4];
	size_t own, own3, count[4] = { 0 }, moved = 0, i, n = 30000;
	char addr[32];

	for (i = 0; i < 4; i++)
		h[i] = hrw_name_hash(names[i]);
	for (i = 0; i < n; i++) {
		snprintf(addr, sizeof(addr), "127.1.%zu.%zu:2375", i / 256, i % 256);
		ASSERT_EQ(1UL, hrw_owners(h, 4, addr, 1, &own));
		count[own]++;
		/* a3 leaves: only its engines change hands. */
		ASSERT_EQ(1UL, hrw_owners(h, 3, addr, 1, &own3));
		if (own != 3) {
			EXPECT_EQ(own, own3);
		} else {
			moved++;
		}
	}
	for (i = 0; i < 4; i++) {
		EXPECT_GT(count[i] * 100, n / 4 * 95);
		EXPECT_LT(count[i] * 100, n / 4 * 105);
	}
	EXPECT_EQ(count[3], moved);
}

TEST(rendezvous_replicas)
{
	uint64_t h[3] = { hrw_name_hash("a"), hrw_name_hash("b"),
			  hrw_name_hash("c") };
	size_t own[8], one;

	ASSERT_EQ(2UL, hrw_owners(h, 3, "10.0.0.1:2375", 2, own));
	EXPECT_NE(own[0], own[1]);
	ASSERT_EQ(1UL, hrw_owners(h, 3, "10.0.0.1:2375", 1, &one));
	EXPECT_EQ(one, own[0]);
	EXPECT_EQ(3UL, hrw_owners(h, 3, "10.0.0.1:2375", 5, own));
	EXPECT_EQ(0UL, hrw_owners(h, 0, "10.0.0.1:2375", 1, own));
}

TEST_HARNESS_MAIN
