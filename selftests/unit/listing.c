// SPDX-License-Identifier: GPL-2.0
/*
 * listing.c, the streaming parser of /containers/json, against json-c's
 * path it replaced (listing_diff.h): the same containers from every
 * captured answer and every input of the fuzz corpus, however the bytes
 * are split, and the same refusals; then what its hash spares.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "kselftest_harness.h"
#include "fixture.h"
#include "inventory.h"
#include "listing_diff.h"

static const size_t pieces[] = { 0, 1, 7, 4096 };

static char *read_all(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = NULL;
	long n;

	if (!f)
		return NULL;
	if (!fseek(f, 0, SEEK_END) && (n = ftell(f)) >= 0 &&
	    !fseek(f, 0, SEEK_SET)) {
		buf = malloc(n + 1);
		if (buf && fread(buf, 1, n, f) != (size_t)n) {
			free(buf);
			buf = NULL;
		}
		*len = n;
	}
	fclose(f);
	return buf;
}

/* Every file of @dir through listing_diff(), skipping @skip leading bytes. */
static int diff_dir(struct __test_metadata *_metadata, const char *dir,
		    size_t skip, unsigned int *lenient)
{
	char path[512];
	struct dirent *d;
	size_t len, i;
	const char *why;
	int files = 0;
	DIR *dp = opendir(dir);
	char *buf;

	if (!dp)
		return -1;
	while ((d = readdir(dp))) {
		if (d->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, d->d_name);
		buf = read_all(path, &len);
		if (!buf || len < skip) {
			free(buf);
			continue;
		}
		for (i = 0; i < 2; i++) {
			why = listing_diff(buf + skip, len - skip, pieces[i],
					   lenient);
			EXPECT_EQ(NULL, why) TH_LOG("%s, in pieces of %zu: %s",
						   d->d_name, pieces[i], why);
		}
		free(buf);
		files++;
	}
	closedir(dp);
	return files;
}

TEST(fixtures_as_json_c)
{
	static const char *const dirs[] = { "dockerd", "podman", "dockerd-tls" };
	unsigned int lenient = 0, listings = 0;
	char name[300];
	struct dirent *d;
	size_t len, i, k;
	const char *why;
	char *body;
	DIR *dp;

	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "%s/%s", fixture_dir(), dirs[k]);
		dp = opendir(name);
		ASSERT_NE(NULL, dp) TH_LOG("%s", name);
		while ((d = readdir(dp))) {
			struct docker_container *v;
			size_t n;

			snprintf(name, sizeof(name), "%s/%s", dirs[k], d->d_name);
			if (!strstr(d->d_name, ".http"))
				continue;
			body = fixture_body(name, &len);
			if (!body)
				continue;
			for (i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
				why = listing_diff(body, len, pieces[i], &lenient);
				EXPECT_EQ(NULL, why) TH_LOG("%s, pieces of %zu: %s",
							   name, pieces[i], why);
			}
			if (strstr(d->d_name, "containers") &&
			    !diff_new(body, len, 1, false, &v, &n)) {
				listings++;
				docker_containers_free(v, n);
			}
			free(body);
		}
		closedir(dp);
	}
	/* Every capture is plain JSON: nothing lax in them. */
	EXPECT_EQ(0U, lenient);
	/* The listings of both daemons, over TLS too, were taken. */
	EXPECT_EQ(11U, listings);
}

TEST(fuzz_corpus_as_json_c)
{
	unsigned int lenient = 0;
	int docker, listing;

	docker = diff_dir(_metadata, "selftests/fuzz/corpus/docker", 0,
			  &lenient);
	listing = diff_dir(_metadata, "selftests/fuzz/corpus/listing", 1,
			   &lenient);
	EXPECT_LT(20, docker);
	EXPECT_LT(20, listing);
	TH_LOG("%d + %d inputs, %u taken by one way only or differently, for lax syntax", docker,
	       listing, lenient);
}

