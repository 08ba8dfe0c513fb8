// SPDX-License-Identifier: GPL-2.0
/*
 * json-c's tokener is not indifferent to where its input is split:
 * - once a value is complete it reads on over whitespace and comments in
 *   the same call, and what it finds there (a bad comment) can undo the
 *   value or not;
 * - a number cut in two may be misread ("[1" then "-2]" gives [1]).
 * So the tokener is never shown a byte past the end of the current value
 * (a small scanner of strings, escapes and bracket depth finds the end),
 * and a number is never cut: its start is held back until it is whole.
 * Values must be objects or arrays, which is all Docker sends.
 */
#include <errno.h>
#include <limits.h>
#include <string.h>

#include "jsonl.h"

static void value_reset(struct jsonl *j)
{
	j->value_bytes = 0;
	j->partial = false;
	j->depth = 0;
	j->in_string = false;
	j->escape = false;
	j->ncarry = 0;
	j->numrun = 0;
}

void jsonl_init(struct jsonl *j, json_tokener *tok, size_t max_value,
		jsonl_fn fn, void *arg)
{
	j->tok = tok;
	j->fn = fn;
	j->arg = arg;
	/* json-c takes an int length. */
	j->max_value = max_value < INT_MAX ? max_value : INT_MAX - 1;
	j->error = NULL;
	value_reset(j);
	if (tok)
		json_tokener_reset(tok);
}

static bool is_space(char c)
{
	return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

static bool is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	       c == 'e' || c == 'E';
}

/*
 * How much of @buf belongs to the current value; *ends if it ends there.
 * A number longer than the carry is refused here, however it is split.
 */
static size_t value_span(struct jsonl *j, const char *buf, size_t len,
			 bool *ends, bool *too_long)
{
	size_t i;

	*too_long = false;
	for (i = 0; i < len; i++) {
		char c = buf[i];

		if (!j->in_string && is_number_char(c)) {
			if (++j->numrun > sizeof(j->carry)) {
				*too_long = true;
				*ends = false;
				return i + 1;
			}
		} else {
			j->numrun = 0;
		}
		if (j->in_string) {
			if (j->escape)
				j->escape = false;
			else if (c == '\\')
				j->escape = true;
			else if (c == '"')
				j->in_string = false;
		} else if (c == '"') {
			j->in_string = true;
		} else if (c == '{' || c == '[') {
			j->depth++;
		} else if ((c == '}' || c == ']') && j->depth && !--j->depth) {
			*ends = true;
			return i + 1;
		}
	}
	*ends = false;
	return len;
}

static int fail(struct jsonl *j, int err, const char *why)
{
	j->error = why;
	return err;
}

/* Hand @len bytes to json-c: the value must end with them iff @last. */
static int tokenize(struct jsonl *j, const char *buf, size_t len, bool last,
		    struct json_object **obj)
{
	enum json_tokener_error jerr;

	*obj = json_tokener_parse_ex(j->tok, buf, (int)len);
	jerr = json_tokener_get_error(j->tok);
	if (jerr == json_tokener_continue && !last)
		return 0;
	if (jerr == json_tokener_success &&
	    json_tokener_get_parse_end(j->tok) == len && last)
		return 0;
	json_object_put(*obj);
	*obj = NULL;
	return fail(j, -EPROTO, jerr == json_tokener_continue ||
				jerr == json_tokener_success ?
		    "unbalanced JSON" : json_tokener_error_desc(jerr));
}

/*
 * As tokenize(), a number carried over from the last piece first, with
 * the byte after it in one call: json-c reads "-5" then "I" in two calls
 * as the start of "-5Infinity", in one as an error.
 */
static int tokenize_on(struct jsonl *j, const char *buf, size_t len,
		       bool last, struct json_object **obj)
{
	char nb[sizeof(j->carry) + 1];
	size_t n = j->ncarry;
	int err;

	if (!n)
		return tokenize(j, buf, len, last, obj);
	j->ncarry = 0;
	memcpy(nb, j->carry, n);
	if (len)
		nb[n++] = buf[0];
	err = tokenize(j, nb, n, last && len <= 1, obj);
	if (!err && len > 1)
		err = tokenize(j, buf + 1, len - 1, last, obj);
	return err;
}

/* The value goes past the bound: unless its bytes within are bad JSON. */
static int too_large(struct jsonl *j, const char *buf, size_t len)
{
	struct json_object *obj;
	int err = tokenize_on(j, buf, len, false, &obj);

	return err ? err : fail(j, -EMSGSIZE, "JSON value too large");
}

int jsonl_feed(struct jsonl *j, const char *buf, size_t len)
{
	while (len) {
		struct json_object *obj = NULL;
		size_t span, take, hold = 0, n;
		bool ends, too_long;
		int err;

		if (!j->partial) {
			while (len && is_space(*buf)) {
				buf++;
				len--;
			}
			if (!len)
				break;
			if (*buf != '{' && *buf != '[')
				return fail(j, -EPROTO,
					    "expected a JSON object or array");
			/* Plain JSON: no quotes or comments the scanner would miss. */
			json_tokener_set_flags(j->tok, JSON_TOKENER_STRICT);
			j->partial = true;
		}
		/* A number held back from the last piece: complete it first. */
		if (j->ncarry) {
			for (n = 0; n < len && is_number_char(buf[n]); n++) {
				if (j->value_bytes + n >= j->max_value) {
					memcpy(j->carry + j->ncarry, buf, n);
					n += j->ncarry;
					j->ncarry = 0;
					return too_large(j, j->carry, n);
				}
				if (++j->numrun > sizeof(j->carry))
					return fail(j, -EPROTO, "number too long");
			}
			memcpy(j->carry + j->ncarry, buf, n);
			j->ncarry += n;
			j->value_bytes += n;
			buf += n;
			len -= n;
			if (!len)
				break;
			/* Whole: handed over below with the byte that ended it. */
		}
		/*
		 * Nothing past the bound is looked at, so that what is found
		 * within it decides the error whatever the split.
		 */
		take = j->max_value - j->value_bytes;
		span = value_span(j, buf, len > take ? take : len, &ends,
				  &too_long);
		if (too_long)
			return fail(j, -EPROTO, "number too long");
		if (!ends && len > take)
			return too_large(j, buf, take);
		j->value_bytes += span;
		if (!ends && !j->in_string)
			while (hold < span && is_number_char(buf[span - hold - 1]))
				hold++;
		err = tokenize_on(j, buf, span - hold, ends, &obj);
		if (err)
			return err;
		memcpy(j->carry, buf + span - hold, hold);
		j->ncarry = hold;
		buf += span;
		len -= span;
		if (!ends)
			continue;
		json_tokener_reset(j->tok);
		value_reset(j);
		err = j->fn(j->arg, obj);
		if (err)
			return err;
	}
	return 0;
}
