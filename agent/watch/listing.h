/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_LISTING_H
#define PEERWATCH_LISTING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "docker.h"

/*
 * An answer to /containers/json read as its bytes arrive: parsed by
 * YAJL's callbacks straight into a docker_builder (what the inventory
 * keeps, nothing else: no tree, no second pass) and hashed, so that an
 * answer equal to the last one is neither parsed nor applied. The rules are
 * docker_builder_parse()'s for json-c's tree, to the byte; a differential
 * test holds them equal. A listing is lent for one answer; what it holds
 * (builder, YAJL's buffers) is kept for the next, so that a steady poll
 * allocates nothing.
 */
struct listing;

/*
 * A listing for a new answer: 0 or -ENOMEM. An answer of @hold_len bytes
 * (the last one's length; 0: none) may be the last one again, the common
 * case between two polls: it is only hashed and held as it arrives, then
 * parsed at its end if it changed. Anything else is parsed as it arrives.
 */
int listing_get(struct listing **lp, size_t hold_len);
/* Gives it back, whatever state it is in. NULL: nothing. */
void listing_put(struct listing *l);
/* The next bytes of the body: 0, -EPROTO, -EMSGSIZE or -ENOMEM. */
int listing_feed(struct listing *l, const char *buf, size_t len);
/*
 * The body is whole: 0 if it was one valid listing, else as feed.
 * @last_hash: the last answer's hash (0: none), to compare a held one to.
 */
int listing_finish(struct listing *l, uint64_t last_hash);
/*
 * After listing_finish(): the last answer's bytes again (the builder is
 * then empty), or the containers; the body's hash (never 0) and length.
 */
bool listing_unchanged(const struct listing *l);
struct docker_builder *listing_builder(struct listing *l);
uint64_t listing_hash(const struct listing *l);
size_t listing_length(const struct listing *l);

#endif
