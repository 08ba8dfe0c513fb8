// SPDX-License-Identifier: GPL-2.0
/*
 * The memory budget of the engines. Under a memory limit (a cgroup's, or
 * --memory-max) the agent must refuse engines rather than meet the OOM
 * killer mid-write. The big cost arrives with an engine's first listing:
 * its inventory, and meanwhile the parse. Asked all at once at start, the
 * listings took the agent several times over what their inventories keep,
 * so a first listing is asked only through this gate: a few at a time, in
 * order, and only when what is held now (the larger of RSS and the model
 * in memgate.h), the listings in flight and one engine more of the mean
 * size so far still leave the reserve. An engine refused here stays
 * unhealthy with cause mem-limit until a reload gives it another try; one
 * admitted keeps running. Without a limit nothing is paced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <unistd.h>

#include "log.h"
#include "memgate.h"

uint64_t memgate_model(size_t engines, uint64_t containers)
{
	return MEM_BASE + engines * MEM_PER_ENGINE +
	       containers * MEM_PER_CONTAINER;
}

static uint64_t reserve(const struct memgate *g)
{
	uint64_t r = g->limit / MEM_RESERVE_SHARE;

	return r > MEM_RESERVE_MIN ? r : MEM_RESERVE_MIN;
}

/* Containers expected of the next engine: the mean of those listed. */
static uint64_t mean_containers(const struct memgate *g)
{
	return g->admitted ? g->containers / g->admitted :
			     MEM_GUESS_CONTAINERS;
}

static uint64_t rss_now(void)
{
	unsigned long long size, resident;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu", &size, &resident);
	fclose(f);
	return n == 2 ? resident * (uint64_t)sysconf(_SC_PAGESIZE) : 0;
}

uint64_t memgate_used(const struct memgate *g)
{
	uint64_t model = memgate_model(g->engines, g->containers);
	uint64_t rss = rss_now();

	return rss > model ? rss : model;
}

static bool fits(const struct memgate *g)
{
	uint64_t c = mean_containers(g);
	uint64_t need = memgate_used(g) + reserve(g) +
			(g->in_flight + 1ULL) * c * MEM_LISTING_PER_CONTAINER +
			c * MEM_PER_CONTAINER;

	return need <= g->limit;
}

static void unlink_ticket(struct memgate *g, struct memgate_ticket *t)
{
	if (t->prev)
		t->prev->next = t->next;
	else
		g->head = t->next;
	if (t->next)
		t->next->prev = t->prev;
	else
		g->tail = t->prev;
	t->prev = t->next = NULL;
	t->state = MEMGATE_NONE;
}

/* Once nothing is in flight or waiting: how many fit, if any did not. */
static void settle(struct memgate *g)
{
	if (g->in_flight || g->head || !g->report || !g->refused)
		return;
	g->report = false;
	log_warn("memory: %zu engines fit, %zu asked (%s): %zu left unhealthy with cause mem-limit",
		 g->admitted, g->engines, g->what, g->refused);
}

/* A place freed: the next in line go, each asking again. */
static void wake(struct memgate *g)
{
	while (!g->closed && g->head && g->in_flight < MEM_LISTINGS_IN_FLIGHT) {
		struct memgate_ticket *t = g->head;

		unlink_ticket(g, t);
		t->state = MEMGATE_CALLED;
		t->go(t);
	}
	settle(g);
}

void memgate_set_limit(struct memgate *g, uint64_t limit, const char *what)
{
	uint64_t per, room;

	g->limit = limit;
	snprintf(g->what, sizeof(g->what), "%s", what);
	g->report = true;
	if (!limit) {
		wake(g);
		return;
	}
	per = MEM_PER_ENGINE + mean_containers(g) * MEM_PER_CONTAINER;
	room = limit > MEM_BASE + reserve(g) ?
	       (limit - MEM_BASE - reserve(g)) / per : 0;
	log_info("memory: room for about %" PRIu64 " engines of %" PRIu64 " containers (%s)",
		 room, mean_containers(g), what);
}

/* In order: one that waits goes before a newcomer. */
static int queue(struct memgate *g, struct memgate_ticket *t)
{
	t->state = MEMGATE_WAITING;
	t->prev = g->tail;
	if (g->tail)
		g->tail->next = t;
	else
		g->head = t;
	g->tail = t;
	return -EAGAIN;
}

int memgate_ask(struct memgate *g, struct memgate_ticket *t)
{
	bool called = t->state == MEMGATE_CALLED;

	switch (t->state) {
	case MEMGATE_LISTING:
	case MEMGATE_ADMITTED:
		return 0;
	case MEMGATE_WAITING:
		return -EAGAIN;
	case MEMGATE_REFUSED:
		g->refused--;
		t->state = MEMGATE_NONE;
		break;
	case MEMGATE_NONE:
	case MEMGATE_CALLED:
		t->state = MEMGATE_NONE;
		break;
	}
	/* Without a limit nothing waits, but each is counted all the same. */
	if (g->limit) {
		if ((g->head && !called) ||
		    g->in_flight >= MEM_LISTINGS_IN_FLIGHT)
			return queue(g, t);
		if (!fits(g)) {
			t->state = MEMGATE_REFUSED;
			g->refused++;
			settle(g);
			return -ENOMEM;
		}
	}
	t->state = MEMGATE_LISTING;
	g->in_flight++;
	return 0;
}
void memgate_end(struct memgate *g, struct memgate_ticket *t, bool ok,
		 size_t containers)
{
	if (t->state != MEMGATE_LISTING)
		return;
	g->in_flight--;
	t->state = MEMGATE_NONE;
	if (ok) {
		t->state = MEMGATE_ADMITTED;
		t->containers = containers;
		g->admitted++;
		g->containers += containers;
	}
	wake(g);
}

void memgate_drop(struct memgate *g, struct memgate_ticket *t)
{
	switch (t->state) {
	case MEMGATE_NONE:
		return;
	case MEMGATE_CALLED:
		break;
	case MEMGATE_WAITING:
		unlink_ticket(g, t);
		return;
	case MEMGATE_LISTING:
		memgate_end(g, t, false, 0);
		return;
	case MEMGATE_ADMITTED:
		g->admitted--;
		g->containers -= t->containers;
		break;
	case MEMGATE_REFUSED:
		g->refused--;
		break;
	}
	t->state = MEMGATE_NONE;
}

void memgate_close(struct memgate *g)
{
	g->closed = true;
	while (g->head)
		unlink_ticket(g, g->head);
}
