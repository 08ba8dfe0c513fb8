// SPDX-License-Identifier: GPL-2.0
/*
 * peerwatch policy: user timeouts given by the module to sockets of this
 * netns that have none of their own.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <json-c/json.h>
#include <linux/genetlink.h>
#include <linux/peerwatch.h>

#include "cli.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: %s policy add [-4|-6] [dst PREFIX] [dport PORT[-PORT]] timeout TIMEOUT\n"
		"       %s policy del ID\n"
		"       %s policy list [-j]\n"
		"       %s policy flush\n\n"
		"Rules give TIMEOUT (\"2s\", \"1500ms\") as TCP_USER_TIMEOUT to the\n"
		"sockets of this netns that become ESTABLISHED toward a matching\n"
		"peer without a value of their own. The first matching rule, in\n"
		"the order added, applies. Needs CAP_NET_ADMIN.\n",
		prog, prog, prog, prog);
}

struct rule {
	uint32_t id;
	uint16_t family;
	uint8_t prefix_len;
	uint16_t dport_min, dport_max;
	uint32_t user_timeout;
	uint64_t hits;
	char addr[INET6_ADDRSTRLEN];
};

static int rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct rule r = { .addr = "" };
	const struct nlattr *attr;
	bool *json = data;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case PEERWATCH_A_POLICY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				r.id = mnl_attr_get_u32(attr);
			break;
		case PEERWATCH_A_FAMILY:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
				r.family = mnl_attr_get_u16(attr);
			break;
		case PEERWATCH_A_PREFIX_LEN:
			if (mnl_attr_validate(attr, MNL_TYPE_U8) >= 0)
				r.prefix_len = mnl_attr_get_u8(attr);
			break;
		case PEERWATCH_A_DPORT_MIN:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
				r.dport_min = mnl_attr_get_u16(attr);
			break;
		case PEERWATCH_A_DPORT_MAX:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
				r.dport_max = mnl_attr_get_u16(attr);
			break;
		case PEERWATCH_A_USER_TIMEOUT:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				r.user_timeout = mnl_attr_get_u32(attr);
			break;
		case PEERWATCH_A_HITS:
			if (mnl_attr_validate(attr, MNL_TYPE_U64) >= 0)
				r.hits = mnl_attr_get_u64(attr);
			break;
		case PEERWATCH_A_DADDR4:
			if (mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
				inet_ntop(AF_INET, mnl_attr_get_payload(attr),
					  r.addr, sizeof(r.addr));
			break;
		case PEERWATCH_A_DADDR6:
			if (mnl_attr_validate2(attr, MNL_TYPE_BINARY, 16) >= 0)
				inet_ntop(AF_INET6, mnl_attr_get_payload(attr),
					  r.addr, sizeof(r.addr));
			break;
		}
	}
	if (!r.id)
		return MNL_CB_OK;

	if (json && *json) {
		struct json_object *o = json_object_new_object();
		char dst[INET6_ADDRSTRLEN + 5];

		snprintf(dst, sizeof(dst), "%s/%u", r.addr, r.prefix_len);
		json_object_object_add(o, "id", json_object_new_uint64(r.id));
		json_object_object_add(o, "family", json_object_new_string(r.family == AF_INET ? "inet" : "inet6"));
		json_object_object_add(o, "dst", json_object_new_string(dst));
		json_object_object_add(o, "dport_min", json_object_new_int(r.dport_min));
		json_object_object_add(o, "dport_max", json_object_new_int(r.dport_max));
		json_object_object_add(o, "user_timeout_ms", json_object_new_uint64(r.user_timeout));
		json_object_object_add(o, "hits", json_object_new_uint64(r.hits));
		puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
		json_object_put(o);
	} else {
		printf("%u: %s dst %s/%u dport %u-%u timeout %ums hits %" PRIu64 "\n",
		       r.id, r.family == AF_INET ? "inet" : "inet6",
		       r.addr, r.prefix_len, r.dport_min, r.dport_max,
		       r.user_timeout, r.hits);
	}
	return MNL_CB_OK;
}

struct port_range {
	uint16_t min, max;
	bool set;
};

struct policy_args {
	bool json, help;
	uint16_t family;
	struct cli_addr dst;
	struct port_range ports;
	uint32_t ms;
};

/* PORT or PORT-PORT */
static int parse_ports(const struct opt *o, void *args, const char *arg,
		       char *err, size_t len)
{
	struct port_range *r = opt_field(o, args);
	char buf[16], *dash = NULL;

	if (strlen(arg) < sizeof(buf)) {
		strcpy(buf, arg);
		dash = strchr(buf, '-');
		if (dash)
			*dash = '\0';
		r->set = !cli_parse_u16(buf, &r->min);
		r->max = r->min;
		if (r->set && dash)
			r->set = !cli_parse_u16(dash + 1, &r->max);
	}
	if (!r->set)
		return opt_error(err, len, "dport: '%s' is not PORT or PORT-PORT",
				 arg);
	return 0;
}

