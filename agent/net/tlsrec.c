// SPDX-License-Identifier: GPL-2.0
/*
 * The TLS 1.3 record layer of an established connection (RFC 8446 5.2 to
 * 5.5, 4.6.3), what kernel TLS does, in userspace: tls.c runs the
 * handshake with OpenSSL, then hands over the application traffic
 * secrets and the sequence numbers and frees the SSL object, about 17 KiB
 * that OpenSSL cannot shrink. What stays per connection is this struct:
 * both secrets (for KeyUpdate), keys, IVs and sequence numbers. Buffers
 * exist only while they hold something: a partial record, plaintext the
 * caller had no room for, a handshake message spread over records,
 * ciphertext the socket did not take.
 *
 * Records are sealed and opened with libcrypto's AEAD through one cipher
 * context shared by every connection (the loop is one thread), keyed
 * anew for each record: a key schedule costs far less than the syscall
 * that moves the record, and two contexts per connection would cost
 * 2 KiB each idle one.
 *
 * After the handshake an engine may send only application data, alerts,
 * NewSessionTickets (dropped: the engine's session was kept before) and
 * KeyUpdates (followed, and answered if asked). Anything else is an error
 * with its cause, as OpenSSL would have ended the connection. Our own
 * write key changes after TLSREC_RECORDS_PER_KEY records under AES-GCM
 * (RFC 8446 5.5), which OpenSSL 3.0 would not do.
 */
#include <errno.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "loop_events.h"
#include "tlsrec.h"

#define REC_HDR		5
#define REC_TAG		16
#define REC_PT_MAX	16384			/* 2^14 */
#define REC_CT_MAX	(REC_PT_MAX + 256)
#define REC_MAX		(REC_HDR + REC_CT_MAX)
#define REC_IV		12
#define REC_KEY_MAX	32
/* A record written here: one byte of inner type, no padding. */
#define REC_SEALED(n)	(REC_HDR + (n) + 1 + REC_TAG)
/* Records sealed before one send(). */
#define REC_BATCH	4
/* A ticket is a few hundred bytes; OpenSSL refuses messages this long. */
#define HS_MAX		65536

#define CT_ALERT	21
#define CT_HANDSHAKE	22
#define CT_DATA		23
#define HS_NEW_SESSION_TICKET	4
#define HS_KEY_UPDATE		24
#define ALERT_CLOSE_NOTIFY	0
#define ALERT_USER_CANCELED	90

enum rec_err {
	REC_OK,
	REC_E_HEADER,		/* not an encrypted TLS 1.3 record */
	REC_E_OVERFLOW,		/* record_overflow */
	REC_E_MAC,		/* bad_record_mac: forged or out of sequence */
	REC_E_UNEXPECTED,	/* unexpected_message */
	REC_E_DECODE,		/* decode_error */
	REC_E_SEQ,		/* sequence numbers used up */
	REC_E_ALERT,		/* the engine's fatal alert */
	REC_E_CRYPTO,		/* libcrypto failed */
	REC_E_NOMEM,		/* a record lost for want of memory */
};

struct suite {
	uint16_t id;
	uint8_t key_len, hash_len;
	bool rekey;			/* a key wears out: AES-GCM */
	const char *cipher, *md;
};

static const struct suite suites[] = {
	{ 0x1301, 16, 32, true, "AES-128-GCM", "SHA256" },
	{ 0x1302, 32, 48, true, "AES-256-GCM", "SHA384" },
	{ 0x1303, 32, 32, false, "ChaCha20-Poly1305", "SHA256" },
};

#define NSUITES (sizeof(suites) / sizeof(suites[0]))

struct tlsrec_env {
	EVP_CIPHER_CTX *cctx;
	EVP_CIPHER *cipher[NSUITES];
	const EVP_CIPHER *cur;		/* the cipher cctx was last set up for */
	EVP_KDF *hkdf;
	uint64_t records_per_key;
	struct tlsrec_stats stats;
};

struct rec_dir {
	uint8_t secret[TLSREC_SECRET_MAX];
	uint8_t key[REC_KEY_MAX];
	uint8_t iv[REC_IV];
	uint64_t seq;
};

