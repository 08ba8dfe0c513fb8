/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_ETCD_MSG_H
#define PEERWATCH_ETCD_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

/*
 * etcd v3's JSON gateway, both ways: requests built with base64 keys and
 * values, answers validated. Every answer is untrusted input: keys and
 * values are bounded, 64-bit numbers (strings in the gateway's JSON) are
 * checked, and anything unexpected is an -EPROTO with a reason.
 */
#define ETCD_MAX_KEY		1024
#define ETCD_MAX_VALUE		4096
/* etcd's own default --max-txn-ops. */
#define ETCD_MAX_TXN_OPS	128

struct etcd_kv {
	const char *key;		/* NUL-terminated, decoded */
	size_t keylen;
	const char *value;		/* NUL-terminated, decoded; "" if none */
	size_t valuelen;
	int64_t mod_revision;
	int64_t lease;
	bool deleted;			/* a DELETE event of a watch */
};

/* Called for each key of an answer; a non-zero return stops the walk. */
typedef int (*etcd_kv_fn)(void *arg, const struct etcd_kv *kv);

/* A new object {"key": b64(key), "range_end": b64(prefix end)} etc. */
struct json_object *etcd_req_range(const char *key, bool prefix);
struct json_object *etcd_req_put(const char *key, const char *value,
				 int64_t lease);
struct json_object *etcd_req_delete(const char *key);
/* A txn: put @key under @lease if it does not exist; else read it. */
struct json_object *etcd_req_create(const char *key, const char *value,
				    int64_t lease);
/* A txn of no comparison and @ops (request_put/delete_range) as success. */
struct json_object *etcd_req_txn(struct json_object *ops);
/* One op of etcd_req_txn(). */
struct json_object *etcd_op_put(const char *key, const char *value);
struct json_object *etcd_op_delete(const char *key);
struct json_object *etcd_req_grant(int64_t ttl_s);
struct json_object *etcd_req_lease(int64_t id);
struct json_object *etcd_req_watch(const char *prefix, int64_t start_rev);

/*
 * Unwrap and check an answer: a gateway error ({"error", "code",
 * "message"}, or a stream's {"error": {...}}) is -EIO with its message;
 * a stream's {"result": {...}} is unwrapped. The header's revision goes
 * to *@rev when there is one (0 otherwise). *@body is borrowed from @o.
 */
int etcd_msg_open(struct json_object *o, struct json_object **body,
		  int64_t *rev, const char **why);
/* A range answer: each of its keys. */
int etcd_msg_range(struct json_object *body, etcd_kv_fn fn, void *arg,
		   const char **why);
int etcd_msg_grant(struct json_object *body, int64_t *id, int64_t *ttl,
		   const char **why);
/* A keepalive answer: *@ttl 0 when the lease is gone. */
int etcd_msg_keepalive(struct json_object *body, int64_t id, int64_t *ttl,
		       const char **why);
/*
 * A txn of etcd_req_create(): *@created, or the existing key through @fn.
 */
int etcd_msg_create(struct json_object *body, bool *created, etcd_kv_fn fn,
		    void *arg, const char **why);
/* A watch message: created / canceled, and each event through @fn. */
int etcd_msg_watch(struct json_object *body, bool *created, bool *canceled,
		   etcd_kv_fn fn, void *arg, const char **why);

#endif
