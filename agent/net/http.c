// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/1.1 responses on http_parser: framing (Content-Length, chunked,
 * close-delimited), keep-alive, and the bounds the parser does not know:
 * header bytes, total body, chunk size. Only Api-Version (in a fixed
 * buffer) and X-Etcd-Index (a number) are kept from the headers, so a
 * response costs no allocation.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "http.h"

#define resp_of(p) ((struct http_resp *)((char *)(p) - \
					 offsetof(struct http_resp, parser)))

static int fail(struct http_resp *r, int err, const char *why)
{
	r->err = err;
	r->error = why;
	return -1;
}

static int count_header(struct http_resp *r, size_t len)
{
	r->header_bytes += len;
	if (r->header_bytes > HTTP_MAX_HEADER_BYTES)
		return fail(r, -EMSGSIZE, "header too large");
	return 0;
}

static int on_status(http_parser *p, const char *at, size_t len)
{
	(void)at;
	return count_header(resp_of(p), len);
}

static int on_header_field(http_parser *p, const char *at, size_t len)
{
	struct http_resp *r = resp_of(p);

	if (count_header(r, len))
		return -1;
	if (r->in_value) {
		r->in_value = false;
		r->field_len = 0;
	}
	if (r->field_len == UINT_MAX)
		return 0;
	if (r->field_len + len >= sizeof(r->field)) {
		r->field_len = UINT_MAX;
		return 0;
	}
	memcpy(r->field + r->field_len, at, len);
	r->field_len += len;
	return 0;
}

static bool field_is(const struct http_resp *r, const char *name)
{
	return r->field_len == strlen(name) &&
	       !strncasecmp(r->field, name, r->field_len);
}

/* Digits, perhaps in pieces; a repeated header counts from its start. */
static int etcd_index(struct http_resp *r, const char *at, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned int d = (unsigned char)at[i] - '0';

		if (at[i] == ' ' || at[i] == '\t')
			continue;
		if (d > 9 || r->etcd_index > (UINT64_MAX - d) / 10)
			return fail(r, -EPROTO, "X-Etcd-Index is not a number");
		r->etcd_index = r->etcd_index * 10 + d;
	}
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t len)
{
	struct http_resp *r = resp_of(p);

	/* ": " and CR LF count too. */
	if (count_header(r, len + 4 * !r->in_value))
		return -1;
	if (!r->in_value) {
		r->in_value = true;
		if (field_is(r, "Api-Version"))
			r->api_version_len = 0;
		if (field_is(r, "X-Etcd-Index"))
			r->etcd_index = 0;
	}
	if (field_is(r, "X-Etcd-Index"))
		return etcd_index(r, at, len);
	if (!field_is(r, "Api-Version"))
		return 0;
	if (r->api_version_len + len >= sizeof(r->api_version))
		return fail(r, -EPROTO, "Api-Version too long");
	memcpy(r->api_version + r->api_version_len, at, len);
	r->api_version_len += len;
	r->api_version[r->api_version_len] = '\0';
	return 0;
}

static int on_headers_complete(http_parser *p)
{
	struct http_resp *r = resp_of(p);

	r->headers_done = true;
	/* A Content-Length beyond the bound fails now, not after the bytes. */
	if (!r->stream && (p->flags & F_CONTENTLENGTH) &&
	    p->content_length > r->max_body)
		return fail(r, -EMSGSIZE, "body too large");
	/* 1: tells http_parser that no body follows a HEAD. */
	return r->head ? 1 : 0;
}

static int on_chunk_header(http_parser *p)
{
	struct http_resp *r = resp_of(p);

	if (p->content_length > r->max_body)
		return fail(r, -EMSGSIZE, "chunk too large");
	return 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct http_resp *r = resp_of(p);
	int err;

	r->body_bytes += len;
	if (!r->stream && r->body_bytes > r->max_body)
		return fail(r, -EMSGSIZE, "body too large");
	if (!r->body)
		return 0;
	err = r->body(r->arg, at, len);
	if (err)
		return fail(r, err, NULL);
	return 0;
}

static int on_message_complete(http_parser *p)
{
	struct http_resp *r = resp_of(p);

	r->complete = true;
	r->keep_alive = http_should_keep_alive(p);
	/* Stop here: whatever follows is not an answer to our request. */
	return 1;
}

static const http_parser_settings settings = {
	.on_status = on_status,
	.on_header_field = on_header_field,
	.on_header_value = on_header_value,
	.on_headers_complete = on_headers_complete,
	.on_chunk_header = on_chunk_header,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_resp_init(struct http_resp *r, uint64_t max_body, bool stream,
		    bool head, http_body_fn body, void *arg)
{
	memset(r, 0, sizeof(*r));
	http_parser_init(&r->parser, HTTP_RESPONSE);
	r->max_body = max_body;
	r->stream = stream;
	r->head = head;
	r->body = body;
	r->arg = arg;
}

void http_resp_resume(struct http_resp *r, const http_parser *parser,
		      uint64_t max_body, http_body_fn body, void *arg)
{
	http_resp_init(r, max_body, true, false, body, arg);
	r->parser = *parser;
	r->headers_done = true;
}

static ssize_t parser_result(struct http_resp *r, size_t used)
{
	enum http_errno herr = HTTP_PARSER_ERRNO(&r->parser);

	if (r->err)
		return r->err;
	if (herr == HPE_OK || (herr == HPE_CB_message_complete && r->complete))
		return (ssize_t)used;
	r->error = http_errno_description(herr);
	if (herr == HPE_HEADER_OVERFLOW)
		return r->err = -EMSGSIZE;
	return r->err = -EPROTO;
}

ssize_t http_resp_feed(struct http_resp *r, const char *data, size_t len)
{
	size_t used;

	if (r->err)
		return r->err;
	if (r->complete)
		return 0;
	used = http_parser_execute(&r->parser, &settings, data, len);
	return parser_result(r, used);
}

int http_resp_eof(struct http_resp *r)
{
	ssize_t ret;

	if (r->err)
		return r->err;
	if (r->complete)
		return 0;
	http_parser_execute(&r->parser, &settings, NULL, 0);
	ret = parser_result(r, 0);
	if (ret < 0)
		return (int)ret;
	if (!r->complete) {
		r->error = "connection closed before the response ended";
		return r->err = -EPROTO;
	}
	return 0;
}

int http_request_format(char *buf, size_t len, const char *method,
			const char *host, const char *path)
{
	return http_request_format_body(buf, len, method, host, path, NULL, 0);
}

int http_request_format_body(char *buf, size_t len, const char *method,
			     const char *host, const char *path,
			     const char *type, size_t body_len)
{
	char body[96] = "";
	int n;

	if (type)
		snprintf(body, sizeof(body),
			 "Content-Type: %.40s\r\nContent-Length: %zu\r\n", type,
			 body_len);
	n = snprintf(buf, len,
		     "%s %s HTTP/1.1\r\n"
		     "Host: %s\r\n"
		     "User-Agent: peerwatchd\r\n"
		     "Accept: application/json\r\n"
		     "%s"
		     "\r\n", method, path, host, body);
	return n < 0 || (size_t)n >= len ? -ENOSPC : n;
}
