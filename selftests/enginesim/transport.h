/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How a connection moves bytes. Plain TCP is the only transport so far;
 * TLS (OpenSSL in non-blocking mode) plugs in here: its recv/send map
 * SSL_ERROR_WANT_READ/WANT_WRITE to -EAGAIN and the handshake runs inside
 * the first calls.
 */
#ifndef ENGINESIM_TRANSPORT_H
#define ENGINESIM_TRANSPORT_H

#include <sys/types.h>

struct conn;

struct transport {
	/* Both return a byte count, 0 at end of stream, or -errno. */
	ssize_t (*recv)(struct conn *c, void *p, size_t n);
	ssize_t (*send)(struct conn *c, const void *p, size_t n);
	void (*release)(struct conn *c);
};

extern const struct transport transport_plain;

#endif