/* @body at once, as the answer after one of @hold_len bytes hashed @last. */
static int feed(const char *body, struct listing **lp, size_t hold_len,
		uint64_t last)
{
	int err = listing_get(lp, hold_len);

	if (!err)
		err = listing_feed(*lp, body, strlen(body));
	if (!err)
		err = listing_finish(*lp, last);
	return err;
}

TEST(duplicate_members_as_json_c)
{
	static const char *const bodies[] = {
		"[{\"Id\":\"ab\",\"Id\":\"cd\"}]",
		"[{\"Id\":5,\"Id\":\"cd\"}]",
		"[{\"Id\":\"ab\",\"Names\":[\"/x\"],\"Names\":null}]",
		"[{\"Id\":\"ab\",\"Labels\":{\"a\":1},\"Labels\":{}}]",
		"[{\"Id\":\"ab\",\"Labels\":{\"a\":\"1\",\"b\":\"2\",\"a\":\"3\"}}]",
		"[{\"Id\":\"ab\",\"Labels\":{\"a\":[1],\"a\":\"3\"}}]",
		"[{\"Id\":\"ab\",\"Labels\":{\"a\":\"x\\u0000\",\"a\":\"3\"}}]",
		/* A member's name to its first NUL, as json-c's keys. */
		"[{\"Id\":\"ab\",\"Labels\\u0000x\":false}]",
		"[{\"Id\":\"ab\",\"Image\\u0000x\":\"y\"}]",
		"[{\"Id\":\"ab\",\"Image\":\"z\",\"Image\\u0000\":null}]",
		"[{\"Id\\u0000\":\"ab\",\"Id\\u0000y\":\"cd\"}]",
	};
	unsigned int lenient = 0;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		why = listing_diff(bodies[i], strlen(bodies[i]), 0, &lenient);
		EXPECT_EQ(NULL, why) TH_LOG("%s: %s", bodies[i], why);
	}
}

/*
 * Numbers at their bounds, in "Created" and in a member only counted
 * past: the listing reads an integer beyond int64 as its bound, as
 * json-c 0.16 does (0.17 and later refuse one beyond 64 bits: a lax
 * syntax to the differential check), and refuses any number longer than
 * 64 characters, as the path it replaced did (a fuzzer's find: the
 * listing took a 150-digit "Created").
 */
TEST(numbers_as_json_c)
{
	static const struct {
		const char *n;
		bool taken;
		int64_t created;
	} nums[] = {
		{ "0", true, 0 },
		{ "-0", true, 0 },
		{ "9223372036854775807", true, INT64_MAX },
		{ "9223372036854775808", true, INT64_MAX },
		{ "18446744073709551616", true, INT64_MAX },
		{ "-9223372036854775808", true, INT64_MIN },
		{ "-9223372036854775809", true, INT64_MIN },
		/* 64 characters, then 65 */
		{ "1234567890123456789012345678901234567890"
		  "123456789012345678901234", true, INT64_MAX },
		{ "-123456789012345678901234567890123456789"
		  "0123456789012345678901234", false, 0 },
		{ "1234567890123456789012345678901234567890"
		  "1234567890123456789012345", false, 0 },
		{ "1.23456789012345678901234567890123456789"
		  "0123456789012345678901234", false, 0 },
	};
	/* What the differential check takes as lax syntax, and not. */
	static const struct {
		const char *s;
		bool lax;
	} lax[] = {
		/* Beyond 64 bits, which json-c's versions take differently. */
		{ "[18446744073709551615]", false },
		{ "[18446744073709551616]", true },
		{ "[-9223372036854775808]", false },
		{ "[-9223372036854775809]", true },
		{ "[1.8446744073709551616]", false },
		{ "[\"18446744073709551616\"]", false },
		/* Not JSON's: json-c takes "05e+1" as a double, YAJL not. */
		{ "[05e+1]", true },
		{ "[0.5e+1,10]", false },
		{ "[-.05]", true },
		{ "[1.]", true },
		{ "[-08]", true },
		{ "[-0.8E-7,0,-0,true,false]", false },
	};
	unsigned int lenient = 0;
	struct docker_container *v;
	struct docker_fields f;
	char body[160];
	const char *why;
	size_t i, n, piece;
	int at, err;

	for (i = 0; i < sizeof(nums) / sizeof(nums[0]); i++) {
		for (at = 0; at < 2; at++) {
			snprintf(body, sizeof(body),
				 "[{\"Id\":\"ab\",\"%s\":%s}]",
				 at ? "SizeRw" : "Created", nums[i].n);
			for (piece = 0; piece < 8; piece += 7) {
				why = listing_diff(body, strlen(body), piece,
						   &lenient);
				EXPECT_EQ(NULL, why) TH_LOG("%s: %s", body, why);
			}
			err = diff_new(body, strlen(body), 0, false, &v, &n);
			EXPECT_EQ(nums[i].taken ? 0 : -EPROTO, err)
				TH_LOG("%s", body);
			if (err)
				continue;
			ASSERT_EQ(1U, n);
			docker_container_fields(&v[0], &f);
			EXPECT_EQ(at ? 0 : nums[i].created, f.created)
				TH_LOG("%s", body);
			docker_containers_free(v, n);
		}
	}
	for (i = 0; i < sizeof(lax) / sizeof(lax[0]); i++) {
		const char *c = lax[i].s;
		bool want = lax[i].lax;

		EXPECT_EQ(want, diff_lax_syntax(c, strlen(c))) TH_LOG("%s", c);
	}
	snprintf(body, sizeof(body), "[{\"Id\":\"ab\",\"X\":[05e+1]}]");
	EXPECT_EQ(NULL, listing_diff(body, strlen(body), 0, &lenient));
	EXPECT_EQ(-EPROTO, diff_new(body, strlen(body), 0, false, &v, &n));
}

