/* SPDX-License-Identifier: GPL-2.0 */
/* How a connection moves bytes: plain TCP (conn.c) or TLS (tls.c). */
#ifndef ENGINESIM_TRANSPORT_H
#define ENGINESIM_TRANSPORT_H

#include <sys/types.h>

struct conn;

struct transport {
	/* Both return a byte count, 0 at end of stream, or -errno. */
	ssize_t (*recv)(struct conn *c, void *p, size_t n);
	ssize_t (*send)(struct conn *c, const void *p, size_t n);
	/* After the last response: no more output, 0 or -errno. */
	int (*shutdown)(struct conn *c);
	/* Frees the transport's state; the socket is closed by the caller. */
	void (*release)(struct conn *c);
};

extern const struct transport transport_plain;

#endif
