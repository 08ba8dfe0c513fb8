// SPDX-License-Identifier: GPL-2.0
/*
 * TLS to engines as the docker CLI speaks it to dockerd --tlsverify, with
 * OpenSSL 3 in non-blocking mode under conn.c: the handshake and every
 * record move on the loop's socket events, WANT_READ and WANT_WRITE in
 * either direction. TLS 1.2 at least; the engine's IP address or name is
 * verified against its certificate; each engine keeps its last session so
 * that a reconnect resumes instead of a full handshake; record buffers are
 * released while a connection is idle.
 *
 * What an idle OpenSSL connection holds (OpenSSL 3.0, TLS 1.3, measured
 * with massif): 17 KiB of heap, none of it ours to release. The SSL
 * object itself is 8.4 KiB; the handshake leaves 6.5 KiB: the two AEAD
 * contexts (1.9 KiB), the engine's parsed certificate and key (shared by
 * its two connections, as the second resumes the first one's session),
 * both key shares (ours and the engine's, kept until SSL_free()) and the
 * cached transcript; the session tickets the engine sends after the
 * handshake take 1.6 KiB, each replacing the SSL's session with a copy
 * (the newest is also the engine's, for its next connect). One SSL_CTX
 * serves every engine. With --tls-close-idle (engine.c) an idle engine
 * holds one connection: its polling one is closed between polls.
 *
 * So a TLS 1.3 connection (AES-GCM or ChaCha20-Poly1305) leaves OpenSSL
 * once its handshake is over, as kernel TLS offload would: the key log
 * callback gives its application traffic secrets, the message callback
 * counts the records after each direction's Finished (their sequence
 * numbers, which OpenSSL 3.0 does not tell), and at the first read that
 * leaves nothing inside OpenSSL (see own_records()) the SSL object is
 * freed and tlsrec.c carries the records: about 300 bytes a connection;
 * the engine's session is kept as bytes (tls_peer).
 * A miscount could not pass unseen: the next record's tag would fail.
 * TLS 1.2, another suite, a KeyUpdate before that point, or
 * --tls-own-records=false: OpenSSL to the end.
 *
 * The CA, certificate and key are read again by tls_ctx_reload() (SIGHUP):
 * new connections use the new material, live ones keep theirs; material
 * that does not load, or a key that does not match its certificate,
 * leaves the old in place.
 *
 * A failure is told by its cause, not as "TLS error": our verdict on the
 * engine's certificate (unknown CA, name, expiry), the engine's verdict on
 * ours (an alert: with TLS 1.3 it comes at the first read after the
 * handshake), and plain text where a TLS record belongs (not a TLS port).
 */
#include <errno.h>
#include <malloc.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "container_of.h"
#include "hostport.h"
#include "loop_events.h"
#include "sslctx.h"
#include "tls.h"
#include "tlsrec.h"

struct tls_ctx {
	SSL_CTX *ctx;			/* of new connections */
	bool verify;
	bool has_cert;
	unsigned int gen;		/* of the material, +1 at each reload */
	unsigned int shaking;		/* handshakes in flight or leaving OpenSSL */
	unsigned int storm;		/* most in flight since the last trim */
	struct tlsrec_env *rec;		/* NULL: OpenSSL to the end */
	struct tls_stats stats;
};

struct tls_peer {
	struct tls_ctx *t;
	/*
	 * The newest session, for the next connect, as bytes (about 1 KiB
	 * with a small certificate): parsed, it would keep the engine's
	 * certificate decoded, 7 KiB with an EC key, as long as the engine
	 * is watched, and one SSL_SESSION shared by the engine's connections
	 * was now and then marked not resumable by OpenSSL through one of
	 * them, the next connect then a full handshake (tls-close-idle);
	 * a connect decodes its own copy, tens of microseconds.
	 */
	unsigned char *session;		/* DER; NULL: none */
	unsigned int session_len;
	unsigned int gen;		/* of the material it was made with */
	bool ip;
	char host[];
};

/*
 * What a TLS 1.3 connection needs to leave OpenSSL: its application
 * traffic secrets, from the key log callback, and how many records went
 * each way under them, counted from the record headers OpenSSL reports
 * to the message callback after each direction's Finished.
 */
