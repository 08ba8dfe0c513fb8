// SPDX-License-Identifier: GPL-2.0
/*
 * TLS 1.3 on own records (tlsrec.c) against OpenSSL itself: our client
 * transport (tls.c) over a socketpair, an OpenSSL server on memory BIOs
 * in the same process, with a throwaway EC key and certificate made here
 * and a client certificate asked for. The bytes between them pass
 * through the test, which can hold, cut, alter or add to them. After the
 * handshake the client must leave OpenSSL (the counter says so) and then
 * agree with OpenSSL byte for byte: data both ways in records of every
 * size and a 1 MiB stream, each TLS 1.3 suite, KeyUpdates, tickets,
 * close_notify and alerts, our own KeyUpdate when a key is worn out;
 * and refuse what it must: a flipped bit, an
 * oversized or plaintext record. TLS 1.2, and --tls-own-records=false,
 * stay on OpenSSL.
 */
#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "conn.h"
#include "kselftest_harness.h"
#include "tls.h"

#define STREAM		(1024 * 1024)
#define SPINS		100000

struct fx {
	struct tls_ctx *t;
	struct tls_peer *peer;
	struct conn_transport *tr;
	int cfd, pfd;			/* the client's end, the test's end */
	SSL_CTX *sctx;
	SSL *s;
	BIO *sin, *sout;		/* the server's input and output */
	bool hold;			/* keep the server's output in sout */
	uint8_t pend[65536];		/* server output the socket did not take */
	size_t poff, plen;
	char dir[64], cert[96], key[96];
};

static EVP_PKEY *pkey;
static X509 *cert;
/* Records under one write key, for setup(); 0: the agent's. */
static uint64_t per_key;

/* A self-signed certificate, for the server and as our client's. */
static int make_cert(void)
{
	X509_NAME *name;

	if (cert)
		return 0;
	pkey = EVP_EC_gen("P-256");
	cert = X509_new();
	if (!pkey || !cert)
		return -1;
	X509_set_version(cert, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
	X509_gmtime_adj(X509_getm_notBefore(cert), -60);
	X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
	X509_set_pubkey(cert, pkey);
	name = X509_get_subject_name(cert);
	X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
				   (const unsigned char *)"engine", -1, -1, 0);
	X509_set_issuer_name(cert, name);
	return X509_sign(cert, pkey, EVP_sha256()) > 0 ? 0 : -1;
}

static int write_pem(struct fx *f)
{
	FILE *c, *k;
	int ok;

	snprintf(f->dir, sizeof(f->dir), "/tmp/pw-tlsrec.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cert, sizeof(f->cert), "%s/cert.pem", f->dir);
	snprintf(f->key, sizeof(f->key), "%s/key.pem", f->dir);
	c = fopen(f->cert, "w");
	k = fopen(f->key, "w");
	ok = c && k && PEM_write_X509(c, cert) &&
	     PEM_write_PrivateKey(k, pkey, NULL, NULL, 0, NULL, NULL);
	if (c)
		fclose(c);
	if (k)
		fclose(k);
	return ok ? 0 : -1;
}

static int accept_any(int ok, X509_STORE_CTX *x)
{
	return 1;
}

/* @suites: TLS 1.3 suites for the server, NULL: its default. */
static int setup(struct fx *f, const char *suites, int max_version, int own)
{
	struct tls_cfg cfg = { .enable = true, .own_records = own,
			       .records_per_key = per_key };
	char err[256];
	int sv[2];

	memset(f, 0, sizeof(*f));
	f->cfd = f->pfd = -1;
	if (make_cert() || write_pem(f))
		return -1;
	cfg.cert = f->cert;
	cfg.key = f->key;
	if (tls_ctx_new(&f->t, &cfg, err, sizeof(err)) ||
	    tls_peer_new(&f->peer, f->t, "127.0.0.1") ||
	    tls_transport_new(&f->tr, f->peer))
		return -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv))
		return -1;
	f->cfd = sv[0];
	f->pfd = sv[1];
	f->sctx = SSL_CTX_new(TLS_server_method());
	if (!f->sctx || SSL_CTX_use_certificate(f->sctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey(f->sctx, pkey) != 1)
		return -1;
	SSL_CTX_set_max_proto_version(f->sctx, max_version);
	if (suites && SSL_CTX_set_ciphersuites(f->sctx, suites) != 1)
		return -1;
	SSL_CTX_set_verify(f->sctx, SSL_VERIFY_PEER |
			   SSL_VERIFY_FAIL_IF_NO_PEER_CERT, accept_any);
	f->s = SSL_new(f->sctx);
	f->sin = BIO_new(BIO_s_mem());
	f->sout = BIO_new(BIO_s_mem());
	if (!f->s || !f->sin || !f->sout)
		return -1;
	SSL_set_bio(f->s, f->sin, f->sout);
	SSL_set_accept_state(f->s);
	return 0;
}

