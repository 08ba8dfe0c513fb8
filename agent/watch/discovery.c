// SPDX-License-Identifier: GPL-2.0
/*
 * Where the engines are: nodes://h:p,h:p, file://path and --engine, with
 * Swarm's range syntax (an entry may be docker's tcp://h:p), and
 * etcd://h:p/path (etcdsrc.c, followed on the loop). Everything read here
 * is untrusted: lines, ranges and the total number of engines are bounded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "clock.h"
#include "discovery.h"
#include "etcdsrc.h"
#include "hostport.h"
#include "log.h"

#define RANGE_MAX_SPAN	65536

#define STR(x)		#x
#define XSTR(x)		STR(x)
/* The fleet is truncated here: always said, however many bad lines. */
static const char too_many[] = "more than " XSTR(DISCOVERY_MAX_ENGINES)
	" engines: this one and those after it are ignored";

struct discovery {
	char *nodes;		/* after "nodes://" */
	char *file;		/* after "file://" */
	struct etcdsrc *etcd;	/* etcd:// */
	struct timespec file_mtime;	/* at the last load */
	off_t file_size;
	char *const *engines;
	size_t nengines;
	char desc[256];
	uint64_t named_since;	/* monotonic ms: this window's start */
	unsigned int named;	/* bad entries named in this window */
};

void addr_list_clear(struct addr_list *l)
{
	while (l->n)
		free(l->v[--l->n]);
	free(l->v);
	l->v = NULL;
	l->cap = 0;
}

static int addr_list_add(struct addr_list *l, const char *s)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		char **v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n] = strdup(s);
	if (!l->v[l->n])
		return -ENOMEM;
	l->n++;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void addr_list_sort(struct addr_list *l)
{
	size_t i, j;

	if (!l->n)
		return;
	qsort(l->v, l->n, sizeof(*l->v), cmp_str);
	for (i = 1, j = 1; i < l->n; i++) {
		if (strcmp(l->v[i], l->v[j - 1]))
			l->v[j++] = l->v[i];
		else
			free(l->v[i]);
	}
	l->n = j;
}

/* Finds the first "[from:to]" with decimal bounds; IPv6 brackets are skipped. */
static const char *find_range(const char *s, unsigned long *from,
			      unsigned long *to, size_t *len, const char **why)
{
	const char *open;

	for (open = strchr(s, '['); open; open = strchr(open + 1, '[')) {
		const char *p = open + 1;
		char *end;

		if (*p < '0' || *p > '9')
			continue;
		*from = strtoul(p, &end, 10);
		if (*end != ':' || end[1] < '0' || end[1] > '9')
			continue;
		*to = strtoul(end + 1, &end, 10);
		if (*end != ']')
			continue;
		*len = end + 1 - open;
		if (*from > *to) {
			*why = "range goes backwards";
			return NULL;
		}
		if (*to - *from >= RANGE_MAX_SPAN) {
			*why = "range too large";
			return NULL;
		}
		return open;
	}
	*why = NULL;
	return NULL;
}

static int expand(const char *pattern, struct addr_list *out,
		  const char **why)
{
	unsigned long from, to, v;
	const char *r;
	size_t len;
	char host[256];
	uint16_t port;
	int err;

	r = find_range(pattern, &from, &to, &len, why);
	if (!r) {
		if (*why)
			return -EINVAL;
		err = hostport_parse(pattern, host, sizeof(host), &port, why);
		if (err)
			return err;
		/* The bound is on the whole fleet, not on one entry. */
		if (out->n >= DISCOVERY_MAX_ENGINES) {
			*why = too_many;
			return -E2BIG;
		}
		return addr_list_add(out, pattern);
	}
	for (v = from; v <= to; v++) {
		char buf[DISCOVERY_MAX_LINE + 16];
		int n = snprintf(buf, sizeof(buf), "%.*s%lu%s",
				 (int)(r - pattern), pattern, v, r + len);

		if (n < 0 || (size_t)n >= sizeof(buf)) {
			*why = "entry too long";
			return -EINVAL;
		}
		err = expand(buf, out, why);
		if (err)
			return err;
	}
	return 0;
}

