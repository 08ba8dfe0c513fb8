// SPDX-License-Identifier: GPL-2.0
/*
 * libmnl plumbing for the peerwatch family: resolve ids by name through
 * nlctrl, send a request, collect its replies and its extended ack.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/peerwatch.h>

#include "nl.h"

struct pw_resolve {
	const char *grp;
	uint16_t family_id;
	uint32_t grp_id;
};

static int pw_grp_attr_cb(const struct nlattr *attr, void *data)
{
	const struct nlattr **tb = data;

	if (mnl_attr_type_valid(attr, CTRL_ATTR_MCAST_GRP_MAX) < 0)
		return MNL_CB_OK;
	tb[mnl_attr_get_type(attr)] = attr;
	return MNL_CB_OK;
}

static void pw_resolve_groups(const struct nlattr *nest, struct pw_resolve *r)
{
	const struct nlattr *pos;

	mnl_attr_for_each_nested(pos, nest) {
		const struct nlattr *tb[CTRL_ATTR_MCAST_GRP_MAX + 1] = { 0 };

		if (mnl_attr_parse_nested(pos, pw_grp_attr_cb, tb) < 0)
			continue;
		if (!tb[CTRL_ATTR_MCAST_GRP_NAME] || !tb[CTRL_ATTR_MCAST_GRP_ID] ||
		    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_NAME], MNL_TYPE_NUL_STRING) < 0 ||
		    mnl_attr_validate(tb[CTRL_ATTR_MCAST_GRP_ID], MNL_TYPE_U32) < 0)
			continue;
		if (!strcmp(mnl_attr_get_str(tb[CTRL_ATTR_MCAST_GRP_NAME]), r->grp))
			r->grp_id = mnl_attr_get_u32(tb[CTRL_ATTR_MCAST_GRP_ID]);
	}
}

static int pw_resolve_cb(const struct nlmsghdr *nlh, void *data)
{
	struct pw_resolve *r = data;
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr)) {
		switch (mnl_attr_get_type(attr)) {
		case CTRL_ATTR_FAMILY_ID:
			if (mnl_attr_validate(attr, MNL_TYPE_U16) >= 0)
				r->family_id = mnl_attr_get_u16(attr);
			break;
		case CTRL_ATTR_MCAST_GROUPS:
			if (r->grp)
				pw_resolve_groups(attr, r);
			break;
		}
	}
	return MNL_CB_OK;
}

static int pw_recv_acked(struct mnl_socket *sock, uint32_t seq, mnl_cb_t cb,
			 void *data, char *errmsg, size_t errlen);

int pw_genl_resolve(struct mnl_socket *sock, const char *family,
		    const char *grp, uint16_t *family_id, uint32_t *grp_id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct pw_resolve r = { .grp = grp };
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;
	int ret;

	/* libmnl 1.0.4 leaves an attribute's padding as it finds it. */
	memset(buf, 0, sizeof(buf));
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = GENL_ID_CTRL;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = (uint32_t)time(NULL);
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = CTRL_CMD_GETFAMILY;
	genl->version = 1;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, family);

	if (mnl_socket_sendto(sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	ret = pw_recv_acked(sock, nlh->nlmsg_seq, pw_resolve_cb, &r, NULL, 0);
	if (ret)
		return ret;
	if (!r.family_id || (grp && !r.grp_id))
		return -ENOENT;
	*family_id = r.family_id;
	if (grp_id)
		*grp_id = r.grp_id;
	return 0;
}

struct pw_err_ctx {
	char *msg;
	size_t len;
};

static int pw_err_attr_cb(const struct nlattr *attr, void *data)
{
	struct pw_err_ctx *ctx = data;

	if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG &&
	    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0)
		snprintf(ctx->msg, ctx->len, "%s", mnl_attr_get_str(attr));
	return MNL_CB_OK;
}

/* NLMSG_ERROR: 0 for the ACK, else the error and its extack message. */
static int pw_err_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlmsgerr *err = mnl_nlmsg_get_payload(nlh);
	struct pw_err_ctx *ctx = data;
	unsigned int off;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*err))) {
		errno = EBADMSG;
		return MNL_CB_ERROR;
	}
	if (!err->error)
		return MNL_CB_STOP;

	if (ctx->msg && (nlh->nlmsg_flags & NLM_F_ACK_TLVS)) {
		off = sizeof(*err);
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += mnl_nlmsg_get_payload_len(&err->msg);
		if (mnl_nlmsg_size(off) <= nlh->nlmsg_len)
			mnl_attr_parse(nlh, off, pw_err_attr_cb, ctx);
	}
	errno = -err->error;
	return MNL_CB_ERROR;
}

