/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_CTL_H
#define ENGINESIM_CTL_H

#include "sim.h"

int ctl_new(struct sim *s, const char *path, struct ctl **out);
void ctl_free(struct ctl *ctl);
int ctl_client(const char *path, int argc, char **argv);

#endif
