// SPDX-License-Identifier: GPL-2.0
/*
 * The option table's engine (lib/opt.c): parsing of every type, bounds,
 * defaults, the refusal of abbreviations, and the usage it writes.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "opt.h"

struct args {
	bool flag, events, help;
	int level, verify;
	unsigned int count;
	uint64_t ms;
	uint32_t secs, every;
	uint64_t bytes;
	uint16_t family;
	const char *str, *sock;
	char *copy;
	struct opt_list list;
	uint16_t port;
};

#define A(member)	OPT_FIELD(struct args, member)

static int parse_port(const struct opt *o, void *base, const char *arg,
		      char *err, size_t len)
{
	char *end;
	unsigned long v = strtoul(arg, &end, 10);

	if (*end || !v || v > 65535) {
		snprintf(err, len, "%s: '%s' is not a port", o->name, arg);
		return -EINVAL;
	}
	*(uint16_t *)opt_field(o, base) = (uint16_t)v;
	return 0;
}

static int no_commas(const char *arg, const char **why)
{
	*why = "no commas";
	return strchr(arg, ',') ? -EINVAL : 0;
}

static const struct opt table[] = {
	{ .name = "flag", .short_name = 'f', .type = OPT_FLAG, A(flag),
	  .help = "a flag" },
	{ .name = "events", .type = OPT_FLAG, .flags = OPT_NEG, A(events),
	  .def = true, .help = "follow events" },
	{ .name = "verbose", .short_name = 'v', .type = OPT_SET, A(level),
	  .val = 3, .def = 2, .help = "more" },
	{ .name = "quiet", .short_name = 'q', .type = OPT_SET, A(level),
	  .val = 1, .def = 2, .help = "less" },
	{ .name = "verify", .type = OPT_BOOL, A(verify), .def = -1,
	  .arg = "BOOL", .help = "verify" },
	{ .name = "count", .short_name = 'c', .type = OPT_UINT, A(count),
	  .min = 1, .max = 100, .def = 5, .arg = "N", .help = "how many" },
	{ .name = "timeout", .type = OPT_DURATION, A(ms), .min = 100,
	  .max = 3600000, .def = 10000, .arg = "DUR", .help = "deadline" },
	{ .name = "idle", .type = OPT_DURATION, .flags = OPT_SECONDS, A(secs),
	  .min = 1000, .max = 7200000, .def = 10000, .arg = "DUR",
	  .help = "whole seconds" },
	{ .name = "every", .type = OPT_DURATION, .flags = OPT_ZERO, A(every),
	  .min = 100, .max = 60000, .def = 250, .arg = "DUR",
	  .help = "period; 0: never" },
	{ .name = "max-body", .type = OPT_SIZE, A(bytes), .min = 4096,
	  .max = 1 << 30, .def = 64 << 20, .arg = "SIZE", .help = "largest" },
	{ .name = "state-file", .type = OPT_STRING, .flags = OPT_PATH, A(str),
	  .def_str = "/run/x.json", .arg = "PATH", .help = "where" },
	{ .name = "socket", .type = OPT_STRING, .flags = OPT_EMPTY_NULL,
	  A(sock), .def_str = "/run/x.sock", .arg = "PATH", .help = "or none" },
	{ .name = "cert", .type = OPT_STRING, .flags = OPT_PATH | OPT_COPY,
	  A(copy), .arg = "FILE", .help = "owned" },
	{ .name = "item", .type = OPT_LIST, A(list), .check = no_commas,
	  .arg = "X", .help = "repeatable" },
	/* A name that begins another one is still matched whole. */
	{ .name = "item-max", .type = OPT_UINT, A(count), .min = 1, .max = 100,
	  .def = 5, .arg = "N", .help = "shares count" },
	{ .name = "port", .type = OPT_FUNC, A(port), .parse = parse_port,
	  .arg = "PORT", .help = "by a callback" },
	{ .name = "sport", .type = OPT_FUNC, .flags = OPT_WORD, A(port),
	  .parse = parse_port, .arg = "PORT", .help = "a word" },
	{ .short_name = '4', .type = OPT_SET, A(family), .val = 2,
	  .help = "short only" },
	{ .name = "help", .short_name = 'h', .type = OPT_FLAG, A(help),
	  .help = "this text" },
	{ 0 },
};

FIXTURE(opt)
{
	struct args a;
	char err[256];
};

FIXTURE_SETUP(opt)
{
	memset(&self->a, 0, sizeof(self->a));
	self->err[0] = '\0';
	ASSERT_EQ(0, opt_defaults(table, &self->a, self->err, sizeof(self->err)))
		TH_LOG("%s", self->err);
}

