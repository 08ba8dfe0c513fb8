// SPDX-License-Identifier: GPL-2.0
/*
 * /containers/json as its bytes arrive. YAJL calls back for each value;
 * what docker.c would take from json-c's tree is taken here at once:
 * members of a container into fixed buffers bounded as docker.h says,
 * the container into the builder when its object closes. Everything else
 * (Ports, NetworkSettings, Mounts...) is only counted past.
 *
 * The rules follow docker_builder_parse() on json-c's tree, including its
 * quirks: a member given twice counts as its last value (json-c keeps
 * the last; a label given twice keeps its first place with its last
 * value), a null member is an absent one, "Names" checks only its first
 * element, nesting is refused beyond json-c's depth of 64. Unlike
 * json-c's, a "Labels" of over 1024 keys is refused (the keys are found
 * again by a linear search). A number of over 64 characters is refused,
 * as jsonl.c did on the path this replaced.
 * The syntax differs where dockerd's answers never go: YAJL refuses raw
 * control characters in strings and numbers that are not JSON's ("1.",
 * "-08", "05e+1", "-.5"), which json-c takes, and takes vertical tabs and
 * form feeds as white space between values, which jsonl.c refuses; a
 * \u escape of a surrogate not in a pair gives '?' or the surrogate's
 * own bytes, where json-c gives U+FFFD (dockerd escapes no surrogate:
 * Go writes what is not UTF-8 as U+FFFD itself).
 *
 * Between two polls the answer is mostly the same bytes: one as long as
 * the last is first held (copied into a lent buffer) and hashed, and
 * parsed only if its hash at the end differs (listing_get()).
 *
 * A listing lives across answers on a free list; what YAJL allocates for
 * one answer is kept in the listing's own small cache (alloc_*), so that
 * a steady poll calls malloc() for none of it.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#define XXH_STATIC_LINKING_ONLY	/* XXH3_state_t, embedded */
#include <xxhash.h>
#include <yajl/yajl_parse.h>

#include "listing.h"

/* json-c's tokener depth on the polling path (pool.c): deeper is refused. */
#define LISTING_MAX_DEPTH	64
/* Idle listings kept for the next answers; more are freed. */
#define LISTING_KEEP		64
/* Blocks YAJL allocates per parse: handle, lexer, its buffer, its stack. */
#define ALLOC_SLOTS		6

enum member {
	M_OTHER, M_ID, M_STATE, M_CREATED, M_NAMES, M_IMAGE, M_IMAGE_ID,
	M_COMMAND, M_STATUS, M_LABELS,
};

enum nested { IN_OTHER, IN_NAMES, IN_LABELS };

enum kind { V_NULL, V_BOOL, V_INT, V_DOUBLE, V_STRING, V_MAP, V_ARRAY };

/*
 * The longest number taken, as jsonl.c's carry on the path it replaced
 * (and on /events): anything longer refuses the listing.
 */
#define LISTING_MAX_NUMBER	64

/* Keys one "Labels" object may give; more and the listing is refused. */
#define LISTING_MAX_LABEL_KEYS	1024

struct label_ref {
	uint32_t koff, klen;		/* the key to its first NUL */
	uint32_t voff, vlen;
	bool string;			/* the value is one */
	bool fits;			/* a string without NUL, under its bound */
};

struct block {
	size_t cap;
	size_t pad;			/* keeps the data 16-byte aligned */
};

