// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"
#include "intern.h"

bool docker_id_valid(const char *id)
{
	size_t n = strspn(id, "0123456789abcdef");

	return n > 0 && n < DOCKER_ID_MAX && id[n] == '\0';
}

bool docker_api_version_valid(const char *v)
{
	size_t a = strspn(v, "0123456789"), b;

	if (!a || a > 3 || v[a] != '.')
		return false;
	b = strspn(v + a + 1, "0123456789");
	return b && b <= 3 && v[a + 1 + b] == '\0';
}

/* Copies a string member if present; -EPROTO if present and not a string or too long. */
static int get_str(struct json_object *o, const char *key, char *buf,
		   size_t len, bool required)
{
	struct json_object *v;
	const char *s;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return required ? -EPROTO : 0;
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	if ((size_t)json_object_get_string_len(v) >= len ||
	    strlen(s) != (size_t)json_object_get_string_len(v))
		return -EPROTO;
	memcpy(buf, s, json_object_get_string_len(v) + 1);
	return 0;
}

static int get_int(struct json_object *o, const char *key, int64_t *out)
{
	struct json_object *v;

	*out = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_int))
		return -EPROTO;
	*out = json_object_get_int64(v);
	return 0;
}

int docker_version_parse(struct json_object *o, struct docker_version *v)
{
	int err;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = get_str(o, "Version", v->version, sizeof(v->version), true);
	if (!err)
		err = get_str(o, "ApiVersion", v->api_version,
			      sizeof(v->api_version), true);
	if (!err)
		err = get_str(o, "Os", v->os, sizeof(v->os), false);
	if (!err)
		err = get_str(o, "Arch", v->arch, sizeof(v->arch), false);
	return err;
}

/* Copies the "k=v" strings of @labels into @buf; what is over bounds is counted. */
static int info_labels(struct json_object *labels, char *buf,
		       struct docker_info *info)
{
	size_t i, n, len, total = 0;

	if (!json_object_is_type(labels, json_type_array))
		return -EPROTO;
	n = json_object_array_length(labels);
	for (i = 0; i < n; i++)
		if (!json_object_is_type(json_object_array_get_idx(labels, i),
					 json_type_string))
			return -EPROTO;
	for (i = 0; i < n; i++) {
		struct json_object *v = json_object_array_get_idx(labels, i);
		const char *s = json_object_get_string(v);

		len = strlen(s);
		if (!len || len != (size_t)json_object_get_string_len(v) ||
		    len >= DOCKER_LABEL_KEY_MAX + DOCKER_LABEL_VALUE_MAX ||
		    info->nlabels == DOCKER_MAX_LABELS ||
		    total + len + 1 > DOCKER_LABELS_BYTES) {
			if (info->labels_dropped < UINT16_MAX)
				info->labels_dropped++;
			continue;
		}
		memcpy(buf + total, s, len + 1);
		total += len + 1;
		info->nlabels++;
	}
	info->labels_len = (uint32_t)total;
	return 0;
}

/* An empty info's ID, then its name: no allocation of theirs. */
static const char no_names[2] = "";

void docker_info_init(struct docker_info *info)
{
	memset(info, 0, sizeof(*info));
	info->id = no_names;
	info->server_version = "";
}

/* "id\0name\0", one allocation: the ID heads it. */
int docker_info_set_names(struct docker_info *info, const char *id,
			  const char *name)
{
	size_t ilen = strlen(id) + 1, nlen = strlen(name) + 1;
	char *p = malloc(ilen + nlen);

	if (!p)
		return -ENOMEM;
	memcpy(p, id, ilen);
	memcpy(p + ilen, name, nlen);
	if (info->id != no_names)
		free((char *)info->id);
	info->id = p;
	return 0;
}

/* An interned copy of @s, or "" for ""; NULL on -ENOMEM. */
static const char *info_intern(const char *s, size_t len)
{
	return len ? intern_get_str(s, len) : "";
}

static void info_unintern(const char *s)
{
	if (s && s[0])
		intern_put_str(s);
}

