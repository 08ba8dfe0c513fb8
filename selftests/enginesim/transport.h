/* SPDX-License-Identifier: GPL-2.0 */
/* How a connection moves bytes: plain TCP (sim_conn.c) or TLS (sim_tls.c). */
#ifndef ENGINESIM_TRANSPORT_H
#define ENGINESIM_TRANSPORT_H

#include <sys/types.h>

struct transport {
	/*
	 * Each takes the transport's state and the connection's socket;
	 * both return a byte count, 0 at end of stream, or -errno.
	 */
	ssize_t (*recv)(void *ctx, int fd, void *p, size_t n);
	ssize_t (*send)(void *ctx, int fd, const void *p, size_t n);
	/* After the last response: no more output, 0 or -errno. */
	int (*shutdown)(void *ctx, int fd);
	/* Frees the transport's state; the socket is closed by the caller. */
	void (*release)(void *ctx);
};

extern const struct transport transport_plain;

#endif