struct tls_capture {
	uint8_t client[TLSREC_SECRET_MAX], server[TLSREC_SECRET_MAX];
	uint8_t client_len, server_len;
	bool read_app, write_app;	/* past the Finished of that direction */
	bool spoiled;			/* a KeyUpdate OpenSSL followed: stay */
	uint64_t read_seq, write_seq;
};

struct tls_conn {
	struct conn_transport tr;
	struct tls_peer *peer;
	SSL *ssl;			/* NULL once on own records */
	struct tls_capture *cap;	/* until it moves there, or cannot */
	struct tlsrec *rec;		/* once it did */
	unsigned int gen;		/* of the material of its SSL_CTX */
	bool shaking;			/* counted in its tls_ctx's shaking */
	bool write_blocked;		/* SSL_write() must be called again */
	enum cause cause;		/* of the failure, once there was one */
	char msg[128];
};

static int tls_conn_ex_index = -1;

/* A file we cannot read is told as such, not as OpenSSL's "system lib". */
static int fail(char *err, size_t len, const char *what, const char *path)
{
	unsigned long e = ERR_peek_last_error();
	const char *why = ERR_reason_error_string(e);

	if (path && access(path, R_OK))
		why = strerror(errno);
	snprintf(err, len, "%s%s%s: %s", what, path ? " " : "", path ? path : "",
		 why ? why : "failed");
	ERR_clear_error();
	return -EINVAL;
}

/* A key that loads but is not the certificate's is named with both files. */
static int key_failed(char *err, size_t len, const struct tls_cfg *cfg)
{
	if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH)
		return fail(err, len, "--tlskey", cfg->key);
	ERR_clear_error();
	snprintf(err, len, "--tlskey %s does not match --tlscert %s (key values mismatch)",
		 cfg->key, cfg->cert);
	return -EINVAL;
}

static void session_drop(struct tls_peer *p)
{
	free(p->session);
	p->session = NULL;
	p->session_len = 0;
}

/* Each engine keeps the newest session the server gave it. */
static int new_session(SSL *ssl, SSL_SESSION *sess)
{
	struct tls_conn *tc = SSL_get_ex_data(ssl, tls_conn_ex_index);
	unsigned char *der, *end;
	int len;

	/* A session of the old material would skip the new CA's check. */
	if (!tc || tc->gen != tc->peer->t->gen)
		return 0;
	len = i2d_SSL_SESSION(sess, NULL);
	der = len > 0 ? malloc((size_t)len) : NULL;
	if (!der)
		return 0;
	end = der;
	i2d_SSL_SESSION(sess, &end);
	session_drop(tc->peer);
	tc->peer->session = der;
	tc->peer->session_len = (unsigned int)len;
	tc->peer->gen = tc->gen;
	/* Kept as bytes: OpenSSL frees its own. */
	return 0;
}

/* The engine's session for a new connection; none if it does not decode. */
static void session_offer(SSL *ssl, const struct tls_peer *p)
{
	const unsigned char *der = p->session;
	SSL_SESSION *sess;

	if (!der)
		return;
	sess = d2i_SSL_SESSION(NULL, &der, (long)p->session_len);
	if (!sess) {
		ERR_clear_error();
		return;
	}
	/* A session that does not fit the new connection is just not used. */
	SSL_set_session(ssl, sess);
	SSL_SESSION_free(sess);
}

static void hex_secret(uint8_t *out, uint8_t *outlen, const char *hex)
{
	size_t n = strspn(hex, "0123456789abcdefABCDEF"), i;

	*outlen = 0;
	if (hex[n] || n % 2 || n / 2 > TLSREC_SECRET_MAX)
		return;
	for (i = 0; i < n / 2; i++) {
		char b[3] = { hex[2 * i], hex[2 * i + 1], 0 };

		out[i] = (uint8_t)strtoul(b, NULL, 16);
	}
	*outlen = (uint8_t)(n / 2);
}

/*
 * NSS key log lines: "LABEL <client random> <secret>". The secrets stay
 * in the connection's capture until its own records are keyed; never
 * logged.
 */