/*
 * A \u escape of a surrogate alone is U+FFFD in json-c, not in YAJL: a
 * lax syntax (listing_diff.h); a pair is the same character in both.
 */
TEST(surrogates)
{
	static const char *const lax[] = {
		"[{\"Id\":\"ab\",\"Image\":\"x\\ude00y\"}]",
		"[{\"Id\":\"ab\",\"Image\":\"p\\ud83dq\"}]",
		"[{\"Id\":\"ab\",\"Image\":\"\\ud83d\\ud83d\"}]",
		"[{\"Id\":\"ab\",\"Image\":\"\\ud83d\"}]",
	};
	static const char pair[] =
		"[{\"Id\":\"ab\",\"Image\":\"a\\ud83d\\ude00b\"}]";
	unsigned int lenient = 0;
	struct docker_container *v;
	struct docker_fields f;
	const char *why;
	size_t i, n;

	for (i = 0; i < sizeof(lax) / sizeof(lax[0]); i++) {
		why = listing_diff(lax[i], strlen(lax[i]), 0, &lenient);
		EXPECT_EQ(NULL, why) TH_LOG("%s: %s", lax[i], why);
		EXPECT_TRUE(diff_lax_syntax(lax[i], strlen(lax[i])));
	}
	EXPECT_LT(0U, lenient);
	EXPECT_FALSE(diff_lax_syntax(pair, strlen(pair)));
	EXPECT_EQ(NULL, listing_diff(pair, strlen(pair), 0, &lenient));
	ASSERT_EQ(0, diff_new(pair, strlen(pair), 0, false, &v, &n));
	ASSERT_EQ(1U, n);
	docker_container_fields(&v[0], &f);
	EXPECT_STREQ("a\xf0\x9f\x98\x80" "b", f.image);
	docker_containers_free(v, n);
}

