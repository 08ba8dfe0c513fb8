// SPDX-License-Identifier: GPL-2.0
/*
 * The listings of peerwatchd's views (nodes, containers), shown as a
 * script wants them: rows in address order (127.1.0.9 before 127.1.0.10),
 * a table, -q (one address or ID a line), --format (docker's templates,
 * lib/tmpl.h; "json" for one object a line) or -j (the array), with
 * grep's exit status: 0 when a row is shown, 1 when none, 2 on error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "hostport.h"
#include "strbuf.h"
#include "tmpl.h"

/* json_object_array_sort() passes no argument to its comparison. */
static const char *sort_key;

static int row_cmp(const void *a, const void *b)
{
	struct json_object *x = *(struct json_object *const *)a;
	struct json_object *y = *(struct json_object *const *)b;
	const char *ka = cli_json_str(x, sort_key) ?: "";
	const char *kb = cli_json_str(y, sort_key) ?: "";
	int d = hostport_cmp(ka, kb);

	if (d)
		return d;
	return strcmp(cli_json_str(x, "name") ?: "", cli_json_str(y, "name") ?: "");
}

int cli_list_format(const char *cmd, const char *format,
		    const struct cli_list *l, struct tmpl **tp)
{
	const char *why = NULL;
	char buf[512];
	int err;

	err = tmpl_new(tp, format, l->fields, buf, sizeof(buf), &why);
	if (err == -EINVAL)
		fprintf(stderr, "%s %s: --format: %s\n", prog, cmd, why);
	return err;
}

int cli_list_row(struct json_object *o, const struct cli_list *l,
		 const struct tmpl *t, bool quiet)
{
	struct strbuf b = { 0 };
	int err = 0;

	if (quiet) {
		const char *s = cli_json_str(o, l->quiet_key) ?: "-";

		printf("%.*s\n", l->quiet_len ? l->quiet_len : (int)strlen(s), s);
		return 0;
	}
	if (!t) {
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		return 0;
	}
	err = tmpl_render(t, o, &b);
	if (!err)
		printf("%.*s\n", (int)b.len, b.p ? b.p : "");
	strbuf_release(&b);
	return err;
}

/* --format "table ...": the header and the rows, aligned. */
static int print_table(struct json_object *a, const struct tmpl *t)
{
	struct strbuf b = { 0 };
	size_t i, n = json_object_array_length(a);
	int err;

	err = tmpl_header(t, &b);
	for (i = 0; i < n && !err; i++) {
		err = strbuf_add(&b, "\n", 1);
		if (!err)
			err = tmpl_render(t, json_object_array_get_idx(a, i), &b);
	}
	if (!err)
		err = strbuf_add(&b, "\n", 1);
	if (!err)
		err = tmpl_columns(b.p, b.len, stdout);
	strbuf_release(&b);
	return err;
}

int cli_list_show(const struct cli_api_args *a, const struct cli_list *l)
{
	const char *name = l->cmd;
	struct json_object *o = NULL;
	struct tmpl *t = NULL;
	bool one_a_line = false;
	size_t i, n;
	int err = 0;

	if ((a->json || a->quiet) && a->format) {
		fprintf(stderr, "%s %s: --format and %s: one or the other\n",
			prog, name, a->json ? "-j" : "-q");
		return EXIT_USAGE;
	}
	if (a->format && !strcmp(a->format, "json"))
		one_a_line = true;
	else if (a->format && strcmp(a->format, "table"))
		err = cli_list_format(name, a->format, l, &t);
	if (err)
		return EXIT_USAGE;
	err = cli_api_get(cli_host(a->host, a->sock), a->path, &o);
	if (err) {
		tmpl_free(t);
		return EXIT_LIST_ERROR;
	}
	sort_key = l->sort_key;
	json_object_array_sort(o, row_cmp);
	n = json_object_array_length(o);
	if (a->json)
		printf("%s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	else if (t && tmpl_is_table(t))
		err = print_table(o, t);
	else if (t || a->quiet || one_a_line)
		for (i = 0; i < n && !err; i++)
			err = cli_list_row(json_object_array_get_idx(o, i), l,
					   t, a->quiet);
	else
		err = l->table(o);
	json_object_put(o);
	tmpl_free(t);
	if (fflush(stdout) || err)
		return EXIT_LIST_ERROR;
	return n ? EXIT_OK : EXIT_LIST_NONE;
}
