/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_TLS_H
#define PEERWATCH_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn_transport;

/* --tls*, resolved against DOCKER_CERT_PATH by config.c. */
struct tls_cfg {
	bool enable;
	bool verify;
	char *ca, *cert, *key;		/* NULL: none */
	int own_records;		/* TLS 1.3 records by tlsrec.c: 1, 0 */
	uint64_t records_per_key;	/* 0: TLSREC_RECORDS_PER_KEY (tests) */
};

/* What every TLS connection shares: one SSL_CTX and the counters. */
struct tls_ctx;
/* One engine's identity to verify and its session for the next connect. */
struct tls_peer;

struct tls_stats {
	uint64_t handshakes;		/* completed, full or resumed */
	uint64_t resumed;
	uint64_t own_records;		/* connections moved onto own records */
	uint64_t tickets_dropped;	/* NewSessionTickets after that */
	uint64_t key_updates;		/* the engines' KeyUpdates after that */
	uint64_t rekeys;		/* ours, our AES-GCM key worn out */
};

/* Returns 0, or -errno with a message for the user in @err. */
int tls_ctx_new(struct tls_ctx **tp, const struct tls_cfg *cfg, char *err,
		size_t errlen);
/*
 * Reads the files of @cfg again, for new connections; live ones keep
 * theirs. On failure (-errno, why in @err) the material in use stays.
 */
int tls_ctx_reload(struct tls_ctx *t, const struct tls_cfg *cfg, char *err,
		   size_t errlen);
void tls_ctx_free(struct tls_ctx *t);
void tls_ctx_stats(const struct tls_ctx *t, struct tls_stats *st);

/* @host: an IP literal (checked against IP SANs) or a name (SNI, DNS SANs). */
int tls_peer_new(struct tls_peer **pp, struct tls_ctx *t, const char *host);
void tls_peer_free(struct tls_peer *p);

/* A TLS client transport to @p, for conn_new(), which then owns it. */
int tls_transport_new(struct conn_transport **trp, struct tls_peer *p);

#endif
