// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <limits.h>

#include "jsonl.h"

void jsonl_init(struct jsonl *j, json_tokener *tok, size_t max_value,
		jsonl_fn fn, void *arg)
{
	j->tok = tok;
	j->fn = fn;
	j->arg = arg;
	j->max_value = max_value;
	j->value_bytes = 0;
	j->partial = false;
	j->error = NULL;
	if (tok)
		json_tokener_reset(tok);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

int jsonl_feed(struct jsonl *j, const char *buf, size_t len)
{
	while (len) {
		struct json_object *obj;
		enum json_tokener_error jerr;
		size_t used;
		int err;

		/* Between values, so a trailing newline is not a started value. */
		if (!j->partial) {
			while (len && is_space(*buf)) {
				buf++;
				len--;
			}
			if (!len)
				break;
		}
		obj = json_tokener_parse_ex(j->tok, buf, (int)(len > INT_MAX ? INT_MAX : len));
		jerr = json_tokener_get_error(j->tok);
		used = json_tokener_get_parse_end(j->tok);
		j->value_bytes += used;
		if (j->value_bytes > j->max_value) {
			json_object_put(obj);
			j->error = "JSON value too large";
			return -EMSGSIZE;
		}
		if (jerr == json_tokener_continue) {
			if (!used)
				break;
			j->partial = true;
			buf += used;
			len -= used;
			continue;
		}
		if (jerr != json_tokener_success) {
			j->error = json_tokener_error_desc(jerr);
			return -EPROTO;
		}
		json_tokener_reset(j->tok);
		j->partial = false;
		j->value_bytes = 0;
		buf += used;
		len -= used;
		err = j->fn(j->arg, obj);
		if (err)
			return err;
	}
	return 0;
}
