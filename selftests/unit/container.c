// SPDX-License-Identifier: GPL-2.0
/*
 * The packed container record (docker.h): every field a reader shows
 * comes back as the answer gave it: IDs of every length docker_id_valid()
 * takes, states known and not, labels and their bounds; and, on every
 * captured listing, each container's fields as the JSON tree holds them.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kselftest_harness.h"
#include "docker.h"
#include "fixture.h"
#include "intern.h"

/* @n containers laid out from @f, in a new block. */
static int lay_out(const struct docker_fields *f, size_t n,
		   struct docker_container **v)
{
	struct docker_builder b = { 0 };
	size_t i, got;
	int err = 0;

	*v = NULL;
	for (i = 0; i < n && !err; i++)
		err = docker_builder_add(&b, &f[i]);
	if (!err)
		err = docker_builder_finish(&b, v, &got);
	docker_builder_release(&b);
	return err;
}

static void fields_init(struct docker_fields *f, const char *id,
			const char *state, const char *name)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->id, sizeof(f->id), "%s", id);
	snprintf(f->state, sizeof(f->state), "%s", state);
	f->name = name;
	f->image = "nginx:1.25";
	f->image_id = "sha256:00";
	f->command = "nginx -g daemon off;";
	f->status = "Up 2 hours";
}

TEST(ids_round_trip)
{
	static const char *const ids[] = {
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
		"f", "0", "a0", "abc",
		"ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcde",
	};
	struct docker_fields f[8];
	struct docker_container *v;
	char id[DOCKER_ID_MAX];
	size_t i, j;

	for (i = 0; i < 8; i++)
		fields_init(&f[i], ids[i], "running", "web");
	ASSERT_EQ(0, lay_out(f, 8, &v));
	for (i = 0; i < 8; i++) {
		EXPECT_STREQ(ids[i], docker_container_id(&v[i], id));
		EXPECT_TRUE(docker_container_id_is(&v[i], ids[i]));
		EXPECT_TRUE(docker_container_id_has_prefix(&v[i], ""));
		EXPECT_TRUE(docker_container_id_has_prefix(&v[i], ids[i]));
		for (j = 0; j < 8; j++) {
			int want = strcmp(ids[i], ids[j]);
			int got = docker_container_id_cmp(&v[i], &v[j]);

			EXPECT_EQ(want < 0, got < 0) TH_LOG("%s %s", ids[i], ids[j]);
			EXPECT_EQ(want > 0, got > 0) TH_LOG("%s %s", ids[i], ids[j]);
		}
	}
	/* The zero digits a short ID is padded with are not its own. */
	EXPECT_FALSE(docker_container_id_is(&v[1], "f0"));
	EXPECT_FALSE(docker_container_id_has_prefix(&v[1], "f0"));
	EXPECT_FALSE(docker_container_id_is(&v[3], "a"));
	EXPECT_TRUE(docker_container_id_has_prefix(&v[3], "a"));
	EXPECT_TRUE(docker_container_id_has_prefix(&v[0], "0123456789ab"));
	EXPECT_FALSE(docker_container_id_has_prefix(&v[0], "0123456789aB"));
	EXPECT_FALSE(docker_container_id_has_prefix(&v[0], "01234x"));
	EXPECT_FALSE(docker_container_id_is(&v[0], "0123"));
	docker_containers_free(v, 8);
	EXPECT_EQ(0U, intern_count());
}

/* What docker_id_valid() refuses, a listing refuses, as before. */
TEST(other_ids_refused)
{
	static const char *const bad[] = { "", "ABC", "abcg", "ab c", "-1" };
	struct docker_builder b = { 0 };
	struct docker_fields f;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fields_init(&f, bad[i], "running", "web");
		EXPECT_EQ(-EPROTO, docker_builder_add(&b, &f)) TH_LOG("%s", bad[i]);
	}
	EXPECT_EQ(0U, docker_builder_count(&b));
	docker_builder_release(&b);
}

