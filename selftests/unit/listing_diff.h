/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LISTING_DIFF_H
#define PEERWATCH_LISTING_DIFF_H

/*
 * The differential check of listing.c (YAJL, streaming) against the path
 * it replaced: jsonl.c with json-c's strict tokener, then
 * docker_containers_parse() on the tree. Shared by the unit test (every
 * fixture, the whole fuzz corpus) and the fuzz target.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "jsonl.h"
#include "listing.h"

struct diff_ref {
	struct json_object *value;
	unsigned int nvalues;
};

static int diff_ref_value(void *arg, struct json_object *obj)
{
	struct diff_ref *r = arg;

	if (r->nvalues++) {
		json_object_put(obj);
		return -EPROTO;
	}
	r->value = obj;
	return 0;
}

/* json-c's way, as channel.c and engine.c took an answer: 0 or -errno. */
static inline int diff_old(const char *body, size_t len,
			   struct docker_container **v, size_t *n)
{
	json_tokener *tok = json_tokener_new_ex(64);
	struct diff_ref r = { 0 };
	struct jsonl j;
	int err;

	*v = NULL;
	*n = 0;
	if (!tok)
		return -ENOMEM;
	jsonl_init(&j, tok, SIZE_MAX, diff_ref_value, &r);
	err = jsonl_feed(&j, body, len);
	if (!err && (jsonl_partial(&j) || !r.value))
		err = -EPROTO;
	if (!err)
		err = docker_containers_parse(r.value, v, n);
	json_object_put(r.value);
	json_tokener_free(tok);
	return err;
}

/*
 * listing.c's way, fed @piece bytes at a time (0: at once); with @hold,
 * as an answer as long as the last one but not the same: held, then
 * parsed at its end.
 */
static inline int diff_new(const char *body, size_t len, size_t piece,
			   bool hold, struct docker_container **v, size_t *n)
{
	struct listing *l;
	size_t at, k;
	int err;

	*v = NULL;
	*n = 0;
	err = listing_get(&l, hold ? len : 0);
	if (err)
		return err;
	for (at = 0; at < len && !err; at += k) {
		k = piece && piece < len - at ? piece : len - at;
		err = listing_feed(l, body + at, k);
	}
	/* No hash is the last one's: XXH3's of these bytes is not 1. */
	if (!err)
		err = listing_finish(l, hold ? 1 : 0);
	if (!err && listing_unchanged(l))
		err = -EINVAL;
	if (!err)
		err = docker_builder_finish(listing_builder(l), v, n);
	listing_put(l);
	return err;
}

static inline bool diff_str_eq(const char *a, const char *b)
{
	return !strcmp(a, b);
}

/* The same as every reader sees them: docker_container_fields(). */
static inline bool diff_same(const struct docker_container *a, size_t na,
			     const struct docker_container *b, size_t nb)
{
	struct docker_fields x, y;
	size_t i;

	if (na != nb)
		return false;
	for (i = 0; i < na; i++) {
		docker_container_fields(&a[i], &x);
		docker_container_fields(&b[i], &y);
		if (!diff_str_eq(x.id, y.id) ||
		    !diff_str_eq(x.state, y.state) ||
		    x.created != y.created ||
		    !diff_str_eq(x.name, y.name) ||
		    !diff_str_eq(x.image, y.image) ||
		    !diff_str_eq(x.image_id, y.image_id) ||
		    !diff_str_eq(x.command, y.command) ||
		    !diff_str_eq(x.status, y.status) ||
		    x.labels_len != y.labels_len ||
		    x.nlabels != y.nlabels ||
		    x.labels_dropped != y.labels_dropped ||
		    !x.labels != !y.labels ||
		    (x.labels && memcmp(x.labels, y.labels, x.labels_len)))
			return false;
	}
	return true;
}

/*
 * Syntax the two ways take differently (listing.c): json-c's tokener takes
 * a raw control character in a string and numbers that are not JSON's
 * (diff_lax_number()), which YAJL refuses; both
 * parsers take '\v' and '\f' as space, jsonl.c not between values; a
 * \u escape of a surrogate not in a pair is U+FFFD in json-c, '?' or the
 * surrogate's own bytes in YAJL (so the strings differ, and their bounds
 * may be met by one only); an integer beyond 64 bits, which json-c reads
 * as its bound or refuses, by version (diff_out_of_range()).
 */
