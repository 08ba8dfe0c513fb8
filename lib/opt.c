// SPDX-License-Identifier: GPL-2.0
/*
 * The engine of the option tables (opt.h). Each entry is the one place an
 * option is named: its field, its bounds, its default and its help, from
 * which come the parsing, the defaults and the usage.
 *
 * Names are matched whole. getopt_long takes any unambiguous prefix, so
 * "--engine-refresh-min 5s" set --engine-refresh-min-interval, and adding
 * an option could change what an old command line means, or make it
 * ambiguous. docker's and Swarm's flag parsers (Go's flag, pflag) refuse
 * prefixes; so do we, naming the options the user may have meant.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "duration.h"
#include "opt.h"
#include "size.h"

#define USAGE_COL	37	/* where the help text starts */
#define USAGE_WIDTH	79

int opt_error(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* How the user spells it: "--name", "name" (a word) or "-c". */
static const char *spelling(const struct opt *o, char *buf, size_t len)
{
	if (!o->name)
		snprintf(buf, len, "-%c", o->short_name);
	else
		snprintf(buf, len, "%s%s", o->flags & OPT_WORD ? "" : "--",
			 o->name);
	return buf;
}

static bool takes_value(const struct opt *o)
{
	return o->type != OPT_FLAG && o->type != OPT_SET &&
	       o->type != OPT_BOOL;
}

static bool numeric(const struct opt *o)
{
	return o->type == OPT_UINT || o->type == OPT_DURATION ||
	       o->type == OPT_SIZE;
}

static uint64_t field_max(size_t size)
{
	return size >= 8 ? UINT64_MAX : (1ULL << (8 * size)) - 1;
}

static uint64_t seconds(uint64_t ms)
{
	return ms / 1000 + (ms % 1000 != 0);
}

/* What an integer field holds for @v, the value in the option's unit. */
static uint64_t stored(const struct opt *o, uint64_t v)
{
	return o->type == OPT_DURATION && (o->flags & OPT_SECONDS) ?
	       seconds(v) : v;
}

static void store(const struct opt *o, void *base, uint64_t v)
{
	void *p = opt_field(o, base);

	switch (o->size) {
	case 1:
		*(uint8_t *)p = (uint8_t)v;
		break;
	case 2:
		*(uint16_t *)p = (uint16_t)v;
		break;
	case 4:
		*(uint32_t *)p = (uint32_t)v;
		break;
	default:
		*(uint64_t *)p = v;
		break;
	}
}

static bool size_ok(const struct opt *o)
{
	switch (o->type) {
	case OPT_FLAG:
		return o->size == sizeof(bool);
	case OPT_BOOL:
		return o->size == sizeof(int);
	case OPT_STRING:
		return o->size == sizeof(char *);
	case OPT_LIST:
		return o->size == sizeof(struct opt_list);
	case OPT_FUNC:
		return o->parse != NULL;
	default:
		return o->size == 1 || o->size == 2 || o->size == 4 ||
		       o->size == 8;
	}
}

static bool in_range(const struct opt *o, uint64_t v)
{
	return (v >= o->min && v <= o->max) || (!v && (o->flags & OPT_ZERO));
}

/* A table's mistakes are the programmer's: found by the first parse. */
static int check_entry(const struct opt *t, const struct opt *o, char *err,
		       size_t len)
{
	const struct opt *p;
	char name[64];

	spelling(o, name, sizeof(name));
	if (!size_ok(o))
		return opt_error(err, len, "option table: %s: field size %zu",
				 name, o->size);
	if (numeric(o) && (o->min > o->max ||
			   stored(o, o->max) > field_max(o->size) ||
			   !in_range(o, (uint64_t)o->def)))
		return opt_error(err, len, "option table: %s: bounds or default",
				 name);
	if (o->type == OPT_SET && ((uint64_t)o->val > field_max(o->size) ||
				   (uint64_t)o->def > field_max(o->size)))
		return opt_error(err, len, "option table: %s: value too wide",
				 name);
	/* A word and an option may share a name ("help", "--help"). */
	for (p = t; p != o; p++)
		if ((o->name && p->name && !strcmp(o->name, p->name) &&
		     (o->flags & OPT_WORD) == (p->flags & OPT_WORD)) ||
		    (o->short_name && o->short_name == p->short_name))
			return opt_error(err, len, "option table: %s twice",
					 name);
	return 0;
}

static int set_default(const struct opt *o, void *base)
{
	void *p = opt_field(o, base);

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)p = o->def != 0;
		break;
	case OPT_BOOL:
		*(int *)p = (int)o->def;
		break;
	case OPT_SET:
	case OPT_UINT:
	case OPT_DURATION:
	case OPT_SIZE:
		store(o, base, stored(o, (uint64_t)o->def));
		break;
	case OPT_STRING:
		*(const char **)p = o->def_str;
		if (o->def_str && (o->flags & OPT_COPY)) {
			*(char **)p = strdup(o->def_str);
			if (!*(char **)p)
				return -ENOMEM;
		}
		break;
	case OPT_LIST:
		memset(p, 0, sizeof(struct opt_list));
		break;
	case OPT_FUNC:
		break;
	}
	return 0;
}

