/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_FAULTS_H
#define ENGINESIM_FAULTS_H

#include <stdint.h>

#include "sim_fleet.h"

/* The id-change fault: not a kind of its own, it bumps engine->id_gen. */
#define FAULT_ID_CHANGE	(-1)

int fault_parse(const char *kind, const char *arg, int *out, uint64_t *val);
void fault_set(struct engine *e, int kind, uint64_t arg);
void fault_clear(struct engine *e);
unsigned int faults_active(const struct fleet *f);

#endif
