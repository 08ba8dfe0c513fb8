// SPDX-License-Identifier: GPL-2.0
/* The Docker façade: containers/json semantics, finding, event filters. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "dockerapi.h"
#include "routes.h"
#include "fleet.h"

/*
 * Engine i (engine-i, 127.0.0.(i+1):2375) runs "web" (running, tier=web,
 * created 100 + i) and "db" (exited, tier=db, created 200 + i); IDs are
 * "a<i>..." and "b<i>...". Engine 2 is named like engine 1's db container
 * does not matter: names repeat across engines on purpose.
 */
static struct engine *fake_engine(int i)
{
	struct engine *e = calloc(1, sizeof(*e));
	struct docker_builder b = { 0 };
	char buf[64], name[32];
	int k;

	snprintf(buf, sizeof(buf), "127.0.0.%d:2375", i + 1);
	e->addr = strdup(buf);
	e->state = ENGINE_HEALTHY;
	e->error = e->api_version = "";
	docker_info_init(&e->info);
	snprintf(buf, sizeof(buf), "ID%d", i);
	snprintf(name, sizeof(name), "engine-%d", i);
	if (docker_info_set_names(&e->info, buf, name))
		abort();
	e->info.ncpu = 4;
	e->info.mem_total = 1000;
	/* Laid out as a listing's answer is: strings interned, names copied. */
	for (k = 0; k < 2; k++) {
		struct docker_fields c = { 0 };
		const char *l = k ? "tier\0db\0" : "tier\0web\0";

		snprintf(c.id, sizeof(c.id), "%c%c%062d", k ? 'b' : 'a', '0' + i, 0);
		c.name = k ? "db" : "web";
		strcpy(c.state, k ? "exited" : "running");
		c.image = k ? "postgres:15" : "nginx";
		c.image_id = c.command = c.status = "";
		c.created = (k ? 200 : 100) + i;
		c.labels_len = k ? 8 : 9;
		c.labels = l;
		c.nlabels = 1;
		if (docker_builder_add(&b, &c))
			abort();
	}
	if (docker_builder_finish(&b, &e->inv.v, &e->inv.n))
		abort();
	docker_builder_release(&b);
	return e;
}

FIXTURE(fleet) {
	struct fleet f;
};

FIXTURE_SETUP(fleet)
{
	int i;

	memset(&self->f, 0, sizeof(self->f));
	self->f.n = 3;
	self->f.v = calloc(3, sizeof(*self->f.v));
	for (i = 0; i < 3; i++)
		self->f.v[i] = fake_engine(i);
}

FIXTURE_TEARDOWN(fleet)
{
	size_t i;

	for (i = 0; i < self->f.n; i++) {
		inventory_clear(&self->f.v[i]->inv);
		docker_info_clear(&self->f.v[i]->info);
		free(self->f.v[i]->addr);
		free(self->f.v[i]);
	}
	free(self->f.v);
}

static struct api_req req;

/* GET /containers/json as the façade answers it, a batch at a time. */
static int list_json(const struct fleet *f, const struct api_req *r,
		     struct json_object **a, char *why)
{
	struct dockerapi_list *l;
	struct strbuf b = { 0 };
	bool done = false;
	int err;

	err = dockerapi_list_new(&l, f, r, true, why, 512);
	if (err)
		return err;
	while (!done)
		if (dockerapi_list_more(l, &b, &done))
			abort();
	dockerapi_list_free(l);
	*a = b.len && b.p[b.len - 1] == '\n' && !strbuf_add(&b, "", 1) ?
	     json_tokener_parse(b.p) : NULL;
	strbuf_release(&b);
	return *a ? 0 : -ENOMEM;
}

