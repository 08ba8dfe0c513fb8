/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_CONFIG_H
#define PEERWATCH_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "api.h"
#include "cluster.h"
#include "engine.h"
#include "log.h"
#include "opt.h"

#define CONFIG_DEFAULT_STATE_FILE "/run/peerwatch/state.json"

/* peerwatchd's command line, validated. */
struct config {
	struct engine_cfg engine;
	uint64_t discovery_interval_ms;	/* 0: only on SIGHUP */
	uint64_t summary_interval_ms;	/* 0: no summary line */
	const char *state_file;
	uint64_t memory_max;		/* --memory-max; 0: the cgroup's */
	struct api_cfg api;
	int tlsverify;			/* --tlsverify[=BOOL]: 1, 0, -1: absent */
	const char *url;		/* the positional discovery URL */
	struct opt_list engines;	/* --engine, in argv order */
	enum log_level log_level;
	bool kernel_policy;		/* module policy for the engines' ports */
	uint32_t kernel_rcvbuf;		/* bytes, for the module's events */
	struct cluster_cfg cluster;	/* --cluster*, --etcd-* */
	bool help;
	bool version;
};

/*
 * Parse argv into @c, by the option table of config.c. Returns 0, or
 * -EINVAL (-ENOMEM) with a message for the user in @err; config_clear()
 * @c either way. @c->help asks the caller to print config_usage() and stop,
 * @c->version to print the version and stop.
 */
int config_parse(struct config *c, int argc, char **argv, char *err,
		 size_t errlen);
void config_clear(struct config *c);
void config_usage(FILE *f);

#endif
