// SPDX-License-Identifier: GPL-2.0
/*
 * The HTTP client's parser against every captured response of dockerd
 * 20.10 and podman 4.3, fed whole and split at every byte boundary, and
 * against each bound it enforces.
 */
#include <errno.h>
#include <glob.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "fixture.h"
#include "http.h"

struct result {
	ssize_t err;
	unsigned int status;
	bool complete, keep_alive, headers_done;
	char api_version[HTTP_API_VERSION_MAX];
	uint64_t etcd_index;
	char *body;
	size_t body_len;
	size_t used;
};

static int collect_body(void *arg, const char *data, size_t len)
{
	struct result *r = arg;

	memcpy(r->body + r->body_len, data, len);
	r->body_len += len;
	return 0;
}

/* Feed @buf in two parts cut at @cut; @at_eof also reports the peer's close. */
static void parse(const char *buf, size_t len, size_t cut, bool head,
		  uint64_t max_body, bool stream, bool at_eof,
		  struct result *out)
{
	struct http_resp r;
	ssize_t n;

	out->body_len = 0;
	out->used = 0;
	http_resp_init(&r, max_body, stream, head, collect_body, out);
	n = http_resp_feed(&r, buf, cut);
	if (n >= 0) {
		out->used = n;
		if ((size_t)n == cut && cut < len) {
			n = http_resp_feed(&r, buf + cut, len - cut);
			if (n >= 0)
				out->used += n;
		}
	}
	if (n >= 0 && at_eof && !r.complete)
		n = http_resp_eof(&r);
	out->err = n < 0 ? n : 0;
	out->status = http_resp_status(&r);
	out->complete = r.complete;
	out->keep_alive = r.keep_alive;
	out->headers_done = r.headers_done;
	strcpy(out->api_version, r.api_version);
	out->etcd_index = r.etcd_index;
}

static void expect_same(struct __test_metadata *_metadata,
			const struct result *a, const struct result *b,
			const char *name, size_t cut)
{
	ASSERT_EQ(a->err, b->err) TH_LOG("%s cut at %zu", name, cut);
	/* Where a refusal is noticed depends on the cut; the verdict does not. */
	if (a->err)
		return;
	EXPECT_EQ(a->status, b->status) TH_LOG("%s cut at %zu", name, cut);
	EXPECT_EQ(a->complete, b->complete) TH_LOG("%s cut at %zu", name, cut);
	EXPECT_EQ(a->keep_alive, b->keep_alive) TH_LOG("%s cut at %zu", name, cut);
	EXPECT_EQ(a->used, b->used) TH_LOG("%s cut at %zu", name, cut);
	EXPECT_STREQ(a->api_version, b->api_version) TH_LOG("%s cut at %zu", name, cut);
	ASSERT_EQ(a->body_len, b->body_len) TH_LOG("%s cut at %zu", name, cut);
	EXPECT_EQ(0, memcmp(a->body, b->body, a->body_len))
		TH_LOG("%s cut at %zu", name, cut);
}

/*
 * Every *.http fixture: the status, Api-Version and body must match what
 * an independent reading of the file says, and be the same for every cut.
 * Every capture that says chunked carries its chunk framing.
 */