static void teardown(struct fx *f)
{
	if (f->tr)
		f->tr->ops->free(f->tr);
	SSL_free(f->s);
	SSL_CTX_free(f->sctx);
	tls_peer_free(f->peer);
	tls_ctx_free(f->t);
	if (f->cfd >= 0)
		close(f->cfd);
	if (f->pfd >= 0)
		close(f->pfd);
	unlink(f->cert);
	unlink(f->key);
	rmdir(f->dir);
}

/* The bytes in flight, moved on: to the server, and from it unless held. */
static void relay(struct fx *f)
{
	uint8_t b[65536];
	ssize_t n;

	while ((n = read(f->pfd, b, sizeof(b))) > 0)
		BIO_write(f->sin, b, (int)n);
	while (!f->hold) {
		if (!f->plen) {
			int r = BIO_read(f->sout, f->pend, sizeof(f->pend));

			if (r <= 0)
				return;
			f->plen = (size_t)r;
			f->poff = 0;
		}
		n = write(f->pfd, f->pend + f->poff, f->plen - f->poff);
		if (n <= 0)
			return;
		f->poff += (size_t)n;
		if (f->poff == f->plen)
			f->plen = 0;
	}
}

static ssize_t cread(struct fx *f, void *buf, size_t len)
{
	uint32_t want;

	return f->tr->ops->read(f->tr, f->cfd, buf, len, &want);
}

static int handshake(struct fx *f)
{
	bool cdone = false, sdone = false;
	uint32_t want;
	int i, r;

	for (i = 0; i < 1000 && !(cdone && sdone); i++) {
		if (!cdone) {
			r = f->tr->ops->handshake(f->tr, f->cfd, &want);
			if (r && r != -EAGAIN)
				return r;
			cdone = !r;
		}
		relay(f);
		if (!sdone) {
			r = SSL_do_handshake(f->s);
			sdone = r == 1;
			if (r != 1 && SSL_get_error(f->s, r) != SSL_ERROR_WANT_READ)
				return -EPROTO;
		}
		relay(f);
	}
	return cdone && sdone ? 0 : -ETIMEDOUT;
}

static uint64_t own(struct fx *f)
{
	struct tls_stats st;

	tls_ctx_stats(f->t, &st);
	return st.own_records;
}

/* The handshake, then the first read: the tickets, and off OpenSSL. */
static int start(struct fx *f)
{
	uint8_t b[16];
	int err = handshake(f);

	if (err)
		return err;
	relay(f);
	return cread(f, b, sizeof(b)) == -EAGAIN ? 0 : -EPROTO;
}

/* Reads @len bytes in reads of at most @chunk. Returns 0 or the error. */
static ssize_t cread_all(struct fx *f, uint8_t *out, size_t len, size_t chunk)
{
	size_t got = 0;
	int i;

	for (i = 0; got < len && i < SPINS; i++) {
		size_t want = len - got < chunk ? len - got : chunk;
		ssize_t n = cread(f, out + got, want);

		if (n > 0)
			got += (size_t)n;
		else if (n == 0)
			return -EPIPE;
		else if (n != -EAGAIN)
			return n;
		relay(f);
	}
	return got == len ? 0 : -ETIMEDOUT;
}

