/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_TEST_FIXTURE_H
#define PEERWATCH_TEST_FIXTURE_H

/*
 * Captured responses of real daemons (selftests/fixtures/docker-api), read
 * from the source tree; PEERWATCH_FIXTURES overrides the directory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline const char *fixture_dir(void)
{
	const char *d = getenv("PEERWATCH_FIXTURES");

	return d ? d : "selftests/fixtures/docker-api";
}

/* The whole file, NUL-terminated, or NULL. */
static inline char *fixture_read(const char *name, size_t *len)
{
	char path[512];
	char *buf = NULL;
	long n;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fixture_dir(), name);
	f = fopen(path, "rb");
	if (!f)
		return NULL;
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET))
		goto out;
	buf = malloc(n + 1);
	if (buf && fread(buf, 1, n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
		goto out;
	}
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
out:
	fclose(f);
	return buf;
}

/* Offset of the body: just after the blank line ending the headers. */
static inline size_t fixture_body_offset(const char *buf)
{
	const char *p = strstr(buf, "\r\n\r\n");

	return p ? (size_t)(p + 4 - buf) : 0;
}

/*
 * A reference chunked decoder, independent of http_parser: returns the
 * decoded length, or -1 when the body is not chunk framing at all.
 * *terminated tells whether the final 0-size chunk was seen.
 */
static inline long fixture_dechunk(const char *p, size_t len, char *out,
				   int *terminated)
{
	const char *end = p + len;
	long n = 0;

	*terminated = 0;
	while (p < end) {
		char *e;
		unsigned long size = strtoul(p, &e, 16);

		if (e == p || e + 2 > end || e[0] != '\r' || e[1] != '\n')
			return -1;
		p = e + 2;
		if (!size) {
			*terminated = 1;
			return n;
		}
		if (p + size + 2 > end || p[size] != '\r' || p[size + 1] != '\n')
			return -1;
		memcpy(out + n, p, size);
		n += size;
		p += size + 2;
	}
	return n;
}

/*
 * The body of a captured response as its headers frame it: de-chunked
 * when it says chunked (NULL if the framing is broken: every capture
 * carries the framing it claims), else Content-Length bytes, else the rest
 * of the file. NUL-terminated; its length in *blen.
 */
static inline char *fixture_body(const char *name, size_t *blen)
{
	size_t len, at;
	char *raw = fixture_read(name, &len), *out, *te, *cl;
	long n = -1;
	int term;

	if (!raw)
		return NULL;
	at = fixture_body_offset(raw);
	out = at ? malloc(len + 1) : NULL;
	if (!out)
		goto out;
	te = strcasestr(raw, "\r\nTransfer-Encoding: chunked\r\n");
	cl = strcasestr(raw, "\r\nContent-Length: ");
	if (te && te < raw + at) {
		n = fixture_dechunk(raw + at, len - at, out, &term);
	} else {
		n = cl && cl < raw + at ? atol(cl + 18) : (long)(len - at);
		if (n > (long)(len - at))
			n = -1;
		else
			memcpy(out, raw + at, n);
	}
	if (n < 0) {
		free(out);
		out = NULL;
		goto out;
	}
	out[n] = '\0';
	*blen = n;
out:
	free(raw);
	return out;
}

/* The capture a fake engine answers a request line with. */
static inline const char *fixture_for_request(const char *req)
{
	if (strstr(req, "/_ping"))
		return "dockerd/ping.http";
	if (strstr(req, "/version"))
		return "dockerd/version.http";
	if (strstr(req, "/info"))
		return "dockerd/info.http";
	return "dockerd/containers_all.http";
}

/*
 * A fake engine's whole answer to a request, as dockerd 20.10 would frame
 * it with a Content-Length, into out; its length, or 0 if it does not fit.
 */
static inline size_t fixture_answer(const char *req, char *out, size_t cap)
{
	size_t blen, n = 0;
	char *body = fixture_body(fixture_for_request(req), &blen);
	int h;

	if (!body)
		return 0;
	h = snprintf(out, cap, "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\n"
		     "Content-Type: application/json\r\n"
		     "Content-Length: %zu\r\n\r\n", blen);
	if (h > 0 && (size_t)h + blen <= cap) {
		memcpy(out + h, body, blen);
		n = h + blen;
	}
	free(body);
	return n;
}

#endif
