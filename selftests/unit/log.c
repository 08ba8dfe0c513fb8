// SPDX-License-Identifier: GPL-2.0
/*
 * The log: repeats summed up, one call site's lines bounded, priorities
 * for the journal. Each test forks (the harness), so the log's tables and
 * its "is stderr the journal" answer start fresh in each.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "log.h"

/* stderr into a temporary file; its descriptor. */
static int capture(void)
{
	char path[] = "/tmp/pwlog.XXXXXX";
	int fd = mkstemp(path);

	if (fd < 0)
		return -1;
	unlink(path);
	dup2(fd, STDERR_FILENO);
	return fd;
}

/* What was written, NUL-terminated (static). */
static const char *captured(int fd)
{
	static char buf[1 << 20];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

TEST(the_same_line_is_written_once_then_summed_up)
{
	int fd = capture(), i;
	const char *out;

	ASSERT_LE(0, fd);
	for (i = 0; i < 100000; i++)
		log_warn("api: accept: %s", "Too many open files");
	out = captured(fd);
	EXPECT_EQ(1, count_lines(out)) TH_LOG("%s", out);
	log_flush_all();
	out = captured(fd);
	ASSERT_EQ(2, count_lines(out)) TH_LOG("%s", out);
	EXPECT_NE(NULL, strstr(out, "warn: api: accept: Too many open files\n"));
	EXPECT_NE(NULL, strstr(out, "warn: api: accept: Too many open files "
				    "(repeated 99999 times in 10 s)\n"))
		TH_LOG("%s", out);
}

TEST(one_call_site_writes_a_bounded_number_of_lines)
{
	int fd = capture(), i, n;
	const char *out;

	ASSERT_LE(0, fd);
	for (i = 0; i < 20000; i++)
		log_warn("engine 127.1.%d.%d:2375: reset", i / 250, i % 250);
	/* Another call site is not held back by the first's flood. */
	log_err("discovery: %s", "bad line");
	log_flush_all();
	out = captured(fd);
	n = count_lines(out);
	/* 1,000 lines of the flood, the other site's, and the summing-up. */
	EXPECT_EQ(1002, n) TH_LOG("%d lines", n);
	EXPECT_NE(NULL, strstr(out, "engine 127.1.0.0:2375: reset\n"));
	EXPECT_NE(NULL, strstr(out, "engine 127.1.3.249:2375: reset\n"));
	EXPECT_EQ(NULL, strstr(out, "engine 127.1.4.0:2375: reset\n"));
	EXPECT_NE(NULL, strstr(out, "error: discovery: bad line\n"));
	EXPECT_NE(NULL, strstr(out, "warn: 19000 more lines like "
				    "\"engine 127.1.%d.%d:2375: reset\" in 10 s, "
				    "not written\n"))
		TH_LOG("%s", out);
}

TEST(different_lines_each_written)
{
	int fd = capture();
	const char *out;

	ASSERT_LE(0, fd);
	log_warn("engine %s: down (reset)", "127.1.0.1:2375");
	log_warn("engine %s: down (reset)", "127.1.0.2:2375");
	log_notice("engine %s: healthy", "127.1.0.1:2375");
	log_debug("not at the default level");
	log_flush_all();
	out = captured(fd);
	EXPECT_EQ(3, count_lines(out)) TH_LOG("%s", out);
	EXPECT_EQ(NULL, strstr(out, "repeated"));
	EXPECT_NE(NULL, strstr(out, "notice: engine 127.1.0.1:2375: healthy"));
}

TEST(journal_lines_carry_priorities_and_no_timestamp)
{
	int fd = capture();
	char js[64];
	struct stat st;
	const char *out;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, fstat(fd, &st));
	snprintf(js, sizeof(js), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", js, 1);
	log_err("e");
	log_warn("engine %s: healthy -> down (reset)", "127.1.0.7:2375");
	log_notice("n");
	log_info("i");
	out = captured(fd);
	EXPECT_STREQ("<3>error: e\n"
		     "<4>warn: engine 127.1.0.7:2375: healthy -> down (reset)\n"
		     "<5>notice: n\n<6>info: i\n", out);
}

TEST(another_stream_is_not_the_journal)
{
	int fd = capture();
	const char *out;

	ASSERT_LE(0, fd);
	setenv("JOURNAL_STREAM", "1:2", 1);
	log_warn("w");
	out = captured(fd);
	/* 2026-12-06T13:17:47.123Z warn: w */
	ASSERT_EQ(33U, strlen(out)) TH_LOG("%s", out);
	EXPECT_EQ('Z', out[23]);
	EXPECT_STREQ(" warn: w\n", out + 24);
}

TEST_HARNESS_MAIN
