/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_HTTP_H
#define ENGINESIM_SIM_HTTP_H

#include <stddef.h>
#include <stdint.h>

struct conn;

/* Response flags. */
#define HTTP_CHUNKED	0x1	/* one chunk and the terminator, like dockerd's /info */
#define HTTP_STREAM	0x2	/* chunked headers only; chunks follow later */
#define HTTP_PING	0x4	/* /_ping's no-cache headers and text/plain */

void http_conn_init(struct conn *c);
/* 1 once a whole request is parsed (c->url, c->parser), 0 or -errno. */
int http_feed(struct conn *c);
int http_respond(struct conn *c, int status, unsigned int flags,
		 const char *body, size_t len);
int http_chunk(struct conn *c, const char *data, size_t len);
int http_malformed(struct conn *c);
int http_oversized(struct conn *c, uint64_t bytes, int chunked);

#endif
