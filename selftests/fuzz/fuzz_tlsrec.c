// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the TLS 1.3 record layer of an established connection
 * (agent/net/tlsrec.c) as the engine's bytes reach it, after a fixed key
 * setup (TLS_AES_128_GCM_SHA256, both secrets fixed, sequence numbers 0).
 *
 * Input: a sequence of chunks, each written to the connection's socket
 * and read at once, in reads of a size the chunk picks:
 *   op < 0x80:  raw bytes: one length byte, then that many bytes
 *   op >= 0x80: a record sealed here under the engine's key: inner type
 *               (op & 3: alert, handshake, data, 0x40), zero padding
 *               ((op >> 2) & 7) * 37 bytes, a two-byte length, then the
 *               content. Bit 0x20 skips a sequence number (a replay or a
 *               drop), which must fail the record's tag.
 * Invariants: no read returns more than asked; once a read failed with
 * -EPROTO every later one does and why() names a cause; delivered bytes
 * are exactly the content of sealed data records, in order, up to the
 * first failure or end of stream.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fuzz.h"
#include "tlsrec.h"

#define SECRET_LEN	32
#define REC_PT_MAX	16384

struct sealer {
	EVP_CIPHER_CTX *cctx;
	uint8_t key[16], iv[12];
	uint64_t seq;
};

static struct tlsrec_env *env;
static struct sealer sealer;
static const uint8_t engine_secret[SECRET_LEN] = { [0 ... SECRET_LEN - 1] = 0x5a };
static const uint8_t our_secret[SECRET_LEN] = { [0 ... SECRET_LEN - 1] = 0xa5 };

/* HKDF-Expand-Label with SHA-256, written again here as the oracle. */
static void expand(const char *label, uint8_t *out, size_t len)
{
	int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
	uint8_t info[64];
	size_t ll = strlen(label), n = 0;
	OSSL_PARAM p[5];
	EVP_KDF *kdf = EVP_KDF_fetch(NULL, "HKDF", NULL);
	EVP_KDF_CTX *kc = EVP_KDF_CTX_new(kdf);

	info[n++] = 0;
	info[n++] = (uint8_t)len;
	info[n++] = (uint8_t)(6 + ll);
	memcpy(info + n, "tls13 ", 6);
	n += 6;
	memcpy(info + n, label, ll);
	n += ll;
	info[n++] = 0;
	p[0] = OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode);
	p[1] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST,
						"SHA256", 0);
	p[2] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY,
						 (void *)engine_secret,
						 SECRET_LEN);
	p[3] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, info, n);
	p[4] = OSSL_PARAM_construct_end();
	fuzz_assert(kc && EVP_KDF_derive(kc, out, len, p) == 1);
	EVP_KDF_CTX_free(kc);
	EVP_KDF_free(kdf);
}

static size_t seal(uint8_t type, const uint8_t *pt, size_t len, size_t pad,
		   uint8_t *out)
{
	size_t clen = len + 1 + pad + 16;
	uint8_t nonce[12];
	int n, m, i;

	memcpy(nonce, sealer.iv, 12);
	for (i = 0; i < 8; i++)
		nonce[11 - i] ^= (uint8_t)(sealer.seq >> (8 * i));
	sealer.seq++;
	out[0] = 23;
	out[1] = 3;
	out[2] = 3;
	out[3] = (uint8_t)(clen >> 8);
	out[4] = (uint8_t)clen;
	memcpy(out + 5, pt, len);
	out[5 + len] = type;
	memset(out + 6 + len, 0, pad);
	fuzz_assert(EVP_EncryptInit_ex2(sealer.cctx, EVP_aes_128_gcm(),
					sealer.key, nonce, NULL) == 1);
	fuzz_assert(EVP_EncryptUpdate(sealer.cctx, NULL, &n, out, 5) == 1);
	fuzz_assert(EVP_EncryptUpdate(sealer.cctx, out + 5, &n, out + 5,
				      (int)(len + 1 + pad)) == 1);
	fuzz_assert(EVP_EncryptFinal_ex(sealer.cctx, out + 5 + n, &m) == 1);
	fuzz_assert(EVP_CIPHER_CTX_ctrl(sealer.cctx, EVP_CTRL_AEAD_GET_TAG, 16,
					out + 5 + len + 1 + pad) == 1);
	return 5 + clen;
}

