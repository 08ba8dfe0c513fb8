// SPDX-License-Identifier: GPL-2.0
/*
 * The memory budget of the engines. Under a memory limit (a cgroup's, or
 * --memory-max) the agent must refuse engines rather than meet the OOM
 * killer mid-write. The big cost arrives with an engine's first listing:
 * its inventory, and meanwhile the parse. Asked all at once at start, the
 * listings took the agent several times over what their inventories keep,
 * so a first listing is asked only through this gate: a few at a time, in
 * order, and only when what is held now (the larger of anonymous RSS and
 * the model in memgate.h), the listings in flight and one engine more of
 * the mean size so far still leave the reserve. Short of that, an engine
 * waits while other listings are in flight (their parse ends, and with it
 * its cost), and is refused when none is: it stays unhealthy with cause
 * mem-limit until a reload gives it another try. One admitted keeps
 * running. Without a limit nothing is paced.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "container_of.h"
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

/*
 * Resident memory of our own: what a memory cgroup charges the agent for,
 * the shared libraries' pages (file-backed, charged to whoever read them
 * first) left out.
 */
static uint64_t anon_now(void)
{
	unsigned long long size, resident, shared;
	FILE *f = fopen("/proc/self/statm", "re");
	int n;

	if (!f)
		return 0;
	n = fscanf(f, "%llu %llu %llu", &size, &resident, &shared);
	fclose(f);
	if (n != 3 || shared > resident)
		return 0;
	return (resident - shared) * (uint64_t)sysconf(_SC_PAGESIZE);
}

uint64_t memgate_used(const struct memgate *g)
{
	uint64_t model = memgate_model(g->engines, g->containers);
	uint64_t anon = anon_now();

	return anon > model ? anon : model;
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

/* One line for the refusals since the last: how many fit, of how many. */
static void report_fn(struct loop_timer *t)
{
	struct memgate *g = container_of(t, struct memgate, report);

	if (g->refused == g->reported)
		return;
	g->reported = g->refused;
	log_warn("memory: %zu engines fit, %zu asked (%s): %zu left unhealthy with cause mem-limit",
		 g->admitted + g->in_flight, g->engines, g->what, g->refused);
}

static void refuse(struct memgate *g, struct memgate_ticket *t)
{
	t->state = MEMGATE_REFUSED;
	g->refused++;
	if (!loop_timer_active(&g->report))
		loop_timer_start(g->loop, &g->report, MEM_REPORT_MS);
}

/* In order: one that waits goes before a newcomer, @front before all. */
static int queue(struct memgate *g, struct memgate_ticket *t, bool front)
{
	t->state = MEMGATE_WAITING;
	if (front) {
		t->next = g->head;
		if (g->head)
			g->head->prev = t;
		else
			g->tail = t;
		g->head = t;
		return -EAGAIN;
	}
	t->prev = g->tail;
	if (g->tail)
		g->tail->next = t;
	else
		g->head = t;
	g->tail = t;
	return -EAGAIN;
}

/* A place freed: the next in line go, each asking again. */
static void wake(struct memgate *g)
{
	while (!g->closed && g->head && g->in_flight < MEM_LISTINGS_IN_FLIGHT) {
		struct memgate_ticket *t = g->head;

		unlink_ticket(g, t);
		t->state = MEMGATE_CALLED;
		g->go(t);
		/* Back in line: not until a listing in flight ends. */
		if (t->state == MEMGATE_WAITING)
			break;
	}
}

void memgate_init(struct memgate *g, struct loop *loop, memgate_go_fn go)
{
	g->loop = loop;
	g->go = go;
	loop_timer_init(&g->report, report_fn);
}

void memgate_set_limit(struct memgate *g, uint64_t limit, const char *what)
{
	bool same = limit == g->limit && !strcmp(what, g->what);
	uint64_t per, room;

	/* Those refused are asked again: said again if refused again. */
	g->reported = 0;
	g->limit = limit;
	snprintf(g->what, sizeof(g->what), "%s", what);
	if (!limit || same) {
		wake(g);
		return;
	}
	per = MEM_PER_ENGINE + mean_containers(g) * MEM_PER_CONTAINER;
	room = limit > MEM_BASE + reserve(g) ?
	       (limit - MEM_BASE - reserve(g)) / per : 0;
	log_info("memory: room for about %" PRIu64 " engines of %" PRIu64 " containers (%s)",
		 room, mean_containers(g), what);
}

int memgate_ask(struct memgate *g, struct memgate_ticket *t)
{
	bool called = t->state == MEMGATE_CALLED, room;

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
			return queue(g, t, called);
		room = fits(g);
		if (!room && g->in_flight)
			return queue(g, t, true);
		if (!room) {
			refuse(g, t);
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
		t->containers = (uint32_t)containers;
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
	loop_timer_stop(g->loop, &g->report);
	while (g->head)
		unlink_ticket(g, g->head);
}