int opt_defaults(const struct opt *t, void *base, char *err, size_t len)
{
	const struct opt *o;
	int ret;

	for (o = t; !OPT_END(o); o++) {
		ret = check_entry(t, o, err, len);
		if (ret)
			return ret;
		if (set_default(o, base)) {
			opt_error(err, len, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

static int set_uint(const struct opt *o, void *base, const char *name,
		    const char *arg, char *err, size_t len)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(arg, &end, 10);
	if (errno || end == arg || *end || *arg == '-' || !in_range(o, v))
		return opt_error(err, len, "%s: '%s' is not %san integer in [%llu, %llu]",
				 name, arg, o->flags & OPT_ZERO ? "0 or " : "",
				 (unsigned long long)o->min,
				 (unsigned long long)o->max);
	store(o, base, v);
	return 0;
}

static int set_duration(const struct opt *o, void *base, const char *name,
			const char *arg, char *err, size_t len)
{
	uint64_t v, lo = o->flags & OPT_ZERO ? 0 : o->min;
	char los[32], his[32], mins[32];

	duration_format(lo, los, sizeof(los));
	duration_format(o->max, his, sizeof(his));
	duration_format(o->min, mins, sizeof(mins));
	if (duration_parse(arg, &v))
		return opt_error(err, len, "%s: '%s' is not a duration (e.g. 500ms, 10s, 2m)",
				 name, arg);
	if (v < lo || v > o->max)
		return opt_error(err, len, "%s: %s is out of range [%s, %s]",
				 name, arg, los, his);
	if (v && v < o->min)
		return opt_error(err, len, "%s: 0 or at least %s", name, mins);
	/* The kernel takes whole seconds: 1500ms would silently be 2s. */
	if ((o->flags & OPT_SECONDS) && v % 1000)
		return opt_error(err, len, "%s: %s is not a whole number of seconds (the kernel counts in seconds: 1s, 2s...)",
				 name, arg);
	store(o, base, stored(o, v));
	return 0;
}

static int set_size(const struct opt *o, void *base, const char *name,
		    const char *arg, char *err, size_t len)
{
	char los[32], his[32];
	uint64_t v;

	size_format(o->min, los, sizeof(los));
	size_format(o->max, his, sizeof(his));
	if (size_parse(arg, &v) || !in_range(o, v))
		return opt_error(err, len, "%s: '%s' is not a size in [%s, %s]",
				 name, arg, los, his);
	store(o, base, v);
	return 0;
}

static int set_bool(const struct opt *o, void *base, const char *name,
		    const char *arg, char *err, size_t len)
{
	int *p = opt_field(o, base);

	if (!arg || !strcmp(arg, "true") || !strcmp(arg, "1"))
		*p = 1;
	else if (!strcmp(arg, "false") || !strcmp(arg, "0"))
		*p = 0;
	else
		return opt_error(err, len, "%s: '%s' is not true or false",
				 name, arg);
	return 0;
}

static int check_value(const struct opt *o, const char *name, const char *arg,
		       char *err, size_t len)
{
	const char *why = "bad value";

	if ((o->flags & OPT_PATH) && !*arg)
		return opt_error(err, len, "%s: empty path", name);
	if (o->check && o->check(arg, &why))
		return opt_error(err, len, "%s '%s': %s", name, arg, why);
	return 0;
}

static int set_string(const struct opt *o, void *base, const char *arg,
		      char *err, size_t len)
{
	const char *v = (o->flags & OPT_EMPTY_NULL) && !*arg ? NULL : arg;
	char **p = opt_field(o, base);

	if (!(o->flags & OPT_COPY)) {
		*p = (char *)v;
		return 0;
	}
	free(*p);
	*p = v ? strdup(v) : NULL;
	if (v && !*p)
		return opt_error(err, len, "out of memory");
	return 0;
}

static int add_to_list(const struct opt *o, void *base, const char *arg,
		       char *err, size_t len)
{
	struct opt_list *l = opt_field(o, base);
	char **v;

	v = realloc(l->v, (l->n + 1) * sizeof(*v));
	if (!v)
		return opt_error(err, len, "out of memory");
	l->v = v;
	l->v[l->n++] = (char *)arg;
	return 0;
}

static int apply(const struct opt *o, void *base, const char *arg, bool neg,
		 char *err, size_t len)
{
	char name[64];
	int ret;

	spelling(o, name, sizeof(name));
	switch (o->type) {
	case OPT_FLAG:
		*(bool *)opt_field(o, base) = !neg;
		return 0;
	case OPT_SET:
		store(o, base, (uint64_t)o->val);
		return 0;
	case OPT_BOOL:
		return set_bool(o, base, name, arg, err, len);
	case OPT_UINT:
		return set_uint(o, base, name, arg, err, len);
	case OPT_DURATION:
		return set_duration(o, base, name, arg, err, len);
	case OPT_SIZE:
		return set_size(o, base, name, arg, err, len);
	case OPT_STRING:
		ret = check_value(o, name, arg, err, len);
		return ret ? ret : set_string(o, base, arg, err, len);
	case OPT_LIST:
		ret = check_value(o, name, arg, err, len);
		return ret ? ret : add_to_list(o, base, arg, err, len);
	case OPT_FUNC:
		return o->parse(o, base, arg, err, len);
	}
	return opt_error(err, len, "%s: unknown type", name);
}

static bool is_named(const struct opt *o, const char *name, size_t n)
{
	return o->name && !(o->flags & OPT_WORD) && strlen(o->name) == n &&
	       !strncmp(o->name, name, n);
}

/* The entry of "--@name" (@n bytes), or of "--no-NAME" with *@neg. */
static const struct opt *find_long(const struct opt *t, const char *name,
				   size_t n, bool *neg)
{
	const struct opt *o;

	*neg = false;
	for (o = t; !OPT_END(o); o++)
		if (is_named(o, name, n))
			return o;
	if (n <= 3 || strncmp(name, "no-", 3))
		return NULL;
	*neg = true;
	for (o = t; !OPT_END(o); o++)
		if ((o->flags & OPT_NEG) && is_named(o, name + 3, n - 3))
			return o;
	return NULL;
}

static const struct opt *find_short(const struct opt *t, char c)
{
	const struct opt *o;

	for (o = t; !OPT_END(o); o++)
		if (o->short_name == c && !(o->flags & OPT_WORD))
			return o;
	return NULL;
}

static const struct opt *find_word(const struct opt *t, const char *s)
{
	const struct opt *o;

	for (o = t; !OPT_END(o); o++)
		if ((o->flags & OPT_WORD) && !strcmp(o->name, s))
			return o;
	return NULL;
}

const struct opt *opt_find(const struct opt *t, const char *name)
{
	const struct opt *o;

	for (o = t; !OPT_END(o); o++)
		if (is_named(o, name, strlen(name)))
			return o;
	return NULL;
}

static void add_hint(char *hint, size_t size, const char *neg,
		     const char *name)
{
	size_t off = strlen(hint);

	snprintf(hint + off, size - off, "%s--%s%s", off ? " or " : "", neg,
		 name);
}

/* @a is unknown; if it begins names we know, it was an abbreviation. */
static int unknown(const struct opt *t, const char *a, const char *name,
		   size_t n, char *err, size_t len)
{
	const struct opt *o;
	char hint[256] = "";

	for (o = t; n && !OPT_END(o); o++) {
		if (!o->name || (o->flags & OPT_WORD))
			continue;
		if (!strncmp(o->name, name, n))
			add_hint(hint, sizeof(hint), "", o->name);
		if ((o->flags & OPT_NEG) && n > 3 && !strncmp(name, "no-", 3) &&
		    !strncmp(o->name, name + 3, n - 3))
			add_hint(hint, sizeof(hint), "no-", o->name);
	}
	if (!*hint)
		return opt_error(err, len, "unknown option '%s' (see --help)",
				 a);
	return opt_error(err, len, "unknown option '%s': options are never abbreviated; did you mean %s?",
			 a, hint);
}

static int long_opt(const struct opt *t, void *base, int argc, char **argv,
		    int *i, char *err, size_t len)
{
	const char *a = argv[*i], *name = a + 2, *eq = strchr(name, '=');
	size_t n = eq ? (size_t)(eq - name) : strlen(name);
	const char *val = NULL;
	const struct opt *o;
	bool neg;

	o = find_long(t, name, n, &neg);
	if (!o)
		return unknown(t, a, name, n, err, len);
	if (eq && (neg || (!takes_value(o) && o->type != OPT_BOOL)))
		return opt_error(err, len, "option '--%.*s' takes no value",
				 (int)n, name);
	if (eq)
		val = eq + 1;
	else if (takes_value(o) && *i + 1 < argc)
		val = argv[++*i];
	else if (takes_value(o))
		return opt_error(err, len, "option '%s' needs a value", a);
	return apply(o, base, val, neg, err, len);
}

/* "-v", "-vq", "-i 200ms", "-i200ms". */
static int short_opts(const struct opt *t, void *base, int argc, char **argv,
		      int *i, char *err, size_t len)
{
	const char *p, *val;
	const struct opt *o;
	int ret;

	for (p = argv[*i] + 1; *p; p++) {
		o = find_short(t, *p);
		if (!o)
			return opt_error(err, len, "unknown option '-%c' (see --help)",
					 *p);
		if (!takes_value(o)) {
			ret = apply(o, base, NULL, false, err, len);
			if (ret)
				return ret;
			continue;
		}
		if (p[1])
			val = p + 1;
		else if (*i + 1 < argc)
			val = argv[++*i];
		else
			return opt_error(err, len, "option '-%c' needs a value",
					 *p);
		return apply(o, base, val, false, err, len);
	}
	return 0;
}

/* 1: argv[*@i] is a positional argument; 0: a word option, applied. */
static int word(const struct opt *t, void *base, int argc, char **argv,
		int *i, char *err, size_t len)
{
	const struct opt *o = find_word(t, argv[*i]);
	const char *val = NULL;
	int ret;

	if (!o)
		return 1;
	if (takes_value(o)) {
		if (*i + 1 >= argc)
			return opt_error(err, len, "'%s' needs a value",
					 argv[*i]);
		val = argv[++*i];
	}
	ret = apply(o, base, val, false, err, len);
	return ret < 0 ? ret : 0;
}

int opt_parse(const struct opt *t, void *base, int argc, char **argv,
	      char *err, size_t len)
{
	bool only_args = false;
	int i, nargs = 0, ret;

	for (i = 1; i < argc; i++) {
		char *a = argv[i];

		if (only_args || a[0] != '-' || !a[1]) {
			ret = only_args ? 1 : word(t, base, argc, argv, &i,
						   err, len);
			if (ret < 0)
				return ret;
			/* Arguments move up, over what was parsed. */
			if (ret)
				argv[1 + nargs++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_args = true;
			continue;
		}
		if (a[1] == '-')
			ret = long_opt(t, base, argc, argv, &i, err, len);
		else
			ret = short_opts(t, base, argc, argv, &i, err, len);
		if (ret)
			return ret;
	}
	return nargs;
}

void opt_clear(const struct opt *t, void *base)
{
	const struct opt *o;

	for (o = t; !OPT_END(o); o++) {
		void *p = opt_field(o, base);

		if (o->type == OPT_STRING && (o->flags & OPT_COPY)) {
			free(*(char **)p);
			*(char **)p = NULL;
		} else if (o->type == OPT_LIST) {
			free(((struct opt_list *)p)->v);
			memset(p, 0, sizeof(struct opt_list));
		}
	}
}

/* "  -v, --verbose", "  --events, --no-events", "  --engine HOST:PORT". */
static void usage_names(const struct opt *o, char *buf, size_t len)
{
	char name[64];
	int n;

	n = snprintf(buf, len, "  ");
	if (o->short_name && o->name)
		n += snprintf(buf + n, len - n, "-%c, ", o->short_name);
	n += snprintf(buf + n, len - n, "%s", spelling(o, name, sizeof(name)));
	if (o->flags & OPT_NEG)
		n += snprintf(buf + n, len - n, ", --no-%s", o->name);
	if (o->type == OPT_BOOL && o->arg)
		snprintf(buf + n, len - n, "[=%s]", o->arg);
	else if (o->arg)
		snprintf(buf + n, len - n, " %s", o->arg);
}

/* The default as the user would write it; "" when there is none to show. */
static void usage_default(const struct opt *o, char *buf, size_t len)
{
	buf[0] = '\0';
	switch (o->type) {
	case OPT_FLAG:
		if (o->def)
			snprintf(buf, len, "on");
		break;
	case OPT_UINT:
		snprintf(buf, len, "%lld", (long long)o->def);
		break;
	case OPT_DURATION:
		duration_format((uint64_t)o->def, buf, len);
		break;
	case OPT_SIZE:
		size_format((uint64_t)o->def, buf, len);
		break;
	case OPT_STRING:
		if (o->def_str && *o->def_str)
			snprintf(buf, len, "%s", o->def_str);
		break;
	default:
		break;
	}
}

/* @text from column @col on, words wrapped at USAGE_WIDTH. */
static void usage_wrap(FILE *f, const char *text, size_t col)
{
	size_t start = col, n;
	const char *w = text;

	while (*w) {
		n = strcspn(w, " ");
		if (col > start && col + 1 + n > USAGE_WIDTH) {
			fprintf(f, "\n%*s", (int)start, "");
			col = start;
		} else if (col > start) {
			fputc(' ', f);
			col++;
		}
		fprintf(f, "%.*s", (int)n, w);
		col += n;
		w += n;
		w += strspn(w, " ");
	}
	fputc('\n', f);
}

void opt_usage(const struct opt *t, FILE *f)
{
	char names[128], def[64], text[1024];
	const struct opt *o;
	size_t col;

	for (o = t; !OPT_END(o); o++) {
		usage_names(o, names, sizeof(names));
		usage_default(o, def, sizeof(def));
		snprintf(text, sizeof(text), "%s%s%s%s", o->help ? o->help : "",
			 *def ? " (" : "", def, *def ? ")" : "");
		fputs(names, f);
		col = strlen(names);
		if (col + 1 > USAGE_COL) {
			fputc('\n', f);
			col = 0;
		}
		fprintf(f, "%*s", (int)(USAGE_COL - col), "");
		usage_wrap(f, text, USAGE_COL);
	}
}
