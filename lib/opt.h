/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_OPT_H
#define PEERWATCH_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/*
 * A command line described by one table: each entry names a field of the
 * caller's struct, its type, bounds, default and help, and gives the
 * parsing, the defaults and the usage text. Names are never abbreviated
 * (an unknown name that begins a known one is refused with the known one
 * as a hint); options and arguments come in any order; "--" ends options;
 * a long option takes its value as --name=value or --name value.
 */
enum opt_type {
	OPT_FLAG,	/* bool: true; with OPT_NEG, --no-NAME: false */
	OPT_SET,	/* integer field: .val when given (-v, -q, -4) */
	OPT_BOOL,	/* int: --NAME[=true|false|1|0]: 1 or 0 */
	OPT_UINT,	/* unsigned integer in [min, max] */
	OPT_DURATION,	/* Go-style ("500ms", "2m"), in ms, in [min, max] */
	OPT_SIZE,	/* bytes, binary suffixes ("64MiB"), in [min, max] */
	OPT_STRING,	/* const char *, into argv (OPT_COPY: an owned copy) */
	OPT_LIST,	/* struct opt_list: each value given, in order */
	OPT_FUNC,	/* .parse does it */
};

enum {
	OPT_NEG		= 1 << 0,	/* OPT_FLAG: --no-NAME too */
	OPT_ZERO	= 1 << 1,	/* 0 too, below min ("0: never") */
	OPT_SECONDS	= 1 << 2,	/* duration in whole seconds */
	OPT_PATH	= 1 << 3,	/* string: "" refused */
	OPT_EMPTY_NULL	= 1 << 4,	/* string: "" kept as NULL */
	OPT_COPY	= 1 << 5,	/* string: a copy, opt_clear() frees */
	OPT_WORD	= 1 << 6,	/* without dashes: "sport 80" */
};

struct opt;

/* 0, or -EINVAL with a message for the user in @err. */
typedef int (*opt_parse_fn)(const struct opt *o, void *base, const char *arg,
			    char *err, size_t len);
/* 0, or -EINVAL with the reason in @why. */
typedef int (*opt_check_fn)(const char *arg, const char **why);

struct opt {
	const char *name;	/* without "--"; NULL: a short option only */
	char short_name;	/* -X; 0: none */
	enum opt_type type;
	unsigned int flags;
	size_t off, size;	/* the field: OPT_FIELD() */
	uint64_t min, max;	/* in the option's unit (ms, bytes) */
	int64_t def;		/* numeric default, in the option's unit */
	int64_t val;		/* OPT_SET: the value given */
	const char *def_str;	/* OPT_STRING default */
	const char *arg;	/* the value in the usage ("DUR"); NULL: none */
	const char *help;
	opt_check_fn check;	/* OPT_STRING, OPT_LIST: validates each value */
	opt_parse_fn parse;	/* OPT_FUNC */
};

/* A table ends with { 0 }: neither a name nor a short one. */
#define OPT_END(o)	(!(o)->name && !(o)->short_name)

#define OPT_FIELD(type, member) \
	.off = offsetof(type, member), .size = sizeof(((type *)0)->member)

struct opt_list {
	char **v;		/* into argv */
	size_t n;
};

static inline void *opt_field(const struct opt *o, void *base)
{
	return (char *)base + o->off;
}

/*
 * Checks @t (field sizes against types, bounds, defaults within them, no
 * name twice) and stores every default in @base. 0, -EINVAL with what is
 * wrong in @err, or -ENOMEM.
 */
int opt_defaults(const struct opt *t, void *base, char *err, size_t len);
/*
 * Parses argv[1..argc) by @t into @base, which holds its defaults.
 * Returns the number of positional arguments, moved to argv[1..] in their
 * order, or -EINVAL with a message for the user in @err.
 */
int opt_parse(const struct opt *t, void *base, int argc, char **argv,
	      char *err, size_t len);
/* Frees what @t's entries own in @base (OPT_COPY strings, OPT_LIST). */
void opt_clear(const struct opt *t, void *base);
/* One entry a line or more: the names, the help wrapped, the default. */
void opt_usage(const struct opt *t, FILE *f);
/* A message for the user in @err, for checks of the caller's; -EINVAL. */
int opt_error(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The entry of --@name, or NULL. */
const struct opt *opt_find(const struct opt *t, const char *name);

#endif