static void keylog(const SSL *ssl, const char *line)
{
	struct tls_conn *tc = SSL_get_ex_data(ssl, tls_conn_ex_index);
	const char *sp;

	if (!tc || !tc->cap)
		return;
	sp = strchr(line, ' ');
	sp = sp ? strchr(sp + 1, ' ') : NULL;
	if (!sp)
		return;
	if (!strncmp(line, "CLIENT_TRAFFIC_SECRET_0 ", 24))
		hex_secret(tc->cap->client, &tc->cap->client_len, sp + 1);
	else if (!strncmp(line, "SERVER_TRAFFIC_SECRET_0 ", 24))
		hex_secret(tc->cap->server, &tc->cap->server_len, sp + 1);
}

/*
 * OpenSSL reports every record header it reads (write_p 0) or writes (1)
 * as SSL3_RT_HEADER, and each handshake message once whole: the headers
 * after a direction's Finished are its application records, numbered
 * from 0 (RFC 8446 5.3). Any post-handshake message but the engine's
 * NewSessionTicket (a KeyUpdate either way) changes keys we would not
 * know: that connection stays with OpenSSL.
 */
static void msg_cb(int write_p, int version, int type, const void *buf,
		   size_t len, SSL *ssl, void *arg)
{
	struct tls_conn *tc = arg;
	struct tls_capture *c = tc->cap;
	const uint8_t *b = buf;

	(void)version;
	(void)ssl;
	if (!c)
		return;
	if (type == SSL3_RT_HEADER) {
		if (write_p && c->write_app)
			c->write_seq++;
		else if (!write_p && c->read_app)
			c->read_seq++;
		return;
	}
	if (type != SSL3_RT_HANDSHAKE || !len)
		return;
	if (b[0] == SSL3_MT_FINISHED && !(write_p ? c->write_app : c->read_app)) {
		if (write_p)
			c->write_app = true;
		else
			c->read_app = true;
		return;
	}
	if (c->read_app && c->write_app &&
	    (write_p || b[0] != SSL3_MT_NEWSESSION_TICKET))
		c->spoiled = true;
}

