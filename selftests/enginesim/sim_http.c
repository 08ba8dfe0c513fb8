// SPDX-License-Identifier: GPL-2.0
/*
 * HTTP/1.1 for the engines: requests parsed with http_parser, one at a time
 * (the parser pauses at the end of each), and responses framed with
 * dockerd's headers, among them the malformed and oversized answers of
 * those faults, since they are about framing rather than content.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "sim_conn.h"
#include "sim_fleet.h"
#include "sim_http.h"

/* dockerd (Go) allows 1 MiB of headers; a simulator needs far less. */
#define HDR_MAX		8192
#define BODY_MAX	65536

enum http_fail {
	FAIL_BAD = 1,
	FAIL_HDR,
	FAIL_URL,
};

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 404:
		return "Not Found";
	default:
		return "Internal Server Error";
	}
}

/* RFC 7231 date, formatted at most once a second. */
static const char *http_date(void)
{
	static char buf[40];
	static time_t last;
	time_t now = time(NULL);
	struct tm tm;

	if (now != last) {
		gmtime_r(&now, &tm);
		strftime(buf, sizeof(buf), "%a, %d %b %Y %H:%M:%S GMT", &tm);
		last = now;
	}
	return buf;
}

static int on_message_begin(http_parser *p)
{
	struct conn *c = p->data;

	c->url_len = 0;
	c->url_overflow = 0;
	c->hdr_bytes = 0;
	c->body_bytes = 0;
	return 0;
}

static int on_url(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	if (c->url_len + len >= URL_MAX) {
		c->url_overflow = 1;
		return -1;
	}
	memcpy(c->url + c->url_len, at, len);
	c->url_len += len;
	c->url[c->url_len] = '\0';
	return 0;
}

static int on_header_bytes(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	(void)at;
	c->hdr_bytes += len;
	return c->hdr_bytes > HDR_MAX ? -1 : 0;
}

static int on_body(http_parser *p, const char *at, size_t len)
{
	struct conn *c = p->data;

	(void)at;
	c->body_bytes += len;
	return c->body_bytes > BODY_MAX ? -1 : 0;
}

