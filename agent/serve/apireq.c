// SPDX-License-Identifier: GPL-2.0
/*
 * Control API requests taken apart, without I/O (see apireq.h): what
 * the routes do with each request's target, and what the fuzzer calls.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <http_parser.h>
#include <json-c/json.h>

#include "apireq.h"

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct api_head *h = p->data;

	if (h->url_len + len >= sizeof(h->url))
		return -1;
	memcpy(h->url + h->url_len, at, len);
	h->url_len += len;
	h->url[h->url_len] = '\0';
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct api_head *h = p->data;

	/* What to do with them depends on the route: the caller decides. */
	h->method = p->method;
	h->has_body = (p->flags & F_CHUNKED) ||
		      (p->content_length > 0 && p->content_length != ULLONG_MAX);
	/* No body is read: the request ends with its head. */
	return 1;
}

static int on_message_complete(http_parser *p)
{
	struct api_head *h = p->data;

	h->complete = true;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings head_settings = {
	.on_url = on_url,
	.on_headers_complete = on_headers_complete,
	.on_message_complete = on_message_complete,
};

void api_head_init(struct api_head *h)
{
	memset(h, 0, offsetof(struct api_head, url));
	h->url[0] = '\0';
	h->url_len = 0;
	h->method = 0;
	h->has_body = false;
	h->complete = false;
	h->why = NULL;
	http_parser_init(&h->parser, HTTP_REQUEST);
	h->parser.data = h;
}

unsigned int api_head_feed(struct api_head *h, const char *data, size_t len)
{
	size_t used;

	if (h->complete)
		return 0;
	used = http_parser_execute(&h->parser, &head_settings, data, len);
	h->got += used;
	if (h->complete)
		return 0;
	if (h->got + (len - used) > API_MAX_REQUEST ||
	    HTTP_PARSER_ERRNO(&h->parser) == HPE_CB_url) {
		h->why = "request too large";
		return 431;
	}
	if (HTTP_PARSER_ERRNO(&h->parser) != HPE_OK || used != len) {
		h->why = http_errno_description(HTTP_PARSER_ERRNO(&h->parser));
		return 400;
	}
	return 0;
}

static int hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Percent-decoding in place; '+' is a space in a query only; no NUL. */
static int url_decode(char *s, bool query)
{
	char *w = s;

	for (; *s; s++) {
		if (*s == '%') {
			int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);

			if (lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			*w++ = (char)(hi << 4 | lo);
			s += 2;
		} else {
			*w++ = query && *s == '+' ? ' ' : *s;
		}
	}
	*w = '\0';
	return 0;
}

static unsigned int split_query(struct api_req *r, char *q, const char **why)
{
	char *pair, *save = NULL, *val;

	for (pair = strtok_r(q, "&", &save); pair;
	     pair = strtok_r(NULL, "&", &save)) {
		if (r->nparams == API_REQ_MAX_PARAMS) {
			*why = "too many query parameters";
			return 400;
		}
		val = strchr(pair, '=');
		if (val)
			*val++ = '\0';
		if (url_decode(pair, true) || (val && url_decode(val, true))) {
			*why = "bad percent-encoding in the query";
			return 400;
		}
		r->key[r->nparams] = pair;
		r->value[r->nparams++] = val;
	}
	return 0;
}

const char *api_req_param(const struct api_req *r, const char *key)
{
	unsigned int i;

	for (i = 0; i < r->nparams; i++)
		if (!strcmp(r->key[i], key))
			return r->value[i] ? r->value[i] : "";
	return NULL;
}

bool api_version_valid(const char *v)
{
	size_t n = strspn(v, "0123456789.");

	/* Digits, dots between them, bounded. */
	return n && n < 16 && !v[n] && v[0] != '.' && v[n - 1] != '.' &&
	       !strstr(v, "..");
}

int api_version_cmp(const char *a, const char *b)
{
	unsigned long x, y;
	char *end;

	if (!api_version_valid(a))
		a = "0";
	if (!api_version_valid(b))
		b = "0";
	while (*a || *b) {
		x = *a ? strtoul(a, &end, 10) : 0;
		a = *a ? end + (*end == '.') : a;
		y = *b ? strtoul(b, &end, 10) : 0;
		b = *b ? end + (*end == '.') : b;
		if (x != y)
			return x < y ? -1 : 1;
	}
	return 0;
}

void api_req_unversion(struct api_req *r)
{
	const char *path = r->path;
	size_t n;

	if (path[0] != '/' || path[1] != 'v')
		return;
	n = strspn(path + 2, "0123456789.");
	if (!n || path[2 + n] != '/' || n >= sizeof(r->version_buf))
		return;
	memcpy(r->version_buf, path + 2, n);
	r->version_buf[n] = '\0';
	r->version = r->version_buf;
	r->path = path + 2 + n;
}

int api_req_match(struct api_req *r, const char *pattern)
{
	const char *open = strchr(pattern, '{'), *tail;
	size_t len = strlen(r->path), head, rest, n;

	if (!open)
		return strcmp(r->path, pattern) ? -ENOENT : 0;
	head = (size_t)(open - pattern);
	tail = strchr(open, '}');
	tail = tail ? tail + 1 : open + strlen(open);
	rest = strlen(tail);
	if (len <= head + rest || strncmp(r->path, pattern, head) ||
	    strcmp(r->path + len - rest, tail) || r->path[head] == '/')
		return -ENOENT;
	n = len - head - rest;
	memcpy(r->ref_buf, r->path + head, n);
	r->ref_buf[n] = '\0';
	r->ref = r->ref_buf;
	return url_decode(r->ref_buf, false) || !r->ref_buf[0] ? -EINVAL : 0;
}

unsigned int api_req_parse(struct api_req *r, const char *url, size_t len,
			   unsigned int method, const char **why)
{
	struct http_parser_url u;
	char *path, *query = NULL;
	size_t plen;

	memset(r, 0, offsetof(struct api_req, buf));
	r->method = method == HTTP_GET ? METHOD_GET :
		    method == HTTP_HEAD ? METHOD_HEAD : METHOD_OTHER;
	r->method_name = http_method_str(method);
	r->path = "";
	if (len > API_MAX_REQUEST) {
		*why = "request target too long";
		return 414;
	}
	memcpy(r->buf, url, len);
	r->buf[len] = '\0';
	if (strlen(r->buf) != len) {
		*why = "bad request target";
		return 400;
	}
	http_parser_url_init(&u);
	if (http_parser_parse_url(r->buf, len, 0, &u) ||
	    !(u.field_set & (1 << UF_PATH))) {
		*why = "bad request target";
		return 400;
	}
	/* Fields do not overlap: each is cut where it ends. */
	path = r->buf + u.field_data[UF_PATH].off;
	plen = u.field_data[UF_PATH].len;
	if (u.field_set & (1 << UF_QUERY)) {
		query = r->buf + u.field_data[UF_QUERY].off;
		query[u.field_data[UF_QUERY].len] = '\0';
	}
	path[plen] = '\0';
	r->path = path;
	return query ? split_query(r, query, why) : 0;
}

/* Appends @s to the pairs' buffer; NULL when full. */
static const char *filters_keep(struct docker_filters *f, size_t *used,
				const char *s, size_t len)
{
	char *p = f->buf + *used;

	if (len >= sizeof(f->buf) - *used || strlen(s) != len)
		return NULL;
	memcpy(p, s, len + 1);
	*used += len + 1;
	return p;
}

static int filters_add(struct docker_filters *f, size_t *used,
		       const char *key, struct json_object *v,
		       const char **why)
{
	if (!json_object_is_type(v, json_type_string)) {
		*why = "invalid filters: each value must be a string";
		return -EINVAL;
	}
	if (f->n == DOCKER_FILTERS_MAX) {
		*why = "invalid filters: too many";
		return -EINVAL;
	}
	f->key[f->n] = filters_keep(f, used, key, strlen(key));
	f->value[f->n] = filters_keep(f, used, json_object_get_string(v),
				      (size_t)json_object_get_string_len(v));
	if (!f->key[f->n] || !f->value[f->n]) {
		*why = "invalid filters: too long, or a NUL inside";
		return -EINVAL;
	}
	f->n++;
	return 0;
}

int docker_filters_parse(const char *json, struct docker_filters *f,
			 const char **why)
{
	struct json_tokener *tok;
	struct json_object *o, *v;
	struct json_object_iterator it, end;
	size_t used = 0, i, len = strlen(json);
	int err = 0;

	f->n = 0;
	if (!len)
		return 0;
	/* An object of objects or arrays: nothing deeper. */
	tok = json_tokener_new_ex(3);
	if (!tok) {
		*why = "out of memory";
		return -ENOMEM;
	}
	o = json_tokener_parse_ex(tok, json, (int)len);
	if (!o || json_tokener_get_error(tok) != json_tokener_success ||
	    tok->char_offset != (int)len) {
		json_object_put(o);
		json_tokener_free(tok);
		*why = "invalid filters: not a JSON object";
		return -EINVAL;
	}
	json_tokener_free(tok);
	if (!json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		*why = "invalid filters: not a JSON object";
		return -EINVAL;
	}
	it = json_object_iter_begin(o);
	end = json_object_iter_end(o);
	for (; !err && !json_object_iter_equal(&it, &end);
	     json_object_iter_next(&it)) {
		const char *key = json_object_iter_peek_name(&it);

		v = json_object_iter_peek_value(&it);
		if (json_object_is_type(v, json_type_array)) {
			/* The old form: {"label":["a=b"]}. */
			for (i = 0; !err && i < json_object_array_length(v); i++)
				err = filters_add(f, &used, key,
						  json_object_array_get_idx(v, i),
						  why);
		} else if (json_object_is_type(v, json_type_object)) {
			struct json_object_iterator vi, ve;

			vi = json_object_iter_begin(v);
			ve = json_object_iter_end(v);
			for (; !err && !json_object_iter_equal(&vi, &ve);
			     json_object_iter_next(&vi)) {
				struct json_object *b = json_object_iter_peek_value(&vi);
				struct json_object *name;

				if (!json_object_is_type(b, json_type_boolean)) {
					*why = "invalid filters: want {\"key\":{\"value\":true}}";
					err = -EINVAL;
					break;
				}
				name = json_object_new_string(json_object_iter_peek_name(&vi));
				if (!name) {
					*why = "out of memory";
					err = -ENOMEM;
					break;
				}
				err = filters_add(f, &used, key, name, why);
				json_object_put(name);
			}
		} else {
			*why = "invalid filters: want {\"key\":{\"value\":true}}";
			err = -EINVAL;
		}
	}
	json_object_put(o);
	return err;
}

bool docker_filters_known(const struct docker_filters *f,
			  const char *const *allowed, const char **bad)
{
	const char *const *k;
	unsigned int i;

	for (i = 0; i < f->n; i++) {
		for (k = allowed; *k && strcmp(*k, f->key[i]); k++)
			;
		if (!*k) {
			*bad = f->key[i];
			return false;
		}
	}
	return true;
}

bool docker_filters_pass(const struct docker_filters *f,
			 const struct docker_filter_key *keys,
			 const void *arg)
{
	const struct docker_filter_key *k;
	unsigned int i;
	bool given, hit;

	for (k = keys; k->key; k++) {
		given = hit = false;
		for (i = 0; i < f->n; i++) {
			if (strcmp(f->key[i], k->key))
				continue;
			given = true;
			if (k->match(f->value[i], arg))
				hit = true;
			else if (k->every)
				return false;
		}
		if (given && !hit)
			return false;
	}
	return true;
}

int docker_timestamp_parse(const char *s, long long *ns)
{
	size_t a = strspn(s, "0123456789"), b = 0;
	long long sec, frac = 0;
	size_t i;

	/* Ten digits, up to what fits in nanoseconds (the year 2262). */
	if (!a || a > 10)
		return -EINVAL;
	sec = strtoll(s, NULL, 10);
	if (sec >= LLONG_MAX / 1000000000LL)
		return -EINVAL;
	if (s[a] == '.') {
		b = strspn(s + a + 1, "0123456789");
		if (!b || b > 9)
			return -EINVAL;
		for (i = 0; i < 9; i++)
			frac = frac * 10 + (i < b ? s[a + 1 + i] - '0' : 0);
	}
	if (s[a + (b ? b + 1 : 0)])
		return -EINVAL;
	*ns = sec * 1000000000LL + frac;
	return 0;
}