FIXTURE_TEARDOWN(opt)
{
	opt_clear(table, &self->a);
}

/* Parses a NULL-terminated argv of string literals, "prog" first. */
static int parse(struct args *a, char *err, size_t len, char **argv)
{
	int argc = 0;

	while (argv[argc])
		argc++;
	return opt_parse(table, a, argc, argv, err, len);
}

#define PARSE(...) \
	parse(&self->a, self->err, sizeof(self->err), \
	      (char *[]){ "prog", __VA_ARGS__, NULL })

TEST_F(opt, defaults_from_the_table)
{
	EXPECT_FALSE(self->a.flag);
	EXPECT_TRUE(self->a.events);
	EXPECT_EQ(2, self->a.level);
	EXPECT_EQ(-1, self->a.verify);
	EXPECT_EQ(5U, self->a.count);
	EXPECT_EQ(10000ULL, self->a.ms);
	EXPECT_EQ(10U, self->a.secs);
	EXPECT_EQ(250U, self->a.every);
	EXPECT_EQ(64ULL << 20, self->a.bytes);
	EXPECT_STREQ("/run/x.json", self->a.str);
	EXPECT_STREQ("/run/x.sock", self->a.sock);
	EXPECT_EQ(NULL, self->a.copy);
	EXPECT_EQ(0U, self->a.list.n);
}

TEST_F(opt, every_type_and_spelling)
{
	char pos1[] = "first", pos2[] = "--flag";

	ASSERT_EQ(2, PARSE("--flag", "--no-events", "-v", "--verify=false",
			   pos1, "--count", "7", "--timeout=2m", "--idle",
			   "2000ms", "--every", "0", "--max-body", "64KiB",
			   "--state-file", "/tmp/s", "--socket=", "--cert",
			   "a.pem", "--cert", "b.pem", "--item", "x",
			   "--item=y", "--port", "80", "-4", "--", pos2))
		TH_LOG("%s", self->err);
	EXPECT_TRUE(self->a.flag);
	EXPECT_FALSE(self->a.events);
	EXPECT_EQ(3, self->a.level);
	EXPECT_EQ(0, self->a.verify);
	EXPECT_EQ(7U, self->a.count);
	EXPECT_EQ(120000ULL, self->a.ms);
	EXPECT_EQ(2U, self->a.secs);
	EXPECT_EQ(0U, self->a.every);
	EXPECT_EQ(64ULL << 10, self->a.bytes);
	EXPECT_STREQ("/tmp/s", self->a.str);
	EXPECT_EQ(NULL, self->a.sock);
	EXPECT_STREQ("b.pem", self->a.copy);	/* the last one, a copy */
	ASSERT_EQ(2U, self->a.list.n);
	EXPECT_STREQ("x", self->a.list.v[0]);
	EXPECT_STREQ("y", self->a.list.v[1]);
	EXPECT_EQ(80, self->a.port);
	EXPECT_EQ(2, self->a.family);
	EXPECT_FALSE(self->a.help);
}

TEST_F(opt, positionals_move_up_in_order)
{
	char *argv[] = { "prog", "a", "--flag", "b", "sport", "22", "c", "-",
			 NULL };

	ASSERT_EQ(4, parse(&self->a, self->err, sizeof(self->err), argv));
	EXPECT_STREQ("a", argv[1]);
	EXPECT_STREQ("b", argv[2]);
	EXPECT_STREQ("c", argv[3]);
	EXPECT_STREQ("-", argv[4]);
	EXPECT_EQ(22, self->a.port);
	EXPECT_TRUE(self->a.flag);
}

TEST_F(opt, short_options)
{
	ASSERT_EQ(0, PARSE("-fq", "-c12")) TH_LOG("%s", self->err);
	EXPECT_TRUE(self->a.flag);
	EXPECT_EQ(1, self->a.level);
	EXPECT_EQ(12U, self->a.count);
	ASSERT_EQ(0, PARSE("-vc", "9")) TH_LOG("%s", self->err);
	EXPECT_EQ(3, self->a.level);
	EXPECT_EQ(9U, self->a.count);
	EXPECT_EQ(-EINVAL, PARSE("-fz"));
	EXPECT_STREQ("unknown option '-z' (see --help)", self->err);
	EXPECT_EQ(-EINVAL, PARSE("-c"));
	EXPECT_STREQ("option '-c' needs a value", self->err);
}

