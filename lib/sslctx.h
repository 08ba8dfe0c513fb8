/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_SSLCTX_H
#define PEERWATCH_SSLCTX_H

#include <openssl/ssl.h>

/*
 * An OpenSSL context as both ends of peerwatch's TLS want it (the agent's
 * client, enginesim's server): TLS 1.2 at least; non-blocking writes that
 * may be partial and retried from a buffer that has moved meanwhile (a
 * pool buffer, a growing strbuf); no record buffers kept by an idle
 * connection. NULL on failure, with OpenSSL's error queue saying why.
 */
SSL_CTX *sslctx_new(const SSL_METHOD *method);

#endif