/* Everything readable now; checks each answer. Returns the last one. */
static ssize_t drain(struct tlsrec *r, int fd, size_t chunk, uint8_t *got,
		     size_t *ngot, size_t cap, bool *failed)
{
	uint8_t buf[REC_PT_MAX + 1];
	uint32_t want;
	ssize_t n;
	char msg[128];

	for (;;) {
		n = tlsrec_read(r, fd, buf, chunk, &want);
		if (*failed)
			fuzz_assert(n == -EPROTO);
		if (n <= 0)
			break;
		fuzz_assert((size_t)n <= chunk);
		if (*ngot + (size_t)n <= cap)
			memcpy(got + *ngot, buf, (size_t)n);
		*ngot += (size_t)n;
	}
	if (n == -EPROTO) {
		*failed = true;
		msg[0] = 0;
		fuzz_assert(tlsrec_why(r, msg, sizeof(msg)) != CAUSE_NONE);
		fuzz_assert(msg[0]);
	} else if (n != 0) {
		fuzz_assert(n == -EAGAIN && want);
	}
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t types[] = { 21, 22, 23, 0x40 };
	static uint8_t rec[5 + REC_PT_MAX + 256 + 16 + 300];
	static uint8_t sent[1 << 16], got[1 << 16];
	struct tlsrec_keys k = { .suite = 0x1301 };
	size_t off = 0, nsent = 0, ngot = 0;
	bool failed = false, ended = false, bad = false;
	struct tlsrec *r;
	uint8_t drop[4096];
	int sv[2];

	if (!env) {
		fuzz_assert(!tlsrec_env_new(&env));
		sealer.cctx = EVP_CIPHER_CTX_new();
		expand("key", sealer.key, sizeof(sealer.key));
		expand("iv", sealer.iv, sizeof(sealer.iv));
	}
	sealer.seq = 0;
	memcpy(k.read, engine_secret, SECRET_LEN);
	memcpy(k.write, our_secret, SECRET_LEN);
	fuzz_assert(!tlsrec_new(&r, env, &k));
	fuzz_assert(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv));

	while (off < size && !failed && !ended) {
		uint8_t op = data[off++];
		size_t len, wlen, chunk = 1 + (size_t)(op & 0x1f) * 600;
		const uint8_t *w;

		if (op < 0x80) {
			if (off >= size)
				break;
			len = data[off++];
			len = len < size - off ? len : size - off;
			w = data + off;
			wlen = len;
			/* Raw bytes: what comes after them is no longer ours to check. */
			bad = true;
		} else {
			size_t pad = (size_t)((op >> 2) & 7) * 37;

			if (off + 2 > size)
				break;
			len = (size_t)data[off] << 8 | data[off + 1];
			off += 2;
			len = len < size - off ? len : size - off;
			if (len > REC_PT_MAX)
				len = REC_PT_MAX;
			/* A skipped number, or more than a record may hold. */
			if ((op & 0x20) || len + 1 + pad > REC_PT_MAX + 256)
				bad = true;
			if (op & 0x20)
				sealer.seq++;
			wlen = seal(types[op & 3], data + off, len, pad, rec);
			w = rec;
			if (types[op & 3] == 23 && !bad &&
			    nsent + len <= sizeof(sent)) {
				memcpy(sent + nsent, data + off, len);
				nsent += len;
			} else {
				/* Its meaning is the layer's to judge; not compared after. */
				bad = true;
			}
		}
		off += len;
		fuzz_assert(write(sv[1], w, wlen) == (ssize_t)wlen);
		ended = drain(r, sv[0], chunk, got, &ngot, sizeof(got), &failed) == 0;
		/* Our KeyUpdates, if asked for. */
		while (read(sv[1], drop, sizeof(drop)) > 0)
			;
	}
	close(sv[1]);
	if (!failed && !ended)
		drain(r, sv[0], REC_PT_MAX + 1, got, &ngot, sizeof(got), &failed);
	/* Sealed data records before anything else: delivered exactly. */
	if (nsent <= sizeof(got)) {
		fuzz_assert(ngot >= nsent);
		fuzz_assert(!memcmp(sent, got, nsent));
	}
	close(sv[0]);
	tlsrec_free(r);
	return 0;
}