static int swrite(struct fx *f, const void *buf, size_t len)
{
	size_t done;

	if (len && SSL_write_ex(f->s, buf, len, &done) != 1)
		return -EPROTO;
	relay(f);
	return 0;
}

/* The client writes @len bytes as conn.c would, the server reads them. */
static ssize_t cwrite_all(struct fx *f, const uint8_t *in, size_t len,
			  uint8_t *sink)
{
	size_t off = 0, got = 0, r;
	uint32_t want;
	int i;

	for (i = 0; (off < len || got < len) && i < SPINS; i++) {
		if (off < len) {
			ssize_t n = f->tr->ops->write(f->tr, f->cfd, in + off,
						      len - off, &want);

			if (n > 0)
				off += (size_t)n;
			else if (n != -EAGAIN)
				return n;
		}
		relay(f);
		while (got < len &&
		       SSL_read_ex(f->s, sink + got, len - got, &r) == 1)
			got += r;
		relay(f);
	}
	return got == len ? 0 : -ETIMEDOUT;
}

static uint8_t *random_bytes(size_t len)
{
	uint8_t *b = malloc(len ? len : 1);

	if (b && len)
		RAND_bytes(b, (int)len);
	return b;
}

/* @len bytes each way; 0 when both sides got exactly what was sent. */
static int both_ways(struct fx *f, size_t len, size_t chunk)
{
	uint8_t *a = random_bytes(len), *b = random_bytes(len);
	uint8_t *ra = calloc(1, len + 1), *rb = calloc(1, len + 1);
	int err = -ENOMEM;

	if (!a || !b || !ra || !rb)
		goto out;
	err = swrite(f, a, len);
	if (!err)
		err = (int)cread_all(f, ra, len, chunk);
	if (!err && memcmp(a, ra, len))
		err = -EBADMSG;
	if (!err)
		err = (int)cwrite_all(f, b, len, rb);
	if (!err && memcmp(b, rb, len))
		err = -EBADMSG;
out:
	free(a);
	free(b);
	free(ra);
	free(rb);
	return err;
}

static enum cause why(struct fx *f, char *msg, size_t len)
{
	return f->tr->ops->why(f->tr, msg, len);
}

TEST(sizes_and_stream)
{
	static const size_t sizes[] = { 0, 1, 2, 255, 256, 4096, 16383,
					16384, 16385, 40000 };
	struct fx f;
	size_t i;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++)
		EXPECT_EQ(0, both_ways(&f, sizes[i], 65536)) {
			TH_LOG("%zu bytes", sizes[i]);
		}
	EXPECT_EQ(0, both_ways(&f, STREAM, 65536));
	/* A buffer shorter than a record: the rest waits for the next read. */
	EXPECT_EQ(0, both_ways(&f, 50000, 1000));
	teardown(&f);
}

/*
 * A socket that takes a few KiB at a time: records cut by send(), their
 * tails kept and sent first, a KeyUpdate answered among them.
 */
