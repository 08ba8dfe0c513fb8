/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_DISCOVERY_H
#define PEERWATCH_DISCOVERY_H

#include <stddef.h>

/* Bounds on what a discovery source may ask for. */
#define DISCOVERY_MAX_ENGINES	100000
#define DISCOVERY_MAX_LINE	4096
#define DISCOVERY_REPORTED	10	/* bad entries named... */
#define DISCOVERY_REPORT_WINDOW_MS	60000	/* ...in this time */

/* Engine addresses ("host:port"), sorted, without duplicates once loaded. */
struct addr_list {
	char **v;
	size_t n, cap;
};

void addr_list_clear(struct addr_list *l);

/* A bad entry: @where is the file (or "nodes://"), @line counts from 1. */
typedef void (*discovery_warn_fn)(void *arg, const char *where,
				  unsigned int line, const char *reason);

/*
 * Swarm's discovery syntax. One entry is an address with optional
 * "[from:to]" ranges ("10.0.0.[1:20]:2375"); a file has one entry per
 * line, '#' starts a comment. A bad entry is reported and skipped.
 */
int discovery_parse_nodes(const char *list, struct addr_list *out,
			  discovery_warn_fn warn, void *arg);
int discovery_parse_file(const char *path, struct addr_list *out,
			 discovery_warn_fn warn, void *arg);

struct discovery;
struct discovery_env;

/*
 * @url may be NULL when only --engine addresses are given. @env is what
 * a source read asynchronously (etcd://) needs; NULL without one.
 */
int discovery_new(struct discovery **dp, const char *url,
		  char *const *engines, size_t nengines,
		  const struct discovery_env *env, const char **why);
void discovery_free(struct discovery *d);
/*
 * Every source, read again. Bad entries are logged as "file:line: reason"
 * and skipped; -errno only when a source cannot be read at all, in which
 * case the caller keeps the engines it has.
 */
int discovery_load(struct discovery *d, struct addr_list *out);
/* A one-line description of the sources, for the log. */
const char *discovery_describe(const struct discovery *d);

#endif
