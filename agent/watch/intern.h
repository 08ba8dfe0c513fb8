/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_INTERN_H
#define PEERWATCH_INTERN_H

#include <stddef.h>

/*
 * Interned byte strings, counted: the images, image IDs, commands,
 * statuses and labels that thousands of engines' containers repeat are
 * kept once. A string may hold NULs (labels); a NUL follows its @len
 * bytes. The table is the agent's one thread's, and is freed when its
 * last string is.
 */

/* A reference to the string of @len bytes at @s: NULL on -ENOMEM. */
const char *intern_get(const char *s, size_t len);
/* Gives a reference back; NULL: nothing. */
void intern_put(const char *s);
/* Distinct strings held, and their bytes with the table's own (a gauge). */
size_t intern_count(void);
size_t intern_footprint(void);

#endif
