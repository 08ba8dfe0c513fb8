// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: Swarm's discovery syntax (agent/discovery.c), from a
 * nodes:// list and from a file, both the same untrusted bytes. The file
 * is a memfd reached through /proc/self/fd, so the parser opens and reads
 * it exactly as it reads a file on disk.
 *
 * Every address kept must be one the agent can connect to (it parses as
 * host:port again) and every warning must name a place and a reason.
 */
#include <errno.h>
#include <stdbool.h>
#include <sys/mman.h>
#include <unistd.h>

#include "discovery.h"
#include "hostport.h"
#include "fuzz.h"

static int memfd = -1;
static char path[64];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	memfd = memfd_create("fuzz-discovery", MFD_CLOEXEC);
	fuzz_assert(memfd >= 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	return 0;
}

static void on_warn(void *arg, const char *where, unsigned int line,
		    const char *reason)
{
	unsigned int *warnings = arg;

	fuzz_assert(where);
	fuzz_assert(line >= 1);
	fuzz_assert(reason && reason[0]);
	(*warnings)++;
}

/* Returns whether the source asked for more than DISCOVERY_MAX_ENGINES. */
static bool check(struct addr_list *l, int err)
{
	bool over = l->n > DISCOVERY_MAX_ENGINES;

	char host[256];
	uint16_t port;
	const char *why;
	size_t i;

	fuzz_assert(err == 0 || err == -ENOMEM);
	for (i = 0; i < l->n; i++) {
		fuzz_assert(l->v[i]);
		fuzz_assert(!hostport_parse(l->v[i], host, sizeof(host),
					    &port, &why));
		fuzz_assert(port);
	}
	addr_list_clear(l);
	fuzz_assert(!l->n && !l->v);
	return over;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct addr_list l = { 0 };
	unsigned int warnings = 0;
	bool over;
	char *s;
	int err;

	s = malloc(size + 1);
	fuzz_assert(s);
	memcpy(s, data, size);
	s[size] = '\0';
	err = discovery_parse_nodes(s, &l, on_warn, &warnings);
	free(s);
	over = check(&l, err);

	fuzz_assert(!ftruncate(memfd, 0));
	fuzz_assert(pwrite(memfd, data, size, 0) == (ssize_t)size);
	err = discovery_parse_file(path, &l, on_warn, &warnings);
	over |= check(&l, err);
	/* However many lines and ranges, the source stays within its bound. */
	fuzz_assert(!over);
	return 0;
}
