/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_FLEET_H
#define ENGINESIM_SIM_FLEET_H

#include <stdint.h>
#include <stdio.h>

#include "list.h"
#include "loop.h"
#include "sim.h"

enum fault_kind {
	FAULT_NONE,
	FAULT_FREEZE,
	FAULT_RESET,
	FAULT_SLOW,
	FAULT_MALFORMED,
	FAULT_OVERSIZED,
	FAULT_CLOSE_AFTER,
	FAULT_REFUSE,
};

enum ctr_state {
	CTR_CREATED,
	CTR_RUNNING,
	CTR_EXITED,
};

#define CTR_NAME_MAX	64

/*
 * A container state set from the control socket. It wins over the
 * synthetic schedule until the schedule next changes that container.
 * Containers created from the control socket have idx >= --containers
 * and always carry one.
 */
struct ctr_ovr {
	unsigned int idx;
	enum ctr_state state;
	int exit_code;
	int64_t t_ms;
	int64_t created_ms;
	char name[CTR_NAME_MAX];
};

struct engine {
	struct sim *sim;
	unsigned int index;
	uint32_t addr;		/* host byte order */
	uint64_t key;		/* everything about the engine derives from it */
	enum fault_kind fault;
	uint64_t fault_arg;
	unsigned int id_gen;	/* bumped by the id-change fault */
	struct list_head conns;
	struct list_head streams;
	struct loop_timer ev_timer;
	int64_t ev_next_slot;
	struct ctr_ovr *ovr;
	unsigned int nr_ovr;
	unsigned int nr_extra;
};

struct fleet {
	struct sim *sim;
	struct engine *engines;
	unsigned int count;
};

/* A container as served: derived from (engine, idx) and any override. */
struct ctr {
	unsigned int idx;
	char id[65];
	char name[CTR_NAME_MAX];
	const char *image;
	const char *image_id;
	const char *command;	/* as /containers/json shows it */
	const char *path;
	const char *args;	/* JSON array body, without brackets */
	int64_t created_ms;
	enum ctr_state state;
	int exit_code;
	int64_t changed_ms;	/* StartedAt when running, FinishedAt otherwise */
	int pid;
};

int fleet_new(struct sim *s, struct fleet **out);
void fleet_free(struct fleet *f);
struct engine *fleet_lookup(struct fleet *f, uint32_t addr);

void engine_id(const struct engine *e, char out[60]);
unsigned int engine_ncpu(const struct engine *e);
uint64_t engine_memtotal(const struct engine *e);
unsigned int engine_nr_containers(const struct engine *e);
void engine_container(const struct engine *e, unsigned int idx, int64_t now_ms,
		      struct ctr *out);
int engine_find_container(const struct engine *e, const char *ref, int64_t now_ms,
			  struct ctr *out);
int engine_set_state(struct engine *e, unsigned int idx, enum ctr_state st,
		     int exit_code, int64_t now_ms);
int engine_create_container(struct engine *e, const char *name, int64_t now_ms,
			    unsigned int *idx);

/* The synthetic event schedule, in wall-clock slots. */
int64_t engine_slot_fired(const struct engine *e, int64_t now_ms);
int64_t engine_slot_time(const struct engine *e, int64_t slot);
unsigned int engine_slot_container(const struct engine *e, int64_t slot);

static inline void addr_str(uint32_t addr, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", addr >> 24, (addr >> 16) & 255,
		 (addr >> 8) & 255, addr & 255);
}

#endif
