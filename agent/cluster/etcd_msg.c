// SPDX-License-Identifier: GPL-2.0
/*
 * The gateway's JSON is protobuf's: int64 fields are decimal strings,
 * bytes fields are base64, fields at their zero value are left out (a
 * txn that failed has no "succeeded", a lease that expired no "TTL").
 * Decoding is strict: a key or value that is not base64, too long or
 * holds a NUL is refused rather than cut, so a stranger's key under our
 * prefix is reported, never misread.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <openssl/evp.h>

#include "etcd_msg.h"

#define B64_LEN(n)	(4 * (((n) + 2) / 3))

static struct json_object *b64(const char *s, size_t len)
{
	struct json_object *o;
	char *out = malloc(B64_LEN(len) + 1);

	if (!out)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, (const unsigned char *)s,
			(int)len);
	o = json_object_new_string(out);
	free(out);
	return o;
}

/* Base64 of at most @max decoded bytes, no NUL among them. */
static int unb64(const char *in, size_t inlen, char *out, size_t max,
		 size_t *outlen)
{
	size_t pad = 0;
	int n;

	if (inlen % 4 || B64_LEN(max) < inlen)
		return -EPROTO;
	if (!inlen) {
		*outlen = 0;
		out[0] = '\0';
		return 0;
	}
	/* EVP_DecodeBlock counts '=' as zero bytes: take them off. */
	if (in[inlen - 1] == '=')
		pad++;
	if (inlen > 1 && in[inlen - 2] == '=')
		pad++;
	n = EVP_DecodeBlock((unsigned char *)out, (const unsigned char *)in,
			    (int)inlen);
	if (n < 0 || (size_t)n < pad || (size_t)n - pad > max)
		return -EPROTO;
	n -= (int)pad;
	if (memchr(out, '\0', (size_t)n))
		return -EPROTO;
	out[n] = '\0';
	*outlen = (size_t)n;
	return 0;
}

/* "PREFIX" up to, not including, "PREFIY": etcd's range_end of a prefix. */
static struct json_object *prefix_end(const char *key)
{
	size_t len = strlen(key);
	char buf[ETCD_MAX_KEY + 1];

	if (!len || len > ETCD_MAX_KEY)
		return NULL;
	memcpy(buf, key, len);
	while (len && (unsigned char)buf[len - 1] == 0xff)
		len--;
	if (!len)
		return b64("\0", 1);
	buf[len - 1]++;
	return b64(buf, len);
}

static struct json_object *i64(int64_t v)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)v);
	return json_object_new_string(buf);
}

static struct json_object *obj(void)
{
	return json_object_new_object();
}

static void add(struct json_object *o, const char *k, struct json_object *v)
{
	if (o)
		json_object_object_add(o, k, v);
}

struct json_object *etcd_req_range(const char *key, bool prefix)
{
	struct json_object *o = obj();

	add(o, "key", b64(key, strlen(key)));
	if (prefix)
		add(o, "range_end", prefix_end(key));
	return o;
}

static struct json_object *put(const char *key, const char *value,
			       int64_t lease)
{
	struct json_object *o = obj();

	add(o, "key", b64(key, strlen(key)));
	add(o, "value", b64(value, strlen(value)));
	if (lease)
		add(o, "lease", i64(lease));
	return o;
}

struct json_object *etcd_req_put(const char *key, const char *value,
				 int64_t lease)
{
	return put(key, value, lease);
}

struct json_object *etcd_req_delete(const char *key)
{
	return etcd_req_range(key, false);
}

static struct json_object *wrap(const char *name, struct json_object *v)
{
	struct json_object *o = obj();

	add(o, name, v);
	return o;
}

struct json_object *etcd_op_put(const char *key, const char *value)
{
	return wrap("request_put", put(key, value, 0));
}

struct json_object *etcd_op_delete(const char *key)
{
	return wrap("request_delete_range", etcd_req_range(key, false));
}

struct json_object *etcd_req_create(const char *key, const char *value,
				    int64_t lease)
{
	struct json_object *o = obj(), *cmp = obj(), *a;

	add(cmp, "key", b64(key, strlen(key)));
	add(cmp, "target", json_object_new_string("CREATE"));
	add(cmp, "create_revision", i64(0));
	a = json_object_new_array();
	if (a)
		json_object_array_add(a, cmp);
	else
		json_object_put(cmp);
	add(o, "compare", a);
	a = json_object_new_array();
	if (a)
		json_object_array_add(a, wrap("request_put",
					      put(key, value, lease)));
	add(o, "success", a);
	a = json_object_new_array();
	if (a)
		json_object_array_add(a, wrap("request_range",
					      etcd_req_range(key, false)));
	add(o, "failure", a);
	return o;
}

