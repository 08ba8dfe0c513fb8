/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_HTTP_H
#define PEERWATCH_HTTP_H

#include <http_parser.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Far above any daemon's headers (dockerd sends ~300 bytes). */
#define HTTP_MAX_HEADER_BYTES	16384
#define HTTP_API_VERSION_MAX	16

typedef int (*http_body_fn)(void *arg, const char *data, size_t len);

/*
 * One HTTP/1.1 response, parsed as its bytes arrive, with every size
 * bounded. The body goes to a callback; nothing is buffered here.
 */
struct http_resp {
	http_parser parser;
	http_body_fn body;
	void *arg;
	uint64_t max_body;		/* the total, or each chunk of a stream */
	uint64_t body_bytes;
	size_t header_bytes;
	bool stream;			/* a long-lived body, e.g. /events */
	bool head;			/* answer to HEAD: no body follows */
	bool headers_done;
	bool complete;
	bool keep_alive;
	bool in_value;
	unsigned int field_len;		/* UINT_MAX once it cannot match */
	char field[16];
	char api_version[HTTP_API_VERSION_MAX];
	unsigned int api_version_len;	/* the value may hold a NUL */
	/* etcd v2's store index at the answer (X-Etcd-Index); 0: none */
	uint64_t etcd_index;
	int err;
	const char *error;		/* what was wrong, for the log */
};

void http_resp_init(struct http_resp *r, uint64_t max_body, bool stream,
		    bool head, http_body_fn body, void *arg);
/*
 * Once its headers are in, a stream's response is its parser alone (where
 * it is in the body and its chunks): the rest served the headers, or is
 * a bound given again. A stream read on from @parser, a copy of that of
 * a stream whose headers were in.
 */
void http_resp_resume(struct http_resp *r, const http_parser *parser,
		      uint64_t max_body, http_body_fn body, void *arg);
/*
 * Feed received bytes. Returns how many were used, which is less than
 * @len only when the response completed before them; -EPROTO (bad syntax),
 * -EMSGSIZE (a bound exceeded) or the body callback's error otherwise.
 */
ssize_t http_resp_feed(struct http_resp *r, const char *data, size_t len);
/* The peer closed: completes a close-delimited body, else -EPROTO. */
int http_resp_eof(struct http_resp *r);
static inline unsigned int http_resp_status(const struct http_resp *r)
{
	return r->parser.status_code;
}

/* Format a GET/HEAD request; -ENOSPC if it does not fit. */
int http_request_format(char *buf, size_t len, const char *method,
			const char *host, const char *path);
/* The same with a body of @body_len bytes of @type to follow (NULL: none). */
int http_request_format_body(char *buf, size_t len, const char *method,
			     const char *host, const char *path,
			     const char *type, size_t body_len);

#endif