static int parse_timeout(const struct opt *o, void *args, const char *arg,
			 char *err, size_t len)
{
	uint32_t *ms = opt_field(o, args);

	if (cli_parse_ms(arg, ms) || !*ms)
		return opt_error(err, len, "timeout: '%s' is not a non-zero duration",
				 arg);
	return 0;
}

static const struct opt add_opts[] = {
	CLI_OPT_FAMILY(struct policy_args),
	CLI_OPT_DST(struct policy_args),
	CLI_OPT_WORD(struct policy_args, "dport", ports, parse_ports),
	CLI_OPT_WORD(struct policy_args, "timeout", ms, parse_timeout),
	CLI_OPT_HELP(struct policy_args),
	{ 0 },
};

static const struct opt list_opts[] = {
	CLI_OPT_JSON(struct policy_args),
	CLI_OPT_HELP(struct policy_args),
	{ 0 },
};

static const struct opt help_only[] = {
	CLI_OPT_HELP(struct policy_args),
	{ 0 },
};

enum policy_op { POLICY_ADD, POLICY_DEL, POLICY_LIST, POLICY_FLUSH };

static const struct {
	const char *word;
	struct cli_cmd cmd;
} ops[] = {
	[POLICY_ADD] = { "add", { "policy add", add_opts, usage, 0 } },
	[POLICY_DEL] = { "del", { "policy del", help_only, usage, 1 } },
	[POLICY_LIST] = { "list", { "policy list", list_opts, usage, 0 } },
	[POLICY_FLUSH] = { "flush", { "policy flush", help_only, usage, 0 } },
};

static void put_rule(struct nlmsghdr *nlh, const struct policy_args *a)
{
	uint16_t family = a->dst.family ?: a->family ?: AF_INET;

	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, family);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, a->ms);
	cli_put_dst(nlh, &a->dst);
	if (a->ports.set) {
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, a->ports.min);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, a->ports.max);
	}
}

/* The checks across arguments, once they are all parsed. */
static int check_args(enum policy_op op, const struct policy_args *a,
		      const char *id_arg, uint32_t *id)
{
	unsigned long v;
	char *end;

	if (op == POLICY_ADD && (!a->ms || (a->dst.family && a->family &&
					    a->dst.family != a->family))) {
		fprintf(stderr, "%s policy add: needs a non-zero timeout and a dst of the family\n",
			prog);
		return -EINVAL;
	}
	if (op != POLICY_DEL)
		return 0;
	errno = 0;
	v = strtoul(id_arg, &end, 10);
	if (errno || end == id_arg || *end || !v || v > UINT32_MAX) {
		fprintf(stderr, "%s policy del: bad ID '%s'\n", prog, id_arg);
		usage(stderr);
		return -EINVAL;
	}
	*id = (uint32_t)v;
	return 0;
}

int cmd_policy(int argc, char **argv)
{
	static const char *const what[] = {
		[POLICY_ADD] = "adding the policy",
		[POLICY_DEL] = "deleting the policy",
		[POLICY_LIST] = "listing policies",
		[POLICY_FLUSH] = "flushing policies",
	};
	static const uint8_t nlcmd[] = {
		[POLICY_ADD] = PEERWATCH_CMD_POLICY_ADD,
		[POLICY_DEL] = PEERWATCH_CMD_POLICY_DEL,
		[POLICY_LIST] = PEERWATCH_CMD_POLICY_DUMP,
		[POLICY_FLUSH] = PEERWATCH_CMD_POLICY_FLUSH,
	};
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct policy_args a = { 0 };
	struct nlmsghdr *nlh;
	enum policy_op op;
	struct pw_nl nl;
	uint32_t id = 0;
	int ret;

	if (argc < 2 || cli_is_help(argv[1])) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	for (op = POLICY_ADD; op <= POLICY_FLUSH; op++)
		if (!strcmp(argv[1], ops[op].word))
			break;
	if (op > POLICY_FLUSH) {
		usage(stderr);
		return EXIT_USAGE;
	}
	ret = cli_parse(&ops[op].cmd, &a, argc - 1, argv + 1);
	if (ret != CLI_PARSED)
		return ret;
	if (check_args(op, &a, op == POLICY_DEL ? argv[2] : NULL, &id))
		return EXIT_USAGE;

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	nlh = pw_nl_request(&nl, buf, nlcmd[op],
			    op == POLICY_LIST ? NLM_F_DUMP : 0);
	if (op == POLICY_ADD)
		put_rule(nlh, &a);
	if (op == POLICY_DEL)
		mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, id);
	ret = pw_nl_talk(&nl, nlh, op == POLICY_ADD || op == POLICY_LIST ?
			 rule_cb : NULL, &a.json);
	if (ret)
		cli_nl_error(&nl, what[op], ret);
	pw_nl_close(&nl);
	return ret ? EXIT_FAIL : EXIT_OK;
}
