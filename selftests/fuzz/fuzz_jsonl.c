// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the incremental JSON decoder (agent/jsonl.c) as the
 * agent drives it for an /events stream: values of any size and in any
 * split, each handed to docker_event_parse().
 *
 * Input: two control bytes, then the body. Byte 0 picks the bound on one
 * value (the agent's 1 MiB, or small enough for the seeds to cross); byte
 * 1 seeds the split. Each input is decoded whole and in pieces: the values
 * delivered, and the verdict, must not depend on how the bytes arrive.
 */
#include <errno.h>

#include "docker.h"
#include "jsonl.h"
#include "fuzz.h"

#define FUZZ_JSON_DEPTH		64	/* as the agent's pooled tokeners */
#define FUZZ_MAX_EVENT		(1024 * 1024)
#define CTL_SMALL		0x01

struct outcome {
	int ret;
	unsigned int values;
	uint64_t hash;
	bool partial;
};


static int on_value(void *arg, struct json_object *obj)
{
	struct outcome *o = arg;
	struct docker_event ev;
	const char *s;

	o->values++;
	/* The printed value, so two runs compare by what they decoded. */
	s = json_object_to_json_string_ext(obj, JSON_C_TO_STRING_PLAIN);
	o->hash = fuzz_hash(o->hash, s, strlen(s) + 1);
	if (!docker_event_parse(obj, &ev)) {
		fuzz_assert(memchr(ev.type, '\0', sizeof(ev.type)));
		fuzz_assert(memchr(ev.action, '\0', sizeof(ev.action)));
		fuzz_assert(memchr(ev.id, '\0', sizeof(ev.id)));
	}
	json_object_put(obj);
	return 0;
}

static void decode(const uint8_t *data, size_t size, uint8_t ctl, bool split,
		   uint8_t seed, struct outcome *o)
{
	size_t max = ctl & CTL_SMALL ? 200 : FUZZ_MAX_EVENT;
	struct fuzz_split s;
	json_tokener *tok;
	struct jsonl j;
	size_t off = 0;

	/*
	 * A new tokener for each decode, as the agent's pool gives each
	 * response: json-c 0.16's reset keeps a pending high surrogate
	 * (corpus/crashes/jsonl-tokener-reset-surrogate), so a reused one
	 * could change the next stream's values.
	 */
	tok = json_tokener_new_ex(FUZZ_JSON_DEPTH);
	fuzz_assert(tok);
	memset(o, 0, sizeof(*o));
	o->hash = FUZZ_HASH_INIT;
	fuzz_split_init(&s, seed);
	jsonl_init(&j, tok, max, on_value, o);
	while (off < size) {
		size_t n = split ? fuzz_split_next(&s, size - off) : size;
		char *piece = fuzz_piece(data + off, n);

		o->ret = jsonl_feed(&j, piece, n);
		free(piece);
		if (o->ret) {
			fuzz_assert(o->ret == -EPROTO || o->ret == -EMSGSIZE);
			fuzz_assert(j.error);
			break;
		}
		off += n;
	}
	o->partial = jsonl_partial(&j);
	json_tokener_free(tok);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;

	if (size < 2)
		return 0;
	decode(data + 2, size - 2, data[0], false, data[1], &whole);
	decode(data + 2, size - 2, data[0], true, data[1], &pieces);

	/* The split changes nothing: not the error, nor any value before it. */
	fuzz_assert(whole.ret == pieces.ret);
	fuzz_assert(whole.values == pieces.values);
	fuzz_assert(whole.hash == pieces.hash);
	if (!whole.ret)
		fuzz_assert(whole.partial == pieces.partial);
	return 0;
}
