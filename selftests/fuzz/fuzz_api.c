// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the control API's request parsing (apireq.c), the
 * route it finds (routes.c) and what the Docker façade makes of a request
 * (dockerapi*.c).
 * The first byte chooses how the rest, the bytes of a request as a client
 * sends them, is cut into reads; the head is parsed piece by piece, the
 * target taken apart and routed, the query and Docker filters read, and the façade's
 * filters run against a small fake fleet. Every pointer the parse hands
 * out must stay inside its buffers, every count within its bound.
 */
#include <errno.h>
#include <stdbool.h>

#include "apireq.h"
#include "dockerapi.h"
#include "fleet.h"
#include "fuzz.h"
#include "routes.h"

static struct fleet fleet;
static struct json_object *sample_ev;

/* Two engines of two containers each, with labels. */
static void fake_fleet(void)
{
	static struct engine engines[2];
	static struct engine *v[2];
	static char addrs[2][32], names[2][16], ids[2][8];
	static const char labels[] = "com.example.tier\0web\0k\0\0";
	struct docker_builder b = { 0 };
	int i, k;

	for (i = 0; i < 2; i++) {
		struct engine *e = &engines[i];

		snprintf(addrs[i], sizeof(addrs[i]), "127.0.0.%d:2375", i + 1);
		e->addr = addrs[i];
		snprintf(names[i], sizeof(names[i]), "engine-%d", i);
		snprintf(ids[i], sizeof(ids[i]), "ID%d", i);
		/* Never freed: a fuzz target's fleet lives as long as it. */
		docker_info_init(&e->info);
		fuzz_assert(!docker_info_set_names(&e->info, ids[i], names[i]));
		e->error = e->api_version = "";
		/* Laid out as a listing's answer is. */
		for (k = 0; k < 2; k++) {
			struct docker_fields c = { 0 };

			snprintf(c.id, sizeof(c.id), "%x%063d", 10 + k, i);
			c.name = k ? "web-1" : "web-0";
			c.image = "nginx:1.25";
			c.image_id = c.command = c.status = "";
			snprintf(c.state, sizeof(c.state), k ? "exited" : "running");
			c.created = 1700000000 + i * 10 + k;
			c.labels = labels;
			c.labels_len = sizeof(labels) - 1;
			c.nlabels = 2;
			fuzz_assert(!docker_builder_add(&b, &c));
		}
		fuzz_assert(!docker_builder_finish(&b, &e->inv.v, &e->inv.n));
		v[i] = e;
	}
	docker_builder_release(&b);
	fleet.v = v;
	fleet.n = 2;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	struct json_object *raw;

	(void)argc;
	(void)argv;

	fake_fleet();
	raw = json_tokener_parse(
		"{\"status\":\"start\",\"id\":\"a0\",\"from\":\"nginx\","
		"\"Type\":\"container\",\"Action\":\"start\",\"Actor\":{\"ID\":"
		"\"a0\",\"Attributes\":{\"image\":\"nginx\",\"name\":\"web-0\"}},"
		"\"scope\":\"local\",\"time\":1700000000,"
		"\"timeNano\":1700000000000000000}");
	fuzz_assert(raw);
	sample_ev = dockerapi_event_tag(fleet.v[0], raw, 0);
	json_object_put(raw);
	fuzz_assert(sample_ev);
	return 0;
}

#define inside(p, buf) \
	fuzz_assert((const char *)(p) >= (const char *)(buf) && \
		    (const char *)(p) < (const char *)(buf) + sizeof(buf))

static void filters(const char *s)
{
	static struct docker_filters f;
	const char *why = NULL;
	unsigned int i;

	if (docker_filters_parse(s, &f, &why)) {
		fuzz_assert(why);
		return;
	}
	fuzz_assert(f.n <= DOCKER_FILTERS_MAX);
	for (i = 0; i < f.n; i++) {
		inside(f.key[i], f.buf);
		inside(f.value[i], f.buf);
		fuzz_assert(memchr(f.value[i], '\0',
				   f.buf + sizeof(f.buf) - f.value[i]));
	}
}

