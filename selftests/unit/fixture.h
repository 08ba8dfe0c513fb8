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

#endif
