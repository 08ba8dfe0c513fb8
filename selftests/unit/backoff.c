// SPDX-License-Identifier: GPL-2.0
/* Reconnect backoff: exponential, capped, fully jittered. */
#include <stdint.h>

#include "kselftest_harness.h"
#include "backoff.h"
#include "rand.h"

TEST(ceiling_doubles_up_to_the_cap)
{
	EXPECT_EQ(250ULL, backoff_ceiling(0, 250, 60000));
	EXPECT_EQ(500ULL, backoff_ceiling(1, 250, 60000));
	EXPECT_EQ(1000ULL, backoff_ceiling(2, 250, 60000));
	EXPECT_EQ(32000ULL, backoff_ceiling(7, 250, 60000));
	EXPECT_EQ(60000ULL, backoff_ceiling(8, 250, 60000));
	EXPECT_EQ(60000ULL, backoff_ceiling(1000, 250, 60000));
	/* No overflow, however many attempts. */
	EXPECT_EQ(UINT64_MAX, backoff_ceiling(UINT32_MAX, 1, UINT64_MAX));
	/* A cap below the base wins. */
	EXPECT_EQ(100ULL, backoff_ceiling(0, 250, 100));
}

TEST(full_jitter_spans_zero_to_ceiling)
{
	uint64_t lo = UINT64_MAX, hi = 0, sum = 0, d;
	int i, n = 20000;

	for (i = 0; i < n; i++) {
		d = backoff_delay(3, 250, 60000, rand_u64());
		ASSERT_LE(d, 2000ULL);
		lo = d < lo ? d : lo;
		hi = d > hi ? d : hi;
		sum += d;
	}
	/* Uniform on [0, 2000]: the extremes are reached, the mean is ~1000. */
	EXPECT_LT(lo, 50ULL);
	EXPECT_GT(hi, 1950ULL);
	EXPECT_GT(sum / n, 900ULL);
	EXPECT_LT(sum / n, 1100ULL);
	EXPECT_EQ(0ULL, backoff_delay(5, 250, 60000, 0));
	EXPECT_EQ(8000ULL, backoff_delay(5, 250, 60000, 8000));
	EXPECT_EQ(0ULL, backoff_delay(5, 250, 60000, 8001));
}

TEST(rand_range_bounds)
{
	int i;

	for (i = 0; i < 10000; i++) {
		uint64_t v = rand_range(30000, 60000);

		ASSERT_GE(v, 30000ULL);
		ASSERT_LE(v, 60000ULL);
	}
	EXPECT_EQ(7ULL, rand_range(7, 7));
	EXPECT_EQ(7ULL, rand_range(7, 3));
}

TEST_HARNESS_MAIN
