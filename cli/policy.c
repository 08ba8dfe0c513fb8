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

static int parse_ports(const char *s, uint16_t *min, uint16_t *max)
{
	char buf[16];
	char *dash;

	if (strlen(s) >= sizeof(buf))
		return -EINVAL;
	strcpy(buf, s);
	dash = strchr(buf, '-');
	if (dash)
		*dash = '\0';
	if (cli_parse_u16(buf, min))
		return -EINVAL;
	*max = *min;
	return dash ? cli_parse_u16(dash + 1, max) : 0;
}

static int policy_add(struct pw_nl *nl, int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	uint16_t family = 0, pmin = 0, pmax = 0;
	struct cli_addr dst = { 0 };
	bool ports = false;
	struct nlmsghdr *nlh;
	uint32_t ms = 0;
	int i, ret;

	for (i = 0; i < argc; i++) {
		const char *arg = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(arg, "-4")) {
			family = AF_INET;
		} else if (!strcmp(arg, "-6")) {
			family = AF_INET6;
		} else if (!strcmp(arg, "dst") && val && !cli_parse_prefix(val, &dst)) {
			i++;
		} else if (!strcmp(arg, "dport") && val && !parse_ports(val, &pmin, &pmax)) {
			ports = true;
			i++;
		} else if (!strcmp(arg, "timeout") && val && !cli_parse_ms(val, &ms) && ms) {
			i++;
		} else {
			fprintf(stderr, "%s policy add: bad argument '%s'\n", prog, arg);
			return -EINVAL;
		}
	}
	if (!ms || (dst.family && family && dst.family != family)) {
		fprintf(stderr, "%s policy add: needs a non-zero timeout and a dst of the family\n",
			prog);
		return -EINVAL;
	}
	if (dst.family)
		family = dst.family;
	if (!family)
		family = AF_INET;

	nlh = pw_nl_request(nl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, family);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, ms);
	if (dst.family == AF_INET)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR4, 4, &dst.addr.v4);
	if (dst.family == AF_INET6)
		mnl_attr_put(nlh, PEERWATCH_A_DADDR6, 16, &dst.addr.v6);
	if (dst.family)
		mnl_attr_put_u8(nlh, PEERWATCH_A_PREFIX_LEN, dst.prefix_len);
	if (ports) {
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, pmin);
		mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, pmax);
	}
	ret = pw_nl_talk(nl, nlh, rule_cb, NULL);
	if (ret)
		cli_nl_error(nl, "adding the policy", ret);
	return ret;
}

int cmd_policy(int argc, char **argv)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	struct pw_nl nl;
	const char *sub;
	bool json = false;
	uint32_t id = 0;
	char *end;
	int ret;

	if (argc < 2 || cli_is_help(argv[1])) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_USAGE : EXIT_OK;
	}
	sub = argv[1];
	if (!strcmp(sub, "del")) {
		errno = 0;
		id = argc == 3 ? strtoul(argv[2], &end, 10) : 0;
		if (argc != 3 || errno || *end || !id) {
			usage(stderr);
			return EXIT_USAGE;
		}
	} else if (!strcmp(sub, "list")) {
		if (argc == 3 && (!strcmp(argv[2], "-j") || !strcmp(argv[2], "--json"))) {
			json = true;
		} else if (argc != 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
	} else if (!strcmp(sub, "flush")) {
		if (argc != 2) {
			usage(stderr);
			return EXIT_USAGE;
		}
	} else if (strcmp(sub, "add")) {
		usage(stderr);
		return EXIT_USAGE;
	}

	if (cli_nl_open(&nl))
		return EXIT_FAIL;
	if (!strcmp(sub, "add")) {
		ret = policy_add(&nl, argc - 2, argv + 2);
	} else if (!strcmp(sub, "del")) {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
		mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, id);
		ret = pw_nl_talk(&nl, nlh, NULL, NULL);
		if (ret)
			cli_nl_error(&nl, "deleting the policy", ret);
	} else if (!strcmp(sub, "list")) {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_POLICY_DUMP, NLM_F_DUMP);
		ret = pw_nl_talk(&nl, nlh, rule_cb, &json);
		if (ret)
			cli_nl_error(&nl, "listing policies", ret);
	} else {
		nlh = pw_nl_request(&nl, buf, PEERWATCH_CMD_POLICY_FLUSH, 0);
		ret = pw_nl_talk(&nl, nlh, NULL, NULL);
		if (ret)
			cli_nl_error(&nl, "flushing policies", ret);
	}
	pw_nl_close(&nl);
	if (ret == -EINVAL && !nl.errmsg[0] && !strcmp(sub, "add"))
		return EXIT_USAGE;
	return ret ? EXIT_FAIL : EXIT_OK;
}
