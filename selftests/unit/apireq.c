// SPDX-License-Identifier: GPL-2.0
/* Control API requests taken apart: head, route, query, Docker filters. */
#include <errno.h>
#include <string.h>

#include "kselftest_harness.h"
#include "apireq.h"
#include "routes.h"

static struct api_req req;

static const struct route *row;

static unsigned int parse(const char *url, unsigned int method)
{
	const char *why = NULL;
	unsigned int st = api_req_parse(&req, url, strlen(url), method, &why);

	if (!st)
		st = route_find(&req, &row, &why);
	if (st && !why)
		return 999;
	return st;
}

TEST(routes_ours_and_dockers)
{
	ASSERT_EQ(0U, parse("/v1/nodes?state=healthy", HTTP_GET));
	ASSERT_NE(NULL, row);
	EXPECT_STREQ("/v1/nodes", row->path);
	EXPECT_FALSE(req.docker);
	EXPECT_STREQ("healthy", api_req_param(&req, "state"));

	ASSERT_EQ(0U, parse("/v1/nodes/127.1.0.8%3A2375", HTTP_GET));
	ASSERT_NE(NULL, row);
	EXPECT_STREQ("node", row->label);
	EXPECT_STREQ("127.1.0.8:2375", req.ref);
	ASSERT_EQ(0U, parse("/metrics", HTTP_GET));
	ASSERT_NE(NULL, row);
	EXPECT_FALSE(req.docker);

	ASSERT_EQ(0U, parse("/_ping", HTTP_HEAD));
	ASSERT_NE(NULL, row);
	EXPECT_STREQ("/_ping", row->path);
	EXPECT_TRUE(row->head);
	EXPECT_TRUE(req.docker);
	EXPECT_EQ(NULL, req.version);
	EXPECT_EQ((int)METHOD_HEAD, (int)req.method);

	ASSERT_EQ(0U, parse("/v1.41/containers/json?all=1&limit=3", HTTP_GET));
	ASSERT_NE(NULL, row);
	EXPECT_STREQ("docker", row->label);
	EXPECT_STREQ("1.41", req.version);
	EXPECT_STREQ("/containers/json", req.path);
	EXPECT_STREQ("3", api_req_param(&req, "limit"));

	/* A name may be NODE/NAME. */
	ASSERT_EQ(0U, parse("/v1.41/containers/engine-3/web/json", HTTP_GET));
	ASSERT_NE(NULL, row);
	EXPECT_STREQ("/containers/{id}/json", row->path);
	EXPECT_STREQ("engine-3/web", req.ref);
	EXPECT_STREQ("/containers/engine-3/web/json", req.path);
	ASSERT_EQ(0U, parse("/containers/%2Fweb/json", HTTP_GET));
	EXPECT_STREQ("/web", req.ref);
	ASSERT_EQ(0U, parse("/containers//json", HTTP_GET));
	EXPECT_EQ(NULL, row);
	EXPECT_TRUE(req.docker);

	ASSERT_EQ(0U, parse("/v1.41/containers/create", HTTP_POST));
	EXPECT_EQ((int)METHOD_OTHER, (int)req.method);
	EXPECT_TRUE(req.docker);
	EXPECT_EQ(NULL, row);
	/* Under /v1/ is ours, known or not: never a Docker API version 1. */
	ASSERT_EQ(0U, parse("/v1/nope", HTTP_GET));
	EXPECT_EQ(NULL, row);
	EXPECT_FALSE(req.docker);
	EXPECT_EQ(NULL, req.version);
	ASSERT_EQ(0U, parse("/v1/node", HTTP_GET));
	EXPECT_EQ(NULL, row);
	EXPECT_FALSE(req.docker);

	EXPECT_EQ(400U, parse("/v1.41/containers/json?name=%00", HTTP_GET));
	EXPECT_EQ(400U, parse("/v1.41/containers/a%zz/json", HTTP_GET));
	EXPECT_EQ(400U, parse("/v1/nodes/a%zz", HTTP_GET));
	EXPECT_EQ(400U, parse("not a target", HTTP_GET));
}

TEST(query_bounded_and_decoded)
{
	char url[API_MAX_REQUEST];
	int i, n = 0;

	ASSERT_EQ(0U, parse("/v1/containers?name=a+b&label=k%3Dv&x", HTTP_GET));
	EXPECT_STREQ("a b", api_req_param(&req, "name"));
	EXPECT_STREQ("k=v", api_req_param(&req, "label"));
	EXPECT_STREQ("", api_req_param(&req, "x"));
	EXPECT_EQ(NULL, api_req_param(&req, "y"));

	n = snprintf(url, sizeof(url), "/v1/nodes?");
	for (i = 0; i <= API_REQ_MAX_PARAMS; i++)
		n += snprintf(url + n, sizeof(url) - n, "a=%d&", i);
	EXPECT_EQ(400U, parse(url, HTTP_GET));
}