static void docker(const struct api_req *r)
{
	static struct dockerapi_evq q;
	const struct docker_container *c;
	struct dockerapi_list *l = NULL;
	struct strbuf b = { 0 };
	struct json_object *o = NULL;
	bool done = false;
	struct engine *e;
	char why[512];
	unsigned int st;
	int err;

	st = dockerapi_check_version(r, why, sizeof(why));
	fuzz_assert(!st || st == 400);
	err = dockerapi_list_new(&l, &fleet, r, false, why, sizeof(why));
	fuzz_assert(!err || err == -EINVAL);
	while (!err && !done)
		err = dockerapi_list_more(l, &b, &done);
	if (l) {
		fuzz_assert(!err && !strbuf_add(&b, "", 1));
		o = json_tokener_parse(b.p);
		fuzz_assert(json_object_array_length(o) <= 4);
		json_object_put(o);
	}
	dockerapi_list_free(l);
	strbuf_release(&b);
	if (!dockerapi_events_query(r, &q, 0, why, sizeof(why)))
		dockerapi_event_match(&q, sample_ev);
	if (r->ref) {
		st = dockerapi_find(&fleet, r->ref, &e, &c, why, sizeof(why));
		fuzz_assert(st == 0 || st == 404 || st == 409 || st == 500);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct api_head h;
	static struct api_req r;
	const struct route *row;
	struct fuzz_split split;
	const char *why = NULL, *p;
	unsigned int st = 0, i;
	long long ns;
	size_t off = 0, n;

	if (!size)
		return 0;
	fuzz_split_init(&split, data[0]);
	data++;
	size--;
	api_head_init(&h);
	while (off < size && !st && !h.complete) {
		char *piece;

		n = fuzz_split_next(&split, size - off);
		piece = fuzz_piece(data + off, n);
		st = api_head_feed(&h, piece, n);
		free(piece);
		off += n;
	}
	if (st) {
		fuzz_assert(st == 400 || st == 431);
		fuzz_assert(h.why);
		return 0;
	}
	fuzz_assert(h.got <= API_MAX_REQUEST);
	fuzz_assert(h.url_len < sizeof(h.url));
	if (!h.complete)
		return 0;

	st = api_req_parse(&r, h.url, h.url_len, h.method, &why);
	if (st) {
		fuzz_assert(st == 400 || st == 414);
		fuzz_assert(why);
		return 0;
	}
	fuzz_assert(r.nparams <= API_REQ_MAX_PARAMS);
	st = route_find(&r, &row, &why);
	if (st) {
		fuzz_assert(st == 400 && why && r.ref);
		return 0;
	}
	fuzz_assert(!row || (row->api == ROUTE_DOCKER) == r.docker);
	fuzz_assert(!r.ref || row);
	inside(r.path, r.buf);
	for (i = 0; i < r.nparams; i++) {
		inside(r.key[i], r.buf);
		if (r.value[i])
			inside(r.value[i], r.buf);
	}
	if (r.ref) {
		inside(r.ref, r.ref_buf);
		fuzz_assert(r.ref[0]);
	}
	if (r.version) {
		fuzz_assert(strlen(r.version) < sizeof(r.version_buf));
		/* An order: antisymmetric. */
		fuzz_assert(api_version_cmp(r.version, DOCKERAPI_VERSION) ==
			    -api_version_cmp(DOCKERAPI_VERSION, r.version));
	}
	p = api_req_param(&r, "filters");
	if (p)
		filters(p);
	p = api_req_param(&r, "since");
	if (p && !docker_timestamp_parse(p, &ns))
		fuzz_assert(ns >= 0);
	if (r.docker)
		docker(&r);
	return 0;
}