int docker_info_parse(struct json_object *o, struct docker_info *info)
{
	static char buf[DOCKER_LABELS_BYTES];
	char id[DOCKER_ENGINE_ID_MAX], name[DOCKER_NAME_MAX];
	char version[DOCKER_VERSION_MAX];
	struct json_object *labels;
	int err = 0;

	docker_info_init(info);
	if (!json_object_is_type(o, json_type_object))
		err = -EPROTO;
	if (!err)
		err = get_str(o, "ID", id, sizeof(id), true);
	if (!err && !id[0])
		err = -EPROTO;
	if (!err)
		err = get_str(o, "Name", name, sizeof(name), false);
	if (!err)
		err = get_str(o, "ServerVersion", version, sizeof(version),
			      false);
	if (!err)
		err = get_int(o, "NCPU", &info->ncpu);
	if (!err)
		err = get_int(o, "MemTotal", &info->mem_total);
	if (!err && json_object_object_get_ex(o, "Labels", &labels) && labels)
		err = info_labels(labels, buf, info);
	json_object_put(o);
	if (err) {
		docker_info_init(info);
		return err;
	}
	err = docker_info_set_names(info, id, name);
	info->server_version = info_intern(version, strlen(version));
	if (info->labels_len)
		info->labels = intern_get_str(buf, info->labels_len);
	if (err || !info->server_version ||
	    (info->labels_len && !info->labels)) {
		docker_info_clear(info);
		return -ENOMEM;
	}
	return 0;
}

void docker_info_clear(struct docker_info *info)
{
	if (info->id != no_names)
		free((char *)info->id);
	info_unintern(info->server_version);
	if (info->labels)
		intern_put_str(info->labels);
	docker_info_init(info);
}

bool docker_info_label_next(const struct docker_info *info, uint32_t *pos,
			    const char **label)
{
	if (!info->labels || *pos >= info->labels_len)
		return false;
	*label = info->labels + *pos;
	*pos += (uint32_t)strlen(*label) + 1;
	return true;
}

/* A container being built: its strings are offsets into the builder's text. */
enum { S_NAME, S_IMAGE, S_IMAGE_ID, S_COMMAND, S_STATUS, S_LABELS, S_COUNT };

struct docker_entry {
	char id[DOCKER_ID_MAX];
	char state[DOCKER_STATE_MAX];
	int64_t created;
	uint32_t str[S_COUNT];
	uint32_t labels_len;
	uint16_t nlabels;
	uint16_t labels_dropped;
};

/* Room for @need more bytes of text; the text stays under 4 GiB. */
static int text_reserve(struct docker_builder *b, size_t need)
{
	if (need > UINT32_MAX - b->text.len)
		return -EMSGSIZE;
	return strbuf_reserve(&b->text, need);
}

void docker_builder_reset(struct docker_builder *b)
{
	b->n = 0;
	b->text.len = 0;
	b->text.off = 0;
}

/* Offset 0 is the empty string every absent member shares. */
static int builder_begin(struct docker_builder *b)
{
	return b->text.len ? 0 : strbuf_add(&b->text, "", 1);
}

size_t docker_builder_footprint(const struct docker_builder *b)
{
	return b->cap * sizeof(*b->v) + b->text.cap;
}

void docker_builder_release(struct docker_builder *b)
{
	free(b->v);
	strbuf_release(&b->text);
	memset(b, 0, sizeof(*b));
}

/* Appends @len bytes of @s and a NUL; the offset in *@off (0 for ""). */
static int text_add(struct docker_builder *b, const char *s, size_t len,
		    uint32_t *off)
{
	int err;

	*off = 0;
	if (!len)
		return 0;
	err = text_reserve(b, len + 1);
	if (err)
		return err;
	*off = (uint32_t)b->text.len;
	memcpy(b->text.p + b->text.len, s, len);
	b->text.p[b->text.len + len] = '\0';
	b->text.len += len + 1;
	return 0;
}

/*
 * A string member of at most @max - 1 bytes into the text: -EPROTO if it
 * is not a string, holds a NUL or, unless @cut, is too long. With @cut
 * (for what is only shown, such as a command line) it is cut to fit at a
 * character boundary instead.
 */
