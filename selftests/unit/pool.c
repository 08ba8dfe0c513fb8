// SPDX-License-Identifier: GPL-2.0
/*
 * Requests' states lent from slabs of their own: as many as asked for,
 * aligned, distinct, and every slab but one spare given back to the
 * kernel once its states are. Small states alike, from slabs of theirs.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "pool.h"

#define LENT	250		/* over two slabs' worth */
#define SMALL_LENT	1200	/* over two slabs' worth of small ones */

TEST(states_lent_from_slabs_and_given_back)
{
	static void *st[LENT];
	struct pool_stats s;
	struct pool *pool;
	size_t i, j;

	ASSERT_EQ(0, pool_new(&pool));
	for (i = 0; i < LENT; i++) {
		st[i] = pool_state_get(pool);
		ASSERT_NE(NULL, st[i]);
		EXPECT_EQ(0U, (uintptr_t)st[i] % 16);
		memset(st[i], (int)i, POOL_STATE_SIZE);
	}
	pool_stats(pool, &s);
	EXPECT_EQ((size_t)LENT, s.states_used);
	EXPECT_LT(1U, s.state_slabs);
	/* None overlaps another: each still holds what was written. */
	for (i = 0; i < LENT; i++)
		for (j = 0; j < POOL_STATE_SIZE; j++)
			ASSERT_EQ((unsigned char)i, ((unsigned char *)st[i])[j]);

	/* Given back in another order than lent: odd ones first. */
	for (i = 1; i < LENT; i += 2)
		pool_state_put(pool, st[i]);
	for (i = 0; i < LENT; i += 2)
		pool_state_put(pool, st[i]);
	pool_stats(pool, &s);
	EXPECT_EQ(0U, s.states_used);
	EXPECT_EQ(1U, s.state_slabs);

	/* Lent again from the spare, without a new slab. */
	st[0] = pool_state_get(pool);
	ASSERT_NE(NULL, st[0]);
	pool_stats(pool, &s);
	EXPECT_EQ(1U, s.state_slabs);
	pool_state_put(pool, st[0]);
	pool_state_put(pool, NULL);
	pool_free(pool);
}

TEST(small_states_from_slabs_of_their_own)
{
	static void *st[SMALL_LENT];
	struct pool_stats s;
	struct pool *pool;
	size_t i, j;

	ASSERT_EQ(0, pool_new(&pool));
	for (i = 0; i < SMALL_LENT; i++) {
		st[i] = pool_small_get(pool);
		ASSERT_NE(NULL, st[i]);
		EXPECT_EQ(0U, (uintptr_t)st[i] % 16);
		memset(st[i], (int)i, POOL_SMALL_SIZE);
	}
	pool_stats(pool, &s);
	EXPECT_EQ((size_t)SMALL_LENT, s.smalls_used);
	EXPECT_LT(1U, s.small_slabs);
	EXPECT_EQ(0U, s.states_used);
	EXPECT_EQ(0U, s.state_slabs);
	for (i = 0; i < SMALL_LENT; i++)
		for (j = 0; j < POOL_SMALL_SIZE; j++)
			ASSERT_EQ((unsigned char)i, ((unsigned char *)st[i])[j]);

	/* A request's state beside them, from a slab of its size. */
	pool_state_put(pool, st[0]);
	st[0] = pool_state_get(pool);
	ASSERT_NE(NULL, st[0]);
	pool_stats(pool, &s);
	EXPECT_EQ(1U, s.states_used);
	EXPECT_EQ(1U, s.state_slabs);
	EXPECT_EQ((size_t)SMALL_LENT - 1, s.smalls_used);

	for (i = 0; i < SMALL_LENT; i++)
		pool_state_put(pool, st[i]);
	pool_stats(pool, &s);
	EXPECT_EQ(0U, s.smalls_used);
	EXPECT_EQ(0U, s.states_used);
	EXPECT_EQ(1U, s.small_slabs);
	EXPECT_EQ(1U, s.state_slabs);
	pool_free(pool);
}

TEST_HARNESS_MAIN