/*
 * One entry: all its expansions, or none of them. -E2BIG once the fleet
 * is full: the caller stops there, and keeps what it has.
 */
static int add_entry(const char *entry, struct addr_list *out,
		     const char *where, unsigned int line,
		     discovery_warn_fn warn, void *arg)
{
	size_t base = out->n;
	const char *why = NULL, *addr;
	char msg[DISCOVERY_MAX_LINE + 256];
	int err = -EINVAL;

	addr = hostport_strip_tcp(entry, &why);
	if (addr)
		err = expand(addr, out, &why);
	if (err == -ENOMEM)
		return err;
	if (err) {
		while (out->n > base)
			free(out->v[--out->n]);
		/* The token itself: "nodes:// entry 2" alone does not show it. */
		snprintf(msg, sizeof(msg), "'%s': %s", entry,
			 why ? why : strerror(-err));
		warn(arg, where, line, msg);
	}
	return err == -E2BIG ? err : 0;
}

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

int discovery_parse_nodes(const char *list, struct addr_list *out,
			  discovery_warn_fn warn, void *arg)
{
	char *copy, *item, *save = NULL;
	unsigned int n = 0;
	int err = 0;

	copy = strdup(list);
	if (!copy)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item && !err;
	     item = strtok_r(NULL, ",", &save)) {
		n++;
		item = trim(item);
		if (!*item) {
			warn(arg, "nodes://", n, "empty entry");
			continue;
		}
		err = add_entry(item, out, "nodes://", n, warn, arg);
	}
	free(copy);
	return err == -E2BIG ? 0 : err;
}

int discovery_parse_file(const char *path, struct addr_list *out,
			 discovery_warn_fn warn, void *arg)
{
	char buf[DISCOVERY_MAX_LINE + 2];
	unsigned int line = 0;
	bool too_long = false;
	FILE *f;
	int err = 0;

	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (!err && fgets(buf, sizeof(buf), f)) {
		size_t len = strlen(buf);
		char *s, *hash;

		if (len && buf[len - 1] != '\n' && !feof(f)) {
			/* Skip the rest of an overlong line, report it once. */
			if (!too_long)
				warn(arg, path, line + 1, "line too long");
			too_long = true;
			continue;
		}
		line++;
		if (too_long) {
			too_long = false;
			continue;
		}
		hash = strchr(buf, '#');
		if (hash)
			*hash = '\0';
		s = trim(buf);
		if (!*s)
			continue;
		if (strpbrk(s, " \t")) {
			warn(arg, path, line, "one address per line");
			continue;
		}
		err = add_entry(s, out, path, line, warn, arg);
	}
	/* A directory opens, and fails at the first read: say which. */
	if (!err && ferror(f))
		err = errno ? -errno : -EIO;
	fclose(f);
	return err == -E2BIG ? 0 : err;
}

int discovery_new(struct discovery **dp, const char *url,
		  char *const *engines, size_t nengines,
		  const struct discovery_env *env, const char **why)
{
	struct discovery *d;
	int err;

	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	if (url && !strncmp(url, "nodes://", 8) && url[8]) {
		d->nodes = strdup(url + 8);
	} else if (url && !strncmp(url, "file://", 7) && url[7]) {
		d->file = strdup(url + 7);
	} else if (url && !strncmp(url, "etcd://", 7) && env) {
		err = etcdsrc_new(&d->etcd, url, env, why);
		if (err)
			goto err;
	} else if (url) {
		*why = "the discovery URL must be nodes://host:port,..., file://path or etcd://host:port/path";
		err = -EINVAL;
		goto err;
	}
	if (url && !d->nodes && !d->file && !d->etcd) {
		err = -ENOMEM;
		goto err;
	}
	d->engines = engines;
	d->nengines = nengines;
	snprintf(d->desc, sizeof(d->desc), "%s%s%zu --engine", url ? url : "",
		 url ? " and " : "", nengines);
	*dp = d;
	return 0;

err:
	discovery_free(d);
	return err;
}

