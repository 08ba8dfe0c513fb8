// SPDX-License-Identifier: GPL-2.0
/* Interned strings: one copy each, counted, the table gone with the last. */
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "intern.h"

TEST(one_copy_counted)
{
	uint32_t a = intern_get("bb:latest", 9);
	uint32_t b = intern_get("bb:latest!", 9);
	uint32_t c = intern_get("bb:latest", 8);

	ASSERT_NE(0U, a);
	EXPECT_EQ(a, b);
	EXPECT_NE(a, c);
	EXPECT_STREQ("bb:latest", intern_str(a));
	EXPECT_STREQ("bb:lates", intern_str(c));
	EXPECT_EQ(2U, intern_count());
	intern_put(a);
	EXPECT_EQ(2U, intern_count());
	intern_put(b);
	EXPECT_EQ(1U, intern_count());
	/* Given back and asked again: a new copy of the same bytes. */
	a = intern_get("bb:latest", 9);
	EXPECT_STREQ("bb:latest", intern_str(a));
	intern_put(a);
	intern_put(c);
	EXPECT_EQ(0U, intern_count());
	EXPECT_EQ(0U, intern_footprint());
	intern_put(0);
	EXPECT_EQ(NULL, intern_str(0));
}

TEST(bytes_with_nul)
{
	uint32_t a = intern_get("k\0v\0", 4), b = intern_get("k\0w\0", 4);
	uint32_t c = intern_get("k", 1);

	ASSERT_NE(0U, a);
	EXPECT_NE(a, b);
	EXPECT_NE(a, c);
	EXPECT_EQ(0, memcmp(intern_str(a), "k\0v\0", 5));
	EXPECT_EQ(a, intern_get("k\0v\0", 4));
	intern_put(a);
	intern_put(a);
	intern_put(b);
	intern_put(c);
	EXPECT_EQ(0U, intern_count());
}

/*
 * Past the first table's 256 buckets and slots, every string is still
 * found; slots given back are handed out again, and their strings are
 * the new ones.
 */
TEST(grows)
{
	static uint32_t v[5000];
	char s[32];
	size_t i, len;

	for (i = 0; i < 5000; i++) {
		len = (size_t)snprintf(s, sizeof(s), "image-%zu:latest", i);
		v[i] = intern_get(s, len);
		ASSERT_NE(0U, v[i]);
	}
	EXPECT_EQ(5000U, intern_count());
	EXPECT_LT(5000U * 16, intern_footprint());
	for (i = 0; i < 5000; i++) {
		len = (size_t)snprintf(s, sizeof(s), "image-%zu:latest", i);
		EXPECT_EQ(v[i], intern_get(s, len));
		intern_put(v[i]);
	}
	EXPECT_EQ(5000U, intern_count());
	for (i = 0; i < 5000; i += 2)
		intern_put(v[i]);
	EXPECT_EQ(2500U, intern_count());
	for (i = 0; i < 5000; i += 2) {
		len = (size_t)snprintf(s, sizeof(s), "again-%zu", i);
		v[i] = intern_get(s, len);
		ASSERT_NE(0U, v[i]);
		ASSERT_GT(5000U, v[i]);
	}
	for (i = 0; i < 5000; i++) {
		len = (size_t)snprintf(s, sizeof(s), i % 2 ? "image-%zu:latest" :
				       "again-%zu", i);
		EXPECT_STREQ(s, intern_str(v[i]));
		EXPECT_EQ(v[i], intern_get(s, len));
		intern_put(v[i]);
		intern_put(v[i]);
	}
	EXPECT_EQ(0U, intern_count());
	EXPECT_EQ(0U, intern_footprint());
}

TEST_HARNESS_MAIN
