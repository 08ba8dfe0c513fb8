// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: etcd's JSON gateway answers (agent/cluster/etcd_msg.c)
 * as the agent reads them: a body decoded by jsonl.c, each value unwrapped
 * by etcd_msg_open() and read as the answer of the call byte 0 picks
 * (range, grant, keepalive, create txn, watch message).
 *
 * Every key handed on must be what the bounds promise (non-empty, at most
 * ETCD_MAX_KEY bytes, no NUL inside, NUL-terminated); every refusal must
 * say why.
 */
#include <errno.h>

#include "etcd_msg.h"
#include "jsonl.h"
#include "fuzz.h"

#define FUZZ_JSON_DEPTH	32

static int check_kv(void *arg, const struct etcd_kv *kv)
{
	unsigned int *keys = arg;

	fuzz_assert(kv->keylen >= 1 && kv->keylen <= ETCD_MAX_KEY);
	fuzz_assert(strlen(kv->key) == kv->keylen);
	fuzz_assert(kv->valuelen <= ETCD_MAX_VALUE);
	fuzz_assert(strlen(kv->value) == kv->valuelen);
	(*keys)++;
	return 0;
}

static int on_value(void *arg, struct json_object *obj)
{
	uint8_t kind = *(uint8_t *)arg;
	struct json_object *body;
	unsigned int keys = 0;
	const char *why = NULL;
	bool created, canceled;
	int64_t rev, id, ttl;
	int err;

	err = etcd_msg_open(obj, &body, &rev, &why);
	if (!err) {
		fuzz_assert(body && rev >= 0);
		switch (kind % 5) {
		case 0:
			err = etcd_msg_range(body, check_kv, &keys, &why);
			break;
		case 1:
			err = etcd_msg_grant(body, &id, &ttl, &why);
			fuzz_assert(err || (id > 0 && ttl > 0));
			break;
		case 2:
			err = etcd_msg_keepalive(body, 42, &ttl, &why);
			fuzz_assert(err || ttl >= 0);
			break;
		case 3:
			err = etcd_msg_create(body, &created, check_kv, &keys,
					      &why);
			fuzz_assert(err || !created || !keys);
			break;
		default:
			err = etcd_msg_watch(body, &created, &canceled, check_kv,
					     &keys, &why);
			break;
		}
	}
	fuzz_assert(!err || ((err == -EPROTO || err == -EIO) && why));
	json_object_put(obj);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	json_tokener *tok;
	struct jsonl j;
	uint8_t kind;
	char *body;

	if (size < 1)
		return 0;
	kind = data[0];
	tok = json_tokener_new_ex(FUZZ_JSON_DEPTH);
	fuzz_assert(tok);
	jsonl_init(&j, tok, 1 << 20, on_value, &kind);
	body = fuzz_piece(data + 1, size - 1);
	jsonl_feed(&j, body, size - 1);
	free(body);
	json_tokener_free(tok);
	return 0;
}
