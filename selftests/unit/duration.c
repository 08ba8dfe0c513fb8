// SPDX-License-Identifier: GPL-2.0
/* Go-style durations and byte sizes, as the flags take them. */
#include <errno.h>
#include <stdint.h>

#include "kselftest_harness.h"
#include "duration.h"
#include "size.h"

TEST(go_durations)
{
	static const struct {
		const char *s;
		uint64_t ms;
	} ok[] = {
		{ "0", 0 }, { "0s", 0 }, { "500ms", 500 }, { "10s", 10000 },
		{ "2m", 120000 }, { "1h", 3600000 }, { "1h30m", 5400000 },
		{ "1.5s", 1500 }, { ".5s", 500 }, { "1m0.25s", 60250 },
		{ "1500000us", 1500 }, { "2000000000ns", 2000 },
		{ "1\xc2\xb5s", 0 }, { "3s500ms", 3500 },
	};
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		ms = 12345;
		EXPECT_EQ(0, duration_parse(ok[i].s, &ms)) TH_LOG("%s", ok[i].s);
		EXPECT_EQ(ok[i].ms, ms) TH_LOG("%s", ok[i].s);
	}
}

TEST(bad_durations)
{
	static const char *const bad[] = {
		"", "10", "s", "1x", "-1s", "+1s", "1.s5", "1 s", "1s ", "ms",
		"1sm", "10 s", "1e3s", ".s",
	};
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT_EQ(-EINVAL, duration_parse(bad[i], &ms)) TH_LOG("bad case %zu", i);
	EXPECT_EQ(-ERANGE, duration_parse("99999999999999999999h", &ms));
	EXPECT_EQ(-ERANGE, duration_parse("6000000h", &ms));
}

TEST(format_round_trips)
{
	static const uint64_t v[] = { 0, 1, 250, 999, 1000, 1500, 60000,
				      90000, 3600000, 3723004, 86400000 };
	char buf[32];
	uint64_t ms;
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ASSERT_EQ(0, duration_format(v[i], buf, sizeof(buf)));
		ASSERT_EQ(0, duration_parse(buf, &ms)) TH_LOG("%s", buf);
		EXPECT_EQ(v[i], ms) TH_LOG("%s", buf);
	}
	ASSERT_EQ(0, duration_format(90000, buf, sizeof(buf)));
	EXPECT_STREQ("1m30s", buf);
	ASSERT_EQ(0, duration_format(250, buf, sizeof(buf)));
	EXPECT_STREQ("250ms", buf);
	EXPECT_EQ(-ENOSPC, duration_format(3723004, buf, 4));
}

TEST(sizes)
{
	uint64_t b;

	ASSERT_EQ(0, size_parse("4096", &b));
	EXPECT_EQ(4096ULL, b);
	ASSERT_EQ(0, size_parse("64MiB", &b));
	EXPECT_EQ(64ULL << 20, b);
	ASSERT_EQ(0, size_parse("64KiB", &b));
	EXPECT_EQ(64ULL << 10, b);
	ASSERT_EQ(0, size_parse("1G", &b));
	EXPECT_EQ(1ULL << 30, b);
	EXPECT_EQ(-EINVAL, size_parse("", &b));
	EXPECT_EQ(-EINVAL, size_parse("-1", &b));
	EXPECT_EQ(-EINVAL, size_parse("1X", &b));
	EXPECT_EQ(-EINVAL, size_parse("MiB", &b));
	EXPECT_EQ(-ERANGE, size_parse("99999999999999999999", &b));
	EXPECT_EQ(-ERANGE, size_parse("17179869184GiB", &b));
}

TEST_HARNESS_MAIN
