// SPDX-License-Identifier: GPL-2.0
/*
 * docker's --format for the CLI's listings: a template is parsed once into
 * pieces (literal text, a field, a field as JSON, the whole row as JSON),
 * then rendered for each row. Fields are checked against the listing's
 * keys when parsed, so a typo is an error before anything is printed
 * rather than an empty column.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"

#define TMPL_MAX_PIECES	64
#define TMPL_MAX_KEY	64

enum piece_kind {
	PIECE_TEXT,
	PIECE_FIELD,		/* {{.Field}} */
	PIECE_FIELD_JSON,	/* {{json .Field}} */
	PIECE_ROW_JSON,		/* {{json .}} */
};

struct piece {
	enum piece_kind kind;
	char *text;		/* PIECE_TEXT: the text; else the JSON key */
};

struct tmpl {
	bool table;
	struct piece v[TMPL_MAX_PIECES];
	size_t n;
};

/*
 * "NodeName" or "node_name" -> "node_name"; capitals together are one
 * word, as Go spells them: "ID" -> "id", "APIVersion" -> "api_version".
 */
static int key_of(const char *name, size_t len, char *key, size_t size)
{
	size_t i, o = 0;

	if (!len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)name[i];
		unsigned char prev = i ? (unsigned char)name[i - 1] : '_';
		unsigned char next = i + 1 < len ? (unsigned char)name[i + 1] : '_';

		if (!isalnum(ch) && ch != '_')
			return -EINVAL;
		if (o + 3 > size)
			return -EINVAL;
		if (isupper(ch) && prev != '_' &&
		    (!isupper(prev) || islower(next)))
			key[o++] = '_';
		key[o++] = (char)tolower(ch);
	}
	key[o] = '\0';
	return 0;
}

static bool known(const char *key, const char *const *fields)
{
	for (; fields && *fields; fields++)
		if (!strcmp(*fields, key))
			return true;
	return !fields;
}

/*
 * "node_name" -> "NodeName", "api_version" -> "APIVersion": Go's names,
 * for the list of fields in an error.
 */
static void go_name(const char *key, char *buf, size_t size)
{
	size_t o = 0, w;

	while (*key && o + 4 < size) {
		w = strcspn(key, "_");
		if ((w == 2 && !strncmp(key, "id", 2)) ||
		    (w == 3 && !strncmp(key, "api", 3))) {
			for (; w; w--)
				buf[o++] = (char)toupper((unsigned char)*key++);
		} else if (w) {
			buf[o++] = (char)toupper((unsigned char)*key++);
			for (w--; w && o + 1 < size; w--)
				buf[o++] = *key++;
		}
		if (*key == '_')
			key++;
	}
	buf[o] = '\0';
}

static int unknown_field(const char *name, size_t len,
			 const char *const *fields, char *whybuf,
			 size_t whylen)
{
	size_t o;
	int n;

	n = snprintf(whybuf, whylen, "unknown field .%.*s: fields are", (int)len,
		     name);
	o = n > 0 && (size_t)n < whylen ? (size_t)n : whylen - 1;
	for (; *fields && o + 1 < whylen; fields++) {
		char g[TMPL_MAX_KEY];

		go_name(*fields, g, sizeof(g));
		n = snprintf(whybuf + o, whylen - o, " .%s", g);
		if (n < 0 || (size_t)n >= whylen - o)
			break;
		o += (size_t)n;
	}
	return -EINVAL;
}

static int add_piece(struct tmpl *t, enum piece_kind kind, const char *s,
		     size_t len, const char **why)
{
	struct piece *p;

	if (t->n == TMPL_MAX_PIECES) {
		*why = "too many {{...}} in the template";
		return -EINVAL;
	}
	p = &t->v[t->n];
	p->kind = kind;
	p->text = strndup(s, len);
	if (!p->text)
		return -ENOMEM;
	t->n++;
	return 0;
}

/* Literal text with "\t" and "\n" made tab and newline, as docker does. */
static int add_text(struct tmpl *t, const char *s, size_t len,
		    const char **why)
{
	char buf[1024];
	size_t i, o = 0;

	if (!len)
		return 0;
	if (len >= sizeof(buf)) {
		*why = "the template is too long";
		return -EINVAL;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '\\' && i + 1 < len && (s[i + 1] == 't' || s[i + 1] == 'n')) {
			buf[o++] = s[i + 1] == 't' ? '\t' : '\n';
			i++;
		} else {
			buf[o++] = s[i];
		}
	}
	return add_piece(t, PIECE_TEXT, buf, o, why);
}

/* The inside of one {{ }}, spaces trimmed. */
static int add_action(struct tmpl *t, const char *s, size_t len,
		      const char *const *fields, char *whybuf, size_t whylen,
		      const char **why)
{
	enum piece_kind kind = PIECE_FIELD;
	char key[TMPL_MAX_KEY];

	while (len && isspace((unsigned char)*s)) {
		s++;
		len--;
	}
	while (len && isspace((unsigned char)s[len - 1]))
		len--;
	if (len > 5 && !strncmp(s, "json", 4) && isspace((unsigned char)s[4])) {
		kind = PIECE_FIELD_JSON;
		s += 5;
		len -= 5;
		while (len && isspace((unsigned char)*s)) {
			s++;
			len--;
		}
		if (len == 1 && *s == '.')
			return add_piece(t, PIECE_ROW_JSON, "", 0, why);
	}
	if (!len || *s != '.' || key_of(s + 1, len - 1, key, sizeof(key))) {
		snprintf(whybuf, whylen,
			 "'{{%.*s}}': want {{.Field}}, {{json .Field}} or {{json .}}",
			 (int)len, s);
		*why = whybuf;
		return -EINVAL;
	}
	if (!known(key, fields)) {
		*why = whybuf;
		return unknown_field(s + 1, len - 1, fields, whybuf, whylen);
	}
	return add_piece(t, kind, key, strlen(key), why);
}