struct tlsrec {
	struct tlsrec_env *env;
	struct rec_dir rd, wr;
	uint8_t suite;			/* index in suites[] */
	uint8_t err;			/* enum rec_err, once failed */
	uint8_t alert;			/* the engine's, with REC_E_ALERT */
	bool eof;			/* close_notify read */
	uint8_t *in;			/* a partial record */
	uint8_t *pt;			/* plaintext not taken yet */
	uint8_t *hs;			/* a handshake message in pieces */
	uint8_t *out;			/* ciphertext the socket did not take */
	uint32_t in_len, pt_off, pt_len, hs_len, out_off, out_len;
	uint32_t out_plain;		/* plaintext bytes of out's data record */
};

/* One thread: whatever is left in them between calls is copied out. */
static uint8_t rscratch[4 * REC_MAX];
static uint8_t wscratch[REC_BATCH * REC_SEALED(REC_PT_MAX)];

int tlsrec_env_new(struct tlsrec_env **ep)
{
	struct tlsrec_env *e;
	size_t i;

	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->records_per_key = TLSREC_RECORDS_PER_KEY;
	e->cctx = EVP_CIPHER_CTX_new();
	e->hkdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	if (!e->cctx || !e->hkdf)
		goto err;
	/* Fetched once: a fetch per record would search the providers. */
	for (i = 0; i < NSUITES; i++) {
		e->cipher[i] = EVP_CIPHER_fetch(NULL, suites[i].cipher, NULL);
		if (!e->cipher[i])
			goto err;
	}
	*ep = e;
	return 0;

err:
	tlsrec_env_free(e);
	return -ENOMEM;
}

void tlsrec_env_free(struct tlsrec_env *e)
{
	size_t i;

	if (!e)
		return;
	EVP_CIPHER_CTX_free(e->cctx);
	for (i = 0; i < NSUITES; i++)
		EVP_CIPHER_free(e->cipher[i]);
	EVP_KDF_free(e->hkdf);
	free(e);
}

const struct tlsrec_stats *tlsrec_env_stats(const struct tlsrec_env *e)
{
	return &e->stats;
}

void tlsrec_env_set_records_per_key(struct tlsrec_env *e, uint64_t n)
{
	e->records_per_key = n ? n : 1;
}

static const struct suite *suite_of(uint16_t id)
{
	size_t i;

	for (i = 0; i < NSUITES; i++)
		if (suites[i].id == id)
			return &suites[i];
	return NULL;
}

size_t tlsrec_secret_len(uint16_t suite)
{
	const struct suite *s = suite_of(suite);

	return s ? s->hash_len : 0;
}

/* HKDF-Expand-Label(secret, label, "", len), RFC 8446 7.1. */
static int expand_label(struct tlsrec_env *e, const struct suite *s,
			const uint8_t *secret, const char *label, uint8_t *out,
			size_t len)
{
	size_t ll = strlen(label);
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	uint8_t info[2 + 1 + 6 + 16 + 1];
	OSSL_PARAM p[5];
	EVP_KDF_CTX *kc;
	int ret;

	info[0] = (uint8_t)(len >> 8);
	info[1] = (uint8_t)len;
	info[2] = (uint8_t)(6 + ll);
	memcpy(info + 3, "tls13 ", 6);
	memcpy(info + 9, label, ll);
	info[9 + ll] = 0;		/* no context */
	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						(char *)s->md, 0);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)secret, s->hash_len);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info,
						 10 + ll);
	p[4] = OSSL_PARAM_construct_end();
	kc = EVP_KDF_CTX_new(e->hkdf);
	if (!kc)
		return -ENOMEM;
	ret = EVP_KDF_derive(kc, out, len, p) == 1 ? 0 : -EINVAL;
	EVP_KDF_CTX_free(kc);
	return ret;
}

/* The key and IV of the secret in @d (RFC 8446 7.3), from sequence 0. */
static int dir_keys(struct tlsrec *r, struct rec_dir *d)
{
	const struct suite *s = &suites[r->suite];
	int err;

	err = expand_label(r->env, s, d->secret, "key", d->key, s->key_len);
	if (!err)
		err = expand_label(r->env, s, d->secret, "iv", d->iv, REC_IV);
	d->seq = 0;
	return err;
}

