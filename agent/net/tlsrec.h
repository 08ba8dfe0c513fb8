/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_TLSREC_H
#define PEERWATCH_TLSREC_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cause.h"

/* The longest traffic secret: SHA-384's. */
#define TLSREC_SECRET_MAX	48

/* What every connection on own records shares: one cipher context. */
struct tlsrec_env;
/* One connection's TLS 1.3 record layer, once OpenSSL's SSL is gone. */
struct tlsrec;

struct tlsrec_stats {
	uint64_t conns;			/* ever moved onto own records */
	uint64_t tickets;		/* NewSessionTickets dropped after that */
	uint64_t key_updates;		/* KeyUpdates from the engines */
	uint64_t rekeys;		/* ours, at TLSREC_RECORDS_PER_KEY */
};

/*
 * Records we seal under one AES-GCM key before changing it with a
 * KeyUpdate of our own: RFC 8446 5.5 allows 2^24.5 full-size ones.
 * (ChaCha20-Poly1305 needs none before its sequence numbers run out.)
 */
#define TLSREC_RECORDS_PER_KEY	(1ULL << 24)

/*
 * The application traffic secrets of a finished TLS 1.3 handshake and the
 * sequence number of the next record in each direction.
 */
struct tlsrec_keys {
	uint16_t suite;			/* IANA value: 0x1301, 0x1302, 0x1303 */
	uint8_t read[TLSREC_SECRET_MAX];	/* the engine's */
	uint8_t write[TLSREC_SECRET_MAX];	/* ours */
	uint64_t read_seq, write_seq;
};

int tlsrec_env_new(struct tlsrec_env **ep);
void tlsrec_env_free(struct tlsrec_env *e);
const struct tlsrec_stats *tlsrec_env_stats(const struct tlsrec_env *e);
/* Another limit than TLSREC_RECORDS_PER_KEY (at least 1): for tests. */
void tlsrec_env_set_records_per_key(struct tlsrec_env *e, uint64_t n);

/* The secret length of @suite, or 0 if own records do not support it. */
size_t tlsrec_secret_len(uint16_t suite);

/* Derives the keys from @k, which the caller then cleanses. */
int tlsrec_new(struct tlsrec **rp, struct tlsrec_env *e,
	       const struct tlsrec_keys *k);
void tlsrec_free(struct tlsrec *r);

/*
 * As conn_transport_ops read and write: bytes, 0 at close_notify or end
 * of stream, -EAGAIN with *@want, -EPROTO (tlsrec_why() tells), -errno.
 * A write that returned -EAGAIN, or fewer bytes than given, must be
 * called again with the rest, as OpenSSL's SSL_write().
 */
ssize_t tlsrec_read(struct tlsrec *r, int fd, void *buf, size_t len,
		    uint32_t *want);
ssize_t tlsrec_write(struct tlsrec *r, int fd, const void *buf, size_t len,
		     uint32_t *want);
enum cause tlsrec_why(const struct tlsrec *r, char *msg, size_t len);

#endif