/* What a listing would not keep, a copy does not either. */
TEST(strings_over_bounds_refused)
{
	static char big[DOCKER_LABELS_BYTES + 2];
	struct docker_builder b = { 0 };
	struct docker_fields f;
	int i;

	memset(big, 'x', sizeof(big) - 1);
	for (i = 0; i < 7; i++) {
		const char **str[] = {
			&f.name, &f.image, &f.image_id, &f.command, &f.status,
		};
		static const size_t max[] = {
			DOCKER_NAME_MAX, DOCKER_NAME_MAX, DOCKER_IMAGE_ID_MAX,
			DOCKER_COMMAND_MAX, DOCKER_STATUS_MAX,
		};

		fields_init(&f, "a", "running", "web");
		if (i < 5) {
			/* max bytes: one too many. */
			*str[i] = big + sizeof(big) - 1 - max[i];
		} else if (i == 5) {
			f.labels = big;
			f.labels_len = DOCKER_LABELS_BYTES + 1;
			f.nlabels = 1;
		} else {
			f.nlabels = DOCKER_MAX_LABELS + 1;
		}
		EXPECT_EQ(-EPROTO, docker_builder_add(&b, &f)) TH_LOG("%d", i);
	}
	/* One byte less each, and it fits. */
	fields_init(&f, "a", "running", "web");
	f.name = big + sizeof(big) - DOCKER_NAME_MAX;
	f.image = big + sizeof(big) - DOCKER_NAME_MAX;
	f.image_id = big + sizeof(big) - DOCKER_IMAGE_ID_MAX;
	f.command = big + sizeof(big) - DOCKER_COMMAND_MAX;
	f.status = big + sizeof(big) - DOCKER_STATUS_MAX;
	EXPECT_EQ(0, docker_builder_add(&b, &f));
	EXPECT_EQ(1U, docker_builder_count(&b));
	docker_builder_release(&b);
}

/* The memory model (memgate.h) counts on a container this small. */
TEST(record_size)
{
	EXPECT_GE(64U, sizeof(struct docker_container));
}

TEST(states_round_trip)
{
	static const char *const states[] = {
		"", "created", "restarting", "running", "removing", "paused",
		"exited", "dead", "Running", "unknown-state15", "stopped",
	};
	enum { N = sizeof(states) / sizeof(states[0]) };
	static const char *const names[] = { "", "web", "a-much-longer-name" };
	struct docker_fields f[N], g;
	struct docker_container *v;
	char id[8];
	size_t i;

	for (i = 0; i < N; i++) {
		snprintf(id, sizeof(id), "%zx", i);
		fields_init(&f[i], id, states[i], names[i % 3]);
	}
	ASSERT_EQ(0, lay_out(f, N, &v));
	for (i = 0; i < N; i++) {
		EXPECT_STREQ(states[i], docker_container_state(&v[i]));
		EXPECT_STREQ(names[i % 3], docker_container_name(&v[i]));
		docker_container_fields(&v[i], &g);
		EXPECT_STREQ(states[i], g.state);
		EXPECT_STREQ(f[i].id, g.id);
	}
	EXPECT_EQ(DOCKER_STATE_RUNNING, v[3].state);
	EXPECT_EQ(DOCKER_STATE_OTHER, v[8].state);
	EXPECT_EQ(DOCKER_STATE_NONE, v[0].state);
	docker_containers_free(v, N);
}

TEST(labels_and_bounds_round_trip)
{
	static const char labels[] = "k\0v\0empty\0\0";
	struct docker_fields f[2], g;
	struct docker_container *v;
	const char *k, *val;
	uint32_t pos = 0;

	fields_init(&f[0], "a", "running", "web");
	f[0].created = -1;
	f[0].labels = labels;
	f[0].labels_len = sizeof(labels) - 1;
	f[0].nlabels = 2;
	f[0].labels_dropped = UINT16_MAX;
	fields_init(&f[1], "b", "exited", "db");
	f[1].created = INT64_MAX;
	f[1].image = f[1].image_id = f[1].command = f[1].status = "";
	ASSERT_EQ(0, lay_out(f, 2, &v));
	ASSERT_TRUE(docker_label_next(&v[0], &pos, &k, &val));
	EXPECT_STREQ("k", k);
	EXPECT_STREQ("v", val);
	ASSERT_TRUE(docker_label_next(&v[0], &pos, &k, &val));
	EXPECT_STREQ("empty", k);
	EXPECT_STREQ("", val);
	EXPECT_FALSE(docker_label_next(&v[0], &pos, &k, &val));
	docker_container_fields(&v[0], &g);
	EXPECT_EQ(-1, g.created);
	EXPECT_EQ(sizeof(labels) - 1, g.labels_len);
	EXPECT_EQ(2, g.nlabels);
	EXPECT_EQ(UINT16_MAX, g.labels_dropped);
	EXPECT_EQ(0, memcmp(labels, g.labels, g.labels_len));
	EXPECT_STREQ("nginx:1.25", g.image);
	EXPECT_STREQ("sha256:00", g.image_id);
	EXPECT_STREQ("nginx -g daemon off;", g.command);
	EXPECT_STREQ("Up 2 hours", g.status);
	docker_container_fields(&v[1], &g);
	EXPECT_EQ(INT64_MAX, g.created);
	EXPECT_EQ(NULL, g.labels);
	EXPECT_EQ(0U, g.labels_len);
	EXPECT_STREQ("", g.image);
	EXPECT_STREQ("", g.status);
	EXPECT_FALSE(docker_container_has_label(&v[1], "k"));
	docker_containers_free(v, 2);
	EXPECT_EQ(0U, intern_count());
}