/* The next traffic secret (RFC 8446 7.2), after a KeyUpdate. */
static int dir_update(struct tlsrec *r, struct rec_dir *d)
{
	const struct suite *s = &suites[r->suite];
	uint8_t next[TLSREC_SECRET_MAX];
	int err;

	err = expand_label(r->env, s, d->secret, "traffic upd", next,
			   s->hash_len);
	if (!err) {
		memcpy(d->secret, next, s->hash_len);
		err = dir_keys(r, d);
	}
	OPENSSL_cleanse(next, sizeof(next));
	return err;
}

int tlsrec_new(struct tlsrec **rp, struct tlsrec_env *e,
	       const struct tlsrec_keys *k)
{
	const struct suite *s = suite_of(k->suite);
	struct tlsrec *r;
	int err;

	if (!s)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->env = e;
	r->suite = (uint8_t)(s - suites);
	memcpy(r->rd.secret, k->read, s->hash_len);
	memcpy(r->wr.secret, k->write, s->hash_len);
	err = dir_keys(r, &r->rd);
	if (!err)
		err = dir_keys(r, &r->wr);
	if (err) {
		tlsrec_free(r);
		return err;
	}
	r->rd.seq = k->read_seq;
	r->wr.seq = k->write_seq;
	e->stats.conns++;
	*rp = r;
	return 0;
}

void tlsrec_free(struct tlsrec *r)
{
	if (!r)
		return;
	free(r->in);
	if (r->pt)
		OPENSSL_cleanse(r->pt, r->pt_len);
	free(r->pt);
	free(r->hs);
	free(r->out);
	OPENSSL_cleanse(r, sizeof(*r));
	free(r);
}

static ssize_t fail(struct tlsrec *r, enum rec_err err)
{
	if (!r->err)
		r->err = (uint8_t)err;
	return -EPROTO;
}

/* The per-record nonce: the IV xor the 64-bit sequence number. */
static void nonce(const struct rec_dir *d, uint8_t *n)
{
	int i;

	memcpy(n, d->iv, REC_IV);
	for (i = 0; i < 8; i++)
		n[REC_IV - 1 - i] ^= (uint8_t)(d->seq >> (8 * i));
}

static int cipher_init(struct tlsrec *r, const struct rec_dir *d, int enc)
{
	struct tlsrec_env *e = r->env;
	const EVP_CIPHER *c = e->cipher[r->suite];
	uint8_t n[REC_IV];
	int ok;

	nonce(d, n);
	/* The same cipher again: only the key and nonce change, no allocation. */
	ok = EVP_CipherInit_ex2(e->cctx, c == e->cur ? NULL : c, d->key, n,
				enc, NULL);
	e->cur = ok ? c : NULL;
	OPENSSL_cleanse(n, sizeof(n));
	return ok ? 0 : -EINVAL;
}

/* Seals @len bytes of @type into @out: REC_SEALED(@len) bytes. */
static int seal(struct tlsrec *r, uint8_t type, const void *pt, size_t len,
		uint8_t *out)
{
	EVP_CIPHER_CTX *cctx = r->env->cctx;
	size_t clen = len + 1 + REC_TAG;
	int n, m;

	if (r->wr.seq == UINT64_MAX)
		return (int)fail(r, REC_E_SEQ);
	out[0] = CT_DATA;
	out[1] = 0x03;
	out[2] = 0x03;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	memmove(out + REC_HDR, pt, len);
	out[REC_HDR + len] = type;
	if (cipher_init(r, &r->wr, 1) ||
	    EVP_EncryptUpdate(cctx, NULL, &n, out, REC_HDR) != 1 ||
	    EVP_EncryptUpdate(cctx, out + REC_HDR, &n, out + REC_HDR,
			      (int)len + 1) != 1 ||
	    EVP_EncryptFinal_ex(cctx, out + REC_HDR + n, &m) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_GET_TAG, REC_TAG,
				out + REC_HDR + len + 1) != 1)
		return (int)fail(r, REC_E_CRYPTO);
	r->wr.seq++;
	return 0;
}

/*
 * Opens the record at @p (header and @clen bytes) in place. Returns the
 * inner type, the plaintext at @p + REC_HDR, its length in *@len.
 */
