// SPDX-License-Identifier: GPL-2.0
/*
 * Go's time.ParseDuration syntax, as Swarm's flags took it: a sequence of
 * decimal numbers with optional fraction and a unit, "0" alone allowed.
 * Negative values are refused: every duration here is a timeout or period.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "duration.h"

#define NS_PER_MS 1000000ULL

static const struct {
	const char *name;
	uint64_t ns;
} units[] = {
	/* Longer names first so that "ms" is not read as "m". */
	{ "ns", 1ULL },
	{ "us", 1000ULL },
	{ "\xc2\xb5s", 1000ULL },	/* U+00B5 micro sign */
	{ "\xce\xbcs", 1000ULL },	/* U+03BC greek mu */
	{ "ms", NS_PER_MS },
	{ "s", 1000 * NS_PER_MS },
	{ "m", 60 * 1000 * NS_PER_MS },
	{ "h", 3600 * 1000 * NS_PER_MS },
};

static int parse_unit(const char **p, uint64_t *ns)
{
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		size_t n = strlen(units[i].name);

		if (!strncmp(*p, units[i].name, n)) {
			*p += n;
			*ns = units[i].ns;
			return 0;
		}
	}
	return -EINVAL;
}

int duration_parse(const char *s, uint64_t *ms)
{
	unsigned __int128 total = 0;

	if (!s || !*s)
		return -EINVAL;
	if (!strcmp(s, "0")) {
		*ms = 0;
		return 0;
	}
	while (*s) {
		unsigned __int128 whole = 0, frac = 0, scale = 1;
		bool digits = false;
		uint64_t unit;

		for (; *s >= '0' && *s <= '9'; s++, digits = true) {
			whole = whole * 10 + (unsigned int)(*s - '0');
			if (whole > UINT64_MAX)
				return -ERANGE;
		}
		if (*s == '.') {
			/* Digits beyond ns precision cannot matter. */
			for (s++; *s >= '0' && *s <= '9'; s++, digits = true) {
				if (scale < 1000000000000000000ULL) {
					frac = frac * 10 + (unsigned int)(*s - '0');
					scale *= 10;
				}
			}
		}
		if (!digits || parse_unit(&s, &unit))
			return -EINVAL;
		total += whole * unit + frac * unit / scale;
		if (total > UINT64_MAX)
			return -ERANGE;
	}
	*ms = (uint64_t)(total / NS_PER_MS);
	return 0;
}

int duration_format(uint64_t ms, char *buf, size_t len)
{
	uint64_t h = ms / 3600000, m = ms / 60000 % 60;
	uint64_t s = ms / 1000 % 60, rest = ms % 1000;
	size_t off = 0;
	int n;

	if (!len)
		return -ENOSPC;
	buf[0] = '\0';
	if (ms == 0)
		return snprintf(buf, len, "0s") < (int)len ? 0 : -ENOSPC;
	if (ms < 1000)
		return snprintf(buf, len, "%llums", (unsigned long long)ms) <
		       (int)len ? 0 : -ENOSPC;
	if (h) {
		n = snprintf(buf + off, len - off, "%lluh", (unsigned long long)h);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	if (m) {
		n = snprintf(buf + off, len - off, "%llum", (unsigned long long)m);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
		off += n;
	}
	if (s || rest) {
		if (rest)
			n = snprintf(buf + off, len - off, "%llu.%03llus",
				     (unsigned long long)s,
				     (unsigned long long)rest);
		else
			n = snprintf(buf + off, len - off, "%llus",
				     (unsigned long long)s);
		if (n < 0 || (size_t)n >= len - off)
			return -ENOSPC;
	}
	return 0;
}