static int text_member(struct docker_builder *b, struct json_object *o,
		       const char *key, size_t max, bool cut, uint32_t *off)
{
	struct json_object *v;
	const char *s;
	size_t n;

	*off = 0;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	n = strlen(s);
	if (!cut && n != (size_t)json_object_get_string_len(v))
		return -EPROTO;
	if (n >= max) {
		if (!cut)
			return -EPROTO;
		n = max - 1;
		/* Not in the middle of a UTF-8 sequence. */
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	return text_add(b, s, n, off);
}

/* "Labels": an object of strings, or null; what is over bounds is counted. */
static int labels_parse(struct docker_builder *b, struct json_object *o,
			struct docker_entry *c)
{
	struct json_object *labels;
	struct json_object_iterator it, end;
	size_t total = 0, klen, vlen;
	bool any = false;
	char *p;
	int err;

	if (!json_object_object_get_ex(o, "Labels", &labels) || !labels)
		return 0;
	if (!json_object_is_type(labels, json_type_object))
		return -EPROTO;
	/* Types first: a label that is not a string is a broken answer. */
	it = json_object_iter_begin(labels);
	end = json_object_iter_end(labels);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		if (!json_object_is_type(json_object_iter_peek_value(&it),
					 json_type_string))
			return -EPROTO;
		any = true;
	}
	if (!any)
		return 0;
	err = text_reserve(b, DOCKER_LABELS_BYTES);
	if (err)
		return err;
	p = b->text.p + b->text.len;
	it = json_object_iter_begin(labels);
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		const char *k = json_object_iter_peek_name(&it);
		struct json_object *v = json_object_iter_peek_value(&it);
		const char *s = json_object_get_string(v);

		klen = strlen(k);
		vlen = strlen(s);
		if (!klen || klen >= DOCKER_LABEL_KEY_MAX ||
		    vlen >= DOCKER_LABEL_VALUE_MAX ||
		    vlen != (size_t)json_object_get_string_len(v) ||
		    c->nlabels == DOCKER_MAX_LABELS ||
		    total + klen + vlen + 2 > DOCKER_LABELS_BYTES) {
			if (c->labels_dropped < UINT16_MAX)
				c->labels_dropped++;
			continue;
		}
		memcpy(p + total, k, klen + 1);
		total += klen + 1;
		memcpy(p + total, s, vlen + 1);
		total += vlen + 1;
		c->nlabels++;
	}
	if (total) {
		c->str[S_LABELS] = (uint32_t)b->text.len;
		c->labels_len = (uint32_t)total;
		b->text.len += total;
	}
	return 0;
}

/* The name: the first of "Names", without Docker's leading '/'. */
static int name_parse(struct docker_builder *b, struct json_object *o,
		      uint32_t *off)
{
	struct json_object *names, *first;
	const char *s;
	size_t n;

	*off = 0;
	if (!json_object_object_get_ex(o, "Names", &names) || !names)
		return 0;
	if (!json_object_is_type(names, json_type_array))
		return -EPROTO;
	first = json_object_array_get_idx(names, 0);
	if (!first)
		return 0;
	if (!json_object_is_type(first, json_type_string))
		return -EPROTO;
	s = json_object_get_string(first);
	/* Docker names carry a leading '/' (the link namespace). */
	if (*s == '/')
		s++;
	n = strlen(s);
	if (n >= DOCKER_NAME_MAX)
		return -EPROTO;
	return text_add(b, s, n, off);
}

