// SPDX-License-Identifier: GPL-2.0
/* Aligned text tables for the control API's views, and their cells. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

struct cli_table {
	size_t ncols;
	char **cells;		/* row-major, nrows * ncols */
	size_t nrows, cap;
};

int cli_table_new(struct cli_table **tp, size_t ncols)
{
	struct cli_table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	t->ncols = ncols;
	*tp = t;
	return 0;
}

void cli_table_free(struct cli_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	free(t);
}

int cli_table_add(struct cli_table *t, ...)
{
	char **cells;
	va_list ap;
	size_t i;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 64;

		cells = realloc(t->cells, cap * t->ncols * sizeof(*cells));
		if (!cells)
			return -ENOMEM;
		t->cells = cells;
		t->cap = cap;
	}
	cells = t->cells + t->nrows * t->ncols;
	va_start(ap, t);
	for (i = 0; i < t->ncols; i++) {
		const char *s = va_arg(ap, const char *);

		cells[i] = strdup(s && *s ? s : "-");
	}
	va_end(ap);
	t->nrows++;
	for (i = 0; i < t->ncols; i++)
		if (!cells[i])
			return -ENOMEM;
	return 0;
}

void cli_table_print(const struct cli_table *t, FILE *f)
{
	size_t w[16] = { 0 }, r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols && c < 16; c++) {
			size_t len = strlen(t->cells[r * t->ncols + c]);

			if (len > w[c])
				w[c] = len;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			if (c + 1 == t->ncols)
				fprintf(f, "%s\n", s);
			else
				fprintf(f, "%-*s  ", (int)w[c < 16 ? c : 15], s);
		}
	}
}

const char *cli_json_str(struct json_object *o, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	return json_object_get_string(v);
}

/* "2026-01-02T03:04:05.678Z" -> "12s", "5m", "3h", "2d". */
void cli_age(const char *iso, char *buf, size_t size)
{
	struct tm tm = { 0 };
	time_t then, now = time(NULL);
	long d;

	if (!iso || !strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm)) {
		snprintf(buf, size, "-");
		return;
	}
	then = timegm(&tm);
	d = now > then ? (long)(now - then) : 0;
	if (d < 120)
		snprintf(buf, size, "%lds", d);
	else if (d < 7200)
		snprintf(buf, size, "%ldm", d / 60);
	else if (d < 172800)
		snprintf(buf, size, "%ldh", d / 3600);
	else
		snprintf(buf, size, "%ldd", d / 86400);
}