struct listing {
	struct listing *next;		/* on the free list */
	yajl_handle h;
	struct docker_builder b;
	XXH3_state_t hash;
	uint64_t digest;
	int err;
	unsigned int depth;		/* arrays and objects open */
	bool started;			/* a byte of the value seen */
	/*
	 * An answer as long as the last one may be the same: held (hashed,
	 * not parsed) until its last byte says. Anything longer is not.
	 */
	bool held;
	bool unchanged;			/* the last one's bytes again */
	size_t len, hold_len;
	struct strbuf hold;
	bool done;			/* the top array closed */
	size_t tail;			/* where it closed, in the last piece */
	enum member member;		/* of the container, at depth 2 */
	enum nested in;			/* what is open at depth 3 */
	unsigned int names_seen;
	unsigned int bad;		/* members found bad: 1 << member */
	/* The container being read; its strings in the buffers below. */
	struct docker_fields c;
	char name[DOCKER_NAME_MAX];
	char image[DOCKER_NAME_MAX];
	char image_id[DOCKER_IMAGE_ID_MAX];
	char command[DOCKER_COMMAND_MAX];
	char status[DOCKER_STATUS_MAX];
	struct strbuf labels;		/* "key\0value\0" pairs, kept */
	/*
	 * "Labels" as given, bounded only at its end, as json-c's object is:
	 * a key given again takes the first one's place with its value.
	 */
	struct strbuf raw;		/* keys and values */
	struct label_ref *lr;
	size_t nlr, lr_cap;
	size_t cur;			/* the label whose value comes */
	struct block *slot[ALLOC_SLOTS];
};

static struct listing *idle;
static unsigned int nidle;

static void *alloc_malloc(void *ctx, size_t size)
{
	struct listing *l = ctx;
	struct block *b;
	int i, best = -1;

	/* The smallest that fits: the lexer's buffer keeps its big block. */
	for (i = 0; i < ALLOC_SLOTS; i++) {
		b = l->slot[i];
		if (b && b->cap >= size &&
		    (best < 0 || b->cap < l->slot[best]->cap))
			best = i;
	}
	if (best >= 0) {
		b = l->slot[best];
		l->slot[best] = NULL;
		return b + 1;
	}
	b = malloc(sizeof(*b) + size);
	if (!b)
		return NULL;
	b->cap = size;
	return b + 1;
}

static void alloc_free(void *ctx, void *p)
{
	struct listing *l = ctx;
	struct block *b;
	int i;

	if (!p)
		return;
	b = (struct block *)p - 1;
	for (i = 0; i < ALLOC_SLOTS; i++) {
		if (!l->slot[i]) {
			l->slot[i] = b;
			return;
		}
	}
	free(b);
}

static void *alloc_realloc(void *ctx, void *p, size_t size)
{
	struct block *b = p ? (struct block *)p - 1 : NULL;
	void *q;

	if (b && b->cap >= size)
		return p;
	q = alloc_malloc(ctx, size);
	if (q && b)
		memcpy(q, p, b->cap);
	if (q)
		alloc_free(ctx, p);
	return q;
}

static int fail(struct listing *l, int err)
{
	if (!l->err)
		l->err = err;
	return 0;			/* YAJL: stop */
}

static void container_begin(struct listing *l)
{
	memset(&l->c, 0, sizeof(l->c));
	l->name[0] = l->image[0] = l->image_id[0] = '\0';
	l->command[0] = l->status[0] = '\0';
	l->c.name = l->name;
	l->c.image = l->image;
	l->c.image_id = l->image_id;
	l->c.command = l->command;
	l->c.status = l->status;
	l->labels.len = 0;
	l->raw.len = 0;
	l->nlr = 0;
	l->bad = 0;
	l->member = M_OTHER;
}

static int container_end(struct listing *l)
{
	int err;

	if (l->bad || !docker_id_valid(l->c.id))
		return fail(l, -EPROTO);
	l->c.labels = l->c.labels_len ? l->labels.p : NULL;
	err = docker_builder_add(&l->b, &l->c);
	return err ? fail(l, err) : 1;
}

/* A member's value starts again: a later one replaces an earlier one. */
static void member_reset(struct listing *l, enum member m)
{
	l->bad &= ~(1U << m);
	switch (m) {
	case M_ID:
		l->c.id[0] = '\0';
		break;
	case M_STATE:
		l->c.state[0] = '\0';
		break;
	case M_CREATED:
		l->c.created = 0;
		break;
	case M_NAMES:
		l->name[0] = '\0';
		break;
	case M_IMAGE:
		l->image[0] = '\0';
		break;
	case M_IMAGE_ID:
		l->image_id[0] = '\0';
		break;
	case M_COMMAND:
		l->command[0] = '\0';
		break;
	case M_STATUS:
		l->status[0] = '\0';
		break;
	case M_LABELS:
		l->labels.len = 0;
		l->raw.len = 0;
		l->nlr = 0;
		l->c.labels_len = 0;
		l->c.nlabels = 0;
		l->c.labels_dropped = 0;
		break;
	case M_OTHER:
		break;
	}
}