/* The names listed for @url, joined; "" for an error (why in @why). */
static const char *list(const struct fleet *f, const char *url, char *why)
{
	static char out[1024];
	struct json_object *a;
	const char *w = NULL;
	size_t i;

	out[0] = '\0';
	why[0] = '\0';
	if (api_req_parse(&req, url, strlen(url), HTTP_GET, &w))
		return "parse error";
	if (list_json(f, &req, &a, why))
		return "";
	for (i = 0; i < json_object_array_length(a); i++) {
		struct json_object *c = json_object_array_get_idx(a, i), *n;

		json_object_object_get_ex(c, "Names", &n);
		strcat(out, json_object_get_string(json_object_array_get_idx(n, 0)));
		strcat(out, " ");
	}
	json_object_put(a);
	return out;
}

TEST_F(fleet, containers_json_as_dockerd)
{
	char why[512];

	/* Running only, newest first, names prefixed with the engine. */
	EXPECT_STREQ("/engine-2/web /engine-1/web /engine-0/web ",
		     list(&self->f, "/v1.41/containers/json", why));
	EXPECT_STREQ("/engine-2/db /engine-1/db /engine-0/db /engine-2/web /engine-1/web /engine-0/web ",
		     list(&self->f, "/containers/json?all=1", why));
	EXPECT_STREQ("/engine-2/web /engine-1/web /engine-0/web ",
		     list(&self->f, "/containers/json?all=false", why));
	/* limit: the newest N, whatever their state. */
	EXPECT_STREQ("/engine-2/db /engine-1/db ",
		     list(&self->f, "/containers/json?limit=2", why));
	/* A status filter shows stopped ones without all. */
	EXPECT_STREQ("/engine-2/db /engine-1/db /engine-0/db ",
		     list(&self->f, "/containers/json?filters=%7B%22status%22%3A%7B%22exited%22%3Atrue%7D%7D", why));
	/* Values of one key: any; keys: all. */
	EXPECT_STREQ("/engine-1/db /engine-1/web ",
		     list(&self->f, "/containers/json?all=1&filters={\"node\":{\"engine-1\":true}}", why));
	EXPECT_STREQ("/engine-2/db /engine-0/db ",
		     list(&self->f, "/containers/json?all=1&filters={\"node\":[\"engine-0\",\"127.0.0.3:2375\"],\"label\":[\"tier=db\"]}", why));
	EXPECT_STREQ("",
		     list(&self->f, "/containers/json?all=1&filters={\"label\":[\"tier=db\",\"tier=web\"]}", why));
	EXPECT_STREQ("/engine-1/web ",
		     list(&self->f, "/containers/json?filters={\"name\":[\"engine-1/\"]}", why));
	EXPECT_STREQ("/engine-0/web ",
		     list(&self->f, "/containers/json?filters={\"id\":[\"a0\"]}", why));
	/* id and name are regular expressions, as in dockerd. */
	EXPECT_STREQ("/engine-2/web /engine-1/web /engine-0/web ",
		     list(&self->f, "/containers/json?filters={\"name\":[\"^/web$\"]}", why));
	EXPECT_STREQ("/engine-1/db /engine-1/web ",
		     list(&self->f, "/containers/json?all=1&filters={\"name\":[\"^/engine-1/\"]}", why));
	EXPECT_STREQ("/engine-2/db /engine-0/db /engine-2/web /engine-0/web ",
		     list(&self->f, "/containers/json?all=1&filters={\"name\":[\"^/engine-[02]/(db|web)$\"]}", why));
	EXPECT_STREQ("/engine-1/db ",
		     list(&self->f, "/containers/json?all=1&filters={\"id\":[\"^b1\"]}", why));
	EXPECT_STREQ("/engine-0/web ",
		     list(&self->f, "/containers/json?filters={\"name\":[\"/engine-0/web\"]}", why));
	/* What does not compile, or could run away, matches nothing. */
	EXPECT_STREQ("", list(&self->f, "/containers/json?all=1&filters={\"name\":[\"(\"]}", why));
	EXPECT_STREQ("", list(&self->f, "/containers/json?all=1&filters={\"name\":[\"(w)\\\\1\"]}", why));
	EXPECT_STREQ("", list(&self->f, "/containers/json?all=1&filters={\"name\":[\"(w{0,100}){100}\"]}", why));
	EXPECT_STREQ("/engine-0/web ",
		     list(&self->f, "/containers/json?filters={\"name\":[\"(\",\"^/engine-0/w{1,3}e\"]}", why));
	EXPECT_STREQ("/engine-2/web /engine-1/web /engine-0/web ",
		     list(&self->f, "/containers/json?all=1&filters={\"ancestor\":[\"nginx:latest\"]}", why));

	/* Refusals, with dockerd's words where it has them. */
	EXPECT_STREQ("", list(&self->f, "/containers/json?filters={\"bogus\":[\"x\"]}", why));
	EXPECT_STREQ("invalid filter 'bogus'", why);
	EXPECT_STREQ("", list(&self->f, "/containers/json?filters={\"status\":[\"up\"]}", why));
	EXPECT_STREQ("invalid filter 'status=up'", why);
	EXPECT_STREQ("", list(&self->f, "/containers/json?filters={\"exited\":[\"0\"]}", why));
	EXPECT_NE(NULL, strstr(why, "not served"));
	EXPECT_STREQ("", list(&self->f, "/containers/json?limit=x", why));
	EXPECT_STREQ("", list(&self->f, "/containers/json?filters=%7B", why));
	EXPECT_NE(NULL, strstr(why, "invalid filters"));
}

