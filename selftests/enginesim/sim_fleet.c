// SPDX-License-Identifier: GPL-2.0
/*
 * The engines and their containers. Everything an engine serves is a pure
 * function of (seed, address, wall-clock time) plus the commands received
 * on the control socket, so that several processes sharing one fleet with
 * SO_REUSEPORT answer identically for every engine. Nothing is stored per
 * container unless the control socket changed it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "sim_fleet.h"

#define TAG_CTR		0x6374720000000000ULL
#define TAG_ID		0x6964000000000000ULL
#define TAG_NAME	0x6e616d6500000000ULL
#define TAG_JIT		0x6a69740000000000ULL
#define TAG_HW		0x6877000000000000ULL
#define TAG_IMG		0x696d670000000000ULL
#define GOLDEN		0x9e3779b97f4a7c15ULL

/*
 * Container idx of k was created about k - idx hours before
 * 2026-11-01T00:00:00Z: in idx order, as dockerd's list needs them.
 */
#define CREATED_BASE_S	1793491200LL
#define CREATED_STEP_S	3600
#define MAX_EXTRA	1024

static const char *const adjectives[] = {
	"admiring", "bold", "brave", "busy", "calm", "clever", "dazzling",
	"eager", "elastic", "focused", "gallant", "happy", "hungry", "jolly",
	"keen", "lucid", "modest", "nifty", "quirky", "sharp", "stoic",
	"tender", "vibrant", "wizardly", "zealous", "distracted",
};

static const char *const nouns[] = {
	"agnesi", "babbage", "bohr", "curie", "darwin", "einstein", "euler",
	"faraday", "fermat", "galileo", "gauss", "hopper", "hypatia",
	"kepler", "lamarr", "leakey", "lovelace", "maxwell", "meitner",
	"newton", "noether", "pascal", "planck", "ride", "shannon", "swartz",
	"tesla", "turing", "volta", "wright", "yalow", "zuse",
};

struct image {
	const char *name;
	const char *command;
	const char *path;
	const char *args;
};

static const struct image images[] = {
	{ "nginx:1.25", "/docker-entrypoint.sh nginx -g 'daemon off;'",
	  "/docker-entrypoint.sh", "\"nginx\",\"-g\",\"daemon off;\"" },
	{ "redis:7.2", "docker-entrypoint.sh redis-server",
	  "docker-entrypoint.sh", "\"redis-server\"" },
	{ "postgres:15", "docker-entrypoint.sh postgres",
	  "docker-entrypoint.sh", "\"postgres\"" },
	{ "bb:latest", "/bin/sleep 3600", "/bin/sleep", "\"3600\"" },
	{ "alpine:3.18", "/bin/sh -c 'while sleep 5; do date; done'",
	  "/bin/sh", "\"-c\",\"while sleep 5; do date; done\"" },
	{ "memcached:1.6", "docker-entrypoint.sh memcached",
	  "docker-entrypoint.sh", "\"memcached\"" },
};

#define NR_IMAGES	ARRAY_SIZE(images)
#define NR_ADJ		ARRAY_SIZE(adjectives)
#define NR_NOUNS	ARRAY_SIZE(nouns)

static char image_ids[NR_IMAGES][72];

