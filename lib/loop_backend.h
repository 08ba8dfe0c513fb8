/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LOOP_BACKEND_H
#define PEERWATCH_LOOP_BACKEND_H

/*
 * The loop's polling backend, kept apart so that loop.c holds no system
 * specific code: it only registers descriptors and reports fired ones,
 * both with the loop's own LOOP_* bits (loop_events.h).
 */
#include <stdint.h>

struct loop_backend;

struct loop_fired {
	void *ptr;
	uint32_t events;
};

int backend_new(struct loop_backend **bp);
void backend_free(struct loop_backend *b);
int backend_add(struct loop_backend *b, int fd, uint32_t events, void *ptr);
int backend_mod(struct loop_backend *b, int fd, uint32_t events, void *ptr);
int backend_del(struct loop_backend *b, int fd);
/* Fills up to @max fired descriptors; returns how many, or -errno. */
int backend_poll(struct loop_backend *b, struct loop_fired *fired, int max,
		 int timeout_ms);

#endif
