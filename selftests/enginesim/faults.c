// SPDX-License-Identifier: GPL-2.0
/*
 * Per-engine faults. An engine has at most one fault kind at a time (a new
 * one replaces the old) plus an ID generation. Faults that concern new
 * connections are checked at accept (sim_conn.c), those that concern answers
 * where they are chosen (sim_api.c) or sent (sim_conn.c); here they are set and
 * lifted, and their effect on open connections is applied at once.
 */
#include <errno.h>
#include <string.h>

#include "faults.h"
#include "sim_conn.h"
#include "size.h"

static const char *const names[] = {
	[FAULT_NONE] = "none",
	[FAULT_FREEZE] = "freeze",
	[FAULT_RESET] = "reset",
	[FAULT_SLOW] = "slow",
	[FAULT_MALFORMED] = "malformed",
	[FAULT_OVERSIZED] = "oversized",
	[FAULT_CLOSE_AFTER] = "close-after",
	[FAULT_REFUSE] = "refuse",
};

/* Returns -EINVAL for an unknown kind, -ERANGE for a bad or missing arg. */
int fault_parse(const char *kind, const char *arg, int *out, uint64_t *val)
{
	int k;

	*val = 0;
	if (!strcmp(kind, "id-change")) {
		*out = FAULT_ID_CHANGE;
		return arg ? -ERANGE : 0;
	}
	for (k = FAULT_FREEZE; k <= FAULT_REFUSE; k++)
		if (!strcmp(kind, names[k]))
			break;
	if (k > FAULT_REFUSE)
		return -EINVAL;
	*out = k;
	if (k == FAULT_SLOW || k == FAULT_OVERSIZED || k == FAULT_CLOSE_AFTER) {
		if (size_parse(arg, val) || (!*val && k != FAULT_OVERSIZED))
			return -ERANGE;
		return 0;
	}
	return arg ? -ERANGE : 0;
}

void fault_set(struct engine *e, int kind, uint64_t arg)
{
	struct list_head *pos, *tmp;

	if (kind == FAULT_ID_CHANGE) {
		e->id_gen++;
		return;
	}
	e->fault = kind;
	e->fault_arg = arg;
	list_for_each_safe(pos, tmp, &e->conns) {
		struct conn *c = container_of(pos, struct conn, engine_node);

		if (kind == FAULT_RESET)
			conn_abort(c);
		else if (kind == FAULT_REFUSE)
			conn_refuse(c);
	}
}

/* Lifts every fault; frozen and paced connections carry on at once. */
void fault_clear(struct engine *e)
{
	struct list_head *pos, *tmp;

	e->fault = FAULT_NONE;
	e->fault_arg = 0;
	e->id_gen = 0;
	list_for_each_safe(pos, tmp, &e->conns)
		conn_progress(container_of(pos, struct conn, engine_node));
}

unsigned int faults_active(const struct fleet *f)
{
	unsigned int i, n = 0;

	for (i = 0; i < f->count; i++)
		n += f->engines[i].fault != FAULT_NONE || f->engines[i].id_gen;
	return n;
}
