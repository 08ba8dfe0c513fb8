// SPDX-License-Identifier: GPL-2.0
/*
 * The agent's memory limit, read at start and on each reload (a cgroup's
 * limit can be changed under a running service). Past it the kernel's OOM
 * killer ends the agent wherever it is, mid-write of the state file too;
 * knowing it, the memory gate (watch/memgate.c) refuses engines instead.
 * A cgroup's limit binds its children, so the lowest from the agent's own
 * cgroup up to the root is the one that holds. Only the memory
 * controller's own files are read: the path comes from /proc/self/cgroup.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "memlimit.h"
#include "size.h"

#define CGROUP_ROOT	"/sys/fs/cgroup"
/* v1 says "no limit" with a huge number (PAGE_COUNTER_MAX pages). */
#define MEMLIMIT_NONE	(1ULL << 62)

struct cgroup_mem {
	char dir[512];			/* the agent's cgroup, memory files */
	const char *file;		/* memory.max or memory.limit_in_bytes */
	const char *name;		/* "cgroup v2", "cgroup v1" */
	size_t root;			/* length of the controller's root */
};

/* Where the agent's memory controller is: false if it has none. */
static bool find_cgroup(struct cgroup_mem *cg)
{
	char line[1024], v1[512] = "", v2[512] = "";
	bool has_v1 = false, has_v2 = false;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		char *ctl = strchr(line, ':'), *path = NULL;

		if (ctl)
			path = strchr(++ctl, ':');
		if (!path)
			continue;
		*path++ = '\0';
		path[strcspn(path, "\n")] = '\0';
		if (!strcmp(line, "0:") && !*ctl) {
			snprintf(v2, sizeof(v2), "%s", path);
			has_v2 = true;
			continue;
		}
		/* "4:memory:/a/b", or a list such as "cpu,memory". */
		for (char *sp, *c = strtok_r(ctl, ",", &sp); c;
		     c = strtok_r(NULL, ",", &sp))
			if (!strcmp(c, "memory")) {
				snprintf(v1, sizeof(v1), "%s", path);
				has_v1 = true;
			}
	}
	fclose(f);
	/* A v1 memory controller, where mounted, is the one that counts. */
	if (has_v1) {
		snprintf(cg->dir, sizeof(cg->dir), CGROUP_ROOT "/memory%s", v1);
		cg->file = "memory.limit_in_bytes";
		cg->name = "cgroup v1";
		cg->root = strlen(CGROUP_ROOT "/memory");
		return true;
	}
	if (has_v2) {
		snprintf(cg->dir, sizeof(cg->dir), CGROUP_ROOT "%s", v2);
		cg->file = "memory.max";
		cg->name = "cgroup v2";
		cg->root = strlen(CGROUP_ROOT);
		return true;
	}
	return false;
}

/* The limit in @dir's file: 0 for none or unreadable. */
static uint64_t read_limit(const char *dir, const char *file)
{
	char path[600], buf[32], *end;
	unsigned long long v = 0;
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	f = fopen(path, "re");
	if (!f)
		return 0;
	ok = fgets(buf, sizeof(buf), f) && buf[0] >= '0' && buf[0] <= '9';
	if (ok) {
		/* "max" (v2: none) is not a number and fails above. */
		errno = 0;
		v = strtoull(buf, &end, 10);
		ok = !errno && (*end == '\n' || !*end);
	}
	fclose(f);
	return ok && v < MEMLIMIT_NONE ? v : 0;
}

/* The lowest limit from the agent's cgroup up to the controller's root. */
static uint64_t cgroup_limit(struct cgroup_mem *cg)
{
	uint64_t low = 0;

	for (;;) {
		uint64_t v = read_limit(cg->dir, cg->file);
		char *slash;

		if (v && (!low || v < low))
			low = v;
		slash = strrchr(cg->dir, '/');
		if (!slash || (size_t)(slash - cg->dir) < cg->root)
			break;
		*slash = '\0';
	}
	return low;
}

uint64_t memlimit_read(uint64_t flag, char *what, size_t len)
{
	struct cgroup_mem cg;
	uint64_t cgl = find_cgroup(&cg) ? cgroup_limit(&cg) : 0;
	char size[32];

	if (cgl && (!flag || cgl < flag)) {
		size_format(cgl, size, sizeof(size));
		snprintf(what, len, "%s %s %s", cg.name, cg.file, size);
		return cgl;
	}
	if (flag) {
		size_format(flag, size, sizeof(size));
		snprintf(what, len, "--memory-max %s", size);
		return flag;
	}
	snprintf(what, len, "no memory limit");
	return 0;
}
