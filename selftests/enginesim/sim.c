// SPDX-License-Identifier: GPL-2.0
/* The simulator's log: progress lines on stderr, none with --quiet. */
#include <stdarg.h>
#include <stdio.h>

#include "sim.h"

void sim_log(const struct sim *s, const char *fmt, ...)
{
	va_list ap;

	if (s->opts.quiet)
		return;
	va_start(ap, fmt);
	fputs("enginesim: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
}