TEST_F(opt, bounds_and_their_messages)
{
	static const struct {
		const char *flag, *value, *msg;
	} bad[] = {
		{ "--count", "0", "--count: '0' is not an integer in [1, 100]" },
		{ "--count", "101", "--count: '101' is not an integer in [1, 100]" },
		{ "--count", "-1", "--count: '-1' is not an integer in [1, 100]" },
		{ "--count", "5x", "--count: '5x' is not an integer in [1, 100]" },
		{ "--timeout", "5x", "--timeout: '5x' is not a duration (e.g. 500ms, 10s, 2m)" },
		{ "--timeout", "99ms", "--timeout: 99ms is out of range [100ms, 1h]" },
		{ "--timeout", "61m", "--timeout: 61m is out of range [100ms, 1h]" },
		{ "--every", "50ms", "--every: 0 or at least 100ms" },
		{ "--every", "2m", "--every: 2m is out of range [0s, 1m]" },
		{ "--idle", "1500ms", "--idle: 1500ms is not a whole number of seconds (the kernel counts in seconds: 1s, 2s...)" },
		{ "--max-body", "12", "--max-body: '12' is not a size in [4KiB, 1GiB]" },
		{ "--max-body", "2G", "--max-body: '2G' is not a size in [4KiB, 1GiB]" },
		{ "--state-file", "", "--state-file: empty path" },
		{ "--item", "a,b", "--item 'a,b': no commas" },
		{ "--verify=maybe", NULL, "--verify: 'maybe' is not true or false" },
		{ "--port", "0", "port: '0' is not a port" },
		{ "sport", "x", "sport: 'x' is not a port" },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = { "prog", (char *)bad[i].flag,
				 (char *)bad[i].value, NULL };

		EXPECT_EQ(-EINVAL, opt_parse(table, &self->a, bad[i].value ? 3 : 2,
					     argv, self->err, sizeof(self->err)));
		EXPECT_STREQ(bad[i].msg, self->err);
	}
	/* The bounds themselves are in. */
	ASSERT_EQ(0, PARSE("--count", "100", "--timeout", "100ms", "--every",
			   "100ms", "--max-body", "1GiB"));
	EXPECT_EQ(100U, self->a.count);
	EXPECT_EQ(100ULL, self->a.ms);
	EXPECT_EQ(100U, self->a.every);
	EXPECT_EQ(1ULL << 30, self->a.bytes);
}

TEST_F(opt, abbreviations_are_refused)
{
	EXPECT_EQ(-EINVAL, PARSE("--cou", "3"));
	EXPECT_STREQ("unknown option '--cou': options are never abbreviated; did you mean --count?",
		     self->err);
	EXPECT_EQ(5U, self->a.count);
	EXPECT_EQ(-EINVAL, PARSE("--no-ev"));
	EXPECT_STREQ("unknown option '--no-ev': options are never abbreviated; did you mean --no-events?",
		     self->err);
	EXPECT_EQ(-EINVAL, PARSE("--it=x"));
	EXPECT_STREQ("unknown option '--it=x': options are never abbreviated; did you mean --item or --item-max?",
		     self->err);
	EXPECT_EQ(-EINVAL, PARSE("--bogus"));
	EXPECT_STREQ("unknown option '--bogus' (see --help)", self->err);
	/* No --no- form where the table gives none. */
	EXPECT_EQ(-EINVAL, PARSE("--no-flag"));
	/* A word is never a prefix, nor spelled with dashes. */
	EXPECT_EQ(-EINVAL, PARSE("--sport", "22"));
	EXPECT_EQ(1, PARSE("spor"));
	/* A whole name that begins another one is that option. */
	ASSERT_EQ(0, PARSE("--item", "z", "--item-max", "9"));
	EXPECT_EQ(9U, self->a.count);
}

TEST_F(opt, values_where_they_belong)
{
	EXPECT_EQ(-EINVAL, PARSE("--flag=1"));
	EXPECT_STREQ("option '--flag' takes no value", self->err);
	EXPECT_EQ(-EINVAL, PARSE("--no-events=1"));
	EXPECT_STREQ("option '--no-events' takes no value", self->err);
	EXPECT_EQ(-EINVAL, PARSE("--count"));
	EXPECT_STREQ("option '--count' needs a value", self->err);
	EXPECT_EQ(-EINVAL, PARSE("sport"));
	EXPECT_STREQ("'sport' needs a value", self->err);
	/* The value may begin with a dash, as getopt allows. */
	ASSERT_EQ(0, PARSE("--state-file", "-x"));
	EXPECT_STREQ("-x", self->a.str);
	/* --verify alone is true; its value only after '='. */
	ASSERT_EQ(1, PARSE("--verify", "false"));
	EXPECT_EQ(1, self->a.verify);
}