/* A whole string, NUL-free and under @max: false if not. */
static bool copy_exact(char *dst, size_t max, const unsigned char *s,
		       size_t len)
{
	if (len >= max || memchr(s, '\0', len))
		return false;
	memcpy(dst, s, len);
	dst[len] = '\0';
	return true;
}

/* Up to the first NUL, cut to fit at a character boundary (docker.c). */
static void copy_cut(char *dst, size_t max, const unsigned char *s,
		     size_t len)
{
	size_t n = strnlen((const char *)s, len);

	if (n >= max) {
		n = max - 1;
		while (n && (s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
}

/* The first of "Names", without Docker's leading '/'. */
static bool copy_name(struct listing *l, const unsigned char *s, size_t len)
{
	size_t n = strnlen((const char *)s, len);

	if (n && s[0] == '/') {
		s++;
		n--;
	}
	if (n >= DOCKER_NAME_MAX)
		return false;
	memcpy(l->name, s, n);
	l->name[n] = '\0';
	return true;
}

/* A label's key: a new one, or one given before. */
static int label_key(struct listing *l, const unsigned char *s, size_t len)
{
	size_t klen = strnlen((const char *)s, len), i;
	struct label_ref *lr;
	int err;

	for (i = 0; i < l->nlr; i++) {
		if (l->lr[i].klen == klen &&
		    !memcmp(l->raw.p + l->lr[i].koff, s, klen)) {
			l->cur = i;
			return 1;
		}
	}
	if (l->nlr == LISTING_MAX_LABEL_KEYS)
		return fail(l, -EMSGSIZE);
	if (l->nlr == l->lr_cap) {
		lr = realloc(l->lr, (l->lr_cap + 16) * sizeof(*lr));
		if (!lr)
			return fail(l, -ENOMEM);
		l->lr = lr;
		l->lr_cap += 16;
	}
	if (l->raw.len + klen > UINT32_MAX)
		return fail(l, -EMSGSIZE);
	err = strbuf_add(&l->raw, s, klen);
	if (err)
		return fail(l, err);
	l->cur = l->nlr++;
	lr = &l->lr[l->cur];
	lr->koff = (uint32_t)(l->raw.len - klen);
	lr->klen = (uint32_t)klen;
	lr->vlen = 0;
	lr->string = false;
	lr->fits = false;
	return 1;
}

/* A label's value; only one that may be kept is kept. */
static int label_value(struct listing *l, const unsigned char *s, size_t len)
{
	struct label_ref *lr = &l->lr[l->cur];
	int err;

	lr->string = true;
	lr->fits = strnlen((const char *)s, len) == len &&
		   len < DOCKER_LABEL_VALUE_MAX;
	lr->vlen = 0;
	if (!lr->fits || !len)
		return 1;
	if (l->raw.len + len > UINT32_MAX)
		return fail(l, -EMSGSIZE);
	err = strbuf_add(&l->raw, s, len);
	if (err)
		return fail(l, err);
	lr->voff = (uint32_t)(l->raw.len - len);
	lr->vlen = (uint32_t)len;
	return 1;
}

/* "Labels" closed: kept in order, or over bounds and counted (docker.c). */
static int labels_end(struct listing *l)
{
	struct docker_fields *c = &l->c;
	const struct label_ref *lr;
	size_t i;
	int err;

	/* Types first, of the values that stand: json-c's object's. */
	for (i = 0; i < l->nlr; i++) {
		if (!l->lr[i].string) {
			l->bad |= 1U << M_LABELS;
			return 1;
		}
	}
	for (i = 0; i < l->nlr; i++) {
		lr = &l->lr[i];
		if (!lr->klen || lr->klen >= DOCKER_LABEL_KEY_MAX || !lr->fits ||
		    c->nlabels == DOCKER_MAX_LABELS ||
		    c->labels_len + lr->klen + lr->vlen + 2 >
		    DOCKER_LABELS_BYTES) {
			if (c->labels_dropped < UINT16_MAX)
				c->labels_dropped++;
			continue;
		}
		err = strbuf_add(&l->labels, l->raw.p + lr->koff, lr->klen);
		if (!err)
			err = strbuf_add(&l->labels, "", 1);
		if (!err)
			err = strbuf_add(&l->labels, l->raw.p + lr->voff,
					 lr->vlen);
		if (!err)
			err = strbuf_add(&l->labels, "", 1);
		if (err)
			return fail(l, err);
		c->labels_len += lr->klen + lr->vlen + 2;
		c->nlabels++;
	}
	return 1;
}

/* A container member's value (at depth 2). */
static int member_value(struct listing *l, enum kind k,
			const unsigned char *s, size_t len, long long n)
{
	enum member m = l->member;
	bool ok = true;

	if (m == M_OTHER || k == V_NULL)
		return 1;
	switch (m) {
	case M_ID:
		ok = k == V_STRING &&
		     copy_exact(l->c.id, sizeof(l->c.id), s, len);
		break;
	case M_STATE:
		ok = k == V_STRING &&
		     copy_exact(l->c.state, sizeof(l->c.state), s, len);
		break;
	case M_CREATED:
		ok = k == V_INT;
		l->c.created = ok ? n : 0;
		break;
	case M_IMAGE:
		ok = k == V_STRING &&
		     copy_exact(l->image, sizeof(l->image), s, len);
		break;
	case M_IMAGE_ID:
		ok = k == V_STRING &&
		     copy_exact(l->image_id, sizeof(l->image_id), s, len);
		break;
	case M_COMMAND:
		ok = k == V_STRING;
		if (ok)
			copy_cut(l->command, sizeof(l->command), s, len);
		break;
	case M_STATUS:
		ok = k == V_STRING;
		if (ok)
			copy_cut(l->status, sizeof(l->status), s, len);
		break;
	case M_NAMES:
		ok = k == V_ARRAY;
		if (ok)
			l->in = IN_NAMES;
		l->names_seen = 0;
		break;
	case M_LABELS:
		ok = k == V_MAP;
		if (ok)
			l->in = IN_LABELS;
		break;
	case M_OTHER:
		break;
	}
	if (!ok)
		l->bad |= 1U << m;
	return 1;
}

/* A value inside "Names" or "Labels" (at depth 3). */
static int nested_value(struct listing *l, enum kind k,
			const unsigned char *s, size_t len)
{
	if (l->in == IN_NAMES && !l->names_seen++) {
		if (k != V_NULL && (k != V_STRING || !copy_name(l, s, len)))
			l->bad |= 1U << M_NAMES;
	} else if (l->in == IN_LABELS) {
		if (k == V_STRING)
			return label_value(l, s, len);
		l->lr[l->cur].string = false;
		l->lr[l->cur].fits = false;
	}
	return 1;
}

/* Every value, before an array or object it starts is open. */
static int value(struct listing *l, enum kind k, const unsigned char *s,
		 size_t len, long long n)
{
	switch (l->depth) {
	case 0:
		return k == V_ARRAY ? 1 : fail(l, -EPROTO);
	case 1:
		if (k != V_MAP)
			return fail(l, -EPROTO);
		container_begin(l);
		return 1;
	case 2:
		return member_value(l, k, s, len, n);
	case 3:
		return nested_value(l, k, s, len);
	default:
		return 1;
	}
}

static int open_value(struct listing *l, enum kind k)
{
	/* A member's array or object: member_value() says what it is. */
	if (l->depth == 2)
		l->in = IN_OTHER;
	if (!value(l, k, NULL, 0, 0))
		return 0;
	if (++l->depth > LISTING_MAX_DEPTH)
		return fail(l, -EPROTO);
	return 1;
}

static int close_value(struct listing *l)
{
	switch (l->depth--) {
	case 1:
		l->done = true;
		l->tail = yajl_get_bytes_consumed(l->h);
		return 1;
	case 2:
		return container_end(l);
	case 3:
		if (l->in == IN_LABELS)
			return labels_end(l);
		return 1;
	default:
		return 1;
	}
}

static int on_null(void *ctx)
{
	return value(ctx, V_NULL, NULL, 0, 0);
}

static int on_boolean(void *ctx, int v)
{
	(void)v;
	return value(ctx, V_BOOL, NULL, 0, 0);
}

/*
 * json-c's integers: a number without '.' or exponent, saturated at the
 * int64 bounds as json-c 0.16 (Debian 12) reads them (0.17 and later
 * refuse one beyond 64 bits); anything else is a double (never a valid
 * "Created").
 * Longer than LISTING_MAX_NUMBER, the listing is refused.
 */
static int on_number(void *ctx, const char *s, size_t len)
{
	bool neg = len && s[0] == '-';
	long long n = 0;
	size_t i;

	if (len > LISTING_MAX_NUMBER)
		return fail(ctx, -EPROTO);
	if (memchr(s, '.', len) || memchr(s, 'e', len) || memchr(s, 'E', len))
		return value(ctx, V_DOUBLE, NULL, 0, 0);
	for (i = neg; i < len; i++) {
		int d = s[i] - '0';

		if (!neg && n > (INT64_MAX - d) / 10) {
			n = INT64_MAX;
			break;
		}
		if (neg && n < (INT64_MIN + d) / 10) {
			n = INT64_MIN;
			break;
		}
		n = neg ? n * 10 - d : n * 10 + d;
	}
	return value(ctx, V_INT, NULL, 0, n);
}

static int on_string(void *ctx, const unsigned char *s, size_t len)
{
	return value(ctx, V_STRING, s, len, 0);
}

static int on_start_map(void *ctx)
{
	return open_value(ctx, V_MAP);
}

static int on_start_array(void *ctx)
{
	return open_value(ctx, V_ARRAY);
}

static int on_end(void *ctx)
{
	return close_value(ctx);
}

static enum member member_of(const unsigned char *s, size_t len)
{
	static const struct {
		const char *name;
		enum member m;
	} names[] = {
		{ "Id", M_ID }, { "State", M_STATE }, { "Created", M_CREATED },
		{ "Names", M_NAMES }, { "Image", M_IMAGE },
		{ "ImageID", M_IMAGE_ID }, { "Command", M_COMMAND },
		{ "Status", M_STATUS }, { "Labels", M_LABELS },
	};
	size_t i;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strlen(names[i].name) == len &&
		    !memcmp(names[i].name, s, len))
			return names[i].m;
	return M_OTHER;
}

static int on_map_key(void *ctx, const unsigned char *s, size_t len)
{
	struct listing *l = ctx;
	const unsigned char *nul;

	if (l->depth == 2) {
		/* json-c's keys are C strings: "Labels\u0000x" is "Labels". */
		nul = memchr(s, '\0', len);
		l->member = member_of(s, nul ? (size_t)(nul - s) : len);
		member_reset(l, l->member);
	} else if (l->depth == 3 && l->in == IN_LABELS) {
		return label_key(l, s, len);
	}
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

static int start(struct listing *l)
{
	yajl_alloc_funcs funcs = {
		.malloc = alloc_malloc,
		.realloc = alloc_realloc,
		.free = alloc_free,
		.ctx = l,
	};

	l->h = yajl_alloc(&callbacks, &funcs, l);
	if (!l->h)
		return -ENOMEM;
	/* json-c, as the agent runs it, does not check UTF-8 either. */
	yajl_config(l->h, yajl_dont_validate_strings, 1);
	XXH3_64bits_reset(&l->hash);
	l->digest = 0;
	l->err = 0;
	l->depth = 0;
	l->started = false;
	l->done = false;
	l->unchanged = false;
	l->len = 0;
	l->hold.len = 0;
	l->in = IN_OTHER;
	docker_builder_reset(&l->b);
	return 0;
}

static void destroy(struct listing *l)
{
	int i;

	for (i = 0; i < ALLOC_SLOTS; i++)
		free(l->slot[i]);
	docker_builder_release(&l->b);
	strbuf_release(&l->labels);
	strbuf_release(&l->raw);
	strbuf_release(&l->hold);
	free(l->lr);
	free(l);
}

int listing_get(struct listing **lp, size_t hold_len)
{
	struct listing *l = idle;
	int err;

	if (l) {
		idle = l->next;
		nidle--;
	} else {
		/* XXH3's state wants its alignment. */
		l = aligned_alloc(_Alignof(struct listing),
				  (sizeof(*l) + _Alignof(struct listing) - 1) &
				  ~(_Alignof(struct listing) - 1));
		if (!l)
			return -ENOMEM;
		memset(l, 0, sizeof(*l));
	}
	err = start(l);
	if (err) {
		destroy(l);
		return err;
	}
	l->hold_len = hold_len;
	l->held = hold_len != 0;
	*lp = l;
	return 0;
}

void listing_put(struct listing *l)
{
	if (!l)
		return;
	if (l->h)
		yajl_free(l->h);
	l->h = NULL;
	if (nidle >= LISTING_KEEP) {
		destroy(l);
		return;
	}
	l->next = idle;
	idle = l;
	nidle++;
}

static int status_err(struct listing *l, yajl_status st)
{
	if (st == yajl_status_ok)
		return 0;
	return l->err ? l->err : -EPROTO;
}

static int refuse(struct listing *l)
{
	fail(l, -EPROTO);
	return l->err;
}

/* White space as jsonl.c takes it around a value (YAJL takes more). */
static size_t space_span(const char *buf, size_t len)
{
	size_t i = 0;

	while (i < len && (buf[i] == ' ' || buf[i] == '\n' ||
			   buf[i] == '\r' || buf[i] == '\t'))
		i++;
	return i;
}

/*
 * Only white space may come around the array. YAJL does not look at a
 * token left open after it (`] "abc`), nor refuse '\v' before it.
 */
static int parse(struct listing *l, const char *buf, size_t len)
{
	size_t at;
	int err;

	if (l->done)
		return space_span(buf, len) == len ? 0 : refuse(l);
	if (!l->started) {
		at = space_span(buf, len);
		if (at == len)
			return 0;
		if (buf[at] != '[')
			return refuse(l);
		l->started = true;
	}
	err = status_err(l, yajl_parse(l->h, (const unsigned char *)buf,
				       len));
	if (!err && l->done &&
	    space_span(buf + l->tail, len - l->tail) != len - l->tail)
		err = refuse(l);
	return err;
}

/* What was held is parsed after all; what comes next as it arrives. */
static int unhold(struct listing *l)
{
	l->held = false;
	return parse(l, l->hold.p, l->hold.len);
}

int listing_feed(struct listing *l, const char *buf, size_t len)
{
	int err;

	if (l->err)
		return l->err;
	XXH3_64bits_update(&l->hash, buf, len);
	l->len += len;
	if (l->held && l->len <= l->hold_len) {
		err = strbuf_add(&l->hold, buf, len);
		if (err)
			fail(l, err);
		return l->err;
	}
	if (l->held) {
		err = unhold(l);
		if (err)
			return err;
	}
	return parse(l, buf, len);
}

int listing_finish(struct listing *l, uint64_t last_hash)
{
	int err = l->err;

	if (err)
		return err;
	l->digest = XXH3_64bits_digest(&l->hash);
	if (!l->digest)
		l->digest = 1;
	if (l->held && l->len == l->hold_len && l->digest == last_hash) {
		l->unchanged = true;
		return 0;
	}
	if (l->held)
		err = unhold(l);
	if (!err)
		err = status_err(l, yajl_complete_parse(l->h));
	if (!err && !l->done)
		err = -EPROTO;
	return err;
}

bool listing_unchanged(const struct listing *l)
{
	return l->unchanged;
}

struct docker_builder *listing_builder(struct listing *l)
{
	return &l->b;
}

uint64_t listing_hash(const struct listing *l)
{
	return l->digest;
}

size_t listing_length(const struct listing *l)
{
	return l->len;
}
