/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_STRBUF_H
#define PEERWATCH_STRBUF_H

#include <stddef.h>

/*
 * A growable byte buffer with a read offset, for the answers and streams
 * of the control API and of enginesim; embedded in its owner, emptied by
 * strbuf_release().
 */
struct strbuf {
	char *p;
	size_t len;		/* bytes held, from p */
	size_t off;		/* bytes already consumed */
	size_t cap;
};

/* Room for @more bytes after p + len; p may move. */
int strbuf_reserve(struct strbuf *b, size_t more);
int strbuf_add(struct strbuf *b, const void *data, size_t len);
int strbuf_addf(struct strbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Bytes not consumed yet. */
static inline size_t strbuf_pending(const struct strbuf *b)
{
	return b->len - b->off;
}
void strbuf_consume(struct strbuf *b, size_t n);
/*
 * Consumes @n bytes, and frees the storage once nothing is pending: for
 * buffers that sit empty most of their life, as an idle connection's.
 */
void strbuf_drain(struct strbuf *b, size_t n);
void strbuf_release(struct strbuf *b);

#endif
