// SPDX-License-Identifier: GPL-2.0
/*
 * LD_PRELOAD=malloc_count.so PW_MALLOC_COUNT=FILE: counts a process's
 * heap allocations (malloc, calloc, realloc, the aligned ones) and frees
 * into FILE, two native 64-bit counters the bench reads while it runs
 * (bench/run: heap allocations per poll). Each call goes on to glibc's
 * own; nothing else changes. What is allocated before the counters are
 * mapped (the loader's own) is not counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t align, size_t size);
extern void __libc_free(void *p);

enum { ALLOCS, FREES };

static uint64_t *counts;

static void count(int what)
{
	if (counts)
		__atomic_fetch_add(&counts[what], 1, __ATOMIC_RELAXED);
}

__attribute__((constructor)) static void map_counts(void)
{
	const char *path = getenv("PW_MALLOC_COUNT");
	void *p;
	int fd;

	if (!path)
		return;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (!ftruncate(fd, 2 * sizeof(uint64_t))) {
		p = mmap(NULL, 2 * sizeof(uint64_t), PROT_READ | PROT_WRITE,
			 MAP_SHARED, fd, 0);
		if (p != MAP_FAILED)
			counts = p;
	}
	close(fd);
}

void *malloc(size_t size)
{
	count(ALLOCS);
	return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
	count(ALLOCS);
	return __libc_calloc(n, size);
}

void *realloc(void *p, size_t size)
{
	count(ALLOCS);
	return __libc_realloc(p, size);
}

void *memalign(size_t align, size_t size)
{
	count(ALLOCS);
	return __libc_memalign(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
	count(ALLOCS);
	return __libc_memalign(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p;

	count(ALLOCS);
	p = __libc_memalign(align, size);
	if (!p)
		return ENOMEM;
	*out = p;
	return 0;
}

void free(void *p)
{
	if (p)
		count(FREES);
	__libc_free(p);
}