static inline unsigned int diff_hex4(const char *s)
{
	unsigned int u = 0, i;

	for (i = 0; i < 4; i++) {
		char c = s[i];

		u <<= 4;
		if (c >= '0' && c <= '9')
			u |= c - '0';
		else if (c >= 'a' && c <= 'f')
			u |= c - 'a' + 10;
		else if (c >= 'A' && c <= 'F')
			u |= c - 'A' + 10;
		else
			return 0x10000;		/* not an escape at all */
	}
	return u;
}

static inline bool diff_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' ||
	       c == 'e' || c == 'E';
}

/*
 * The JSON number of @len characters at @s is an integer below INT64_MIN
 * or above UINT64_MAX: json-c 0.16 (Debian 12) reads it as its bound,
 * its strict tokener refuses it since 0.17 (Debian 13); the listing
 * reads it as its bound.
 */
static inline bool diff_out_of_range(const char *s, size_t len)
{
	bool neg = s[0] == '-';
	const char *bound = neg ? "9223372036854775808" : "18446744073709551615";
	size_t n = len - neg;

	if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
		return false;
	if (n != strlen(bound))
		return n > strlen(bound);
	return memcmp(s + neg, bound, n) > 0;
}

static inline bool diff_digit(const char *s, size_t i, size_t n)
{
	return i < n && s[i] >= '0' && s[i] <= '9';
}

/*
 * The number at @s is not JSON's (RFC 8259 6: "-.5", "05e+1", "1.",
 * "-08", "+1"...), which json-c's strict tokener takes in part and YAJL
 * never, or it is an integer beyond 64 bits.
 */
static inline bool diff_lax_number(const char *s, size_t len)
{
	size_t i = 0, n = 0;

	while (n < len && diff_number_char(s[n]))
		n++;
	if (i < n && s[i] == '-')
		i++;
	if (i < n && s[i] == '0')
		i++;
	else if (diff_digit(s, i, n) && s[i] != '0')
		while (diff_digit(s, i, n))
			i++;
	else
		return true;
	if (i < n && s[i] == '.') {
		if (!diff_digit(s, ++i, n))
			return true;
		while (diff_digit(s, i, n))
			i++;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		if (!diff_digit(s, i, n))
			return true;
		while (diff_digit(s, i, n))
			i++;
	}
	return i != n || diff_out_of_range(s, n);
}

static inline bool diff_lax_syntax(const char *s, size_t len)
{
	bool in = false, esc = false;
	size_t i;

	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (in) {
			unsigned int u;

			if (esc) {
				esc = false;
				if (c != 'u' || i + 4 >= len)
					continue;
				u = diff_hex4(s + i + 1);
				if (u >= 0xdc00 && u <= 0xdfff)
					return true;	/* a low one alone */
				if (u < 0xd800 || u > 0xdbff)
					continue;
				if (i + 10 < len && s[i + 5] == '\\' &&
				    s[i + 6] == 'u') {
					u = diff_hex4(s + i + 7);
					if (u >= 0xdc00 && u <= 0xdfff) {
						i += 10;	/* a pair */
						continue;
					}
				}
				return true;		/* a high one alone */
			} else if (c == '\\')
				esc = true;
			else if (c == '"')
				in = false;
			else if (c < 0x20)
				return true;
		} else if (c == '"') {
			in = true;
		} else if (c == '\v' || c == '\f') {
			return true;
		} else if ((c == '-' || c == '+' || c == '.' ||
			    (c >= '0' && c <= '9')) &&
			   (!i || !diff_number_char(s[i - 1])) &&
			   diff_lax_number(s + i, len - i)) {
			return true;
		}
	}
	return false;
}

/*
 * NULL when both ways agree on @body, parsed as it arrives and held
 * (both refuse it, or both take the same containers; or, on a lax
 * syntax, only one takes it or they take it differently, counted in
 * *@lenient), else what differs.
 */
static inline const char *listing_diff(const char *body, size_t len,
				       size_t piece, unsigned int *lenient)
{
	struct docker_container *a, *b;
	size_t na, nb;
	const char *why = NULL;
	int ea = diff_old(body, len, &a, &na), eb, hold;

	for (hold = 0; hold < 2 && !why; hold++) {
		eb = diff_new(body, len, piece, hold, &b, &nb);
		if ((!ea != !eb || (!ea && !diff_same(a, na, b, nb))) &&
		    diff_lax_syntax(body, len))
			++*lenient;
		else if (!ea != !eb)
			why = ea ? "only json-c refuses it" :
			      "only the listing refuses it";
		else if (!ea && !diff_same(a, na, b, nb))
			why = "different containers";
		docker_containers_free(b, nb);
	}
	docker_containers_free(a, na);
	return why;
}

#endif
