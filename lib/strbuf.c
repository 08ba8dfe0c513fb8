// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"

int strbuf_reserve(struct strbuf *b, size_t more)
{
	size_t cap;
	char *p;

	/* Consumed bytes are reclaimed before growing. */
	if (b->off && b->len + more > b->cap) {
		memmove(b->p, b->p + b->off, b->len - b->off);
		b->len -= b->off;
		b->off = 0;
	}
	if (b->len + more <= b->cap)
		return 0;
	cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	p = realloc(b->p, cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

int strbuf_add(struct strbuf *b, const void *data, size_t len)
{
	int err = strbuf_reserve(b, len);

	if (err)
		return err;
	memcpy(b->p + b->len, data, len);
	b->len += len;
	return 0;
}

int strbuf_addf(struct strbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n, err;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return -EINVAL;
	err = strbuf_reserve(b, (size_t)n + 1);
	if (err)
		return err;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 0;
}

void strbuf_consume(struct strbuf *b, size_t n)
{
	b->off += n;
	if (b->off == b->len)
		b->off = b->len = 0;
}

void strbuf_drain(struct strbuf *b, size_t n)
{
	strbuf_consume(b, n);
	if (!strbuf_pending(b))
		strbuf_release(b);
}

void strbuf_release(struct strbuf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}
