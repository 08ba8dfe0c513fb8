// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: etcd's v2 answers as discovery from etcd reads them
 * (agent/watch/etcdv2.c): a body decoded by jsonl.c, its first value read
 * as the listing of the directory when bit 0 of byte 0 is set, every
 * other value as a watch event applied to the same engines.
 *
 * Every engine kept must be a direct child key of the directory mapped to
 * an address that parses again, within DISCOVERY_MAX_ENGINES; every
 * refusal must say why; an event's index is never 0.
 */
#include <errno.h>

#include "discovery.h"
#include "etcdv2.h"
#include "hostport.h"
#include "jsonl.h"
#include "fuzz.h"

#define FUZZ_JSON_DEPTH	32
#define FUZZ_DIR	"/swarm/docker/swarm/nodes"

struct run {
	bool list;			/* the next value is the listing */
	struct json_object *nodes;
};

static void warn(void *arg, const char *key, const char *why)
{
	(void)arg;
	fuzz_assert(why && *why);
	fuzz_assert(!key || key[0] == '/');
}

static void check_nodes(struct json_object *nodes)
{
	size_t n = strlen(FUZZ_DIR);

	fuzz_assert(json_object_object_length(nodes) <= DISCOVERY_MAX_ENGINES);
	json_object_object_foreach(nodes, key, val) {
		const char *why = NULL;
		char host[256];
		uint16_t port;

		fuzz_assert(!strncmp(key, FUZZ_DIR "/", n + 1));
		fuzz_assert(key[n + 1] && !strchr(key + n + 1, '/'));
		fuzz_assert(json_object_is_type(val, json_type_string));
		fuzz_assert(!hostport_parse(json_object_get_string(val), host,
					    sizeof(host), &port, &why));
	}
}

static int on_value(void *arg, struct json_object *obj)
{
	struct run *r = arg;
	const char *why = NULL;
	uint64_t index = 0;
	bool relist = false;
	int err;

	if (r->list) {
		r->list = false;
		err = etcdv2_parse_list(obj, FUZZ_DIR, r->nodes, warn, NULL,
					&why);
		fuzz_assert(!err || json_object_object_length(r->nodes) == 0);
	} else {
		err = etcdv2_apply_event(obj, FUZZ_DIR, r->nodes, &index,
					 &relist, warn, NULL, &why);
		fuzz_assert(err || index > 0);
	}
	fuzz_assert(!err || (err == -EPROTO && why));
	check_nodes(r->nodes);
	json_object_put(obj);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run r;
	json_tokener *tok;
	struct jsonl j;
	char *body;

	if (size < 1)
		return 0;
	r.list = data[0] & 1;
	r.nodes = json_object_new_object();
	tok = json_tokener_new_ex(FUZZ_JSON_DEPTH);
	fuzz_assert(tok && r.nodes);
	jsonl_init(&j, tok, 1 << 20, on_value, &r);
	body = fuzz_piece(data + 1, size - 1);
	jsonl_feed(&j, body, size - 1);
	free(body);
	json_tokener_free(tok);
	json_object_put(r.nodes);
	return 0;
}
