// SPDX-License-Identifier: GPL-2.0
/* peerwatchd: parse the command line, run the agent, report how it ended. */
#include <ares.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "config.h"
#include "log.h"

int main(int argc, char **argv)
{
	struct agent *agent = NULL;
	struct config cfg;
	const char *why = NULL;
	char err[256];
	int ret;

	if (config_parse(&cfg, argc, argv, err, sizeof(err))) {
		fprintf(stderr, "peerwatchd: %s\n", err);
		config_clear(&cfg);
		return 2;
	}
	if (cfg.help) {
		config_usage(stdout);
		config_clear(&cfg);
		return 0;
	}
	if (cfg.version) {
		printf("peerwatchd %s\n", PEERWATCH_VERSION);
		config_clear(&cfg);
		return 0;
	}
	log_max_level = cfg.log_level;
	if (ares_library_init(ARES_LIB_INIT_ALL) != ARES_SUCCESS) {
		fprintf(stderr, "peerwatchd: c-ares initialisation failed\n");
		config_clear(&cfg);
		return 1;
	}
	ret = agent_new(&agent, &cfg, &why);
	if (ret) {
		fprintf(stderr, "peerwatchd: %s: %s\n", why, strerror(-ret));
		ret = ret == -EINVAL ? 2 : 1;
	} else {
		ret = agent_run(agent);
		if (ret)
			log_err("peerwatchd: %s", strerror(-ret));
		ret = ret ? 1 : 0;
	}
	agent_free(agent);
	log_flush_all();
	ares_library_cleanup();
	config_clear(&cfg);
	return ret;
}
