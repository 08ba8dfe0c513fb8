/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_SIM_API_H
#define ENGINESIM_SIM_API_H

#include "sim.h"

struct conn;

enum api_class api_route(char *path, unsigned int method, const char **ref);
int api_respond(struct conn *c, enum api_class cls, const char *ref,
		const char *query);

#endif