TEST_F(fleet, find_as_dockerd)
{
	const struct docker_container *c;
	char why[512], id[DOCKER_ID_MAX];
	struct engine *e;

	EXPECT_EQ(0U, dockerapi_find(&self->f, "engine-1/db", &e, &c, why, sizeof(why)));
	EXPECT_STREQ("engine-1", docker_info_name(&e->info));
	EXPECT_STREQ("db", docker_container_name(c));
	EXPECT_EQ(0U, dockerapi_find(&self->f, "/engine-2/web", &e, &c, why, sizeof(why)));
	EXPECT_STREQ("engine-2", docker_info_name(&e->info));
	EXPECT_EQ(0U, dockerapi_find(&self->f, "b1", &e, &c, why, sizeof(why)));
	EXPECT_STREQ("engine-1", docker_info_name(&e->info));
	EXPECT_EQ(0U, dockerapi_find(&self->f, docker_container_id(&self->f.v[0]->inv.v[1], id), &e, &c, why, sizeof(why)));
	EXPECT_EQ(&self->f.v[0]->inv.v[1], c);
	/* "a" starts three IDs; "web" names three containers. */
	EXPECT_EQ(500U, dockerapi_find(&self->f, "a", &e, &c, why, sizeof(why)));
	EXPECT_STREQ("Multiple IDs found with provided prefix: a", why);
	EXPECT_EQ(409U, dockerapi_find(&self->f, "web", &e, &c, why, sizeof(why)));
	EXPECT_EQ(404U, dockerapi_find(&self->f, "c", &e, &c, why, sizeof(why)));
	EXPECT_STREQ("No such container: c", why);
	EXPECT_EQ(404U, dockerapi_find(&self->f, "engine-9/web", &e, &c, why, sizeof(why)));
}

/* GET /info as the façade answers it, a batch at a time, parsed. */
static struct json_object *info_json(struct fleet *f)
{
	struct dockerapi_info *in;
	struct strbuf b = { 0 };
	struct json_object *o = NULL;
	bool done = false;

	if (dockerapi_info_new(&in, f, true))
		return NULL;
	while (!done)
		if (dockerapi_info_more(in, &b, &done))
			abort();
	dockerapi_info_free(in);
	/* As dockerd's: one line. */
	if (b.len && b.p[b.len - 1] == '\n' &&
	    !memchr(b.p, '\n', b.len - 1) && !strbuf_add(&b, "", 1))
		o = json_tokener_parse(b.p);
	strbuf_release(&b);
	return o;
}

