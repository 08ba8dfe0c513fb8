/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_TMPL_H
#define PEERWATCH_TMPL_H

#include <stdbool.h>
#include <stdio.h>
#include <json-c/json.h>

#include "strbuf.h"

/*
 * The CLI's --format, as docker's: text with {{.Field}} placeholders (a
 * JSON key in Go's spelling: .Addr is "addr", .NodeName "node_name"),
 * {{json .}} and {{json .Field}}, "\t" and "\n" written as two characters,
 * and a "table " prefix that adds a header of the field names and aligns
 * the tab-separated columns. A subset of Go's text/template: no pipelines,
 * no functions but json; what is not understood is refused when parsed,
 * never printed half.
 */
struct tmpl;

/*
 * Parses @src; @fields (NULL-terminated JSON keys) are the only ones
 * accepted. 0, -EINVAL with the reason in @why (a static string or
 * @whybuf), or -ENOMEM.
 */
int tmpl_new(struct tmpl **tp, const char *src, const char *const *fields,
	     char *whybuf, size_t whylen, const char **why);
void tmpl_free(struct tmpl *t);
bool tmpl_is_table(const struct tmpl *t);
/* The header line of a table: each field's name in capitals ("NODE NAME"). */
int tmpl_header(const struct tmpl *t, struct strbuf *out);
/* One line for @o; a missing or null field is "" ("-" in a table). */
int tmpl_render(const struct tmpl *t, struct json_object *o,
		struct strbuf *out);
/*
 * Writes @n bytes of tab-separated lines to @f with the columns aligned,
 * two spaces between them, as docker's tabwriter does.
 */
int tmpl_columns(const char *text, size_t n, FILE *f);

#endif