int tmpl_new(struct tmpl **tp, const char *src, const char *const *fields,
	     char *whybuf, size_t whylen, const char **why)
{
	struct tmpl *t = calloc(1, sizeof(*t));
	const char *p, *open, *close;
	int err = 0;

	if (!t)
		return -ENOMEM;
	p = src;
	if (!strncmp(p, "table", 5) && (!p[5] || isspace((unsigned char)p[5]))) {
		t->table = true;
		p += 5;
		while (isspace((unsigned char)*p))
			p++;
	}
	while (!err && *p) {
		open = strstr(p, "{{");
		if (!open) {
			err = add_text(t, p, strlen(p), why);
			break;
		}
		err = add_text(t, p, (size_t)(open - p), why);
		close = err ? NULL : strstr(open + 2, "}}");
		if (!err && !close) {
			*why = "a {{ without its }}";
			err = -EINVAL;
		}
		if (!err)
			err = add_action(t, open + 2, (size_t)(close - open - 2),
					 fields, whybuf, whylen, why);
		p = close ? close + 2 : p;
	}
	if (!err && !t->n) {
		*why = "an empty template";
		err = -EINVAL;
	}
	if (err) {
		tmpl_free(t);
		return err;
	}
	*tp = t;
	return 0;
}

void tmpl_free(struct tmpl *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < t->n; i++)
		free(t->v[i].text);
	free(t);
}

bool tmpl_is_table(const struct tmpl *t)
{
	return t->table;
}

/* strbuf_add() of a string, "" included (no memcpy to a NULL buffer). */
static int add_str(struct strbuf *out, const char *s)
{
	size_t len = strlen(s);

	return len ? strbuf_add(out, s, len) : 0;
}

int tmpl_header(const struct tmpl *t, struct strbuf *out)
{
	size_t i;
	int err = 0;

	for (i = 0; i < t->n && !err; i++) {
		const struct piece *p = &t->v[i];
		const char *c;

		if (p->kind == PIECE_TEXT) {
			err = add_str(out, p->text);
			continue;
		}
		if (p->kind == PIECE_ROW_JSON) {
			err = strbuf_add(out, "JSON", 4);
			continue;
		}
		for (c = p->text; *c && !err; c++) {
			char ch = *c == '_' ? ' ' : (char)toupper((unsigned char)*c);

			err = strbuf_add(out, &ch, 1);
		}
	}
	return err;
}

static int add_json(struct strbuf *out, struct json_object *v)
{
	const char *s = json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN |
						       JSON_C_TO_STRING_NOSLASHESCAPE);

	return s ? add_str(out, s) : -ENOMEM;
}

int tmpl_render(const struct tmpl *t, struct json_object *o,
		struct strbuf *out)
{
	struct json_object *v;
	const char *s;
	size_t i;
	int err = 0;

	for (i = 0; i < t->n && !err; i++) {
		const struct piece *p = &t->v[i];

		switch (p->kind) {
		case PIECE_TEXT:
			err = add_str(out, p->text);
			break;
		case PIECE_ROW_JSON:
			err = add_json(out, o);
			break;
		case PIECE_FIELD_JSON:
			if (!json_object_object_get_ex(o, p->text, &v))
				v = NULL;
			err = add_json(out, v);
			break;
		case PIECE_FIELD:
			if (!json_object_object_get_ex(o, p->text, &v))
				v = NULL;
			if (json_object_is_type(v, json_type_object) ||
			    json_object_is_type(v, json_type_array)) {
				err = add_json(out, v);
				break;
			}
			s = v ? json_object_get_string(v) : "";
			if (t->table && !*s)
				s = "-";
			err = add_str(out, s);
			break;
		}
	}
	return err;
}

/* The width of column @col of every line of @text, into @w (@ncols). */
static size_t widths(const char *text, size_t n, size_t *w, size_t ncols)
{
	const char *p = text, *end = text + n;
	size_t col = 0, len = 0, most = 0;

	for (; p < end; p++) {
		if (*p == '\t' || *p == '\n') {
			if (col < ncols && len > w[col])
				w[col] = len;
			col = *p == '\t' ? col + 1 : 0;
			len = 0;
			if (col + 1 > most)
				most = col + 1;
			continue;
		}
		len++;
	}
	return most;
}

int tmpl_columns(const char *text, size_t n, FILE *f)
{
	const char *p = text, *end = text + n, *cell = text;
	size_t *w, ncols, col = 0;

	ncols = widths(text, n, NULL, 0) + 1;
	w = calloc(ncols, sizeof(*w));
	if (!w)
		return -ENOMEM;
	widths(text, n, w, ncols);
	for (; p <= end; p++) {
		if (p < end && *p != '\t' && *p != '\n')
			continue;
		if (p < end && *p == '\t')
			fprintf(f, "%-*.*s  ", (int)w[col], (int)(p - cell), cell);
		else
			fprintf(f, "%.*s", (int)(p - cell), cell);
		if (p < end && *p == '\n')
			fputc('\n', f);
		col = p < end && *p == '\t' ? col + 1 : 0;
		cell = p + 1;
	}
	free(w);
	return 0;
}
