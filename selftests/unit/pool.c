// SPDX-License-Identifier: GPL-2.0
/*
 * Requests' states lent from slabs of their own: as many as asked for,
 * aligned, distinct, and every slab but one spare given back to the
 * kernel once its states are.
 */
#include <stdint.h>
#include <string.h>

#include "kselftest_harness.h"
#include "pool.h"

#define LENT	250		/* over two slabs' worth */

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

TEST_HARNESS_MAIN
