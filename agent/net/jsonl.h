/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_JSONL_H
#define PEERWATCH_JSONL_H

#include <stdbool.h>
#include <stddef.h>
#include <json-c/json.h>

/* Receives each complete value; owns it (json_object_put). */
typedef int (*jsonl_fn)(void *arg, struct json_object *obj);

/*
 * A sequence of JSON objects or arrays (one response body, or the lines
 * of an /events stream) decoded as its bytes arrive: the same values,
 * however the bytes are split.
 */
struct jsonl {
	json_tokener *tok;
	jsonl_fn fn;
	void *arg;
	size_t max_value;
	size_t value_bytes;
	bool partial;
	/* Where the current value ends, and a number not yet whole: see jsonl.c. */
	unsigned int depth;
	bool in_string, escape;
	char carry[64];
	unsigned int ncarry;
	unsigned int numrun;		/* number characters in a row */
	const char *error;
};

/* @tok may be set later, before the first jsonl_feed(). */
void jsonl_init(struct jsonl *j, json_tokener *tok, size_t max_value,
		jsonl_fn fn, void *arg);
/* 0, -EPROTO (not JSON), -EMSGSIZE (a value above max_value) or fn's error. */
int jsonl_feed(struct jsonl *j, const char *buf, size_t len);
/* True while a value has started and not ended. */
static inline bool jsonl_partial(const struct jsonl *j)
{
	return j->partial;
}

#endif
