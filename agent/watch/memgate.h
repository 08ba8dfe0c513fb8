/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_MEMGATE_H
#define PEERWATCH_MEMGATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

/*
 * The memory model: what the agent holds for N engines of C containers,
 * measured with enginesim (README, "Limits"). The one place these figures
 * live: the budget below, /metrics (peerwatch_memory_expected_bytes) and
 * the bench's memory check all take them from here, so re-measuring
 * (bench/run --phase memory) means changing these lines only.
 */
#define MEM_BASE		(4640ULL << 10)	/* 4.5 MiB: loop, pools, API */
#define MEM_PER_ENGINE		1600ULL		/* 1.6 KiB */
#define MEM_PER_CONTAINER	80ULL		/* 0.08 KiB in an inventory */
/*
 * What a listing costs while it is parsed, per container on top of what
 * the inventory will keep (the builder, YAJL's buffers), and the
 * containers assumed of an engine before any has listed.
 */
#define MEM_LISTING_PER_CONTAINER	1024ULL
#define MEM_GUESS_CONTAINERS		100
/* First listings in flight at once under a memory limit. */
#define MEM_LISTINGS_IN_FLIGHT		16
/* Refusals are summed up in one line this long after the first. */
#define MEM_REPORT_MS		1000
/* Kept for the control API's answers and the state file: the larger. */
#define MEM_RESERVE_MIN		(8ULL << 20)
#define MEM_RESERVE_SHARE	8		/* a limit's 1/8 */

/* The model: bytes held for @engines engines and @containers in all. */
uint64_t memgate_model(size_t engines, uint64_t containers);

/*
 * An engine's place at the gate. Before its first listing an engine asks
 * for it: under a memory limit the first listings are paced (at most
 * MEM_LISTINGS_IN_FLIGHT at once, the others wait in order) and one that
 * would not fit is refused; once listed it is admitted and never asked
 * again. Embedded in its engine.
 */
enum memgate_state {
	MEMGATE_NONE,		/* not listed yet, not waiting */
	MEMGATE_WAITING,	/* for a listing in flight to end */
	MEMGATE_CALLED,		/* its turn came: asks before the queue */
	MEMGATE_LISTING,	/* its first listing in flight */
	MEMGATE_ADMITTED,
	MEMGATE_REFUSED,
};

struct memgate_ticket {
	struct memgate_ticket *prev, *next;	/* while waiting */
	enum memgate_state state;
	/* Counted at admission: an engine lists far fewer than 2^32. */
	uint32_t containers;
};

/* Called when a ticket's turn comes: its engine asks again. */
typedef void (*memgate_go_fn)(struct memgate_ticket *t);

/* Owned by the fleet (in every engine's env). */
struct memgate {
	struct loop *loop;
	memgate_go_fn go;		/* the same for every ticket */
	uint64_t limit;			/* bytes; 0: none, nothing paced */
	char what[96];			/* the limit, in words */
	size_t engines;			/* in the fleet: each costs its share */
	unsigned int in_flight;
	size_t admitted, refused;
	uint64_t containers;		/* of the admitted, at admission */
	size_t reported;		/* refusals said so far */
	struct loop_timer report;	/* sums refusals up */
	bool closed;			/* the fleet goes: nobody is called */
	struct memgate_ticket *head, *tail;
};

void memgate_init(struct memgate *g, struct loop *loop, memgate_go_fn go);

/*
 * A new limit (0: none), in words in @what, re-read at start and on each
 * reload: engines refused so far are asked again (fleet.c starts them),
 * and refusals are said again, summed up in one line (how many fit, how
 * many were asked, which limit).
 */
void memgate_set_limit(struct memgate *g, uint64_t limit, const char *what);
/* 0: list now (or already admitted); -EAGAIN: wait for @go; -ENOMEM. */
int memgate_ask(struct memgate *g, struct memgate_ticket *t);
/* The first listing ended, good (@ok, with @containers) or not. */
void memgate_end(struct memgate *g, struct memgate_ticket *t, bool ok,
		 size_t containers);
/* The engine stops or goes: its place is given up. */
void memgate_drop(struct memgate *g, struct memgate_ticket *t);
/* The fleet goes: those waiting are forgotten, none is called again. */
void memgate_close(struct memgate *g);
/* What the gate counts as held: the larger of anonymous RSS and the model. */
uint64_t memgate_used(const struct memgate *g);

#endif
