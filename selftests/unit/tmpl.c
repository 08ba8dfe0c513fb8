// SPDX-License-Identifier: GPL-2.0
/*
 * The CLI's --format templates (lib/tmpl.c) and its address order
 * (hostport_cmp): what a script reading peerwatch's output relies on.
 */
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "hostport.h"
#include "tmpl.h"

static const char *const fields[] = {
	"addr", "name", "state", "node_name", "id", "api_version", NULL,
};

/* @src rendered for @json: the text, or NULL if refused (why in @why). */
static char *render(const char *src, const char *json, bool header,
		    char *why, size_t len)
{
	struct json_object *o = json_tokener_parse(json);
	struct strbuf b = { 0 };
	const char *w = NULL;
	struct tmpl *t;
	char *s = NULL;

	why[0] = '\0';
	if (tmpl_new(&t, src, fields, why, len, &w)) {
		if (w != why)
			snprintf(why, len, "%s", w);
		json_object_put(o);
		return NULL;
	}
	if (!(header ? tmpl_header(t, &b) : tmpl_render(t, o, &b)))
		s = strndup(b.p ? b.p : "", b.len);
	strbuf_release(&b);
	tmpl_free(t);
	json_object_put(o);
	return s;
}

TEST(format_renders)
{
	static const char row[] =
		"{\"addr\":\"127.1.0.9:2375\",\"name\":\"\",\"state\":\"down\","
		"\"node_name\":null,\"id\":\"AB:CD\",\"api_version\":\"1.41\"}";
	static const struct {
		const char *src, *want;
		bool header;
	} ok[] = {
		{ "{{.Addr}}", "127.1.0.9:2375", false },
		{ "{{ .Addr }} {{.State}}", "127.1.0.9:2375 down", false },
		{ "{{.addr}}={{.node_name}}", "127.1.0.9:2375=", false },
		{ "{{.NodeName}}|{{.Name}}", "|", false },
		{ "{{json .State}}", "\"down\"", false },
		{ "{{json .NodeName}}", "null", false },
		{ "{{.Addr}}\\t{{.State}}\\n", "127.1.0.9:2375\tdown\n", false },
		{ "table {{.Addr}}\\t{{.Name}}", "127.1.0.9:2375\t-", false },
		{ "table {{.Addr}}\\t{{.NodeName}}", "ADDR\tNODE NAME", true },
		{ "x{{json .}}", "x{\"addr\":\"127.1.0.9:2375\",\"name\":\"\",\"state\":\"down\",\"node_name\":null,\"id\":\"AB:CD\",\"api_version\":\"1.41\"}", false },
		{ "table {{json .}}", "JSON", true },
		{ "no field", "no field", false },
		{ "{{.ID}} {{.APIVersion}} {{.Id}}", "AB:CD 1.41 AB:CD", false },
	};
	char why[256], *s;
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		s = render(ok[i].src, row, ok[i].header, why, sizeof(why));
		ASSERT_NE(NULL, s) TH_LOG("%s: %s", ok[i].src, why);
		EXPECT_STREQ(ok[i].want, s) TH_LOG("%s", ok[i].src);
		free(s);
	}
}

TEST(format_refuses)
{
	static const struct {
		const char *src, *why;
	} bad[] = {
		{ "{{.Bogus}}", "unknown field .Bogus: fields are .Addr .Name .State .NodeName .ID .APIVersion" },
		{ "{{.Addr}", "a {{ without its }}" },
		{ "{{Addr}}", "'{{Addr}}': want {{.Field}}, {{json .Field}} or {{json .}}" },
		{ "{{.Addr | upper}}", "'{{.Addr | upper}}': want {{.Field}}, {{json .Field}} or {{json .}}" },
		{ "{{}}", "'{{}}': want {{.Field}}, {{json .Field}} or {{json .}}" },
		{ "", "an empty template" },
		{ "table", "an empty template" },
	};
	char why[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(NULL, render(bad[i].src, "{}", false, why, sizeof(why)));
		EXPECT_STREQ(bad[i].why, why) TH_LOG("%s", bad[i].src);
	}
}

TEST(columns_align)
{
	static const char in[] = "ADDR\tNAME\tSTATE\n127.1.0.10:2375\t-\tdown\nx\tnode-1\thealthy\n";
	static const char want[] =
		"ADDR             NAME    STATE\n"
		"127.1.0.10:2375  -       down\n"
		"x                node-1  healthy\n";
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	ASSERT_NE(NULL, f);
	ASSERT_EQ(0, tmpl_columns(in, strlen(in), f));
	fclose(f);
	EXPECT_STREQ(want, out);
	free(out);
}

static int cmp(const void *a, const void *b)
{
	return hostport_cmp(*(const char *const *)a, *(const char *const *)b);
}

TEST(addresses_sort_numerically)
{
	const char *v[] = {
		"engine-b:2375", "127.1.0.10:2375", "[::1]:2375", "127.1.0.9:2375",
		"[fd00::10]:2375", "10.0.0.1:2376", "[fd00::9]:2375",
		"127.1.0.9:80", "engine-a:2375", "10.0.0.1:2375", "127.1.0.9",
		"fd00::2",
	};
	static const char *const want[] = {
		"10.0.0.1:2375", "10.0.0.1:2376", "127.1.0.9", "127.1.0.9:80",
		"127.1.0.9:2375", "127.1.0.10:2375", "[::1]:2375", "fd00::2",
		"[fd00::9]:2375", "[fd00::10]:2375", "engine-a:2375",
		"engine-b:2375",
	};
	size_t i;

	qsort(v, sizeof(v) / sizeof(v[0]), sizeof(v[0]), cmp);
	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		EXPECT_STREQ(want[i], v[i]) TH_LOG("position %zu", i);
}

TEST_HARNESS_MAIN