struct json_object *etcd_req_txn(struct json_object *ops)
{
	return wrap("success", ops);
}

struct json_object *etcd_req_grant(int64_t ttl_s)
{
	return wrap("TTL", i64(ttl_s));
}

struct json_object *etcd_req_lease(int64_t id)
{
	return wrap("ID", i64(id));
}

struct json_object *etcd_req_watch(const char *prefix, int64_t start_rev)
{
	struct json_object *c = etcd_req_range(prefix, true);

	if (start_rev)
		add(c, "start_revision", i64(start_rev));
	return wrap("create_request", c);
}

static int bad(const char **why, const char *what)
{
	*why = what;
	return -EPROTO;
}

/* An int64 as the gateway sends it (a string), or a plain JSON number. */
static int get_i64(struct json_object *o, const char *name, int64_t *v,
		   bool need)
{
	struct json_object *f;
	const char *s;
	long long n;
	char *end;

	*v = 0;
	if (!json_object_object_get_ex(o, name, &f) || !f)
		return need ? -EPROTO : 0;
	if (json_object_is_type(f, json_type_int)) {
		*v = json_object_get_int64(f);
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return -EPROTO;
	s = json_object_get_string(f);
	if (!*s || strlen(s) > 20)
		return -EPROTO;
	errno = 0;
	n = strtoll(s, &end, 10);
	if (errno || *end)
		return -EPROTO;
	*v = n;
	return 0;
}

static bool get_bool(struct json_object *o, const char *name, int *err)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, name, &f) || !f)
		return false;
	if (!json_object_is_type(f, json_type_boolean)) {
		*err = -EPROTO;
		return false;
	}
	return json_object_get_boolean(f);
}

static struct json_object *get_obj(struct json_object *o, const char *name)
{
	struct json_object *f;

	if (!json_object_object_get_ex(o, name, &f) ||
	    !json_object_is_type(f, json_type_object))
		return NULL;
	return f;
}

/* An array field; absent is empty (protobuf leaves out empty lists). */
static int get_array(struct json_object *o, const char *name,
		     struct json_object **a)
{
	struct json_object *f;

	*a = NULL;
	if (!json_object_object_get_ex(o, name, &f) || !f)
		return 0;
	if (!json_object_is_type(f, json_type_array))
		return -EPROTO;
	*a = f;
	return 0;
}

static const char *error_text(struct json_object *e)
{
	struct json_object *m;

	if (json_object_is_type(e, json_type_string))
		return json_object_get_string(e);
	if (json_object_object_get_ex(e, "message", &m) &&
	    json_object_is_type(m, json_type_string))
		return json_object_get_string(m);
	return "etcd answered an error";
}

int etcd_msg_open(struct json_object *o, struct json_object **body,
		  int64_t *rev, const char **why)
{
	struct json_object *f, *h;

	*rev = 0;
	*body = NULL;
	if (!json_object_is_type(o, json_type_object))
		return bad(why, "not a JSON object");
	if (json_object_object_get_ex(o, "error", &f) && f) {
		*why = error_text(f);
		return -EIO;
	}
	if (json_object_object_get_ex(o, "result", &f)) {
		if (!json_object_is_type(f, json_type_object))
			return bad(why, "result is not an object");
		o = f;
	}
	h = get_obj(o, "header");
	if (!h)
		return bad(why, "no header");
	if (get_i64(h, "revision", rev, false) || *rev < 0)
		return bad(why, "bad revision");
	*body = o;
	return 0;
}

static int kv_field(struct json_object *kv, const char *name, char *buf,
		    size_t max, size_t *len)
{
	struct json_object *f;

	if (!json_object_object_get_ex(kv, name, &f) || !f) {
		buf[0] = '\0';
		*len = 0;
		return 0;
	}
	if (!json_object_is_type(f, json_type_string))
		return -EPROTO;
	return unb64(json_object_get_string(f),
		     (size_t)json_object_get_string_len(f), buf, max, len);
}