/* An SSL_CTX with the material of @cfg, read and checked now. */
static int ctx_build(SSL_CTX **ctxp, bool *has_cert, const struct tls_cfg *cfg,
		     char *err, size_t errlen)
{
	static const unsigned char alpn[] = "\x08http/1.1";
	SSL_CTX *ctx;
	int ret = -EINVAL;

	*has_cert = false;
	/* Records are written from conn.c's pool buffer, which may move. */
	ctx = sslctx_new(TLS_client_method());
	if (!ctx)
		return fail(err, errlen, "TLS", NULL);
	SSL_CTX_set_alpn_protos(ctx, alpn, sizeof(alpn) - 1);
	/* Sessions are kept per engine, not in a cache OpenSSL would search. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT |
				       SSL_SESS_CACHE_NO_INTERNAL_STORE);
	SSL_CTX_sess_set_new_cb(ctx, new_session);
	if (cfg->own_records)
		SSL_CTX_set_keylog_callback(ctx, keylog);
	if (cfg->verify) {
		if (!cfg->ca) {
			snprintf(err, errlen, "--tlsverify needs a CA (--tlscacert)");
			goto err;
		}
		if (SSL_CTX_load_verify_locations(ctx, cfg->ca, NULL) != 1) {
			ret = fail(err, errlen, "--tlscacert", cfg->ca);
			goto err;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (cfg->cert || cfg->key) {
		if (!cfg->cert || !cfg->key) {
			snprintf(err, errlen, "--tlscert and --tlskey go together");
			goto err;
		}
		if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert) != 1) {
			ret = fail(err, errlen, "--tlscert", cfg->cert);
			goto err;
		}
		if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key,
						SSL_FILETYPE_PEM) != 1) {
			ret = key_failed(err, errlen, cfg);
			goto err;
		}
		if (SSL_CTX_check_private_key(ctx) != 1) {
			ret = fail(err, errlen, "--tlskey does not match --tlscert",
				   NULL);
			goto err;
		}
		*has_cert = true;
	}
	*ctxp = ctx;
	return 0;

err:
	SSL_CTX_free(ctx);
	return ret;
}

int tls_ctx_new(struct tls_ctx **tp, const struct tls_cfg *cfg, char *err,
		size_t errlen)
{
	struct tls_ctx *t;
	int ret;

	if (tls_conn_ex_index < 0)
		tls_conn_ex_index = SSL_get_ex_new_index(0, NULL, NULL, NULL,
							 NULL);
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->verify = cfg->verify;
	if (cfg->own_records && tlsrec_env_new(&t->rec)) {
		free(t);
		return -ENOMEM;
	}
	if (t->rec && cfg->records_per_key)
		tlsrec_env_set_records_per_key(t->rec, cfg->records_per_key);
	ret = ctx_build(&t->ctx, &t->has_cert, cfg, err, errlen);
	if (ret) {
		tlsrec_env_free(t->rec);
		free(t);
		return ret;
	}
	*tp = t;
	return 0;
}

/*
 * Live connections hold a reference to the SSL_CTX they were made with
 * (SSL_new takes one): they keep the old material until they close.
 */
int tls_ctx_reload(struct tls_ctx *t, const struct tls_cfg *cfg, char *err,
		   size_t errlen)
{
	SSL_CTX *ctx;
	bool has_cert;
	int ret;

	ret = ctx_build(&ctx, &has_cert, cfg, err, errlen);
	if (ret)
		return ret;
	SSL_CTX_free(t->ctx);
	t->ctx = ctx;
	t->has_cert = has_cert;
	t->gen++;
	return 0;
}

void tls_ctx_free(struct tls_ctx *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	tlsrec_env_free(t->rec);
	free(t);
}

void tls_ctx_stats(const struct tls_ctx *t, struct tls_stats *st)
{
	*st = t->stats;
	if (t->rec) {
		const struct tlsrec_stats *rs = tlsrec_env_stats(t->rec);

		st->own_records = rs->conns;
		st->tickets_dropped = rs->tickets;
		st->key_updates = rs->key_updates;
		st->rekeys = rs->rekeys;
	}
}

int tls_peer_new(struct tls_peer **pp, struct tls_ctx *t, const char *host)
{
	size_t len = strlen(host) + 1;
	struct tls_peer *p;

	p = calloc(1, sizeof(*p) + len);
	if (!p)
		return -ENOMEM;
	p->t = t;
	p->ip = host_is_literal(host);
	memcpy(p->host, host, len);
	*pp = p;
	return 0;
}

void tls_peer_free(struct tls_peer *p)
{
	if (!p)
		return;
	session_drop(p);
	free(p);
}

/*
 * A handshake holds 40 KiB and more for a moment (the 16 KiB message
 * buffer, record buffers, the key exchange, the parsed and verified
 * certificate chain: far more with a large one), interleaved on the heap
 * with the 17 KiB each connection keeps. After a storm of them (every
 * engine at start, or after a network cut) glibc keeps the freed holes,
 * resident and unused: 12 KiB per engine of two connections; so do the
 * SSL objects freed as connections leave OpenSSL (own_records()). When
 * the last connection of a storm is through both, whole free pages go
 * back to the kernel.
 */
#define TLS_TRIM_STORM	64

static void handshake_over(struct tls_conn *tc)
{
	struct tls_ctx *t = tc->peer->t;

	if (!tc->shaking)
		return;
	tc->shaking = false;
	if (--t->shaking || t->storm < TLS_TRIM_STORM)
		return;
	t->storm = 0;
	malloc_trim(0);
}

static void capture_free(struct tls_conn *tc)
{
	if (!tc->cap)
		return;
	/* Nothing more to count for it. */
	if (tc->ssl)
		SSL_set_msg_callback(tc->ssl, NULL);
	OPENSSL_cleanse(tc->cap, sizeof(*tc->cap));
	free(tc->cap);
	tc->cap = NULL;
}

static ssize_t failed(struct tls_conn *tc, enum cause cause, const char *fmt,
		      ...) __attribute__((format(printf, 3, 4)));

static ssize_t failed(struct tls_conn *tc, enum cause cause, const char *fmt,
		      ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(tc->msg, sizeof(tc->msg), fmt, ap);
	va_end(ap);
	tc->cause = cause;
	ERR_clear_error();
	/* The session may be what the engine refused: the next try goes without. */
	if (!SSL_is_init_finished(tc->ssl))
		session_drop(tc->peer);
	return -EPROTO;
}

/* Our verdict on the engine's certificate. */
static ssize_t verify_failed(struct tls_conn *tc)
{
	long v = SSL_get_verify_result(tc->ssl);
	const char *s = X509_verify_cert_error_string(v);

	switch (v) {
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT:
	case X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY:
	case X509_V_ERR_UNABLE_TO_VERIFY_LEAF_SIGNATURE:
	case X509_V_ERR_DEPTH_ZERO_SELF_SIGNED_CERT:
	case X509_V_ERR_SELF_SIGNED_CERT_IN_CHAIN:
	case X509_V_ERR_CERT_UNTRUSTED:
		return failed(tc, CAUSE_TLS_UNKNOWN_CA,
			      "certificate not signed by our CA (%s)", s);
	case X509_V_ERR_HOSTNAME_MISMATCH:
	case X509_V_ERR_IP_ADDRESS_MISMATCH:
		return failed(tc, CAUSE_TLS_NAME,
			      "certificate is not for %s (%s)", tc->peer->host, s);
	case X509_V_ERR_CERT_HAS_EXPIRED:
		return failed(tc, CAUSE_TLS_EXPIRED, "certificate has expired");
	default:
		return failed(tc, CAUSE_TLS_VERIFY, "certificate refused: %s", s);
	}
}

/* The engine's verdict on ours, as a TLS alert. */
static bool cert_alert(int reason)
{
	switch (reason) {
	case SSL_R_SSLV3_ALERT_BAD_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_UNSUPPORTED_CERTIFICATE:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_REVOKED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_EXPIRED:
	case SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN:
	case SSL_R_TLSV1_ALERT_UNKNOWN_CA:
	case SSL_R_TLSV1_ALERT_ACCESS_DENIED:
	case SSL_R_TLSV13_ALERT_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

static ssize_t tls_result(struct tls_conn *tc, int ret, uint32_t *want)
{
	int err = SSL_get_error(tc->ssl, ret);
	unsigned long e;
	int reason;

	switch (err) {
	case SSL_ERROR_WANT_READ:
		*want = LOOP_READ;
		return -EAGAIN;
	case SSL_ERROR_WANT_WRITE:
		*want = LOOP_WRITE;
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		/* errno is the socket's; none means the engine closed. */
		if (ret < 0 && errno)
			return -errno;
		if (SSL_is_init_finished(tc->ssl))
			return 0;
		return failed(tc, CAUSE_TLS, "closed during the TLS handshake");
	case SSL_ERROR_SSL:
		break;
	default:
		return failed(tc, CAUSE_TLS, "TLS error %d", err);
	}
	e = ERR_peek_error();
	reason = ERR_GET_REASON(e);
	if (reason == SSL_R_CERTIFICATE_VERIFY_FAILED)
		return verify_failed(tc);
	/*
	 * No record header of any TLS version where the ServerHello belongs:
	 * plain text (an HTTP server's 400), not a TLS port.
	 */
	if (reason == SSL_R_WRONG_VERSION_NUMBER &&
	    SSL_get_state(tc->ssl) == TLS_ST_CW_CLNT_HELLO)
		return failed(tc, CAUSE_NOT_TLS,
			      "the engine answered in plain text: not a TLS port");
	if (cert_alert(reason))
		return failed(tc, CAUSE_TLS_CERT_REFUSED,
			      tc->peer->t->has_cert ?
			      "the engine refused our client certificate (%s)" :
			      "the engine wants a client certificate (%s): give --tlscert and --tlskey",
			      ERR_reason_error_string(e));
	/* A close without close_notify is an end of stream like any other. */
	if (reason == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
		if (!SSL_is_init_finished(tc->ssl))
			return failed(tc, CAUSE_TLS,
				      "closed during the TLS handshake");
		ERR_clear_error();
		return 0;
	}
	return failed(tc, CAUSE_TLS, "TLS: %s",
		      ERR_reason_error_string(e) ?: "protocol error");
}

static int tls_handshake(struct conn_transport *tr, int fd, uint32_t *want)
{
	struct tls_conn *tc = container_of(tr, struct tls_conn, tr);
	struct tls_stats *st = &tc->peer->t->stats;
	int ret;

	if (!SSL_get_rbio(tc->ssl) && SSL_set_fd(tc->ssl, fd) != 1)
		return (int)failed(tc, CAUSE_ERROR, "TLS: no socket BIO");
	ERR_clear_error();
	ret = SSL_do_handshake(tc->ssl);
	if (ret != 1)
		return (int)tls_result(tc, ret, want);
	st->handshakes++;
	if (SSL_session_reused(tc->ssl))
		st->resumed++;
	/* TLS 1.2, or a suite tlsrec.c does not have: OpenSSL to the end. */
	if (SSL_version(tc->ssl) != TLS1_3_VERSION ||
	    !tlsrec_secret_len(SSL_CIPHER_get_protocol_id(
				SSL_get_current_cipher(tc->ssl))))
		capture_free(tc);
	/* One that will leave OpenSSL is over when it has (own_records()). */
	if (!tc->cap)
		handshake_over(tc);
	return 0;
}

/*
 * Leaves OpenSSL once nothing of the connection is inside it but keys:
 * the handshake over and a record read under the engine's application
 * keys (with TLS 1.3 its verdict on our certificate comes there, and its
 * NewSessionTickets: the session is the engine's already, new_session()),
 * no record half read, no plaintext waiting, no write to finish, no
 * KeyUpdate to send. Until then, and if anything fails here, OpenSSL
 * carries on.
 */
static void own_records(struct tls_conn *tc)
{
	struct tls_capture *c = tc->cap;
	SSL *ssl = tc->ssl;
	struct tlsrec_keys k;
	size_t len;
	int err;

	if (!c->read_app || !c->write_app || !c->read_seq ||
	    tc->write_blocked || !SSL_is_init_finished(ssl) ||
	    SSL_has_pending(ssl) || strcmp(SSL_rstate_string(ssl), "RH") ||
	    SSL_get_key_update_type(ssl) != SSL_KEY_UPDATE_NONE)
		return;
	k.suite = SSL_CIPHER_get_protocol_id(SSL_get_current_cipher(ssl));
	len = tlsrec_secret_len(k.suite);
	if (c->spoiled || !len || c->client_len != len || c->server_len != len) {
		capture_free(tc);
		handshake_over(tc);
		return;
	}
	memcpy(k.read, c->server, len);
	memcpy(k.write, c->client, len);
	k.read_seq = c->read_seq;
	k.write_seq = c->write_seq;
	err = tlsrec_new(&tc->rec, tc->peer->t->rec, &k);
	OPENSSL_cleanse(&k, sizeof(k));
	capture_free(tc);
	if (!err) {
		/* As tls_free(): the session stays resumable. */
		SSL_set_shutdown(ssl, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
		SSL_free(ssl);
		tc->ssl = NULL;
	}
	handshake_over(tc);
}

static ssize_t rec_result(struct tls_conn *tc, ssize_t n)
{
	if (n == -EPROTO)
		tc->cause = tlsrec_why(tc->rec, tc->msg, sizeof(tc->msg));
	return n;
}

static ssize_t tls_read(struct conn_transport *tr, int fd, void *buf,
			size_t len, uint32_t *want)
{
	struct tls_conn *tc = container_of(tr, struct tls_conn, tr);
	size_t done = 0;
	ssize_t n;
	int ret;

	if (tc->rec)
		return rec_result(tc, tlsrec_read(tc->rec, fd, buf, len, want));
	ERR_clear_error();
	ret = SSL_read_ex(tc->ssl, buf, len, &done);
	/*
	 * SSL_MODE_RELEASE_BUFFERS frees the read buffer once a record is
	 * consumed, not when a read found nothing: the 16 KiB buffer taken
	 * for that would stay with the idle connection.
	 */
	if (!SSL_has_pending(tc->ssl))
		SSL_free_buffers(tc->ssl);
	n = ret == 1 ? (ssize_t)done : tls_result(tc, ret, want);
	if (tc->cap && (n > 0 || (n == -EAGAIN && *want == LOOP_READ)))
		own_records(tc);
	return n;
}

static ssize_t tls_write(struct conn_transport *tr, int fd, const void *buf,
			 size_t len, uint32_t *want)
{
	struct tls_conn *tc = container_of(tr, struct tls_conn, tr);
	size_t done = 0;
	uint32_t w;
	ssize_t n;
	char b;
	int ret;

	if (tc->rec) {
		n = tlsrec_write(tc->rec, fd, buf, len, want);
		/* As below: an alert the engine sent before it closed. */
		if (n < 0 && n != -EAGAIN && n != -EPROTO &&
		    tlsrec_read(tc->rec, fd, &b, 1, &w) == -EPROTO)
			n = -EPROTO;
		return rec_result(tc, n);
	}
	ERR_clear_error();
	ret = SSL_write_ex(tc->ssl, buf, len, &done);
	tc->write_blocked = ret != 1;
	if (ret == 1)
		return (ssize_t)done;
	n = tls_result(tc, ret, want);
	if (n == -EAGAIN || n == -EPROTO)
		return n;
	/*
	 * The engine closed: if it said why first (with TLS 1.3, a refused
	 * client certificate comes after our handshake is done), that is
	 * the error. A write never reports end of stream.
	 */
	ERR_clear_error();
	ret = SSL_read_ex(tc->ssl, &b, 1, &done);
	if (ret != 1 && tls_result(tc, ret, &w) == -EPROTO)
		return -EPROTO;
	return n ? n : -EPIPE;
}

static enum cause tls_why(const struct conn_transport *tr, char *msg,
			  size_t len)
{
	const struct tls_conn *tc = container_of(tr, struct tls_conn, tr);

	snprintf(msg, len, "%s", tc->msg);
	return tc->cause;
}

static void tls_free(struct conn_transport *tr)
{
	struct tls_conn *tc = container_of(tr, struct tls_conn, tr);

	/*
	 * No close_notify: the socket closes next, and no answer is awaited.
	 * Yet marked as shut down, or SSL_free() would mark the session as
	 * not resumable, and the engine's next connect would start afresh.
	 */
	capture_free(tc);
	if (tc->ssl) {
		SSL_set_shutdown(tc->ssl, SSL_SENT_SHUTDOWN |
				 SSL_RECEIVED_SHUTDOWN);
		SSL_free(tc->ssl);
	}
	tlsrec_free(tc->rec);
	handshake_over(tc);
	free(tc);
}

static const struct conn_transport_ops tls_ops = {
	.handshake = tls_handshake,
	.read = tls_read,
	.write = tls_write,
	.why = tls_why,
	.free = tls_free,
};

static int set_peer(SSL *ssl, const struct tls_peer *p)
{
	if (p->ip)
		return X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl),
						     p->host) == 1 ? 0 : -EINVAL;
	/* Names only: SNI carries no IP address (RFC 6066). */
	if (SSL_set_tlsext_host_name(ssl, p->host) != 1)
		return -EINVAL;
	SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	return SSL_set1_host(ssl, p->host) == 1 ? 0 : -EINVAL;
}

int tls_transport_new(struct conn_transport **trp, struct tls_peer *p)
{
	struct tls_conn *tc;
	int err = -ENOMEM;

	tc = calloc(1, sizeof(*tc));
	if (!tc)
		return -ENOMEM;
	tc->tr.ops = &tls_ops;
	tc->peer = p;
	tc->gen = p->t->gen;
	tc->ssl = SSL_new(p->t->ctx);
	if (!tc->ssl)
		goto err;
	SSL_set_connect_state(tc->ssl);
	SSL_set_ex_data(tc->ssl, tls_conn_ex_index, tc);
	if (p->t->rec) {
		tc->cap = calloc(1, sizeof(*tc->cap));
		if (!tc->cap)
			goto err;
		SSL_set_msg_callback(tc->ssl, msg_cb);
		SSL_set_msg_callback_arg(tc->ssl, tc);
	}
	if (p->t->verify) {
		err = set_peer(tc->ssl, p);
		if (err)
			goto err;
	} else if (!p->ip) {
		SSL_set_tlsext_host_name(tc->ssl, p->host);
	}
	/* Made with material since replaced: a full handshake, checked anew. */
	if (p->gen != p->t->gen)
		session_drop(p);
	session_offer(tc->ssl, p);
	tc->shaking = true;
	if (++p->t->shaking > p->t->storm)
		p->t->storm = p->t->shaking;
	*trp = &tc->tr;
	return 0;

err:
	ERR_clear_error();
	SSL_free(tc->ssl);
	free(tc->cap);
	free(tc);
	return err;
}