/*
 * Receive the replies to request @seq until its ACK, its error or the end
 * of its dump, passing the others to @cb.
 */
static int pw_recv_acked(struct mnl_socket *sock, uint32_t seq, mnl_cb_t cb,
			 void *data, char *errmsg, size_t errlen)
{
	struct pw_err_ctx ectx = { errmsg, errlen };
	uint32_t portid = mnl_socket_get_portid(sock);
	char buf[PW_NL_RECV_SIZE];
	const struct nlmsghdr *nlh;
	ssize_t n;
	size_t len;

	if (errmsg && errlen)
		errmsg[0] = '\0';
	for (;;) {
		n = mnl_socket_recvfrom(sock, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		len = n;
		for (nlh = (const struct nlmsghdr *)buf; pw_nlmsg_ok(nlh, len);
		     nlh = pw_nlmsg_next(nlh, &len)) {
			if (!mnl_nlmsg_portid_ok(nlh, portid) ||
			    !mnl_nlmsg_seq_ok(nlh, seq))
				continue;
			switch (nlh->nlmsg_type) {
			case NLMSG_NOOP:
				continue;
			case NLMSG_ERROR:
				if (pw_err_cb(nlh, &ectx) == MNL_CB_STOP)
					return 0;
				return -errno;
			case NLMSG_DONE:
				if (nlh->nlmsg_len >= mnl_nlmsg_size(sizeof(int))) {
					int err = *(int *)mnl_nlmsg_get_payload(nlh);

					if (err < 0)
						return err;
				}
				return 0;
			case NLMSG_OVERRUN:
				return -ENOBUFS;
			}
			if (cb) {
				int ret = cb(nlh, data);

				if (ret == MNL_CB_ERROR)
					return errno ? -errno : -EINVAL;
				if (ret == MNL_CB_STOP)
					return 0;
			}
		}
	}
}

int pw_nl_open(struct pw_nl *nl)
{
	int one = 1;
	int ret;

	memset(nl, 0, sizeof(*nl));
	nl->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!nl->sock)
		return -errno;
	if (mnl_socket_bind(nl->sock, 0, MNL_SOCKET_AUTOPID) < 0) {
		ret = -errno;
		goto err_close;
	}
	/* Best effort: without it errors simply come without a message. */
	mnl_socket_setsockopt(nl->sock, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl->sock, NETLINK_CAP_ACK, &one, sizeof(one));
	nl->portid = mnl_socket_get_portid(nl->sock);
	nl->seq = (uint32_t)time(NULL);

	ret = pw_genl_resolve(nl->sock, PEERWATCH_GENL_NAME,
			      PEERWATCH_MCGRP_EVENTS, &nl->family_id,
			      &nl->events_grp);
	if (ret)
		goto err_close;
	return 0;

err_close:
	mnl_socket_close(nl->sock);
	nl->sock = NULL;
	return ret;
}

void pw_nl_close(struct pw_nl *nl)
{
	if (nl->sock)
		mnl_socket_close(nl->sock);
	nl->sock = NULL;
}

int pw_nl_fd(const struct pw_nl *nl)
{
	return mnl_socket_get_fd(nl->sock);
}

int pw_nl_join_events(struct pw_nl *nl)
{
	int grp = (int)nl->events_grp;
	int one = 1;

	/*
	 * Lets the module see (and count, PEERWATCH_STAT_A_UNDELIVERED_*)
	 * events our full queue drops; we see ENOBUFS either way.
	 */
	mnl_socket_setsockopt(nl->sock, NETLINK_BROADCAST_ERROR, &one,
			      sizeof(one));
	if (mnl_socket_setsockopt(nl->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	return 0;
}

struct nlmsghdr *pw_nl_request(struct pw_nl *nl, void *buf, uint8_t cmd,
			       uint16_t flags)
{
	struct genlmsghdr *genl;
	struct nlmsghdr *nlh;

	/* libmnl 1.0.4 leaves an attribute's padding as it finds it. */
	memset(buf, 0, MNL_SOCKET_BUFFER_SIZE);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = nl->family_id;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	nlh->nlmsg_seq = ++nl->seq;
	genl = mnl_nlmsg_put_extra_header(nlh, sizeof(*genl));
	genl->cmd = cmd;
	genl->version = PEERWATCH_GENL_VERSION;
	return nlh;
}

int pw_nl_talk(struct pw_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data)
{
	if (mnl_socket_sendto(nl->sock, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	return pw_recv_acked(nl->sock, nlh->nlmsg_seq, cb, data, nl->errmsg,
			     sizeof(nl->errmsg));
}
