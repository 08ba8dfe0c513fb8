// SPDX-License-Identifier: GPL-2.0
/*
 * The cookie index: every node found under its cookie and no other, at
 * the scale of a full agent (20,000 connections), across growth, deletes
 * and re-adds; an emptied map holds no memory.
 */
#include <stdlib.h>

#include "cookie_map.h"
#include "kselftest_harness.h"

#define N 20000

struct owner {
	int id;
	struct cookie_node node;
};

static struct owner *owner_of(struct cookie_node *node)
{
	return node ? (struct owner *)((char *)node -
				       offsetof(struct owner, node)) : NULL;
}

TEST(empty_map)
{
	struct cookie_map m = { 0 };
	struct cookie_node node = { 0 };

	EXPECT_EQ(NULL, cookie_map_find(&m, 1));
	EXPECT_EQ(NULL, cookie_map_find(&m, 0));
	/* Deleting what is in no map is harmless. */
	cookie_map_del(&m, &node);
	EXPECT_EQ(0U, m.n);
}

TEST(twenty_thousand_connections)
{
	struct cookie_map m = { 0 };
	struct owner *o;
	int i;

	o = calloc(N, sizeof(*o));
	ASSERT_NE(NULL, o);
	/* Cookies as a netns hands them out: consecutive, some far apart. */
	for (i = 0; i < N; i++) {
		o[i].id = i;
		uint64_t c = i % 2 ? 1000ULL + i : (1ULL << 40) + 7ULL * i;

		ASSERT_EQ(0, cookie_map_add(&m, &o[i].node, c));
	}
	EXPECT_EQ((size_t)N, m.n);
	/* Grown with the fleet: about one node per bucket. */
	EXPECT_LE((size_t)N / 2, (size_t)1 << m.bits);
	EXPECT_GE((size_t)N * 2, (size_t)1 << m.bits);
	for (i = 0; i < N; i++) {
		struct owner *f = owner_of(cookie_map_find(&m, o[i].node.cookie));

		ASSERT_NE(NULL, f);
		ASSERT_EQ(i, f->id);
	}
	EXPECT_EQ(NULL, cookie_map_find(&m, 999));
	EXPECT_EQ(NULL, cookie_map_find(&m, 1000 + N + 1));

	/* Every other one reconnects: deleted, then back with a new cookie. */
	for (i = 0; i < N; i += 2)
		cookie_map_del(&m, &o[i].node);
	EXPECT_EQ((size_t)N / 2, m.n);
	for (i = 0; i < N; i += 2) {
		EXPECT_EQ(0ULL, o[i].node.cookie);
		EXPECT_EQ(NULL, cookie_map_find(&m, (1ULL << 40) + 7ULL * i));
	}
	for (i = 0; i < N; i += 2)
		ASSERT_EQ(0, cookie_map_add(&m, &o[i].node, 100000ULL + i));
	for (i = 0; i < N; i++)
		ASSERT_EQ(i, owner_of(cookie_map_find(&m, o[i].node.cookie))->id);

	for (i = 0; i < N; i++)
		cookie_map_del(&m, &o[i].node);
	EXPECT_EQ(0U, m.n);
	EXPECT_EQ(NULL, m.b);
	EXPECT_EQ(0U, m.bits);
	free(o);
}

TEST(same_bucket_chain)
{
	struct cookie_map m = { 0 };
	struct owner o[3] = { { .id = 0 }, { .id = 1 }, { .id = 2 } };
	uint64_t c[3];
	int found = 0;
	uint64_t k;

	/* Three cookies of one bucket of the first table. */
	ASSERT_EQ(0, cookie_map_add(&m, &o[0].node, 5));
	c[0] = 5;
	for (k = 6; found < 2 && k < 1000000; k++) {
		struct cookie_node probe = { 0 };

		ASSERT_EQ(0, cookie_map_add(&m, &probe, k));
		/* Chained to the only other node: its bucket. */
		if (probe.next == &o[0].node)
			c[++found] = k;
		cookie_map_del(&m, &probe);
	}
	ASSERT_EQ(2, found);
	ASSERT_EQ(0, cookie_map_add(&m, &o[1].node, c[1]));
	ASSERT_EQ(0, cookie_map_add(&m, &o[2].node, c[2]));
	/* The middle of the chain goes; both ends are still found. */
	cookie_map_del(&m, &o[1].node);
	EXPECT_EQ(&o[0].node, cookie_map_find(&m, c[0]));
	EXPECT_EQ(NULL, cookie_map_find(&m, c[1]));
	EXPECT_EQ(&o[2].node, cookie_map_find(&m, c[2]));
	cookie_map_del(&m, &o[0].node);
	cookie_map_del(&m, &o[2].node);
	EXPECT_EQ(NULL, m.b);
}

TEST_HARNESS_MAIN