void discovery_free(struct discovery *d)
{
	if (!d)
		return;
	free(d->nodes);
	free(d->file);
	etcdsrc_free(d->etcd);
	free(d);
}

const char *discovery_describe(const struct discovery *d)
{
	return d->desc;
}

/*
 * The bad entries of one load. At most DISCOVERY_REPORTED are named a
 * minute, the others counted in one line for the load that named some,
 * so that a file rewritten broken before every reload costs a few lines
 * a minute, not one per line of it each time. The truncation of the
 * fleet is always said.
 */
struct bad_entries {
	struct discovery *d;
	bool quiet;			/* reported at the last load already */
	unsigned int n, named;		/* in this load */
};

static void log_warn_fn(void *arg, const char *where, unsigned int line,
			const char *reason)
{
	struct bad_entries *bad = arg;
	struct discovery *d = bad->d;

	if (bad->quiet)
		return;
	bad->n++;
	/* The truncation of the fleet is always said. */
	if (d->named >= DISCOVERY_REPORTED && !strstr(reason, too_many))
		return;
	d->named++;
	bad->named++;
	if (!strcmp(where, "nodes://"))
		log_warn("discovery: nodes:// entry %u: %s", line, reason);
	else
		log_warn("discovery: %s:%u: %s", where, line, reason);
}

static void bad_entries_end(struct bad_entries *bad, const char *where)
{
	if (bad->named && bad->n > bad->named)
		log_warn("discovery: %s: %u more bad entries, not shown", where,
			 bad->n - bad->named);
	bad->n = 0;
	bad->named = 0;
}

/* Bad lines of an unchanged file were reported at its last load. */
static bool file_changed(struct discovery *d)
{
	struct stat st;
	bool changed;

	if (stat(d->file, &st))
		return true;
	changed = st.st_size != d->file_size ||
		  st.st_mtim.tv_sec != d->file_mtime.tv_sec ||
		  st.st_mtim.tv_nsec != d->file_mtime.tv_nsec;
	d->file_size = st.st_size;
	d->file_mtime = st.st_mtim;
	return changed;
}

int discovery_load(struct discovery *d, struct addr_list *out)
{
	struct bad_entries bad = { .d = d };
	uint64_t now = clock_mono_ms();
	const char *why = NULL;
	size_t i;
	int err = 0;

	if (now - d->named_since >= DISCOVERY_REPORT_WINDOW_MS) {
		d->named_since = now;
		d->named = 0;
	}
	if (d->nodes) {
		err = discovery_parse_nodes(d->nodes, out, log_warn_fn, &bad);
		bad_entries_end(&bad, "nodes://");
	}
	if (!err && d->file) {
		bad.quiet = !file_changed(d);
		err = discovery_parse_file(d->file, out, log_warn_fn, &bad);
		bad_entries_end(&bad, d->file);
		if (err && err != -ENOMEM)
			log_err("discovery: %s: %s", d->file, strerror(-err));
	}
	if (!err && d->etcd) {
		json_object_object_foreach(etcdsrc_nodes(d->etcd), key, val) {
			(void)key;
			if (out->n >= DISCOVERY_MAX_ENGINES)
				break;
			err = addr_list_add(out, json_object_get_string(val));
			if (err)
				break;
		}
	}
	for (i = 0; !err && i < d->nengines; i++) {
		if (out->n >= DISCOVERY_MAX_ENGINES) {
			log_warn("discovery: too many engines; --engine %s and the next ignored",
				 d->engines[i]);
			break;
		}
		/* Checked as flags: a scheme there is tcp://. */
		err = addr_list_add(out, hostport_strip_tcp(d->engines[i], &why) ?:
				    d->engines[i]);
	}
	if (err) {
		addr_list_clear(out);
		return err;
	}
	addr_list_sort(out);
	return 0;
}
