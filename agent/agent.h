/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_AGENT_H
#define PEERWATCH_AGENT_H

struct agent;
struct config;

/* Builds the daemon from a validated config; @why explains a failure. */
int agent_new(struct agent **ap, const struct config *cfg, const char **why);
/* Runs until SIGINT or SIGTERM. */
int agent_run(struct agent *a);
void agent_free(struct agent *a);

#endif