TEST(every_fixture_whole_and_split_at_every_byte)
{
	static const char *const dirs[] = { "dockerd", "dockerd-tls", "podman" };
	size_t d, k, files = 0;

	for (d = 0; d < sizeof(dirs) / sizeof(dirs[0]); d++) {
		char pattern[512];
		glob_t g;

		snprintf(pattern, sizeof(pattern), "%s/%s/*.http",
			 fixture_dir(), dirs[d]);
		ASSERT_EQ(0, glob(pattern, 0, NULL, &g)) TH_LOG("%s", pattern);
		for (k = 0; k < g.gl_pathc; k++) {
			const char *name = g.gl_pathv[k] + strlen(fixture_dir()) + 1;
			struct result whole = { 0 }, part = { 0 };
			char *buf, *ref, *cl, *ver;
			size_t len, body_at, cut;
			bool head = strstr(name, "HEAD") != NULL;
			bool chunked, events;
			long ref_len;
			int term = 0;
			unsigned int status;

			buf = fixture_read(name, &len);
			ASSERT_NE(NULL, buf) TH_LOG("%s", name);
			files++;
			body_at = fixture_body_offset(buf);
			ASSERT_NE(0U, body_at) TH_LOG("%s", name);
			ASSERT_EQ(1, sscanf(buf, "HTTP/1.1 %u", &status));
			chunked = strcasestr(buf, "\r\nTransfer-Encoding: chunked\r\n") &&
				  strcasestr(buf, "\r\nTransfer-Encoding: chunked\r\n") < buf + body_at;
			events = strstr(name, "events") != NULL;
			ref = malloc(len + 1);
			whole.body = malloc(len + 1);
			part.body = malloc(len + 1);
			ASSERT_TRUE(ref && whole.body && part.body);
			if (chunked) {
				ref_len = fixture_dechunk(buf + body_at, len - body_at,
							  ref, &term);
			} else {
				cl = strcasestr(buf, "\r\nContent-Length: ");
				ref_len = cl && cl < buf + body_at && !head ?
					  atol(cl + 18) : 0;
				if (!cl && !head)
					ref_len = len - body_at;
				memcpy(ref, buf + body_at, ref_len);
			}
			ASSERT_LE(0, ref_len) TH_LOG("%s: broken chunk framing", name);
			parse(buf, len, len, head, 1 << 20, events, !events, &whole);
			EXPECT_EQ(0, whole.err) TH_LOG("%s", name);
			EXPECT_EQ(status, whole.status) TH_LOG("%s", name);
			/* Streams never end; everything else completes. */
			EXPECT_EQ(!events || term, whole.complete) TH_LOG("%s", name);
			EXPECT_TRUE(whole.keep_alive || !whole.complete) TH_LOG("%s", name);
			ASSERT_EQ((size_t)ref_len, whole.body_len) TH_LOG("%s", name);
			EXPECT_EQ(0, memcmp(ref, whole.body, ref_len)) TH_LOG("%s", name);
			ver = strcasestr(buf, "\r\nApi-Version: ");
			if (ver && ver < buf + body_at)
				EXPECT_EQ(0, strncmp(whole.api_version, ver + 15,
						     strlen(whole.api_version)))
					TH_LOG("%s", name);
			EXPECT_EQ(ver && ver < buf + body_at,
				  whole.api_version[0] != '\0') TH_LOG("%s", name);
			for (cut = 0; cut <= len; cut++) {
				parse(buf, len, cut, head, 1 << 20, events, !events, &part);
				expect_same(_metadata, &whole, &part, name, cut);
			}
			free(ref);
			free(whole.body);
			free(part.body);
			free(buf);
		}
		globfree(&g);
	}
	TH_LOG("%zu fixtures", files);
	EXPECT_GT(files, 60U);
}

/* A captured chunked body, re-framed in chunks of every size from 1 byte. */
TEST(rechunked_info_at_every_chunk_size)
{
	struct result whole = { 0 };
	char *buf, *body, *msg;
	size_t len, at, body_len = 0, size, off, n = 0;

	buf = fixture_read("dockerd/info.http", &len);
	body = fixture_body("dockerd/info.http", &body_len);
	ASSERT_NE(NULL, buf);
	ASSERT_NE(NULL, body);
	at = fixture_body_offset(buf);
	msg = malloc(at + body_len * 8 + 64);
	whole.body = malloc(body_len + 1);
	ASSERT_TRUE(msg && whole.body);
	for (size = 1; size <= body_len; size += size < 64 ? 1 : 97) {
		memcpy(msg, buf, at);
		n = at;
		for (off = 0; off < body_len; off += size) {
			size_t c = body_len - off < size ? body_len - off : size;

			n += sprintf(msg + n, "%zx\r\n", c);
			memcpy(msg + n, body + off, c);
			n += c;
			n += sprintf(msg + n, "\r\n");
		}
		n += sprintf(msg + n, "0\r\n\r\n");
		parse(msg, n, n / 2, false, 1 << 20, false, false, &whole);
		ASSERT_EQ(0, whole.err) TH_LOG("chunk size %zu", size);
		ASSERT_TRUE(whole.complete);
		ASSERT_EQ(body_len, whole.body_len);
		ASSERT_EQ(0, memcmp(body, whole.body, body_len));
	}
	/* The same, with a body bound below its size: refused. */
	parse(msg, n, n, false, body_len - 1, false, false, &whole);
	EXPECT_EQ(-EMSGSIZE, whole.err);
	free(whole.body);
	free(msg);
	free(body);
	free(buf);
}