static int one_kv(struct json_object *o, bool deleted, etcd_kv_fn fn,
		  void *arg, const char **why)
{
	/* Base64 decodes by groups of three: room for the last one's spare. */
	char key[ETCD_MAX_KEY + 3], value[ETCD_MAX_VALUE + 3];
	struct etcd_kv kv = { .key = key, .value = value, .deleted = deleted };

	if (!json_object_is_type(o, json_type_object))
		return bad(why, "a key is not an object");
	if (kv_field(o, "key", key, ETCD_MAX_KEY, &kv.keylen) || !kv.keylen)
		return bad(why, "a key is not base64 of 1 to 1024 bytes without NUL");
	if (kv_field(o, "value", value, ETCD_MAX_VALUE, &kv.valuelen))
		return bad(why, "a value is not base64 of at most 4096 bytes without NUL");
	if (get_i64(o, "mod_revision", &kv.mod_revision, false) ||
	    get_i64(o, "lease", &kv.lease, false))
		return bad(why, "a key has a bad revision or lease");
	return fn(arg, &kv);
}

static int each_kv(struct json_object *a, bool events, etcd_kv_fn fn,
		   void *arg, const char **why)
{
	size_t i, n = a ? json_object_array_length(a) : 0;
	int err;

	for (i = 0; i < n; i++) {
		struct json_object *o = json_object_array_get_idx(a, i), *kv,
				   *t;
		bool deleted = false;

		if (events) {
			if (!json_object_is_type(o, json_type_object))
				return bad(why, "an event is not an object");
			if (json_object_object_get_ex(o, "type", &t)) {
				if (!json_object_is_type(t, json_type_string))
					return bad(why, "bad event type");
				if (!strcmp(json_object_get_string(t), "DELETE"))
					deleted = true;
				else if (strcmp(json_object_get_string(t), "PUT"))
					return bad(why, "unknown event type");
			}
			kv = get_obj(o, "kv");
			if (!kv)
				return bad(why, "an event without kv");
			o = kv;
		}
		err = one_kv(o, deleted, fn, arg, why);
		if (err)
			return err;
	}
	return 0;
}

int etcd_msg_range(struct json_object *body, etcd_kv_fn fn, void *arg,
		   const char **why)
{
	struct json_object *a;

	if (get_array(body, "kvs", &a))
		return bad(why, "kvs is not an array");
	return each_kv(a, false, fn, arg, why);
}

int etcd_msg_grant(struct json_object *body, int64_t *id, int64_t *ttl,
		   const char **why)
{
	struct json_object *e;

	if (json_object_object_get_ex(body, "error", &e) && e &&
	    json_object_is_type(e, json_type_string) &&
	    json_object_get_string_len(e)) {
		*why = json_object_get_string(e);
		return -EIO;
	}
	if (get_i64(body, "ID", id, true) || *id <= 0)
		return bad(why, "lease grant without a lease ID");
	if (get_i64(body, "TTL", ttl, true) || *ttl <= 0)
		return bad(why, "lease grant without a TTL");
	return 0;
}

int etcd_msg_keepalive(struct json_object *body, int64_t id, int64_t *ttl,
		       const char **why)
{
	int64_t got;

	if (get_i64(body, "ID", &got, false) || got != id)
		return bad(why, "keepalive answer for another lease");
	if (get_i64(body, "TTL", ttl, false) || *ttl < 0)
		return bad(why, "keepalive answer with a bad TTL");
	return 0;
}

int etcd_msg_create(struct json_object *body, bool *created, etcd_kv_fn fn,
		    void *arg, const char **why)
{
	struct json_object *a, *r, *rr;
	int err = 0;

	*created = get_bool(body, "succeeded", &err);
	if (err)
		return bad(why, "succeeded is not a boolean");
	if (*created)
		return 0;
	if (get_array(body, "responses", &a) || !a ||
	    json_object_array_length(a) != 1)
		return bad(why, "a failed txn without its one response");
	r = json_object_array_get_idx(a, 0);
	if (!json_object_is_type(r, json_type_object))
		return bad(why, "a txn response is not an object");
	rr = get_obj(r, "response_range");
	if (!rr)
		return bad(why, "a failed txn without its range");
	return etcd_msg_range(rr, fn, arg, why);
}

int etcd_msg_watch(struct json_object *body, bool *created, bool *canceled,
		   etcd_kv_fn fn, void *arg, const char **why)
{
	struct json_object *a;
	int err = 0;

	*created = get_bool(body, "created", &err);
	*canceled = get_bool(body, "canceled", &err);
	if (err)
		return bad(why, "created or canceled is not a boolean");
	if (get_array(body, "events", &a))
		return bad(why, "events is not an array");
	return each_kv(a, true, fn, arg, why);
}
