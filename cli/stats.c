// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch stats: the module's counters for this netns.
 */
#include <inttypes.h>
#include <stdio.h>

#include <json-c/json.h>
#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "cli.h"

static const char * const stat_names[] = {
	[PEERWATCH_STAT_A_SUSPECT] = "suspect",
	[PEERWATCH_STAT_A_RECOVERED] = "recovered",
	[PEERWATCH_STAT_A_DEAD_USER_TIMEOUT] = "dead_user_timeout",
	[PEERWATCH_STAT_A_DEAD_RETRIES] = "dead_retries",
	[PEERWATCH_STAT_A_DEAD_KEEPALIVE] = "dead_keepalive",
	[PEERWATCH_STAT_A_DEAD_ZERO_WINDOW] = "dead_zero_window",
	[PEERWATCH_STAT_A_DEAD_RESET] = "dead_reset",
	[PEERWATCH_STAT_A_DEAD_ABORT] = "dead_abort",
	[PEERWATCH_STAT_A_UNDELIVERED_NOMEM] = "undelivered_nomem",
	[PEERWATCH_STAT_A_UNDELIVERED_OVERFLOW] = "undelivered_overflow",
	[PEERWATCH_STAT_A_POLICY_HITS] = "policy_hits",
	[PEERWATCH_STAT_A_POLICIES] = "policies",
	[PEERWATCH_STAT_A_TRACKED] = "tracked",
	[PEERWATCH_STAT_A_UNTRACKED] = "untracked",
	[PEERWATCH_STAT_A_LIVE_OBJECTS] = "live_objects",
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s stats [-j]\n\n"
		"Show the module's counters for this network namespace: events\n"
		"sent by type and reason, events lost, policy hits, sockets\n"
		"tracked, and the module-wide live objects.\n", prog);
}

static const struct cli_cmd cmd = {
	.name = "stats", .opts = cli_json_opts, .usage = usage,
};

static int stats_cb(const struct nlmsghdr *nlh, void *data)
{
	struct json_object *o = data;
	const struct nlattr *attr, *pos;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(attr) != PEERWATCH_A_STATS ||
		    mnl_attr_validate(attr, MNL_TYPE_NESTED) < 0)
			continue;
		mnl_attr_for_each_nested(pos, attr) {
			unsigned int type = mnl_attr_get_type(pos);

			if (type > PEERWATCH_STAT_A_MAX || !stat_names[type] ||
			    mnl_attr_validate(pos, MNL_TYPE_U64) < 0)
				continue;
			json_object_object_add(o, stat_names[type],
					       json_object_new_uint64(mnl_attr_get_u64(pos)));
		}
	}
	return MNL_CB_OK;
}

int cmd_stats(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct json_object *o;
	struct nlmsghdr *nlh;
	struct cli_json_args a = { 0 };
	struct pw_nl nl;
	int ret;

	ret = cli_parse_nl(&cmd, &a, argc, argv, &nl);
	if (ret != CLI_PARSED)
		return ret;
	o = json_object_new_object();
	nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_STATS_GET, 0);
	ret = pw_nl_talk(&nl, nlh, stats_cb, o);
	if (ret) {
		cli_nl_error(&nl, "reading counters", ret);
	} else if (a.json) {
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object_object_foreach(o, key, val)
			printf("%-22s %" PRIu64 "\n", key, json_object_get_uint64(val));
	}
	json_object_put(o);
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}