TEST(versions)
{
	EXPECT_EQ(0, api_version_cmp("1.41", "1.41"));
	EXPECT_GT(0, api_version_cmp("1.9", "1.41"));
	EXPECT_LT(0, api_version_cmp("1.50", "1.41"));
	EXPECT_GT(0, api_version_cmp("1", "1.24"));
	EXPECT_LT(0, api_version_cmp("2", "1.99"));
	EXPECT_FALSE(api_version_valid("1..2"));
	EXPECT_FALSE(api_version_valid(".1"));
	EXPECT_TRUE(api_version_valid("1.41"));
}

TEST(docker_filters)
{
	static struct docker_filters f;
	static const char *const ok[] = { "label", "status", NULL };
	const char *why = NULL, *bad = NULL;

	ASSERT_EQ(0, docker_filters_parse("", &f, &why));
	EXPECT_EQ(0U, f.n);
	ASSERT_EQ(0, docker_filters_parse(
		"{\"label\":{\"a=b\":true,\"c\":true},\"status\":{\"running\":true}}",
		&f, &why));
	ASSERT_EQ(3U, f.n);
	EXPECT_STREQ("label", f.key[0]);
	EXPECT_STREQ("a=b", f.value[0]);
	EXPECT_STREQ("c", f.value[1]);
	EXPECT_STREQ("running", f.value[2]);
	EXPECT_TRUE(docker_filters_known(&f, ok, &bad));
	/* The old form. */
	ASSERT_EQ(0, docker_filters_parse("{\"name\":[\"web\",\"db\"]}", &f, &why));
	ASSERT_EQ(2U, f.n);
	EXPECT_STREQ("db", f.value[1]);
	EXPECT_FALSE(docker_filters_known(&f, ok, &bad));
	EXPECT_STREQ("name", bad);

	EXPECT_EQ(-EINVAL, docker_filters_parse("{", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("[]", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("{\"a\":1}", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("{\"a\":{\"b\":1}}", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("{\"a\":[1]}", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("{\"a\":{\"b\":{\"c\":true}}}", &f, &why));
	EXPECT_EQ(-EINVAL, docker_filters_parse("{\"a\":[\"x\"]} trailing", &f, &why));
}

TEST(timestamps)
{
	long long ns;

	ASSERT_EQ(0, docker_timestamp_parse("1700000000", &ns));
	EXPECT_EQ(1700000000000000000LL, ns);
	ASSERT_EQ(0, docker_timestamp_parse("1700000000.5", &ns));
	EXPECT_EQ(1700000000500000000LL, ns);
	ASSERT_EQ(0, docker_timestamp_parse("1.000000001", &ns));
	EXPECT_EQ(1000000001LL, ns);
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("", &ns));
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("1.", &ns));
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("1.0000000001", &ns));
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("-5", &ns));
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("10m", &ns));
	/* What fuzzing found: eleven digits overflowed in nanoseconds. */
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("17000000020.000000001", &ns));
	EXPECT_EQ(-EINVAL, docker_timestamp_parse("9795707879", &ns));
	ASSERT_EQ(0, docker_timestamp_parse("9223372035.999999999", &ns));
	EXPECT_EQ(9223372035999999999LL, ns);
}

TEST(head_in_pieces)
{
	static struct api_head h;
	static const char post[] =
		"POST /v1.41/containers/create HTTP/1.1\r\nHost: x\r\n"
		"Content-Length: 5\r\n\r\nhello";
	char big[API_MAX_REQUEST + 64];
	size_t i;

	api_head_init(&h);
	for (i = 0; i < sizeof(post) - 1 && !h.complete; i++)
		ASSERT_EQ(0U, api_head_feed(&h, post + i, 1));
	EXPECT_TRUE(h.complete);
	EXPECT_TRUE(h.has_body);
	EXPECT_EQ((unsigned int)HTTP_POST, h.method);
	EXPECT_STREQ("/v1.41/containers/create", h.url);

	api_head_init(&h);
	ASSERT_EQ(400U, api_head_feed(&h, "BREW / HTCPCP/1.0\r\n\r\n", 21));
	EXPECT_NE(NULL, h.why);

	api_head_init(&h);
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	EXPECT_EQ(431U, api_head_feed(&h, big, sizeof(big)));
	api_head_init(&h);
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	EXPECT_EQ(0U, api_head_feed(&h, big, 4000));
	EXPECT_EQ(431U, api_head_feed(&h, big + 4000, 5000));
}

TEST_HARNESS_MAIN