TEST(keep_alive_responses_back_to_back)
{
	struct result r = { 0 };
	char *buf;
	size_t len, off;

	buf = fixture_read("dockerd/keepalive_raw.txt", &len);
	ASSERT_NE(NULL, buf);
	r.body = malloc(len);
	ASSERT_NE(NULL, r.body);
	/* The parser stops after each response: the rest is not consumed. */
	parse(buf, len, len, false, 1 << 20, false, false, &r);
	ASSERT_EQ(0, r.err);
	ASSERT_TRUE(r.complete);
	EXPECT_TRUE(r.keep_alive);
	EXPECT_EQ(2U, r.body_len);
	off = r.used;
	ASSERT_LT(off, len);
	parse(buf + off, len - off, len - off, false, 1 << 20, false, false, &r);
	ASSERT_EQ(0, r.err);
	ASSERT_TRUE(r.complete);
	off += r.used;
	/* What follows is the capture tool's note, not HTTP. */
	parse(buf + off, len - off, len - off, false, 1 << 20, false, false, &r);
	EXPECT_EQ(-EPROTO, r.err);
	free(r.body);
	free(buf);
}

static void parse_str(const char *s, uint64_t max_body, bool at_eof,
		      struct result *r)
{
	size_t len = strlen(s);

	r->body = realloc(r->body, len + 1);
	parse(s, len, len, false, max_body, false, at_eof, r);
}

TEST(framing)
{
	struct result r = { 0 };

	/* Connection: close is honoured. */
	parse_str("HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nOK",
		  100, false, &r);
	EXPECT_EQ(0, r.err);
	EXPECT_TRUE(r.complete);
	EXPECT_FALSE(r.keep_alive);
	/* Close-delimited: complete only when the peer closes. */
	parse_str("HTTP/1.1 200 OK\r\n\r\n[1,2]", 100, false, &r);
	EXPECT_EQ(0, r.err);
	EXPECT_FALSE(r.complete);
	parse_str("HTTP/1.1 200 OK\r\n\r\n[1,2]", 100, true, &r);
	EXPECT_EQ(0, r.err);
	EXPECT_TRUE(r.complete);
	EXPECT_FALSE(r.keep_alive);
	EXPECT_EQ(5U, r.body_len);
	/* Closed early: an error, not a short answer. */
	parse_str("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n[1,2]", 100, true, &r);
	EXPECT_EQ(-EPROTO, r.err);
	parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n[1,2]\r\n",
		  100, true, &r);
	EXPECT_EQ(-EPROTO, r.err);
	/* HTTP/1.0 closes by default. */
	parse_str("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n", 100, false, &r);
	EXPECT_TRUE(r.complete);
	EXPECT_FALSE(r.keep_alive);
	/* Data after the response is left unused. */
	parse_str("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1", 100, false, &r);
	EXPECT_TRUE(r.complete);
	EXPECT_EQ(27U, r.used);
	free(r.body);
}

