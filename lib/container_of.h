/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CONTAINER_OF_H
#define PEERWATCH_CONTAINER_OF_H

#include <stddef.h>

/* The struct that embeds @ptr as its @member, as in the kernel. */
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))

#endif
