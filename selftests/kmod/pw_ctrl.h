/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the generic netlink controller says of a family, read from its
 * dumps only: CTRL_CMD_GETFAMILY by name would ask the kernel to autoload
 * a missing family's module (a modprobe per call while the stress test
 * has it unloaded), a dump never does. Gives the family id, its commands
 * with their flags, its events group and, from CTRL_CMD_GETPOLICY, the
 * attribute policy of each command, so that tests cover whatever the
 * module declares, new commands and attributes included.
 */
#ifndef PEERWATCH_PW_CTRL_H
#define PEERWATCH_PW_CTRL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#define PW_CTRL_MAX_OPS		32
#define PW_CTRL_MAX_POLICIES	16
#define PW_CTRL_MAX_ATTRS	64

/* One attribute of a policy, as NL_POLICY_TYPE_ATTR_* describe it. */
struct pw_ctrl_attr {
	uint32_t type;		/* NL_ATTR_TYPE_*, 0: not accepted */
	uint64_t min, max;	/* unsigned range, when has_range */
	uint64_t mask;		/* when has_mask */
	uint32_t min_len, max_len;
	bool has_range, has_mask, has_len;
};

struct pw_ctrl_op {
	uint32_t cmd;
	uint32_t flags;		/* GENL_CMD_CAP_*, GENL_*ADMIN_PERM */
	int do_policy;		/* index in policies, or -1 */
	int dump_policy;
};

struct pw_ctrl_family {
	uint16_t id;
	uint32_t version;
	uint32_t maxattr;
	uint32_t events_grp;
	int n_ops;
	struct pw_ctrl_op ops[PW_CTRL_MAX_OPS];
	int n_policies;
	struct pw_ctrl_attr policy[PW_CTRL_MAX_POLICIES][PW_CTRL_MAX_ATTRS];
};

struct pw_ctrl_ctx {
	const char *name;
	const char *grp;
	struct pw_ctrl_family *f;
	bool found;
};

static inline int pw_ctrl_op_cb(struct pw_ctrl_family *f,
				const struct nlattr *ops)
{
	const struct nlattr *op, *a;

	mnl_attr_for_each_nested(op, ops) {
		struct pw_ctrl_op o = { .do_policy = -1, .dump_policy = -1 };
		bool has_id = false;

		mnl_attr_for_each_nested(a, op) {
			if (mnl_attr_validate(a, MNL_TYPE_U32) < 0)
				continue;
			if (mnl_attr_get_type(a) == CTRL_ATTR_OP_ID) {
				o.cmd = mnl_attr_get_u32(a);
				has_id = true;
			} else if (mnl_attr_get_type(a) == CTRL_ATTR_OP_FLAGS) {
				o.flags = mnl_attr_get_u32(a);
			}
		}
		if (has_id && f->n_ops < PW_CTRL_MAX_OPS)
			f->ops[f->n_ops++] = o;
	}
	return 0;
}

static inline void pw_ctrl_grp(struct pw_ctrl_ctx *c, const struct nlattr *grps)
{
	const struct nlattr *g, *a;

	mnl_attr_for_each_nested(g, grps) {
		const char *name = NULL;
		uint32_t id = 0;

		mnl_attr_for_each_nested(a, g) {
			if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_NAME &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				name = mnl_attr_get_str(a);
			else if (mnl_attr_get_type(a) == CTRL_ATTR_MCAST_GRP_ID &&
				 mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				id = mnl_attr_get_u32(a);
		}
		if (name && c->grp && !strcmp(name, c->grp))
			c->f->events_grp = id;
	}
}

static inline int pw_ctrl_family_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_ctrl_ctx *c = data;
	const struct nlattr *a, *name = NULL;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME &&
		    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
			name = a;
	if (!name || strcmp(mnl_attr_get_str(name), c->name))
		return MNL_CB_OK;

	c->found = true;
	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(a)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
				c->f->id = mnl_attr_get_u16(a);
			break;
		case CTRL_ATTR_VERSION:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				c->f->version = mnl_attr_get_u32(a);
			break;
		case CTRL_ATTR_MAXATTR:
			if (mnl_attr_validate(a, MNL_TYPE_U32) >= 0)
				c->f->maxattr = mnl_attr_get_u32(a);
			break;
		case CTRL_ATTR_OPS:
			pw_ctrl_op_cb(c->f, a);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			pw_ctrl_grp(c, a);
			break;
		}
	}
	return MNL_CB_OK;
}

/* Send a controller dump request and run @cb on each answer. */
static inline int pw_ctrl_dump(struct mnl_socket *sock, uint8_t cmd,
			       uint16_t family_id, mnl_cb_t cb, void *data)
{
	char buf[32768];
	uint32_t portid = mnl_socket_get_portid(sock);
	static uint32_t seq;
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	ssize_t n;
	int ret;

	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = ++seq + 0x40000000;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = 2;
	if (family_id)
		mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, family_id);
	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		ret = mnl_cb_run(buf, n, nlh->nlmsg_seq, portid, cb, data);
	} while (ret > MNL_CB_STOP);
	return ret < 0 ? -errno : 0;
}