/* Lines of the usage, each checked against the layout. */
TEST(usage_from_the_table)
{
	char *buf = NULL, *line, *end;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ASSERT_NE(NULL, f);
	opt_usage(table, f);
	ASSERT_EQ(0, fclose(f));
	EXPECT_NE(NULL, strstr(buf, "  -f, --flag                         a flag\n"));
	EXPECT_NE(NULL, strstr(buf, "  --events, --no-events              follow events (on)\n"));
	EXPECT_NE(NULL, strstr(buf, "  --verify[=BOOL]                    verify\n"));
	EXPECT_NE(NULL, strstr(buf, "  -c, --count N                      how many (5)\n"));
	EXPECT_NE(NULL, strstr(buf, "  --idle DUR                         whole seconds (10s)\n"));
	EXPECT_NE(NULL, strstr(buf, "  --every DUR                        period; 0: never (250ms)\n"));
	EXPECT_NE(NULL, strstr(buf, "  --max-body SIZE                    largest (64MiB)\n"));
	EXPECT_NE(NULL, strstr(buf, "  --state-file PATH                  where (/run/x.json)\n"));
	EXPECT_NE(NULL, strstr(buf, "  sport PORT                         a word\n"));
	EXPECT_NE(NULL, strstr(buf, "  -4                                 short only\n"));
	/* No default shown where there is none. */
	EXPECT_NE(NULL, strstr(buf, "  --cert FILE                        owned\n"));
	for (line = buf; (end = strchr(line, '\n')); line = end + 1)
		EXPECT_LE(end - line, 79) TH_LOG("%.*s", (int)(end - line), line);
	free(buf);
}

TEST(long_help_wraps_under_its_column)
{
	static const struct opt t[] = {
		{ .name = "a-rather-long-option-name", .type = OPT_FLAG,
		  .off = 0, .size = sizeof(bool),
		  .help = "one two three four five six seven eight nine ten eleven twelve thirteen fourteen" },
		{ 0 },
	};
	char *buf = NULL;
	size_t size = 0;
	FILE *f = open_memstream(&buf, &size);

	ASSERT_NE(NULL, f);
	opt_usage(t, f);
	ASSERT_EQ(0, fclose(f));
	EXPECT_STREQ("  --a-rather-long-option-name        one two three four five six seven eight\n"
		     "                                     nine ten eleven twelve thirteen fourteen\n",
		     buf);
	free(buf);
}

TEST(bad_tables_are_refused)
{
	static const struct opt wrong_size[] = {
		{ .name = "x", .type = OPT_STRING, A(count) }, { 0 },
	};
	static const struct opt default_out[] = {
		{ .name = "x", .type = OPT_UINT, A(count), .min = 1, .max = 9 },
		{ 0 },
	};
	static const struct opt too_wide[] = {
		{ .name = "x", .type = OPT_DURATION, A(secs), .max = 1ULL << 40,
		  .flags = OPT_ZERO },
		{ 0 },
	};
	static const struct opt twice[] = {
		{ .name = "x", .type = OPT_FLAG, A(flag) },
		{ .name = "x", .type = OPT_FLAG, A(help) },
		{ 0 },
	};
	static const struct opt no_parse[] = {
		{ .name = "x", .type = OPT_FUNC, A(port) }, { 0 },
	};
	struct args a = { 0 };
	char err[128];

	EXPECT_EQ(-EINVAL, opt_defaults(wrong_size, &a, err, sizeof(err)));
	EXPECT_STREQ("option table: --x: field size 4", err);
	EXPECT_EQ(-EINVAL, opt_defaults(default_out, &a, err, sizeof(err)));
	EXPECT_STREQ("option table: --x: bounds or default", err);
	EXPECT_EQ(-EINVAL, opt_defaults(too_wide, &a, err, sizeof(err)));
	EXPECT_EQ(-EINVAL, opt_defaults(twice, &a, err, sizeof(err)));
	EXPECT_STREQ("option table: --x twice", err);
	EXPECT_EQ(-EINVAL, opt_defaults(no_parse, &a, err, sizeof(err)));
}

TEST_F(opt, clear_frees_what_the_table_owns)
{
	ASSERT_EQ(0, PARSE("--cert", "c.pem", "--item", "a"));
	opt_clear(table, &self->a);
	EXPECT_EQ(NULL, self->a.copy);
	EXPECT_EQ(NULL, self->a.list.v);
	EXPECT_EQ(0U, self->a.list.n);
}

TEST_HARNESS_MAIN
