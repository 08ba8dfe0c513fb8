/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_BUF_H
#define ENGINESIM_BUF_H

#include <stddef.h>

/*
 * A growable byte buffer; bytes [off, len) are pending. Storage is
 * allocated on first append and released by buf_reset(), so an idle
 * connection holds none.
 */
struct buf {
	char *data;
	size_t off;
	size_t len;
	size_t cap;
};

int buf_append(struct buf *b, const void *p, size_t n);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_consume(struct buf *b, size_t n);
void buf_reset(struct buf *b);

static inline size_t buf_pending(const struct buf *b)
{
	return b->len - b->off;
}

#endif