static int open_record(struct tlsrec *r, uint8_t *p, size_t clen,
		       size_t *len)
{
	EVP_CIPHER_CTX *cctx = r->env->cctx;
	uint8_t *body = p + REC_HDR;
	size_t i;
	int n, m;

	if (clen < 1 + REC_TAG)
		return (int)fail(r, REC_E_DECODE);
	if (r->rd.seq == UINT64_MAX)
		return (int)fail(r, REC_E_SEQ);
	if (cipher_init(r, &r->rd, 0) ||
	    EVP_DecryptUpdate(cctx, NULL, &n, p, REC_HDR) != 1 ||
	    EVP_DecryptUpdate(cctx, body, &n, body,
			      (int)(clen - REC_TAG)) != 1 ||
	    EVP_CIPHER_CTX_ctrl(cctx, EVP_CTRL_AEAD_SET_TAG, REC_TAG,
				body + clen - REC_TAG) != 1)
		return (int)fail(r, REC_E_CRYPTO);
	if (EVP_DecryptFinal_ex(cctx, body + n, &m) != 1) {
		/* Nothing of a forged record reaches anyone. */
		OPENSSL_cleanse(body, clen - REC_TAG);
		return (int)fail(r, REC_E_MAC);
	}
	r->rd.seq++;
	/* The inner type is the last non-zero byte; zeros after it pad. */
	for (i = clen - REC_TAG; i > 0 && !body[i - 1]; i--)
		;
	if (!i)
		return (int)fail(r, REC_E_UNEXPECTED);
	if (i - 1 > REC_PT_MAX)
		return (int)fail(r, REC_E_OVERFLOW);
	*len = i - 1;
	return body[i - 1];
}

/* Sends what the socket did not take. Returns 0 once all is gone. */
static int flush_out(struct tlsrec *r, int fd)
{
	while (r->out_off < r->out_len) {
		ssize_t n = send(fd, r->out + r->out_off,
				 r->out_len - r->out_off, MSG_NOSIGNAL);

		if (n < 0)
			return errno == EAGAIN ? -EAGAIN : -errno;
		r->out_off += (uint32_t)n;
	}
	free(r->out);
	r->out = NULL;
	r->out_off = r->out_len = 0;
	return 0;
}

/* Keeps the unsent tail of @rec, after what is already waiting. */
static int keep_out(struct tlsrec *r, const uint8_t *rec, size_t len)
{
	uint8_t *o = realloc(r->out, r->out_len + len);

	if (!o)
		return -ENOMEM;
	memcpy(o + r->out_len, rec, len);
	r->out = o;
	r->out_len += (uint32_t)len;
	return 0;
}

/*
 * Our KeyUpdate, not asking for the engine's (the engine asked for it, or
 * our key is worn out): sent under the old key before any more data, the
 * write key changed after it. What the socket does not take now goes
 * first at the next write.
 */
static int send_key_update(struct tlsrec *r, int fd)
{
	static const uint8_t msg[] = { HS_KEY_UPDATE, 0, 0, 1, 0 };
	uint8_t rec[REC_SEALED(sizeof(msg))];
	ssize_t n = 0;
	int err;

	err = seal(r, CT_HANDSHAKE, msg, sizeof(msg), rec);
	if (err)
		return err;
	if (!r->out) {
		n = send(fd, rec, sizeof(rec), MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN)
			return -errno;
		if (n < 0)
			n = 0;
	}
	if ((size_t)n < sizeof(rec)) {
		err = keep_out(r, rec + n, sizeof(rec) - (size_t)n);
		if (err)
			return err;
	}
	return dir_update(r, &r->wr) ? (int)fail(r, REC_E_CRYPTO) : 0;
}