TEST(small_socket_buffer)
{
	int sz = 4096;
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ(0, setsockopt(f.cfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	ASSERT_EQ(0, setsockopt(f.pfd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz)));
	EXPECT_EQ(0, both_ways(&f, STREAM, 65536));
	ASSERT_EQ(1, SSL_key_update(f.s, SSL_KEY_UPDATE_REQUESTED));
	EXPECT_EQ(0, both_ways(&f, 300000, 65536));
	EXPECT_EQ(0, both_ways(&f, 300000, 65536));
	teardown(&f);
}

static void suite_case(struct __test_metadata *_metadata, const char *suite)
{
	struct fx f;

	ASSERT_EQ(0, setup(&f, suite, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_STREQ(suite, SSL_get_cipher_name(f.s));
	ASSERT_EQ(1ULL, own(&f));
	EXPECT_EQ(0, both_ways(&f, 100000, 65536));
	teardown(&f);
}

TEST(aes_128_gcm)
{
	suite_case(_metadata, "TLS_AES_128_GCM_SHA256");
}

TEST(aes_256_gcm)
{
	suite_case(_metadata, "TLS_AES_256_GCM_SHA384");
}

TEST(chacha20_poly1305)
{
	suite_case(_metadata, "TLS_CHACHA20_POLY1305_SHA256");
}

/*
 * Our write key changed after so many records (2^24 in the agent; 3
 * here) under AES-GCM, never under ChaCha20-Poly1305: OpenSSL reads
 * everything, in large writes (batches of records) and small ones (a
 * record each), and the engine's own key updates stay at none.
 */
static void rekey_case(struct __test_metadata *_metadata, const char *suite,
		       bool rekeys)
{
	uint8_t *a = random_bytes(100), *ra = calloc(1, 100);
	struct tls_stats st;
	struct fx f;
	int i;

	ASSERT_TRUE(a && ra);
	per_key = 3;
	ASSERT_EQ(0, setup(&f, suite, 0, 1));
	per_key = 0;
	ASSERT_EQ(0, start(&f));
	ASSERT_STREQ(suite, SSL_get_cipher_name(f.s));
	/* 13 records of 16 KiB, in batches of 4. */
	EXPECT_EQ(0, both_ways(&f, 200000, 65536));
	tls_ctx_stats(f.t, &st);
	EXPECT_EQ(rekeys ? 3ULL : 0ULL, st.rekeys);
	/* Then a record at a time: a KeyUpdate every third. */
	for (i = 0; i < 9; i++) {
		a[0] = (uint8_t)i;
		ASSERT_EQ(0, cwrite_all(&f, a, 100, ra));
		ASSERT_EQ(0, memcmp(a, ra, 100));
	}
	tls_ctx_stats(f.t, &st);
	EXPECT_EQ(rekeys ? 6ULL : 0ULL, st.rekeys);
	EXPECT_EQ(0ULL, st.key_updates);
	EXPECT_EQ(0, both_ways(&f, 3000, 65536));
	teardown(&f);
	free(a);
	free(ra);
}

TEST(rekey_aes_128_gcm)
{
	rekey_case(_metadata, "TLS_AES_128_GCM_SHA256", true);
}

TEST(rekey_aes_256_gcm)
{
	rekey_case(_metadata, "TLS_AES_256_GCM_SHA384", true);
}

TEST(no_rekey_chacha20_poly1305)
{
	rekey_case(_metadata, "TLS_CHACHA20_POLY1305_SHA256", false);
}

static void key_update_case(struct __test_metadata *_metadata, int type)
{
	struct tls_stats st;
	struct fx f;

	ASSERT_EQ(0, setup(&f, "TLS_AES_256_GCM_SHA384", 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ(0, both_ways(&f, 20000, 65536));
	ASSERT_EQ(1, SSL_key_update(f.s, type));
	/* Sent before this data; ours, if asked, before our next. */
	EXPECT_EQ(0, both_ways(&f, 20000, 65536));
	EXPECT_EQ(0, both_ways(&f, 20000, 65536));
	ASSERT_EQ(1, SSL_key_update(f.s, type));
	EXPECT_EQ(0, both_ways(&f, 3000, 65536));
	tls_ctx_stats(f.t, &st);
	EXPECT_EQ(2ULL, st.key_updates);
	teardown(&f);
}

TEST(key_update_not_requested)
{
	key_update_case(_metadata, SSL_KEY_UPDATE_NOT_REQUESTED);
}

TEST(key_update_requested)
{
	key_update_case(_metadata, SSL_KEY_UPDATE_REQUESTED);
}

/*
 * Our answer to a KeyUpdate that comes while the socket holds only part
 * of a record of ours: the record's tail goes first, then our KeyUpdate
 * under the old key, then data under the new one.
 */
TEST(key_update_behind_a_cut_record)
{
	size_t len = 100000, inflight = 0;
	uint8_t *a = random_bytes(len), *ra = calloc(1, len);
	uint8_t x[1000] = { 'x' }, rx[sizeof(x)], b[65536];
	struct tls_stats st;
	int sz = 4096;
	uint32_t want;
	struct fx f;
	ssize_t n;

	ASSERT_TRUE(a && ra);
	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	/* A send buffer smaller than a record: a record's write is cut. */
	ASSERT_EQ(0, setsockopt(f.cfd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)));
	EXPECT_EQ(-EAGAIN, f.tr->ops->write(f.tr, f.cfd, a, 16384, &want));
	while ((n = read(f.pfd, b, sizeof(b))) > 0) {
		BIO_write(f.sin, b, (int)n);
		inflight += (size_t)n;
	}
	ASSERT_LT(0U, inflight);
	ASSERT_GT(16384U + 22, inflight) {
		TH_LOG("the record was not cut: %zu bytes sent", inflight);
	}
	/* The engine asks for our KeyUpdate; we read it, and its data. */
	ASSERT_EQ(1, SSL_key_update(f.s, SSL_KEY_UPDATE_REQUESTED));
	ASSERT_EQ(0, swrite(&f, x, sizeof(x)));
	ASSERT_EQ(0, cread_all(&f, rx, sizeof(rx), sizeof(rx)));
	EXPECT_EQ(0, memcmp(x, rx, sizeof(x)));
	/* The same bytes again, as conn.c gives them: all arrive, in order. */
	EXPECT_EQ(0, cwrite_all(&f, a, len, ra));
	EXPECT_EQ(0, memcmp(a, ra, len));
	tls_ctx_stats(f.t, &st);
	EXPECT_EQ(1ULL, st.key_updates);
	EXPECT_EQ(0, both_ways(&f, 50000, 65536));
	free(a);
	free(ra);
	teardown(&f);
}

TEST(tickets_after)
{
	struct tls_stats before, after;
	uint8_t b[16];
	struct fx f;
	int i;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	tls_ctx_stats(f.t, &before);
	for (i = 0; i < 3; i++)
		ASSERT_EQ(1, SSL_new_session_ticket(f.s));
	ASSERT_EQ(1, SSL_do_handshake(f.s));
	relay(&f);
	EXPECT_EQ(-EAGAIN, cread(&f, b, sizeof(b)));
	tls_ctx_stats(f.t, &after);
	EXPECT_EQ(before.tickets_dropped + 3, after.tickets_dropped);
	EXPECT_EQ(0, both_ways(&f, 5000, 65536));
	teardown(&f);
}

TEST(close_notify)
{
	uint8_t b[16];
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ(0, swrite(&f, "bye", 3));
	SSL_shutdown(f.s);
	relay(&f);
	EXPECT_EQ(3, cread(&f, b, sizeof(b)));
	EXPECT_EQ(0, memcmp(b, "bye", 3));
	EXPECT_EQ(0, cread(&f, b, sizeof(b)));
	teardown(&f);
}

/* Our garbage makes the server fail with bad_record_mac, told by alert. */
TEST(fatal_alert)
{
	static const uint8_t junk[5 + 20] = { 23, 3, 3, 0, 20 };
	uint8_t b[16], r[16];
	char msg[128];
	size_t n;
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ((ssize_t)sizeof(junk), write(f.cfd, junk, sizeof(junk)));
	relay(&f);
	EXPECT_NE(1, SSL_read_ex(f.s, r, sizeof(r), &n));
	ERR_clear_error();
	relay(&f);
	EXPECT_EQ(-EPROTO, cread(&f, b, sizeof(b)));
	EXPECT_EQ((int)CAUSE_TLS, (int)why(&f, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "bad record mac")) {
		TH_LOG("%s", msg);
	}
	teardown(&f);
}

/* The server's next record, held back for the test to deliver. */
static int held_record(struct fx *f, const char *data, uint8_t *rec,
		       size_t *len)
{
	int n;

	f->hold = true;
	if (swrite(f, data, strlen(data)))
		return -1;
	n = BIO_read(f->sout, rec, (int)*len);
	if (n <= 0)
		return -1;
	*len = (size_t)n;
	return 0;
}

TEST(flipped_bit)
{
	uint8_t rec[256], b[64] = { 0 }, zero[64] = { 0 };
	size_t len = sizeof(rec);
	char msg[128];
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ(0, held_record(&f, "secret answer", rec, &len));
	rec[len / 2] ^= 0x10;
	ASSERT_EQ((ssize_t)len, write(f.pfd, rec, len));
	EXPECT_EQ(-EPROTO, cread(&f, b, sizeof(b)));
	EXPECT_EQ(0, memcmp(b, zero, sizeof(b)));
	EXPECT_EQ((int)CAUSE_TLS, (int)why(&f, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, "bad record mac"));
	/* And it stays failed. */
	EXPECT_EQ(-EPROTO, cread(&f, b, sizeof(b)));
	teardown(&f);
}

TEST(one_byte_at_a_time)
{
	uint8_t rec[256], b[64];
	size_t len = sizeof(rec), i;
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ(0, held_record(&f, "piecemeal", rec, &len));
	for (i = 0; i + 1 < len; i++) {
		ASSERT_EQ(1, write(f.pfd, rec + i, 1));
		ASSERT_EQ(-EAGAIN, cread(&f, b, sizeof(b)));
	}
	ASSERT_EQ(1, write(f.pfd, rec + i, 1));
	ASSERT_EQ(9, cread(&f, b, sizeof(b)));
	EXPECT_EQ(0, memcmp(b, "piecemeal", 9));
	teardown(&f);
}

static void bad_record(struct __test_metadata *_metadata, const uint8_t *rec,
		       size_t len, const char *want)
{
	char msg[128];
	uint8_t b[64];
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(1ULL, own(&f));
	ASSERT_EQ((ssize_t)len, write(f.pfd, rec, len));
	EXPECT_EQ(-EPROTO, cread(&f, b, sizeof(b)));
	EXPECT_EQ((int)CAUSE_TLS, (int)why(&f, msg, sizeof(msg)));
	EXPECT_NE(NULL, strstr(msg, want)) {
		TH_LOG("%s", msg);
	}
	teardown(&f);
}

TEST(oversized_record)
{
	/* 2^14 + 256 + 1: refused at the header, before its body. */
	static const uint8_t hdr[] = { 23, 3, 3, 0x41, 0x01 };

	bad_record(_metadata, hdr, sizeof(hdr), "record overflow");
}

TEST(plaintext_record)
{
	static const uint8_t alert[] = { 21, 3, 3, 0, 2, 2, 40 };

	bad_record(_metadata, alert, sizeof(alert), "not an encrypted");
}

TEST(change_cipher_spec)
{
	static const uint8_t ccs[] = { 20, 3, 3, 0, 1, 1 };

	bad_record(_metadata, ccs, sizeof(ccs), "not an encrypted");
}

TEST(tls12_stays_on_openssl)
{
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, TLS1_2_VERSION, 1));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(TLS1_2_VERSION, SSL_version(f.s));
	EXPECT_EQ(0ULL, own(&f));
	EXPECT_EQ(0, both_ways(&f, 40000, 65536));
	EXPECT_EQ(0ULL, own(&f));
	teardown(&f);
}

TEST(off_switch)
{
	struct fx f;

	ASSERT_EQ(0, setup(&f, NULL, 0, 0));
	ASSERT_EQ(0, start(&f));
	ASSERT_EQ(TLS1_3_VERSION, SSL_version(f.s));
	EXPECT_EQ(0ULL, own(&f));
	EXPECT_EQ(0, both_ways(&f, 40000, 65536));
	EXPECT_EQ(0ULL, own(&f));
	teardown(&f);
}

TEST_HARNESS_MAIN