static uint64_t mix64(uint64_t x)
{
	x += GOLDEN;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

static uint64_t hash2(uint64_t key, uint64_t v)
{
	return mix64(key ^ mix64(v));
}

static void hex64(uint64_t seed, char *out)
{
	static const char hex[] = "0123456789abcdef";
	int i;

	for (i = 0; i < 64; i++) {
		if (!(i % 16))
			seed = mix64(seed);
		out[i] = hex[(seed >> ((i % 16) * 4)) & 15];
	}
	out[64] = '\0';
}

int fleet_new(struct sim *s, struct fleet **out)
{
	struct fleet *f;
	unsigned int i;

	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	f->engines = calloc(s->opts.count, sizeof(*f->engines));
	if (!f->engines) {
		free(f);
		return -ENOMEM;
	}
	f->sim = s;
	f->count = s->opts.count;
	for (i = 0; i < NR_IMAGES; i++) {
		memcpy(image_ids[i], "sha256:", 7);
		hex64(hash2(TAG_IMG, i), image_ids[i] + 7);
	}
	for (i = 0; i < f->count; i++) {
		struct engine *e = &f->engines[i];

		e->sim = s;
		e->index = i;
		e->addr = s->opts.base + i;
		e->key = hash2(s->opts.seed, e->addr);
		list_init(&e->conns);
		list_init(&e->streams);
	}
	*out = f;
	return 0;
}

void fleet_free(struct fleet *f)
{
	unsigned int i;

	if (!f)
		return;
	for (i = 0; i < f->count; i++)
		free(f->engines[i].ovr);
	free(f->engines);
	free(f);
}

struct engine *fleet_lookup(struct fleet *f, uint32_t addr)
{
	uint32_t i = addr - f->sim->opts.base;

	return i < f->count ? &f->engines[i] : NULL;
}

/* dockerd's format: 12 groups of 4 base32 characters. */
void engine_id(const struct engine *e, char out[60])
{
	static const char b32[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint64_t r = e->key ^ TAG_ID ^ (e->id_gen * GOLDEN);
	char *p = out;
	int i;

	for (i = 0; i < 48; i++) {
		if (!(i % 12))
			r = mix64(r);
		if (i && !(i % 4))
			*p++ = ':';
		*p++ = b32[(r >> ((i % 12) * 5)) & 31];
	}
	*p = '\0';
}

unsigned int engine_ncpu(const struct engine *e)
{
	static const unsigned int ncpus[] = { 2, 4, 8, 16, 32, 64 };

	return ncpus[hash2(e->key, TAG_HW) % 6];
}

uint64_t engine_memtotal(const struct engine *e)
{
	uint64_t h = hash2(e->key, TAG_HW + 1);
	uint64_t gib = engine_ncpu(e) * (1 + h % 4) * 2;

	/* Real hosts report a little less than the installed memory. */
	return (gib << 30) - ((h >> 8) % 512) * (1 << 20);
}

unsigned int engine_nr_containers(const struct engine *e)
{
	return e->sim->opts.containers + e->nr_extra;
}

int64_t engine_slot_time(const struct engine *e, int64_t slot)
{
	int64_t iv = e->sim->opts.events_interval_ms;
	int64_t phase = e->key % iv;
	int64_t jit = iv / 4 + hash2(e->key ^ TAG_JIT, slot) % (iv / 2 + 1);

	return slot * iv - phase + jit;
}

/* The last slot whose event time is not after now_ms. */
int64_t engine_slot_fired(const struct engine *e, int64_t now_ms)
{
	int64_t iv = e->sim->opts.events_interval_ms;
	int64_t slot = (now_ms + (int64_t)(e->key % iv)) / iv;

	return engine_slot_time(e, slot) <= now_ms ? slot : slot - 1;
}

unsigned int engine_slot_container(const struct engine *e, int64_t slot)
{
	return slot % e->sim->opts.containers;
}

static struct ctr_ovr *engine_ovr(const struct engine *e, unsigned int idx)
{
	unsigned int i;

	for (i = 0; i < e->nr_ovr; i++)
		if (e->ovr[i].idx == idx)
			return &e->ovr[i];
	return NULL;
}

static void ctr_name(const struct engine *e, unsigned int idx, uint64_t h,
		     char *out)
{
	/* The noun rotates with idx, so names never repeat in one engine. */
	unsigned int n = (hash2(e->key, TAG_NAME) + idx) % NR_NOUNS;

	if (idx < NR_NOUNS)
		snprintf(out, CTR_NAME_MAX, "%s_%s", adjectives[h % NR_ADJ],
			 nouns[n]);
	else
		snprintf(out, CTR_NAME_MAX, "%s_%s%u", adjectives[h % NR_ADJ],
			 nouns[n], idx / (unsigned int)NR_NOUNS);
}

void engine_container(const struct engine *e, unsigned int idx, int64_t now_ms,
		      struct ctr *c)
{
	static const int exit_codes[] = { 0, 137, 1 };
	unsigned int k = e->sim->opts.containers;
	uint64_t h = hash2(e->key ^ TAG_CTR, idx);
	const struct image *img = &images[(h >> 40) % NR_IMAGES];
	const struct ctr_ovr *o = engine_ovr(e, idx);
	int running;

	memset(c, 0, sizeof(*c));
	c->idx = idx;
	hex64(h, c->id);
	c->image = img->name;
	c->image_id = image_ids[img - images];
	c->command = img->command;
	c->path = img->path;
	c->args = img->args;
	c->pid = 1000 + h % 60000;
	if (o && o->name[0])
		memcpy(c->name, o->name, sizeof(c->name));
	else
		ctr_name(e, idx, h, c->name);

	if (idx >= k) {
		c->created_ms = o->created_ms;
		c->state = o->state;
		c->exit_code = o->exit_code;
		c->changed_ms = o->t_ms;
		return;
	}

	c->created_ms = (CREATED_BASE_S - (int64_t)(k - idx) * CREATED_STEP_S +
			 (int64_t)(h % (CREATED_STEP_S - 600))) * 1000 +
			(h >> 20) % 1000;
	c->changed_ms = c->created_ms + 500;
	running = (h >> 16) % 5 != 0;
	c->exit_code = exit_codes[(h >> 24) % 3];
	if (e->sim->opts.events_interval_ms) {
		/* Slot s changes container s % k; each change flips it. */
		int64_t fired = engine_slot_fired(e, now_ms);
		int64_t last = fired - (((fired - idx) % k) + k) % k;

		running ^= (last / k) & 1;
		c->changed_ms = engine_slot_time(e, last);
		c->exit_code = exit_codes[hash2(h, last) % 3];
	}
	c->state = running ? CTR_RUNNING : CTR_EXITED;
	if (o && o->t_ms >= c->changed_ms) {
		c->state = o->state;
		c->exit_code = o->exit_code;
		c->changed_ms = o->t_ms;
	}
}

/* By full ID, name (with or without its slash) or unique ID prefix. */
int engine_find_container(const struct engine *e, const char *ref, int64_t now_ms,
			  struct ctr *out)
{
	unsigned int i, n = engine_nr_containers(e), found = 0;
	size_t len = strlen(ref);
	struct ctr c;

	if (!len)
		return -ENOENT;
	for (i = 0; i < n; i++) {
		engine_container(e, i, now_ms, &c);
		if (!strcmp(c.id, ref) || !strcmp(c.name, ref) ||
		    (ref[0] == '/' && !strcmp(c.name, ref + 1))) {
			*out = c;
			return 0;
		}
		if (!strncmp(c.id, ref, len)) {
			*out = c;
			found++;
		}
	}
	return found == 1 ? 0 : -ENOENT;
}

static struct ctr_ovr *engine_ovr_add(struct engine *e, unsigned int idx)
{
	struct ctr_ovr *o;

	o = realloc(e->ovr, (e->nr_ovr + 1) * sizeof(*o));
	if (!o)
		return NULL;
	e->ovr = o;
	o = &e->ovr[e->nr_ovr++];
	memset(o, 0, sizeof(*o));
	o->idx = idx;
	return o;
}

int engine_set_state(struct engine *e, unsigned int idx, enum ctr_state st,
		     int exit_code, int64_t now_ms)
{
	struct ctr_ovr *o = engine_ovr(e, idx);

	if (!o) {
		o = engine_ovr_add(e, idx);
		if (!o)
			return -ENOMEM;
	}
	o->state = st;
	o->exit_code = exit_code;
	o->t_ms = now_ms;
	return 0;
}

int engine_create_container(struct engine *e, const char *name, int64_t now_ms,
			    unsigned int *idx)
{
	unsigned int n = engine_nr_containers(e);
	struct ctr_ovr *o;
	struct ctr c;

	if (e->nr_extra >= MAX_EXTRA)
		return -ENOSPC;
	if (name && strlen(name) >= CTR_NAME_MAX)
		return -ENAMETOOLONG;
	if (name && !engine_find_container(e, name, now_ms, &c) &&
	    !strcmp(c.name, name))
		return -EEXIST;
	o = engine_ovr_add(e, n);
	if (!o)
		return -ENOMEM;
	if (name)
		strcpy(o->name, name);
	o->state = CTR_CREATED;
	o->t_ms = now_ms;
	o->created_ms = now_ms;
	e->nr_extra++;
	*idx = n;
	return 0;
}
