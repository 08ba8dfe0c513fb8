// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS transport, with OpenSSL 3 in non-blocking mode, configured as
 * dockerd's --tlsverify: server certificate and key, and with --tls-ca,
 * a client certificate signed by that CA is required. The handshake runs
 * inside the first reads; WANT_READ and WANT_WRITE both become -EAGAIN,
 * and since every socket event drives both directions, either is retried
 * on the next one. A plain-HTTP request gets Go's answer before the close.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "sim_tls.h"
#include "sslctx.h"
#include "transport.h"

#define TLS_HANDSHAKE_BYTE	0x16

struct tls {
	SSL_CTX *ctx;
};

static const char plain_answer[] = "HTTP/1.0 400 Bad Request\r\n\r\n"
				   "Client sent an HTTP request to an HTTPS server.\n";

static void tls_log_errors(const char *what)
{
	unsigned long e;
	char buf[256];

	while ((e = ERR_get_error())) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "enginesim: %s: %s\n", what, buf);
	}
}

static ssize_t tls_result(SSL *ssl, int ret, size_t done)
{
	int err;

	if (ret > 0)
		return done;
	err = SSL_get_error(ssl, ret);
	switch (err) {
	case SSL_ERROR_WANT_READ:
	case SSL_ERROR_WANT_WRITE:
		return -EAGAIN;
	case SSL_ERROR_ZERO_RETURN:
		return 0;
	case SSL_ERROR_SYSCALL:
		ERR_clear_error();
		return errno ? -errno : -ECONNRESET;
	default:
		/* A failed handshake or a bad record: that peer's problem. */
		ERR_clear_error();
		return -EPROTO;
	}
}

/* Before the handshake: is the client speaking TLS at all? */
static ssize_t tls_check_plain(int fd)
{
	char drain[4096];
	unsigned char b;
	ssize_t n;

	n = recv(fd, &b, 1, MSG_PEEK);
	if (n < 0)
		return -errno;
	if (!n || b == TLS_HANDSHAKE_BYTE)
		return n;
	/* Consume the request, or the close would send RST over the answer. */
	while (recv(fd, drain, sizeof(drain), 0) > 0)
		;
	send(fd, plain_answer, sizeof(plain_answer) - 1, MSG_NOSIGNAL);
	return -EPROTO;
}

static ssize_t tls_recv(void *ctx, int fd, void *p, size_t n)
{
	SSL *ssl = ctx;
	size_t done = 0;
	ssize_t r;
	int ret;

	if (SSL_in_before(ssl)) {
		r = tls_check_plain(fd);
		if (r <= 0)
			return r;
	}
	ret = SSL_read_ex(ssl, p, n, &done);
	return tls_result(ssl, ret, done);
}

static ssize_t tls_send(void *ctx, int fd, const void *p, size_t n)
{
	size_t done = 0;
	int ret;

	(void)fd;
	ret = SSL_write_ex(ctx, p, n, &done);
	return tls_result(ctx, ret, done);
}

/* close_notify first, as Go's server sends it; then no more from us. */
static int tls_shutdown(void *ctx, int fd)
{
	SSL_shutdown(ctx);
	ERR_clear_error();
	return shutdown(fd, SHUT_WR) ? -errno : 0;
}

static void tls_release(void *ctx)
{
	SSL_free(ctx);
}

static const struct transport transport_tls = {
	.recv = tls_recv,
	.send = tls_send,
	.shutdown = tls_shutdown,
	.release = tls_release,
};

/* dockerd's Go server negotiates http/1.1 when the client offers it. */
static int tls_alpn(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		    const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char h11[] = "\x08http/1.1";

	(void)ssl;
	(void)arg;
	if (SSL_select_next_proto((unsigned char **)out, outlen, h11,
				  sizeof(h11) - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	return SSL_TLSEXT_ERR_OK;
}

void tls_free(struct tls *t)
{
	if (!t)
		return;
	SSL_CTX_free(t->ctx);
	free(t);
}

int tls_new(const struct sim_opts *o, struct tls **out)
{
	struct tls *t;
	int err = -EINVAL;

	if (!o->tls_cert || !o->tls_key) {
		fprintf(stderr, "enginesim: TLS needs --tls-cert and --tls-key\n");
		return -EINVAL;
	}
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->ctx = sslctx_new(TLS_server_method());
	if (!t->ctx) {
		err = -ENOMEM;
		goto fail;
	}
	SSL_CTX_set_alpn_select_cb(t->ctx, tls_alpn, NULL);
	/* Without it, resuming a session of a verified client is refused. */
	SSL_CTX_set_session_id_context(t->ctx, (const unsigned char *)"enginesim",
				       9);
	if (SSL_CTX_use_certificate_chain_file(t->ctx, o->tls_cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(t->ctx, o->tls_key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(t->ctx) != 1)
		goto fail_ssl;
	if (o->tls_ca) {
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(o->tls_ca);

		if (!names ||
		    SSL_CTX_load_verify_locations(t->ctx, o->tls_ca, NULL) != 1)
			goto fail_ssl;
		SSL_CTX_set_client_CA_list(t->ctx, names);
		SSL_CTX_set_verify(t->ctx, SSL_VERIFY_PEER |
				   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	*out = t;
	return 0;

fail_ssl:
	tls_log_errors("TLS setup");
fail:
	tls_free(t);
	return err;
}

/* The transport of an accepted socket: its ops and state for the connection. */
int tls_conn_init(struct tls *t, int fd, const struct transport **tr,
		  void **ctx)
{
	SSL *ssl = SSL_new(t->ctx);

	if (!ssl)
		return -ENOMEM;
	if (SSL_set_fd(ssl, fd) != 1) {
		SSL_free(ssl);
		return -ENOMEM;
	}
	SSL_set_accept_state(ssl);
	*tr = &transport_tls;
	*ctx = ssl;
	return 0;
}
