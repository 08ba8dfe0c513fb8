// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the agent's HTTP response parser (agent/http.c), with
 * Content-Length, chunked and close-delimited bodies, for normal and
 * stream (/events) responses.
 *
 * Input: two control bytes, then the response as a peer would send it.
 * Byte 0 picks the kind of response (stream, answer to HEAD, a small body
 * bound); byte 1 seeds how the bytes are split. Each input is parsed twice,
 * whole and in pieces: how the bytes arrive must not change whether the
 * response is accepted, nor what it delivers.
 */
#include <errno.h>
#include <stdbool.h>

#include "http.h"
#include "fuzz.h"

#define CTL_STREAM	0x01
#define CTL_HEAD	0x02
#define CTL_SMALL	0x04	/* a bound the seeds' bodies exceed */

struct outcome {
	ssize_t ret;		/* first error, or 0 */
	int eof;		/* http_resp_eof() when no error came first */
	size_t used;		/* bytes taken before completion */
	uint64_t body_len;
	uint64_t body_hash;
	unsigned int status;
	bool complete;
	bool keep_alive;
	char api_version[HTTP_API_VERSION_MAX];
};

static int on_body(void *arg, const char *data, size_t len)
{
	struct outcome *o = arg;

	o->body_len += len;
	o->body_hash = fuzz_hash(o->body_hash, data, len);
	return 0;
}

static void check_resp(const struct http_resp *r, const struct outcome *o)
{
	/* Api-Version is kept in a fixed buffer: it must stay a string. */
	fuzz_assert(memchr(r->api_version, '\0', sizeof(r->api_version)));
	if (r->err)
		fuzz_assert(r->err < 0);
	if (!r->stream && !r->err)
		fuzz_assert(o->body_len <= r->max_body);
	if (r->head && r->complete)
		fuzz_assert(o->body_len == 0);
}

static void parse(const uint8_t *data, size_t size, uint8_t ctl, bool split,
		  uint8_t seed, struct outcome *o)
{
	uint64_t max_body = ctl & CTL_SMALL ? 64 : 64ULL << 20;
	struct fuzz_split s;
	struct http_resp r;
	size_t off = 0;

	memset(o, 0, sizeof(*o));
	o->body_hash = FUZZ_HASH_INIT;
	fuzz_split_init(&s, seed);
	http_resp_init(&r, max_body, ctl & CTL_STREAM, ctl & CTL_HEAD,
		       on_body, o);
	while (off < size) {
		size_t n = split ? fuzz_split_next(&s, size - off) : size;
		char *piece = fuzz_piece(data + off, n);
		ssize_t used = http_resp_feed(&r, piece, n);

		free(piece);
		if (used < 0) {
			o->ret = used;
			/* An error sticks: nothing more is parsed. */
			fuzz_assert(http_resp_feed(&r, "x", 1) == used);
			fuzz_assert(http_resp_eof(&r) == used);
			break;
		}
		fuzz_assert((size_t)used <= n);
		o->used += used;
		if ((size_t)used < n) {
			/* Stopping early is for a response that is complete. */
			fuzz_assert(r.complete);
			break;
		}
		off += n;
	}
	if (!o->ret)
		o->eof = http_resp_eof(&r);
	if (r.complete)
		fuzz_assert(http_resp_feed(&r, "x", 1) == 0);
	check_resp(&r, o);
	o->status = http_resp_status(&r);
	o->complete = r.complete;
	o->keep_alive = r.keep_alive;
	memcpy(o->api_version, r.api_version, sizeof(o->api_version));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct outcome whole, pieces;
	uint8_t ctl, seed;

	if (size < 2)
		return 0;
	ctl = data[0];
	seed = data[1];
	data += 2;
	size -= 2;

	parse(data, size, ctl, false, seed, &whole);
	parse(data, size, ctl, true, seed, &pieces);

	/*
	 * Which error is reported may depend on the split (a bound crossed by
	 * a piece before a syntax error is seen), but not whether there is one.
	 */
	fuzz_assert((whole.ret < 0) == (pieces.ret < 0));
	if (whole.ret < 0)
		return 0;
	fuzz_assert(whole.eof == pieces.eof);
	fuzz_assert(whole.used == pieces.used);
	fuzz_assert(whole.complete == pieces.complete);
	fuzz_assert(whole.status == pieces.status);
	fuzz_assert(whole.body_len == pieces.body_len);
	fuzz_assert(whole.body_hash == pieces.body_hash);
	if (whole.complete)
		fuzz_assert(whole.keep_alive == pieces.keep_alive);
	fuzz_assert(!strcmp(whole.api_version, pieces.api_version));
	return 0;
}
