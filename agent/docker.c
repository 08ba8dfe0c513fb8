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
	if (err)
		return err;
	c->name[0] = '\0';
	if (json_object_object_get_ex(o, "Names", &names) && names) {
		const char *s;

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
		if (strlen(s) >= sizeof(c->name))
			return -EPROTO;
		strcpy(c->name, s);
	}
	return 0;
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
			free(v);
			return err;
		}
	}
	*out = v;
	*n = len;
	return 0;
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