static int entry_new(struct docker_builder *b, struct docker_entry **out)
{
	struct docker_entry *v;
	size_t cap;

	if (b->n >= DOCKER_MAX_CONTAINERS)
		return -EMSGSIZE;
	if (b->n == b->cap) {
		cap = b->cap ? 2 * b->cap : 16;
		v = realloc(b->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		b->v = v;
		b->cap = cap;
	}
	*out = &b->v[b->n];
	memset(*out, 0, sizeof(**out));
	return 0;
}

static int container_parse(struct docker_builder *b, struct json_object *o)
{
	struct docker_entry *c;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = entry_new(b, &c);
	if (err)
		return err;
	err = get_str(o, "Id", c->id, sizeof(c->id), true);
	if (!err && !docker_id_valid(c->id))
		err = -EPROTO;
	if (!err)
		err = get_str(o, "State", c->state, sizeof(c->state), false);
	if (!err)
		err = get_int(o, "Created", &c->created);
	if (!err)
		err = name_parse(b, o, &c->str[S_NAME]);
	if (!err)
		err = text_member(b, o, "Image", DOCKER_NAME_MAX, false,
				  &c->str[S_IMAGE]);
	if (!err)
		err = text_member(b, o, "ImageID", DOCKER_IMAGE_ID_MAX, false,
				  &c->str[S_IMAGE_ID]);
	if (!err)
		err = text_member(b, o, "Command", DOCKER_COMMAND_MAX, true,
				  &c->str[S_COMMAND]);
	if (!err)
		err = text_member(b, o, "Status", DOCKER_STATUS_MAX, true,
				  &c->str[S_STATUS]);
	if (!err)
		err = labels_parse(b, o, c);
	if (!err)
		b->n++;
	return err;
}

int docker_builder_parse(struct docker_builder *b, struct json_object *o)
{
	size_t n0, len0, i, len;
	int err = builder_begin(b);

	if (err)
		return err;
	n0 = b->n;
	len0 = b->text.len;
	if (!json_object_is_type(o, json_type_array))
		return -EPROTO;
	len = json_object_array_length(o);
	if (len > DOCKER_MAX_CONTAINERS - b->n)
		return -EMSGSIZE;
	for (i = 0; i < len && !err; i++)
		err = container_parse(b, json_object_array_get_idx(o, i));
	if (err) {
		b->n = n0;
		b->text.len = len0;
	}
	return err;
}

int docker_builder_add(struct docker_builder *b, const struct docker_fields *c)
{
	const char *s[S_LABELS] = {
		c->name, c->image, c->image_id, c->command, c->status,
	};
	static const size_t max[S_LABELS] = {
		DOCKER_NAME_MAX, DOCKER_NAME_MAX, DOCKER_IMAGE_ID_MAX,
		DOCKER_COMMAND_MAX, DOCKER_STATUS_MAX,
	};
	struct docker_entry *e;
	size_t len0;
	int err = builder_begin(b), i;

	if (err)
		return err;
	/* The bounds a listing keeps to: the layout counts on them. */
	for (i = 0; i < S_LABELS; i++)
		if (strlen(s[i]) >= max[i])
			return -EPROTO;
	if (!docker_id_valid(c->id) || c->labels_len > DOCKER_LABELS_BYTES ||
	    c->nlabels > DOCKER_MAX_LABELS)
		return -EPROTO;
	len0 = b->text.len;
	err = entry_new(b, &e);
	if (err)
		return err;
	memcpy(e->id, c->id, sizeof(e->id));
	memcpy(e->state, c->state, sizeof(e->state));
	e->created = c->created;
	for (i = 0; i < S_LABELS && !err; i++)
		err = text_add(b, s[i], strlen(s[i]), &e->str[i]);
	if (!err && c->labels && c->labels_len) {
		err = text_reserve(b, c->labels_len);
		if (!err) {
			e->str[S_LABELS] = (uint32_t)b->text.len;
			memcpy(b->text.p + b->text.len, c->labels,
			       c->labels_len);
			b->text.len += c->labels_len;
			e->labels_len = c->labels_len;
			e->nlabels = c->nlabels;
		}
	}
	e->labels_dropped = c->labels_dropped;
	if (err) {
		b->text.len = len0;
		return err;
	}
	b->n++;
	return 0;
}

size_t docker_builder_count(const struct docker_builder *b)
{
	return b->n;
}

const char *docker_builder_id(const struct docker_builder *b, size_t i)
{
	return b->v[i].id;
}

/*
 * What engines repeat is interned (intern.h): of a container, the block
 * keeps its own ID, state and name; its image, image ID, command and
 * labels, which go together (the containers of a service share them),
 * are one reference, its shape; its status, which moves on, another.
 */
enum { R_SHAPE, R_STATUS, R_COUNT };

static void refs_of(struct docker_container *c, uint32_t *s[R_COUNT])
{
	s[R_SHAPE] = &c->shape;
	s[R_STATUS] = &c->status;
}

static void refs_put(struct docker_container *v, size_t n)
{
	uint32_t *s[R_COUNT];
	size_t i;
	int k;

	for (i = 0; i < n; i++) {
		refs_of(&v[i], s);
		for (k = 0; k < R_COUNT; k++)
			intern_put(*s[k]);
	}
}

void docker_containers_free(struct docker_container *v, size_t n)
{
	if (!v)
		return;
	refs_put(v, n);
	free(v);
}

/* A shape is composed here: the agent has one thread. */
static char shape_buf[DOCKER_NAME_MAX + DOCKER_IMAGE_ID_MAX +
		      DOCKER_COMMAND_MAX + DOCKER_LABELS_BYTES];

/* A reference to the shape of @e: 0 on -ENOMEM. */
static uint32_t shape_get(const struct docker_builder *b,
			  const struct docker_entry *e)
{
	size_t len = 0, n;
	int k;

	/* Each bounded (text_member(), docker_builder_add()). */
	for (k = S_IMAGE; k <= S_COMMAND; k++) {
		n = strlen(b->text.p + e->str[k]) + 1;
		memcpy(shape_buf + len, b->text.p + e->str[k], n);
		len += n;
	}
	memcpy(shape_buf + len, b->text.p + e->str[S_LABELS], e->labels_len);
	return intern_get(shape_buf, len + e->labels_len);
}

/* The entries' references in @refs (R_COUNT each): 0 or -ENOMEM, none held. */
static int refs_get(const struct docker_builder *b, uint32_t *refs)
{
	size_t i;

	for (i = 0; i < b->n; i++) {
		const struct docker_entry *e = &b->v[i];
		const char *status = b->text.p + e->str[S_STATUS];
		uint32_t *r = &refs[i * R_COUNT];

		r[R_SHAPE] = shape_get(b, e);
		if (!r[R_SHAPE])
			goto fail;
		r[R_STATUS] = intern_get(status, strlen(status));
		if (!r[R_STATUS]) {
			intern_put(r[R_SHAPE]);
			goto fail;
		}
	}
	return 0;
fail:
	while (i--) {
		intern_put(refs[i * R_COUNT + R_SHAPE]);
		intern_put(refs[i * R_COUNT + R_STATUS]);
	}
	return -ENOMEM;
}

static const char *const state_names[] = {
	[DOCKER_STATE_NONE] = "",
	[DOCKER_STATE_CREATED] = "created",
	[DOCKER_STATE_RESTARTING] = "restarting",
	[DOCKER_STATE_RUNNING] = "running",
	[DOCKER_STATE_REMOVING] = "removing",
	[DOCKER_STATE_PAUSED] = "paused",
	[DOCKER_STATE_EXITED] = "exited",
	[DOCKER_STATE_DEAD] = "dead",
};

static enum docker_state state_of(const char *s)
{
	int i;

	for (i = DOCKER_STATE_NONE; i < DOCKER_STATE_OTHER; i++)
		if (!strcmp(s, state_names[i]))
			return i;
	return DOCKER_STATE_OTHER;
}

static int hex_digit(char ch)
{
	return ch <= '9' ? ch - '0' : ch - 'a' + 10;
}

/* A valid ID (docker_id_valid()) packed two digits a byte. */
static void id_pack(struct docker_container *c, const char *id)
{
	size_t i, n = strlen(id);

	memset(c->id, 0, sizeof(c->id));
	for (i = 0; i < n; i++)
		c->id[i / 2] |= hex_digit(id[i]) << (i % 2 ? 0 : 4);
	c->id_len = (uint8_t)n;
}

static int id_digit(const struct docker_container *c, size_t i)
{
	return i % 2 ? c->id[i / 2] & 15 : c->id[i / 2] >> 4;
}

const char *docker_container_id(const struct docker_container *c, char *buf)
{
	static const char hex[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < c->id_len; i++)
		buf[i] = hex[id_digit(c, i)];
	buf[i] = '\0';
	return buf;
}

bool docker_container_id_has_prefix(const struct docker_container *c,
				    const char *prefix)
{
	size_t i;

	for (i = 0; prefix[i]; i++) {
		if (i == c->id_len || !strchr("0123456789abcdef", prefix[i]) ||
		    hex_digit(prefix[i]) != id_digit(c, i))
			return false;
	}
	return true;
}

bool docker_container_id_is(const struct docker_container *c, const char *id)
{
	return strlen(id) == c->id_len && docker_container_id_has_prefix(c, id);
}

int docker_container_id_cmp(const struct docker_container *a,
			    const struct docker_container *b)
{
	size_t i, n = a->id_len < b->id_len ? a->id_len : b->id_len;

	/* '0'-'9' sort before 'a'-'f' as their values do. */
	for (i = 0; i < n; i++)
		if (id_digit(a, i) != id_digit(b, i))
			return id_digit(a, i) - id_digit(b, i);
	return (int)a->id_len - (int)b->id_len;
}

const char *docker_container_name(const struct docker_container *c)
{
	return (const char *)c + c->name;
}

const char *docker_container_state(const struct docker_container *c)
{
	const char *name;

	if (c->state != DOCKER_STATE_OTHER)
		return state_names[c->state];
	name = docker_container_name(c);
	return name + strlen(name) + 1;
}

const char *docker_container_image(const struct docker_container *c)
{
	return intern_str(c->shape);
}

const char *docker_container_image_id(const struct docker_container *c)
{
	const char *image = docker_container_image(c);

	return image + strlen(image) + 1;
}

const char *docker_container_command(const struct docker_container *c)
{
	const char *image_id = docker_container_image_id(c);

	return image_id + strlen(image_id) + 1;
}

/* "key\0value\0" pairs, labels_len bytes; NULL: none. */
static const char *labels_of(const struct docker_container *c)
{
	const char *command;

	if (!c->labels_len)
		return NULL;
	command = docker_container_command(c);
	return command + strlen(command) + 1;
}

const char *docker_container_status(const struct docker_container *c)
{
	return intern_str(c->status);
}

void docker_container_fields(const struct docker_container *c,
			     struct docker_fields *f)
{
	docker_container_id(c, f->id);
	snprintf(f->state, sizeof(f->state), "%s", docker_container_state(c));
	f->created = c->created;
	f->name = docker_container_name(c);
	f->image = docker_container_image(c);
	f->image_id = docker_container_image_id(c);
	f->command = docker_container_command(c);
	f->status = docker_container_status(c);
	f->labels = labels_of(c);
	f->labels_len = c->labels_len;
	f->nlabels = c->nlabels;
	f->labels_dropped = c->labels_dropped;
}

/* What an entry keeps in the block: its name, and a state not in the enum. */
static size_t entry_text(const struct docker_builder *b,
			 const struct docker_entry *e)
{
	size_t len = strlen(b->text.p + e->str[S_NAME]) + 1;

	if (state_of(e->state) == DOCKER_STATE_OTHER)
		len += strlen(e->state) + 1;
	return len;
}

_Static_assert(DOCKER_LABELS_BYTES <= UINT16_MAX &&
	       DOCKER_MAX_LABELS <= UINT8_MAX &&
	       DOCKER_ID_MAX - 1 <= 2 * DOCKER_ID_BYTES,
	       "a packed container holds every bound");

int docker_builder_finish(struct docker_builder *b,
			  struct docker_container **out, size_t *n)
{
	size_t head = b->n * sizeof(struct docker_container), i, size;
	size_t names = 0, len;
	struct docker_container *v;
	uint32_t *refs, *s[R_COUNT];
	char *text;
	int err = builder_begin(b), k;

	if (err)
		return err;
	for (i = 0; i < b->n; i++)
		names += entry_text(b, &b->v[i]);
	/* An empty list is a block too, never NULL, as malloc(0) may be. */
	if (!head)
		names = 1;
	/*
	 * The references go in the builder's text beyond its strings, so
	 * that a steady poll allocates nothing here either.
	 */
	err = text_reserve(b, b->n * R_COUNT * sizeof(*refs) +
			      _Alignof(uint32_t));
	if (err)
		return err;
	refs = (uint32_t *)(((uintptr_t)(b->text.p + b->text.len) +
			     _Alignof(uint32_t) - 1) &
			    ~(uintptr_t)(_Alignof(uint32_t) - 1));
	err = refs_get(b, refs);
	if (err)
		return err;
	/*
	 * A block that fits is reused in place: a changed answer of about
	 * the same size (a status moving on) then allocates nothing. One
	 * over twice the size is given back. The old list's references go
	 * only now: a string it shares with the new one is never freed and
	 * interned again in between.
	 */
	v = *out;
	size = v ? malloc_usable_size(v) : 0;
	if (!v || size < head + names || size / 2 > head + names) {
		v = malloc(head + names);
		if (!v) {
			for (i = 0; i < b->n * R_COUNT; i++)
				intern_put(refs[i]);
			return -ENOMEM;
		}
		docker_containers_free(*out, *n);
	} else {
		refs_put(v, *n);
	}
	text = (char *)v + head;
	for (i = 0; i < b->n; i++) {
		const struct docker_entry *e = &b->v[i];
		struct docker_container *c = &v[i];

		memset(c, 0, sizeof(*c));
		id_pack(c, e->id);
		c->state = (uint8_t)state_of(e->state);
		c->created = e->created;
		c->name = (uint32_t)(text - (char *)c);
		len = strlen(b->text.p + e->str[S_NAME]) + 1;
		memcpy(text, b->text.p + e->str[S_NAME], len);
		text += len;
		if (c->state == DOCKER_STATE_OTHER) {
			len = strlen(e->state) + 1;
			memcpy(text, e->state, len);
			text += len;
		}
		refs_of(c, s);
		for (k = 0; k < R_COUNT; k++)
			*s[k] = refs[i * R_COUNT + k];
		c->labels_len = (uint16_t)e->labels_len;
		c->nlabels = (uint8_t)e->nlabels;
		c->labels_dropped = e->labels_dropped;
	}
	*out = v;
	*n = b->n;
	b->n = 0;
	b->text.len = 0;
	return 0;
}

int docker_containers_parse(struct json_object *o,
			    struct docker_container **out, size_t *n)
{
	struct docker_builder b = { 0 };
	int err;

	*out = NULL;
	*n = 0;
	err = docker_builder_parse(&b, o);
	if (!err)
		err = docker_builder_finish(&b, out, n);
	docker_builder_release(&b);
	return err;
}

bool docker_label_next(const struct docker_container *c, uint32_t *pos,
		       const char **key, const char **value)
{
	const char *labels = labels_of(c);

	if (!labels || *pos >= c->labels_len)
		return false;
	*key = labels + *pos;
	*pos += (uint32_t)strlen(*key) + 1;
	*value = labels + *pos;
	*pos += (uint32_t)strlen(*value) + 1;
	return true;
}

bool docker_container_has_label(const struct docker_container *c,
				const char *want)
{
	const char *eq = strchr(want, '='), *k, *v;
	size_t klen = eq ? (size_t)(eq - want) : strlen(want);
	uint32_t pos = 0;

	while (docker_label_next(c, &pos, &k, &v))
		if (strlen(k) == klen && !memcmp(k, want, klen) &&
		    (!eq || !strcmp(v, eq + 1)))
			return true;
	return false;
}

/* A string member cut to fit @len, "" when absent or not a string. */
static void get_str_cut(struct json_object *o, const char *key, char *buf,
			size_t len)
{
	struct json_object *v;
	size_t n;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return;
	n = strnlen(json_object_get_string(v), len - 1);
	/* Not in the middle of a UTF-8 sequence. */
	while (n && n < (size_t)json_object_get_string_len(v) &&
	       ((unsigned char)json_object_get_string(v)[n] & 0xc0) == 0x80)
		n--;
	memcpy(buf, json_object_get_string(v), n);
	buf[n] = '\0';
}

/* What an event's Attributes say that the inventory can use. */
static void event_attributes(struct json_object *actor, struct docker_event *ev)
{
	struct json_object *attrs;
	char code[16];
	char *end;
	long n;

	if (!json_object_object_get_ex(actor, "Attributes", &attrs) ||
	    !json_object_is_type(attrs, json_type_object))
		return;
	if (get_str(attrs, "name", ev->name, sizeof(ev->name), false))
		ev->name[0] = '\0';
	if (ev->name[0] == '/')
		memmove(ev->name, ev->name + 1, strlen(ev->name));
	if (get_str(attrs, "health_status", ev->health, sizeof(ev->health),
		    false))
		ev->health[0] = '\0';
	if (get_str(attrs, "exitCode", code, sizeof(code), false) || !code[0])
		return;
	errno = 0;
	n = strtol(code, &end, 10);
	if (!errno && !*end && n >= 0 && n <= 255)
		ev->exit_code = (int)n;
}

int docker_event_parse(struct json_object *o, struct docker_event *ev)
{
	struct json_object *actor;
	int err;

	memset(ev, 0, sizeof(*ev));
	ev->exit_code = -1;
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = get_str(o, "Type", ev->type, sizeof(ev->type), false);
	if (err)
		return err;
	get_str_cut(o, "Action", ev->action, sizeof(ev->action));
	/* Other types (images, volumes...) name their actors differently. */
	if (ev->type[0] && strcmp(ev->type, "container"))
		return 0;
	if (json_object_object_get_ex(o, "Actor", &actor) && actor) {
		if (!json_object_is_type(actor, json_type_object))
			return -EPROTO;
		err = get_str(actor, "ID", ev->id, sizeof(ev->id), false);
		if (!err)
			event_attributes(actor, ev);
	}
	/* API < 1.22 events: only "status" and "id", always containers. */
	if (!err && !ev->type[0]) {
		strcpy(ev->type, "container");
		get_str_cut(o, "status", ev->action, sizeof(ev->action));
		err = get_str(o, "id", ev->id, sizeof(ev->id), false);
	}
	return err;
}
