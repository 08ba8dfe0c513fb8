/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LISTING_H
#define PEERWATCH_LISTING_H

#include <stddef.h>
#include <stdint.h>

#include "docker.h"

/*
 * An answer to /containers/json read as its bytes arrive: parsed by
 * YAJL's callbacks straight into a docker_builder (what the inventory
 * keeps, nothing else: no tree, no second pass) and hashed, so that an
 * answer equal to the last one can be left unapplied. The rules are
 * docker_builder_parse()'s for json-c's tree, to the byte; a differential
 * test holds them equal. A listing is lent for one answer; what it holds
 * (builder, YAJL's buffers) is kept for the next, so that a steady poll
 * allocates nothing.
 */
struct listing;

/* A listing for a new answer: 0 or -ENOMEM. */
int listing_get(struct listing **lp);
/* Gives it back, whatever state it is in. NULL: nothing. */
void listing_put(struct listing *l);
/* The next bytes of the body: 0, -EPROTO, -EMSGSIZE or -ENOMEM. */
int listing_feed(struct listing *l, const char *buf, size_t len);
/* The body is whole: 0 if it was one valid listing, else as feed. */
int listing_finish(struct listing *l);
/* After listing_finish(): the containers, and the body's hash (never 0). */
struct docker_builder *listing_builder(struct listing *l);
uint64_t listing_hash(const struct listing *l);

#endif
