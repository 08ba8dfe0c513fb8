// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "size.h"

int size_parse(const char *s, uint64_t *bytes)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} sfx[] = {
		{ "", 0 }, { "B", 0 },
		{ "K", 10 }, { "KB", 10 }, { "KiB", 10 },
		{ "M", 20 }, { "MB", 20 }, { "MiB", 20 },
		{ "G", 30 }, { "GB", 30 }, { "GiB", 30 },
	};
	unsigned long long v;
	char *end;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -ERANGE;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++) {
		if (strcasecmp(end, sfx[i].suffix))
			continue;
		if (v > (UINT64_MAX >> sfx[i].shift))
			return -ERANGE;
		*bytes = (uint64_t)v << sfx[i].shift;
		return 0;
	}
	return -EINVAL;
}

int size_format(uint64_t bytes, char *buf, size_t len)
{
	static const char *const units[] = { "", "KiB", "MiB", "GiB" };
	unsigned int i = 0;
	int n;

	while (i + 1 < sizeof(units) / sizeof(units[0]) && bytes &&
	       !(bytes & 1023)) {
		bytes >>= 10;
		i++;
	}
	n = snprintf(buf, len, "%llu%s", (unsigned long long)bytes, units[i]);
	return n >= 0 && (size_t)n < len ? 0 : -ENOSPC;
}