static int on_message_complete(http_parser *p)
{
	struct conn *c = p->data;

	c->req_ready = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const http_parser_settings settings = {
	.on_message_begin = on_message_begin,
	.on_url = on_url,
	.on_header_field = on_header_bytes,
	.on_header_value = on_header_bytes,
	.on_body = on_body,
	.on_message_complete = on_message_complete,
};

void http_conn_init(struct conn *c)
{
	http_parser_init(&c->parser, HTTP_REQUEST);
	c->parser.data = c;
}

static int http_keep_alive(const struct conn *c)
{
	return http_should_keep_alive(&c->parser) && !c->close_after_write;
}

int http_respond(struct conn *c, int status, unsigned int flags,
		 const char *body, size_t len)
{
	int head = c->parser.method == HTTP_HEAD;
	int keep = http_keep_alive(c);
	struct strbuf *o = &c->out;
	int err;

	if (flags & HTTP_PING)
		err = strbuf_addf(o, "HTTP/1.1 %d %s\r\n"
				  "Api-Version: 1.41\r\n"
				  "Cache-Control: no-cache, no-store, must-revalidate\r\n"
				  "Docker-Experimental: false\r\n"
				  "Ostype: linux\r\n"
				  "Pragma: no-cache\r\n"
				  "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
				  "Date: %s\r\n"
				  "%s"
				  "Content-Length: %zu\r\n"
				  "Content-Type: text/plain; charset=utf-8\r\n\r\n",
				  status, status_text(status), http_date(),
				  keep ? "" : "Connection: close\r\n", len);
	else
		err = strbuf_addf(o, "HTTP/1.1 %d %s\r\n"
				  "Api-Version: 1.41\r\n"
				  "Content-Type: application/json\r\n"
				  "Docker-Experimental: false\r\n"
				  "Ostype: linux\r\n"
				  "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
				  "Date: %s\r\n",
				  status, status_text(status), http_date());
	if (err)
		return err;
	if (!(flags & HTTP_PING)) {
		if (!keep)
			err = strbuf_addf(o, "Connection: close\r\n");
		if (!err && (flags & (HTTP_CHUNKED | HTTP_STREAM)))
			err = strbuf_addf(o, "Transfer-Encoding: chunked\r\n\r\n");
		else if (!err)
			err = strbuf_addf(o, "Content-Length: %zu\r\n\r\n", len);
		if (err)
			return err;
	}
	/* A stream ends when the client leaves, as dockerd's does. */
	if (!keep && !(flags & HTTP_STREAM))
		c->close_after_write = 1;
	if (head || (flags & HTTP_STREAM))
		return 0;
	if (flags & HTTP_CHUNKED) {
		err = http_chunk(c, body, len);
		return err ? err : strbuf_add(o, "0\r\n\r\n", 5);
	}
	return strbuf_add(o, body, len);
}

int http_chunk(struct conn *c, const char *data, size_t len)
{
	int err;

	if (!len)
		return 0;
	err = strbuf_addf(&c->out, "%zx\r\n", len);
	if (!err)
		err = strbuf_add(&c->out, data, len);
	if (!err)
		err = strbuf_add(&c->out, "\r\n", 2);
	return err;
}

/* Go's net/http answers unparseable requests like this, then closes. */
static int http_fail(struct conn *c, enum http_fail why)
{
	static const char *const lines[] = {
		[FAIL_BAD] = "400 Bad Request",
		[FAIL_HDR] = "431 Request Header Fields Too Large",
		[FAIL_URL] = "414 URI Too Long",
	};

	c->sim->stats.requests[API_BAD]++;
	c->close_after_write = 1;
	return strbuf_addf(&c->out, "HTTP/1.1 %s\r\n"
			   "Content-Type: text/plain; charset=utf-8\r\n"
			   "Connection: close\r\n\r\n%s", lines[why], lines[why]);
}

/* A status line no HTTP parser accepts, then a bogus header block. */
int http_malformed(struct conn *c)
{
	static const char junk[] = "HTTP/1.1 OK 200 Docker\r\n"
				   "Content-Length: -12\r\n"
				   "\x01\x02 not a header\r\n\r\n{\"message\":";

	return strbuf_add(&c->out, junk, sizeof(junk) - 1);
}

/*
 * A valid response whose body is "bytes" long, streamed from a filler so
 * that a huge size costs no memory: {"Oversized":"aaaa...aaaa"}.
 */
int http_oversized(struct conn *c, uint64_t bytes, int chunked)
{
	static const char pre[] = "{\"Oversized\":\"";
	static const char post[] = "\"}";
	uint64_t wrap = sizeof(pre) - 1 + sizeof(post) - 1;
	int err;

	err = strbuf_addf(&c->out, "HTTP/1.1 200 OK\r\n"
			  "Api-Version: 1.41\r\n"
			  "Content-Type: application/json\r\n"
			  "Docker-Experimental: false\r\n"
			  "Ostype: linux\r\n"
			  "Server: Docker/20.10.24+dfsg1 (linux)\r\n"
			  "Date: %s\r\n", http_date());
	if (!err && chunked)
		err = strbuf_addf(&c->out, "Transfer-Encoding: chunked\r\n\r\n"
				  "%llx\r\n", (unsigned long long)bytes);
	else if (!err)
		err = strbuf_addf(&c->out, "Content-Length: %llu\r\n\r\n",
				  (unsigned long long)bytes);
	if (err)
		return err;
	if (bytes >= wrap) {
		err = strbuf_add(&c->out, pre, sizeof(pre) - 1);
		c->filler = bytes - wrap;
		memcpy(c->tail, post, sizeof(post) - 1);
		c->tail_len = sizeof(post) - 1;
	} else {
		c->filler = bytes;
	}
	if (chunked) {
		memcpy(c->tail + c->tail_len, "\r\n0\r\n\r\n", 7);
		c->tail_len += 7;
	}
	return err;
}

int http_feed(struct conn *c)
{
	size_t len = strbuf_pending(&c->in);
	enum http_errno herr;
	size_t done;

	done = http_parser_execute(&c->parser, &settings,
				   c->in.p + c->in.off, len);
	herr = HTTP_PARSER_ERRNO(&c->parser);
	strbuf_drain(&c->in, done);
	if (herr == HPE_PAUSED) {
		http_parser_pause(&c->parser, 0);
	} else if (herr != HPE_OK || (done < len && !c->req_ready)) {
		/* Whatever follows a bad request is not read. */
		strbuf_release(&c->in);
		if (c->url_overflow)
			return http_fail(c, FAIL_URL);
		if (c->hdr_bytes > HDR_MAX)
			return http_fail(c, FAIL_HDR);
		return http_fail(c, FAIL_BAD);
	}
	if (!c->req_ready)
		return 0;
	c->req_ready = 0;
	return 1;
}
