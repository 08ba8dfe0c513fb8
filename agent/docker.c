// SPDX-License-Identifier: GPL-2.0
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "docker.h"

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

int docker_info_parse(struct json_object *o, struct docker_info *info)
{
	struct json_object *labels;
	size_t i;
	int err;

	memset(info, 0, sizeof(*info));
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = get_str(o, "ID", info->id, sizeof(info->id), true);
	if (!err && !info->id[0])
		err = -EPROTO;
	if (!err)
		err = get_str(o, "Name", info->name, sizeof(info->name), false);
	if (!err)
		err = get_str(o, "ServerVersion", info->server_version,
			      sizeof(info->server_version), false);
	if (!err)
		err = get_int(o, "NCPU", &info->ncpu);
	if (!err)
		err = get_int(o, "MemTotal", &info->mem_total);
	if (err)
		return err;
	if (json_object_object_get_ex(o, "Labels", &labels) && labels) {
		if (!json_object_is_type(labels, json_type_array))
			return -EPROTO;
		for (i = 0; i < json_object_array_length(labels); i++)
			if (!json_object_is_type(json_object_array_get_idx(labels, i),
						 json_type_string))
				return -EPROTO;
		info->labels = json_object_get(labels);
	}
	return 0;
}

void docker_info_clear(struct docker_info *info)
{
	json_object_put(info->labels);
	memset(info, 0, sizeof(*info));
}

/*
 * A string member cut to fit @len (at a character boundary) rather than
 * refused: for what is only shown, such as a command line.
 */
static int get_str_cut(struct json_object *o, const char *key, char *buf,
		       size_t len)
{
	struct json_object *v;
	const char *s;
	size_t n;

	buf[0] = '\0';
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return 0;
	if (!json_object_is_type(v, json_type_string))
		return -EPROTO;
	s = json_object_get_string(v);
	n = strlen(s);
	if (n >= len) {
		n = len - 1;
		/* Not in the middle of a UTF-8 sequence. */
		while (n && ((unsigned char)s[n] & 0xc0) == 0x80)
			n--;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	return 0;
}

/* "Labels": an object of strings, or null; what is over bounds is counted. */
static int labels_parse(struct json_object *o, struct docker_container *c)
{
	struct json_object *labels;
	struct json_object_iterator it, end;
	size_t total = 0, klen, vlen, cap;
	char *p;

	c->labels = NULL;
	c->labels_len = 0;
	c->nlabels = 0;
	c->labels_dropped = 0;
	if (!json_object_object_get_ex(o, "Labels", &labels) || !labels)
		return 0;
	if (!json_object_is_type(labels, json_type_object))
		return -EPROTO;
	/* Types first: a label that is not a string is a broken answer. */
	it = json_object_iter_begin(labels);
	end = json_object_iter_end(labels);
	cap = 0;
	for (; !json_object_iter_equal(&it, &end); json_object_iter_next(&it)) {
		struct json_object *v = json_object_iter_peek_value(&it);

		if (!json_object_is_type(v, json_type_string))
			return -EPROTO;
		cap++;
	}
	if (!cap)
		return 0;
	cap = DOCKER_LABELS_BYTES;
	p = malloc(cap);
	if (!p)
		return -ENOMEM;
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
		    total + klen + vlen + 2 > cap) {
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
	if (!total) {
		free(p);
		return 0;
	}
	c->labels = realloc(p, total) ?: p;
	c->labels_len = (uint32_t)total;
	return 0;
}

static int container_parse(struct json_object *o, struct docker_container *c)
{
	struct json_object *names, *first;
	int err;

	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = get_str(o, "Id", c->id, sizeof(c->id), true);
	if (!err && !docker_id_valid(c->id))
		err = -EPROTO;
	if (!err)
		err = get_str(o, "Image", c->image, sizeof(c->image), false);
	if (!err)
		err = get_str(o, "State", c->state, sizeof(c->state), false);
	if (!err)
		err = get_str(o, "ImageID", c->image_id, sizeof(c->image_id),
			      false);
	if (!err)
		err = get_str_cut(o, "Command", c->command, sizeof(c->command));
	if (!err)
		err = get_str_cut(o, "Status", c->status, sizeof(c->status));
	if (!err)
		err = get_int(o, "Created", &c->created);
	if (err)
		return err;
	c->name[0] = '\0';
	if (json_object_object_get_ex(o, "Names", &names) && names) {
		const char *s;

		if (!json_object_is_type(names, json_type_array))
			return -EPROTO;
		first = json_object_array_get_idx(names, 0);
		if (first) {
			if (!json_object_is_type(first, json_type_string))
				return -EPROTO;
			s = json_object_get_string(first);
			/* Docker names carry a leading '/' (the link namespace). */
			if (*s == '/')
				s++;
			if (strlen(s) >= sizeof(c->name))
				return -EPROTO;
			strcpy(c->name, s);
		}
	}
	/* Last: nothing after it fails, so nothing leaks. */
	return labels_parse(o, c);
}

void docker_container_clear(struct docker_container *c)
{
	free(c->labels);
	c->labels = NULL;
	c->labels_len = 0;
	c->nlabels = 0;
}

void docker_containers_free(struct docker_container *v, size_t n)
{
	size_t i;

	if (!v)
		return;
	for (i = 0; i < n; i++)
		free(v[i].labels);
	free(v);
}

int docker_containers_parse(struct json_object *o,
			    struct docker_container **out, size_t *n)
{
	struct docker_container *v;
	size_t i, len;
	int err;

	if (!json_object_is_type(o, json_type_array))
		return -EPROTO;
	len = json_object_array_length(o);
	if (len > DOCKER_MAX_CONTAINERS)
		return -EMSGSIZE;
	v = calloc(len ? len : 1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < len; i++) {
		err = container_parse(json_object_array_get_idx(o, i), &v[i]);
		if (err) {
			docker_containers_free(v, i);
			return err;
		}
	}
	*out = v;
	*n = len;
	return 0;
}

bool docker_label_next(const struct docker_container *c, uint32_t *pos,
		       const char **key, const char **value)
{
	if (!c->labels || *pos >= c->labels_len)
		return false;
	*key = c->labels + *pos;
	*pos += (uint32_t)strlen(*key) + 1;
	*value = c->labels + *pos;
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

int docker_event_parse(struct json_object *o, struct docker_event *ev)
{
	struct json_object *actor;
	int err;

	memset(ev, 0, sizeof(*ev));
	if (!json_object_is_type(o, json_type_object))
		return -EPROTO;
	err = get_str(o, "Type", ev->type, sizeof(ev->type), false);
	if (!err)
		err = get_str(o, "Action", ev->action, sizeof(ev->action), false);
	if (err)
		return err;
	/* Other types (images, volumes...) name their actors differently. */
	if (ev->type[0] && strcmp(ev->type, "container"))
		return 0;
	if (json_object_object_get_ex(o, "Actor", &actor) && actor) {
		if (!json_object_is_type(actor, json_type_object))
			return -EPROTO;
		err = get_str(actor, "ID", ev->id, sizeof(ev->id), false);
	}
	/* API < 1.22 events: only "status" and "id", always containers. */
	if (!err && !ev->type[0]) {
		strcpy(ev->type, "container");
		err = get_str(o, "status", ev->action, sizeof(ev->action), false);
		if (!err)
			err = get_str(o, "id", ev->id, sizeof(ev->id), false);
	}
	return err;
}