static const char *str_of(struct json_object *o, const char *key)
{
	struct json_object *v;

	return json_object_object_get_ex(o, key, &v) && v ?
	       json_object_get_string(v) : "";
}

/* One container against its JSON: what every reader shows. */
static void check_one(struct __test_metadata *_metadata, const char *file,
		      struct json_object *o, const struct docker_container *c)
{
	struct json_object *names, *labels, *created;
	struct json_object_iterator it, end;
	const char *name = "", *k, *v;
	char id[DOCKER_ID_MAX];
	uint32_t pos = 0;

	EXPECT_STREQ(str_of(o, "Id"), docker_container_id(c, id)) TH_LOG("%s", file);
	EXPECT_STREQ(str_of(o, "State"), docker_container_state(c)) TH_LOG("%s", file);
	EXPECT_STREQ(str_of(o, "Image"), docker_container_image(c));
	EXPECT_STREQ(str_of(o, "ImageID"), docker_container_image_id(c));
	EXPECT_STREQ(str_of(o, "Command"), docker_container_command(c));
	EXPECT_STREQ(str_of(o, "Status"), docker_container_status(c));
	if (json_object_object_get_ex(o, "Created", &created))
		EXPECT_EQ(json_object_get_int64(created), c->created);
	if (json_object_object_get_ex(o, "Names", &names) &&
	    json_object_array_length(names))
		name = json_object_get_string(json_object_array_get_idx(names, 0));
	EXPECT_STREQ(name + (*name == '/'), docker_container_name(c));
	if (json_object_object_get_ex(o, "Labels", &labels) && labels) {
		it = json_object_iter_begin(labels);
		end = json_object_iter_end(labels);
		for (; !json_object_iter_equal(&it, &end);
		     json_object_iter_next(&it)) {
			ASSERT_TRUE(docker_label_next(c, &pos, &k, &v));
			EXPECT_STREQ(json_object_iter_peek_name(&it), k);
			EXPECT_STREQ(json_object_get_string(
					     json_object_iter_peek_value(&it)), v);
		}
	}
	EXPECT_FALSE(docker_label_next(c, &pos, &k, &v));
}

TEST(fixtures_as_answered)
{
	static const char *const dirs[] = { "dockerd", "podman", "dockerd-tls" };
	unsigned int listings = 0, containers = 0;
	struct docker_container *v;
	struct json_object *o;
	char name[300], *body;
	struct dirent *d;
	size_t len, i, k, n;
	DIR *dp;

	for (k = 0; k < 3; k++) {
		snprintf(name, sizeof(name), "%s/%s", fixture_dir(), dirs[k]);
		dp = opendir(name);
		ASSERT_NE(NULL, dp) TH_LOG("%s", name);
		while ((d = readdir(dp))) {
			if (!strstr(d->d_name, "containers_") ||
			    !strstr(d->d_name, ".http"))
				continue;
			snprintf(name, sizeof(name), "%s/%s", dirs[k], d->d_name);
			body = fixture_body(name, &len);
			ASSERT_NE(NULL, body) TH_LOG("%s", name);
			o = json_tokener_parse(body);
			ASSERT_NE(NULL, o) TH_LOG("%s", name);
			ASSERT_EQ(0, docker_containers_parse(o, &v, &n));
			ASSERT_EQ(json_object_array_length(o), n);
			for (i = 0; i < n; i++)
				check_one(_metadata, name,
					  json_object_array_get_idx(o, i), &v[i]);
			containers += n;
			listings++;
			docker_containers_free(v, n);
			json_object_put(o);
			free(body);
		}
		closedir(dp);
	}
	EXPECT_EQ(11U, listings);
	EXPECT_LT(0U, containers);
	EXPECT_EQ(0U, intern_count());
}

TEST_HARNESS_MAIN