static uint32_t be24(const uint8_t *p)
{
	return (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
}

/* A NewSessionTicket's fields must fill it exactly (RFC 8446 4.6.1). */
static bool ticket_ok(const uint8_t *b, size_t len)
{
	size_t off = 8, n;

	if (len < off + 1)
		return false;
	off += 1 + b[off];			/* ticket_nonce<0..255> */
	if (len < off + 2)
		return false;
	n = (size_t)b[off] << 8 | b[off + 1];	/* ticket<1..2^16-1> */
	if (!n)
		return false;
	off += 2 + n;
	if (len < off + 2)
		return false;
	n = (size_t)b[off] << 8 | b[off + 1];	/* extensions */
	return off + 2 + n == len;
}

/* One whole handshake message; @last: it ends its record. */
static int hs_message(struct tlsrec *r, int fd, const uint8_t *m,
		      size_t len, bool last)
{
	const uint8_t *body = m + 4;
	size_t blen = len - 4;

	switch (m[0]) {
	case HS_NEW_SESSION_TICKET:
		if (!ticket_ok(body, blen))
			return (int)fail(r, REC_E_DECODE);
		r->env->stats.tickets++;
		return 0;
	case HS_KEY_UPDATE:
		if (blen != 1 || body[0] > 1)
			return (int)fail(r, REC_E_DECODE);
		/* A key change must fall on a record boundary (RFC 8446 5.1). */
		if (!last)
			return (int)fail(r, REC_E_UNEXPECTED);
		r->env->stats.key_updates++;
		if (dir_update(r, &r->rd))
			return (int)fail(r, REC_E_CRYPTO);
		return body[0] ? send_key_update(r, fd) : 0;
	default:
		return (int)fail(r, REC_E_UNEXPECTED);
	}
}

/* The handshake bytes of one record, whole messages or pieces of them. */
static int handshake(struct tlsrec *r, int fd, const uint8_t *p, size_t len)
{
	int err = 0;

	if (!len)
		return (int)fail(r, REC_E_UNEXPECTED);
	while (len && !err) {
		size_t need, take;

		if (!r->hs_len && len >= 4 && be24(p + 1) <= len - 4) {
			need = 4 + be24(p + 1);
			err = hs_message(r, fd, p, need, need == len);
			p += need;
			len -= need;
			continue;
		}
		/* Pieces: held only until the message is whole. */
		if (!r->hs) {
			r->hs = malloc(4);
			if (!r->hs)
				return -ENOMEM;
		}
		need = (r->hs_len < 4 ? 4 : 4 + be24(r->hs + 1)) - r->hs_len;
		take = need < len ? need : len;
		memcpy(r->hs + r->hs_len, p, take);
		r->hs_len += (uint32_t)take;
		p += take;
		len -= take;
		if (r->hs_len == 4) {
			uint8_t *h;

			if (be24(r->hs + 1) > HS_MAX)
				return (int)fail(r, REC_E_DECODE);
			h = realloc(r->hs, 4 + be24(r->hs + 1));
			if (!h)
				return -ENOMEM;
			r->hs = h;
		}
		if (r->hs_len < 4 || r->hs_len < 4 + be24(r->hs + 1))
			continue;
		err = hs_message(r, fd, r->hs, r->hs_len, !len);
		free(r->hs);
		r->hs = NULL;
		r->hs_len = 0;
	}
	return err;
}

static int alert(struct tlsrec *r, const uint8_t *p, size_t len)
{
	if (len != 2)
		return (int)fail(r, REC_E_DECODE);
	if (p[1] == ALERT_CLOSE_NOTIFY) {
		r->eof = true;
		return 0;
	}
	/* Followed by a close_notify (RFC 8446 6.1): not an error itself. */
	if (p[1] == ALERT_USER_CANCELED)
		return 0;
	r->alert = p[1];
	return (int)fail(r, REC_E_ALERT);
}

/*
 * The data of one record, into the caller's buffer; what does not fit
 * waits in r->pt (only with a buffer shorter than a record).
 */
static int deliver(struct tlsrec *r, const uint8_t *p, size_t len,
		   uint8_t *buf, size_t room, size_t *got)
{
	size_t n = len < room ? len : room;

	memcpy(buf + *got, p, n);
	*got += n;
	if (n == len)
		return 0;
	r->pt = malloc(len - n);
	if (!r->pt)
		return -ENOMEM;
	memcpy(r->pt, p + n, len - n);
	r->pt_off = 0;
	r->pt_len = (uint32_t)(len - n);
	return 0;
}

/*
 * The complete records at the start of rscratch[0..@have): returns the
 * bytes consumed. Stops at an error, close_notify or plaintext waiting.
 */
static size_t consume(struct tlsrec *r, int fd, size_t have, uint8_t *buf,
		      size_t len, size_t *got, int *errp)
{
	size_t off = 0;
	int err = 0;

	while (!err && !r->eof && !r->pt && have - off >= REC_HDR) {
		uint8_t *p = rscratch + off;
		size_t clen = (size_t)p[3] << 8 | p[4], plen;
		int type;

		/* After the handshake: encrypted records only, none too long. */
		if (p[0] != CT_DATA || p[1] != 0x03 || p[2] != 0x03) {
			err = (int)fail(r, REC_E_HEADER);
			break;
		}
		if (clen > REC_CT_MAX) {
			err = (int)fail(r, REC_E_OVERFLOW);
			break;
		}
		if (have - off < REC_HDR + clen)
			break;
		type = open_record(r, p, clen, &plen);
		if (type < 0) {
			err = type;
			break;
		}
		off += REC_HDR + clen;
		/* A handshake message may not be interleaved (RFC 8446 5.1). */
		if (r->hs && type != CT_HANDSHAKE)
			err = (int)fail(r, REC_E_UNEXPECTED);
		else if (type == CT_DATA)
			err = deliver(r, p + REC_HDR, plen, buf, len - *got, got);
		else if (type == CT_HANDSHAKE)
			err = handshake(r, fd, p + REC_HDR, plen);
		else if (type == CT_ALERT)
			err = alert(r, p + REC_HDR, plen);
		else
			err = (int)fail(r, REC_E_UNEXPECTED);
		OPENSSL_cleanse(p + REC_HDR, plen);
	}
	/* A record was lost: the stream cannot go on. */
	if (err == -ENOMEM)
		fail(r, REC_E_NOMEM);
	*errp = err;
	return off;
}

static ssize_t take_plain(struct tlsrec *r, uint8_t *buf, size_t len)
{
	size_t n = r->pt_len < len ? r->pt_len : len;

	memcpy(buf, r->pt + r->pt_off, n);
	r->pt_off += (uint32_t)n;
	r->pt_len -= (uint32_t)n;
	if (!r->pt_len) {
		OPENSSL_cleanse(r->pt, r->pt_off);
		free(r->pt);
		r->pt = NULL;
		r->pt_off = 0;
	}
	return (ssize_t)n;
}

ssize_t tlsrec_read(struct tlsrec *r, int fd, void *buf, size_t len,
		    uint32_t *want)
{
	size_t have = r->in_len, got = 0, cap, off;
	ssize_t n = 1;			/* what recv() said last; 1: not called */
	int err = 0, rerr = 0;

	if (r->pt)
		return take_plain(r, buf, len);
	if (r->err)
		return -EPROTO;
	if (r->eof || !len)
		return 0;
	/*
	 * No more ciphertext than the plaintext the caller has room for:
	 * what a read leaves in the socket wakes the loop again, what it
	 * left here would not.
	 */
	cap = len < sizeof(rscratch) ? len : sizeof(rscratch);
	if (cap < REC_MAX)
		cap = REC_MAX;
	if (have) {
		memcpy(rscratch, r->in, have);
		free(r->in);
		r->in = NULL;
		r->in_len = 0;
	}
	for (;;) {
		off = consume(r, fd, have, buf, len, &got, &err);
		have -= off;
		if (have && off)
			memmove(rscratch, rscratch + off, have);
		if (got || err || r->eof || r->pt)
			break;
		n = recv(fd, rscratch + have, cap - have, 0);
		if (n <= 0) {
			rerr = n ? errno : 0;
			break;
		}
		have += (size_t)n;
	}
	/* A partial record waits for the rest; at end of stream it is lost. */
	if (have && !err && !r->eof && n) {
		r->in = malloc(have);
		if (!r->in)
			return fail(r, REC_E_NOMEM);
		memcpy(r->in, rscratch, have);
		r->in_len = (uint32_t)have;
	}
	if (got)
		return (ssize_t)got;
	if (err)
		return err;
	/* End of stream, with close_notify or without, as OpenSSL's was taken. */
	if (r->eof || !n)
		return 0;
	if (rerr == EAGAIN) {
		*want = LOOP_READ;
		return -EAGAIN;
	}
	return -rerr;
}

ssize_t tlsrec_write(struct tlsrec *r, int fd, const void *buf, size_t len,
		     uint32_t *want)
{
	const uint8_t *p = buf;
	size_t done = 0;
	int err;

	if (r->out) {
		err = flush_out(r, fd);
		if (err == -EAGAIN)
			*want = LOOP_WRITE;
		if (err)
			return err;
		/* The caller gives the record's plaintext again: it is sent. */
		if (r->out_plain) {
			done = r->out_plain;
			r->out_plain = 0;
			return (ssize_t)done;
		}
	}
	while (done < len) {
		size_t plen[REC_BATCH], olen = 0, sent = 0, at = 0, k = 0, i;
		uint64_t seq0;
		ssize_t n;

		/* A batch may go past the limit by a few records, no more. */
		if (suites[r->suite].rekey &&
		    r->wr.seq >= r->env->records_per_key) {
			err = send_key_update(r, fd);
			if (err)
				return done ? (ssize_t)done : err;
			r->env->stats.rekeys++;
			if (r->out)		/* the socket did not take it */
				break;
		}
		seq0 = r->wr.seq;
		for (; k < REC_BATCH && done < len; k++) {
			plen[k] = len - done < REC_PT_MAX ? len - done : REC_PT_MAX;
			err = seal(r, CT_DATA, p + done, plen[k], wscratch + olen);
			if (err)
				return err;
			olen += REC_SEALED(plen[k]);
			done += plen[k];
		}
		n = send(fd, wscratch, olen, MSG_NOSIGNAL);
		if (n == (ssize_t)olen)
			continue;
		for (i = 0; i < k; i++)
			done -= plen[i];
		if (n < 0) {
			r->wr.seq = seq0;
			if (errno != EAGAIN)
				return done ? (ssize_t)done : -errno;
			break;
		}
		/* Whole records count; the one cut keeps its tail. */
		for (i = 0; i < k && at + REC_SEALED(plen[i]) <= (size_t)n; i++) {
			at += REC_SEALED(plen[i]);
			sent += plen[i];
		}
		r->wr.seq = seq0 + i;
		if ((size_t)n > at) {
			err = keep_out(r, wscratch + n,
				       REC_SEALED(plen[i]) - ((size_t)n - at));
			if (err)
				return err;
			r->out_plain = (uint32_t)plen[i];
			r->wr.seq++;
		}
		done += sent;
		break;
	}
	if (done)
		return (ssize_t)done;
	*want = LOOP_WRITE;
	return -EAGAIN;
}

static const char *rec_err_str(enum rec_err e)
{
	switch (e) {
	case REC_E_HEADER:
		return "not an encrypted TLS 1.3 record";
	case REC_E_OVERFLOW:
		return "record overflow";
	case REC_E_MAC:
		return "bad record mac";
	case REC_E_UNEXPECTED:
		return "unexpected message";
	case REC_E_DECODE:
		return "decode error";
	case REC_E_SEQ:
		return "record sequence numbers exhausted";
	case REC_E_CRYPTO:
		return "cipher failure";
	case REC_E_NOMEM:
		return "out of memory";
	default:
		return "protocol error";
	}
}

/* The engine's verdict on our certificate, in the alert it sent. */
static bool cert_alert(uint8_t desc)
{
	switch (desc) {
	case SSL3_AD_BAD_CERTIFICATE:
	case SSL3_AD_UNSUPPORTED_CERTIFICATE:
	case SSL3_AD_CERTIFICATE_REVOKED:
	case SSL3_AD_CERTIFICATE_EXPIRED:
	case SSL3_AD_CERTIFICATE_UNKNOWN:
	case TLS1_AD_UNKNOWN_CA:
	case TLS1_AD_ACCESS_DENIED:
	case TLS13_AD_CERTIFICATE_REQUIRED:
		return true;
	default:
		return false;
	}
}

enum cause tlsrec_why(const struct tlsrec *r, char *msg, size_t len)
{
	const char *a = SSL_alert_desc_string_long(r->alert);

	if (r->err != REC_E_ALERT) {
		snprintf(msg, len, "TLS: %s", rec_err_str(r->err));
		return CAUSE_TLS;
	}
	if (cert_alert(r->alert)) {
		snprintf(msg, len, "the engine refused our client certificate (alert: %s)",
			 a);
		return CAUSE_TLS_CERT_REFUSED;
	}
	snprintf(msg, len, "TLS: alert %u from the engine: %s", r->alert, a);
	return CAUSE_TLS;
}