TEST(bounds_and_garbage)
{
	struct result r = { 0 };
	char *big;

	/* Content-Length above the bound fails before any body byte. */
	parse_str("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100, false, &r);
	EXPECT_EQ(-EMSGSIZE, r.err);
	EXPECT_EQ(0U, r.body_len);
	parse_str("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
		  100, false, &r);
	EXPECT_EQ(-EPROTO, r.err);
	/* One chunk above the bound. */
	parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n65\r\n",
		  100, false, &r);
	EXPECT_EQ(-EMSGSIZE, r.err);
	parse_str("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
		  100, false, &r);
	EXPECT_NE(0, r.err);
	/* Close-delimited bodies are bounded too. */
	parse_str("HTTP/1.1 200 OK\r\n\r\n0123456789", 5, true, &r);
	EXPECT_EQ(-EMSGSIZE, r.err);
	/* Headers above the bound, in one header or many. */
	big = malloc(HTTP_MAX_HEADER_BYTES * 2);
	ASSERT_NE(NULL, big);
	strcpy(big, "HTTP/1.1 200 OK\r\nX-Big: ");
	memset(big + strlen(big), 'a', HTTP_MAX_HEADER_BYTES);
	strcpy(big + strlen("HTTP/1.1 200 OK\r\nX-Big: ") + HTTP_MAX_HEADER_BYTES,
	       "\r\n\r\n");
	parse_str(big, 100, false, &r);
	EXPECT_EQ(-EMSGSIZE, r.err);
	strcpy(big, "HTTP/1.1 200 OK\r\n");
	while (strlen(big) < HTTP_MAX_HEADER_BYTES + 100)
		strcat(big, "A: b\r\n");
	strcat(big, "\r\n");
	parse_str(big, 100, false, &r);
	EXPECT_EQ(-EMSGSIZE, r.err);
	free(big);
	/* Not HTTP at all; a bad status line; a bad Api-Version. */
	parse_str("SSH-2.0-OpenSSH_9.2\r\n", 100, false, &r);
	EXPECT_EQ(-EPROTO, r.err);
	parse_str("HTTP/1.1 2000 OK\r\n\r\n", 100, false, &r);
	EXPECT_EQ(-EPROTO, r.err);
	parse_str("HTTP/1.1 200 OK\r\nApi-Version: 1.41.1.1.1.1.1.1.1.1\r\n\r\n",
		  100, false, &r);
	EXPECT_EQ(-EPROTO, r.err);
	free(r.body);
}

/*
 * Found by fuzzing: an Api-Version value holding a NUL was measured with
 * strlen(), so its bound held or not depending on the split.
 */
TEST(api_version_bound_whatever_the_split)
{
	static const char msg[] = "HTTP/1.1 200 OK\r\nApi-Version: \0h; charset=false\r\n"
				  "Content-Length: 0\r\n\r\n";
	struct result r = { 0 };
	size_t cut, len = sizeof(msg) - 1;

	r.body = malloc(len);
	ASSERT_NE(NULL, r.body);
	for (cut = 0; cut <= len; cut++) {
		parse(msg, len, cut, false, 100, false, false, &r);
		EXPECT_EQ(-EPROTO, r.err) TH_LOG("cut %zu", cut);
	}
	free(r.body);
}

/* etcd v2's index (discovery from etcd), as etcd 3.4.23 sends it. */
TEST(etcd_index_whatever_the_split)
{
	static const char ok[] = "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\n"
				 "X-Etcd-Cluster-Id: cdf818194e3a8c32\r\nX-Etcd-Index: 1107\r\n"
				 "Content-Length: 2\r\n\r\n{}";
	static const char big[] = "HTTP/1.1 200 OK\r\nX-Etcd-Index: 18446744073709551616\r\n"
				  "Content-Length: 0\r\n\r\n";
	static const char text[] = "HTTP/1.1 200 OK\r\nx-etcd-index: 12a\r\n"
				   "Content-Length: 0\r\n\r\n";
	struct result r = { 0 };
	size_t cut;

	r.body = malloc(sizeof(ok));
	ASSERT_NE(NULL, r.body);
	for (cut = 0; cut < sizeof(ok); cut++) {
		parse(ok, sizeof(ok) - 1, cut, false, 100, false, false, &r);
		EXPECT_EQ(0, r.err) TH_LOG("cut %zu", cut);
		EXPECT_EQ(1107U, r.etcd_index) TH_LOG("cut %zu", cut);
		parse(big, sizeof(big) - 1, cut % sizeof(big), false, 100, false,
		      false, &r);
		EXPECT_EQ(-EPROTO, r.err) TH_LOG("cut %zu", cut);
		parse(text, sizeof(text) - 1, cut % sizeof(text), false, 100,
		      false, false, &r);
		EXPECT_EQ(-EPROTO, r.err) TH_LOG("cut %zu", cut);
	}
	free(r.body);
}

TEST(request_format)
{
	char buf[128];

	EXPECT_EQ(-ENOSPC, http_request_format(buf, 16, "GET", "h:1", "/_ping"));
	ASSERT_LT(0, http_request_format(buf, sizeof(buf), "GET", "[::1]:2375",
					 "/v1.41/info"));
	EXPECT_EQ(0, strncmp(buf, "GET /v1.41/info HTTP/1.1\r\nHost: [::1]:2375\r\n", 44));
	EXPECT_EQ(0, strcmp(buf + strlen(buf) - 4, "\r\n\r\n"));
}

TEST_HARNESS_MAIN
