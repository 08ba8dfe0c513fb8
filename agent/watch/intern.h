/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_INTERN_H
#define PEERWATCH_INTERN_H

#include <stddef.h>
#include <stdint.h>

/*
 * Interned byte strings, counted: the images, image IDs, commands,
 * statuses and labels that thousands of engines' containers repeat are
 * kept once. A string may hold NULs (labels); a NUL follows its @len
 * bytes. A reference is a 32-bit number, never 0, so that a container
 * holding five of them stays small. The table is the agent's one
 * thread's, and is freed when its last string is.
 */

/* A reference to the string of @len bytes at @s: 0 on -ENOMEM. */
uint32_t intern_get(const char *s, size_t len);
/* Gives a reference back; 0: nothing. */
void intern_put(uint32_t ref);
/* The string of @ref, valid while it is held; NULL for 0. */
const char *intern_str(uint32_t ref);
/* Distinct strings held, and their bytes with the table's own (a gauge). */
/*
 * For those that keep the string itself (an engine's last error, its /info
 * strings): the string, NULL on -ENOMEM; and given back by the string.
 */
const char *intern_get_str(const char *s, size_t len);
void intern_put_str(const char *s);
size_t intern_count(void);
size_t intern_footprint(void);

#endif