/*
 * Find family @name (and its multicast group @grp, if not NULL): 0 and
 * @f filled, -ENOENT when it is not registered, or -errno.
 */
static inline int pw_ctrl_find(struct mnl_socket *sock, const char *name,
			       const char *grp, struct pw_ctrl_family *f)
{
	struct pw_ctrl_ctx c = { .name = name, .grp = grp, .f = f };
	int ret;

	memset(f, 0, sizeof(*f));
	ret = pw_ctrl_dump(sock, CTRL_CMD_GETFAMILY, 0, pw_ctrl_family_cb, &c);
	if (ret)
		return ret;
	if (!c.found || !f->id || (grp && !f->events_grp))
		return -ENOENT;
	return 0;
}

static inline void pw_ctrl_attr_parse(struct pw_ctrl_attr *pa,
				      const struct nlattr *desc)
{
	const struct nlattr *a;

	mnl_attr_for_each_nested(a, desc) {
		uint16_t t = mnl_attr_get_type(a);
		bool u32 = mnl_attr_validate(a, MNL_TYPE_U32) >= 0;
		bool u64 = mnl_attr_validate(a, MNL_TYPE_U64) >= 0;

		if (t == NL_POLICY_TYPE_ATTR_TYPE && u32) {
			pa->type = mnl_attr_get_u32(a);
		} else if (t == NL_POLICY_TYPE_ATTR_MIN_VALUE_U && u64) {
			pa->min = mnl_attr_get_u64(a);
			pa->has_range = true;
		} else if (t == NL_POLICY_TYPE_ATTR_MAX_VALUE_U && u64) {
			pa->max = mnl_attr_get_u64(a);
			pa->has_range = true;
		} else if (t == NL_POLICY_TYPE_ATTR_MASK && u64) {
			pa->mask = mnl_attr_get_u64(a);
			pa->has_mask = true;
		} else if (t == NL_POLICY_TYPE_ATTR_MIN_LENGTH && u32) {
			pa->min_len = mnl_attr_get_u32(a);
			pa->has_len = true;
		} else if (t == NL_POLICY_TYPE_ATTR_MAX_LENGTH && u32) {
			pa->max_len = mnl_attr_get_u32(a);
			pa->has_len = true;
		}
	}
}

static inline int pw_ctrl_policy_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_ctrl_family *f = data;
	const struct nlattr *a, *p, *at, *x;
	int i;

	mnl_attr_for_each(a, nlh, sizeof(struct genlmsghdr)) {
		if (mnl_attr_get_type(a) == CTRL_ATTR_POLICY) {
			/* { policy index { attribute { description } } } */
			mnl_attr_for_each_nested(p, a) {
				uint16_t idx = mnl_attr_get_type(p);

				if (idx >= PW_CTRL_MAX_POLICIES)
					continue;
				if (idx >= f->n_policies)
					f->n_policies = idx + 1;
				mnl_attr_for_each_nested(at, p) {
					uint16_t t = mnl_attr_get_type(at);

					if (t < PW_CTRL_MAX_ATTRS)
						pw_ctrl_attr_parse(&f->policy[idx][t], at);
				}
			}
		} else if (mnl_attr_get_type(a) == CTRL_ATTR_OP_POLICY) {
			/* { command { POLICY_DO, POLICY_DUMP } } */
			mnl_attr_for_each_nested(p, a) {
				for (i = 0; i < f->n_ops; i++)
					if (f->ops[i].cmd == mnl_attr_get_type(p))
						break;
				if (i == f->n_ops)
					continue;
				mnl_attr_for_each_nested(x, p) {
					if (mnl_attr_validate(x, MNL_TYPE_U32) < 0 ||
					    mnl_attr_get_u32(x) >= PW_CTRL_MAX_POLICIES)
						continue;
					if (mnl_attr_get_type(x) == CTRL_ATTR_POLICY_DO)
						f->ops[i].do_policy = mnl_attr_get_u32(x);
					else if (mnl_attr_get_type(x) == CTRL_ATTR_POLICY_DUMP)
						f->ops[i].dump_policy = mnl_attr_get_u32(x);
					/* A policy that accepts nothing has no
					 * attribute to describe: still one.
					 */
					if ((int)mnl_attr_get_u32(x) >= f->n_policies)
						f->n_policies = mnl_attr_get_u32(x) + 1;
				}
			}
		}
	}
	return MNL_CB_OK;
}

/* Add the attribute policies of @f's commands (pw_ctrl_find() first). */
static inline int pw_ctrl_policies(struct mnl_socket *sock,
				   struct pw_ctrl_family *f)
{
	return pw_ctrl_dump(sock, CTRL_CMD_GETPOLICY, f->id, pw_ctrl_policy_cb, f);
}

#endif