TEST_F(fleet, info_sums_and_lists_engines)
{
	struct json_object *o = info_json(&self->f), *v, *st;

	ASSERT_NE(NULL, o);
	ASSERT_TRUE(json_object_object_get_ex(o, "NCPU", &v));
	EXPECT_EQ(12, json_object_get_int(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "ContainersRunning", &v));
	EXPECT_EQ(3, json_object_get_int(v));
	ASSERT_TRUE(json_object_object_get_ex(o, "SystemStatus", &st));
	/* Role, Nodes, then 6 lines an engine. */
	EXPECT_EQ(2 + 3 * 6, (int)json_object_array_length(st));
	v = json_object_array_get_idx(st, 2);
	EXPECT_STREQ(" engine-0", json_object_get_string(json_object_array_get_idx(v, 0)));
	EXPECT_STREQ("127.0.0.1:2375", json_object_get_string(json_object_array_get_idx(v, 1)));
	json_object_put(o);
}

TEST_F(fleet, events_tagged_and_filtered)
{
	static struct dockerapi_evq q;
	struct json_object *raw, *ev;
	char why[512];
	const char *w;

	raw = json_tokener_parse("{\"status\":\"start\",\"id\":\"a1\",\"Type\":\"container\","
				 "\"Action\":\"start\",\"Actor\":{\"ID\":\"a1\",\"Attributes\":"
				 "{\"name\":\"web\",\"image\":\"nginx\",\"tier\":\"web\"}},"
				 "\"time\":100,\"timeNano\":100000000005}");
	ev = dockerapi_event_tag(self->f.v[1], raw, 0);
	json_object_put(raw);
	ASSERT_NE(NULL, ev);
	EXPECT_EQ(100000000005LL, dockerapi_event_ns(ev));

#define MATCH(url) (!api_req_parse(&req, url, strlen(url), HTTP_GET, &w) && \
		    !dockerapi_events_query(&req, &q, 0, why, sizeof(why)) && \
		    dockerapi_event_match(&q, ev))
	EXPECT_TRUE(MATCH("/events"));
	EXPECT_TRUE(MATCH("/events?filters={\"node\":[\"engine-1\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"node\":[\"127.0.0.2:2375\"]}"));
	EXPECT_FALSE(MATCH("/events?filters={\"node\":[\"engine-0\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"event\":[\"stop\",\"start\"],\"type\":[\"container\"]}"));
	EXPECT_FALSE(MATCH("/events?filters={\"type\":[\"network\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"container\":[\"web\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"container\":[\"a1\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"label\":[\"tier=web\",\"node.name=engine-1\"]}"));
	EXPECT_FALSE(MATCH("/events?filters={\"label\":[\"tier=db\"]}"));
	EXPECT_TRUE(MATCH("/events?filters={\"image\":[\"nginx\"]}"));
	EXPECT_FALSE(MATCH("/events?filters={\"scope\":[\"local\"]}"));
	EXPECT_NE(NULL, strstr(why, "invalid filter 'scope'"));
	EXPECT_FALSE(MATCH("/events?since=20&until=10"));
	EXPECT_FALSE(MATCH("/events?since=yesterday"));
	json_object_put(ev);
}

/* A request as the routes see it: parsed, and its api found. */
static unsigned int routed(const char *url)
{
	const struct route *row;
	const char *why = NULL;
	unsigned int st = api_req_parse(&req, url, strlen(url), HTTP_GET, &why);

	return st ? st : route_find(&req, &row, &why);
}

TEST(versions_and_headers)
{
	char why[256];

	ASSERT_EQ(0U, routed("/v1.41/info"));
	EXPECT_EQ(0U, dockerapi_check_version(&req, why, sizeof(why)));
	ASSERT_EQ(0U, routed("/v1.50/info"));
	EXPECT_EQ(400U, dockerapi_check_version(&req, why, sizeof(why)));
	EXPECT_STREQ("client version 1.50 is too new. Maximum supported API version is 1.41", why);
	ASSERT_EQ(0U, routed("/v1.12/info"));
	EXPECT_EQ(400U, dockerapi_check_version(&req, why, sizeof(why)));
	EXPECT_NE(NULL, strstr(DOCKERAPI_HEADERS, "Api-Version: 1.41\r\n"));
}

TEST_HARNESS_MAIN