TEST(refused)
{
	static const char *const bad[] = {
		"", "{}", "[", "[{\"Id\":\"ab\"}", "[{\"Id\":\"ab\"}] x",
		"[{\"Id\":\"ab\"}][]", "[{\"Id\":\"xyz\"}]", "[{}]", "[1]",
		"[{\"Id\":\"ab\",\"Created\":1.5}]",
		"[{\"Id\":\"ab\",\"Names\":[3]}]",
		"[{\"Id\":\"ab\",\"Labels\":{\"a\":1}}]",
		"[{\"Id\":\"ab\",\"Image\":\"a\\u0000b\"}]",
	};
	struct listing *l;
	char deep[200];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-EPROTO, feed(bad[i], &l, 0, 0)) TH_LOG("%s", bad[i]);
		listing_put(l);
	}
	/* json-c's depth: 64 levels, not 65. */
	memset(deep, 0, sizeof(deep));
	strcpy(deep, "[{\"Id\":\"ab\",\"X\":");
	memset(deep + strlen(deep), '[', 62);
	memset(deep + strlen(deep), ']', 62);
	strcat(deep, "}]");
	EXPECT_EQ(0, feed(deep, &l, 0, 0));
	listing_put(l);
	memset(deep, 0, sizeof(deep));
	strcpy(deep, "[{\"Id\":\"ab\",\"X\":");
	memset(deep + strlen(deep), '[', 63);
	memset(deep + strlen(deep), ']', 63);
	strcat(deep, "}]");
	EXPECT_EQ(-EPROTO, feed(deep, &l, 0, 0));
	listing_put(l);
}

/* A listing of one container in @state, its status @status. */
static void listing_of(char *buf, size_t size, const char *state,
		       const char *status)
{
	snprintf(buf, size, "[{\"Id\":\"%064d\",\"Names\":[\"/web\"],"
		 "\"State\":\"%s\",\"Status\":\"%s\",\"Labels\":{\"a\":\"b\"}}]",
		 0, state, status);
}

/* @body answered as engine.c takes it; whether it was the last one again. */
static bool apply(struct __test_metadata *_metadata, struct inventory *inv,
		  const char *body)
{
	struct listing *l;
	bool same;

	ASSERT_EQ(0, feed(body, &l, inv->hash ? inv->hashed_len : 0,
			  inv->hash));
	same = listing_unchanged(l);
	EXPECT_EQ(strlen(body), listing_length(l));
	ASSERT_EQ(0, inventory_replace_built(inv, listing_builder(l),
					     listing_hash(l),
					     listing_length(l)));
	listing_put(l);
	return same;
}

TEST(unchanged_answer_left_as_is)
{
	struct inventory inv = { 0 };
	char body[512], id[DOCKER_ID_MAX];
	struct docker_container *v;

	listing_of(body, sizeof(body), "running", "Up 2 hours");
	EXPECT_FALSE(apply(_metadata, &inv, body));
	ASSERT_EQ(1U, inv.n);
	v = inv.v;
	EXPECT_NE(0U, inv.hash);
	/* The same bytes again: not parsed, the very same block. */
	EXPECT_TRUE(apply(_metadata, &inv, body));
	EXPECT_EQ(v, inv.v);
	ASSERT_EQ(1U, inv.n);
	EXPECT_STREQ("Up 2 hours", docker_container_status(&inv.v[0]));
	/* An event changes the inventory: the same answer applies again. */
	ASSERT_EQ(0, inventory_patch(&inv, docker_container_id(&inv.v[0], id),
				     "exited", NULL, NULL));
	EXPECT_EQ(0U, inv.hash);
	EXPECT_FALSE(apply(_metadata, &inv, body));
	EXPECT_STREQ("running", docker_container_state(&inv.v[0]));
	/* Changed, as long as before (held, then parsed), then longer. */
	listing_of(body, sizeof(body), "running", "Up 3 hours");
	EXPECT_FALSE(apply(_metadata, &inv, body));
	EXPECT_STREQ("Up 3 hours", docker_container_status(&inv.v[0]));
	listing_of(body, sizeof(body), "running", "Up 13 hours");
	EXPECT_FALSE(apply(_metadata, &inv, body));
	EXPECT_STREQ("Up 13 hours", docker_container_status(&inv.v[0]));
	EXPECT_STREQ("web", docker_container_name(&inv.v[0]));
	inventory_clear(&inv);
}

TEST_HARNESS_MAIN
