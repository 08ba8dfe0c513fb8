/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_APIREQ_H
#define PEERWATCH_APIREQ_H

/*
 * A control API request taken apart, with no I/O: the request target split
 * into path and query, the query percent-decoded into pairs, the path held
 * against a route's pattern (routes.c has the table), a Docker /vX.Y prefix
 * taken off, and the Docker "filters" JSON read. Every size is bounded;
 * what is malformed gets a status and a reason.
 */
#include <stdbool.h>
#include <stddef.h>
#include <http_parser.h>

#define API_MAX_REQUEST		8192		/* request line + headers */
#define API_REQ_MAX_PARAMS	32
#define DOCKER_FILTERS_MAX	32		/* key/value pairs */
#define DOCKER_FILTERS_BYTES	4096

/* The Docker Engine API version the façade speaks, and the oldest. */
#define DOCKERAPI_VERSION	"1.41"
#define DOCKERAPI_MIN_VERSION	"1.24"

/*
 * A request's head as it arrives, in pieces: its method, target and
 * whether a body follows (never read). At most API_MAX_REQUEST bytes.
 */
struct api_head {
	http_parser parser;
	size_t got;			/* bytes the parser took */
	char url[API_MAX_REQUEST];
	size_t url_len;
	unsigned int method;		/* http_parser's */
	bool has_body;
	bool complete;			/* the head is whole */
	const char *why;		/* of a refusal */
};

void api_head_init(struct api_head *h);
/*
 * Feeds @len received bytes: 0 (more needed, or h->complete), or the HTTP
 * status to refuse the request with (400, 431) and the reason in h->why.
 * Bytes after the head (a body) are left alone.
 */
unsigned int api_head_feed(struct api_head *h, const char *data, size_t len);

enum api_req_method {
	METHOD_GET,
	METHOD_HEAD,
	METHOD_OTHER,		/* POST, DELETE...: changes something */
};

struct api_req {
	enum api_req_method method;
	const char *method_name;
	bool docker;		/* for the façade, errors its way */
	const char *path;	/* without the version prefix */
	const char *version;	/* "1.41" of /v1.41/..., NULL: none */
	const char *ref;	/* what a pattern's {name} matched, decoded */
	unsigned int nparams;
	const char *key[API_REQ_MAX_PARAMS];
	const char *value[API_REQ_MAX_PARAMS];	/* NULL: no '=' */
	char version_buf[16];
	char buf[API_MAX_REQUEST + 1];		/* what they point into */
	char ref_buf[API_MAX_REQUEST + 1];	/* ref, the path left whole */
};

/*
 * Takes apart the request target @url (@len bytes) of a request with
 * http_parser method @method. Returns 0, or the HTTP status to answer
 * (400, 414) with the reason in @why.
 */
unsigned int api_req_parse(struct api_req *r, const char *url, size_t len,
			   unsigned int method, const char **why);

/*
 * Holds the path against @pattern, literal but for one "{name}": a part
 * that is not empty and does not start with '/' (a container may be
 * NODE/NAME), percent-decoded into @r->ref. 0 if it matches, -ENOENT if
 * not, -EINVAL if the part does not decode.
 */
int api_req_match(struct api_req *r, const char *pattern);

/* A Docker client's "/vX.Y/rest": the version into @r, the path "/rest". */
void api_req_unversion(struct api_req *r);

/* The value of query parameter @key; NULL if absent, "" if valueless. */
const char *api_req_param(const struct api_req *r, const char *key);

/*
 * Compares two API versions "X.Y": <0, 0, >0. Malformed ones (the caller
 * checks with api_version_valid) compare as 0.0.
 */
int api_version_cmp(const char *a, const char *b);
bool api_version_valid(const char *v);

/* Docker's filters, {"key":{"value":true}} or the old {"key":["value"]}. */
struct docker_filters {
	unsigned int n;
	const char *key[DOCKER_FILTERS_MAX];
	const char *value[DOCKER_FILTERS_MAX];
	char buf[DOCKER_FILTERS_BYTES];
};

/* 0, or -EINVAL with the reason in @why. "" is no filter at all. */
int docker_filters_parse(const char *json, struct docker_filters *f,
			 const char **why);
/* Whether @key is one of the NULL-terminated @allowed; if not, @why says. */
bool docker_filters_known(const struct docker_filters *f,
			  const char *const *allowed, const char **bad);

/* A filter key and how one of its values matches; a NULL key ends a table. */
struct docker_filter_key {
	const char *key;
	bool (*match)(const char *v, const void *arg);
	bool every;		/* every value must match (labels); else any */
};

/*
 * Whether @arg passes @f, as in dockerd: every key of @keys that @f gives
 * holds; a key holds if any of its values matches (every one, if @every).
 */
bool docker_filters_pass(const struct docker_filters *f,
			 const struct docker_filter_key *keys,
			 const void *arg);

/*
 * Docker's timestamps in since/until: "SECONDS[.NANOSECONDS]" (what the CLI
 * sends), seconds up to what nanoseconds hold (2262). 0, or -EINVAL.
 */
int docker_timestamp_parse(const char *s, long long *ns);

#endif
