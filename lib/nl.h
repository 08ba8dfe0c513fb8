/* SPDX-License-Identifier: GPL-2.0 */
#ifndef PEERWATCH_NL_H
#define PEERWATCH_NL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libmnl/libmnl.h>

/* Dumps fill messages of up to 32 KiB. */
#define PW_NL_RECV_SIZE 32768

/*
 * A generic netlink socket talking to the peerwatch family: the family and
 * its events group resolved by name, requests sent with an ACK asked for,
 * and the kernel's extended ack message kept for the caller to print.
 */
struct pw_nl {
	struct mnl_socket *sock;
	uint16_t family_id;
	uint32_t events_grp;
	uint32_t portid;
	uint32_t seq;
	char errmsg[256];	/* extack message of the last error, or "" */
};

/*
 * Whether @len bytes at @nlh start with a whole message, safe to walk.
 * Stricter than mnl_nlmsg_ok(): libmnl 1.0.4 compares nlmsg_len as an
 * int, so a length of 2 GiB or more passes it, and it accepts a length
 * that is not a multiple of 4, whose attributes mnl_attr_for_each() then
 * walks up to 3 bytes past the end. The kernel never sends either.
 */
static inline bool pw_nlmsg_ok(const struct nlmsghdr *nlh, size_t len)
{
	return len >= sizeof(*nlh) && nlh->nlmsg_len >= sizeof(*nlh) &&
	       nlh->nlmsg_len <= len &&
	       nlh->nlmsg_len == MNL_ALIGN(nlh->nlmsg_len);
}

/* The message after @nlh, which pw_nlmsg_ok() accepted; @len shrinks. */
static inline const struct nlmsghdr *pw_nlmsg_next(const struct nlmsghdr *nlh,
						   size_t *len)
{
	*len -= nlh->nlmsg_len;
	return (const struct nlmsghdr *)((const char *)nlh + nlh->nlmsg_len);
}

/* Resolve a generic netlink family (and one of its groups, if @grp). */
int pw_genl_resolve(struct mnl_socket *sock, const char *family,
		    const char *grp, uint16_t *family_id, uint32_t *grp_id);

/* 0, -ENOENT when the family is not registered (module not loaded). */
int pw_nl_open(struct pw_nl *nl);
void pw_nl_close(struct pw_nl *nl);
int pw_nl_join_events(struct pw_nl *nl);
int pw_nl_fd(const struct pw_nl *nl);

/* Start a request for @cmd in @buf (MNL_SOCKET_BUFFER_SIZE bytes). */
struct nlmsghdr *pw_nl_request(struct pw_nl *nl, void *buf, uint8_t cmd,
			       uint16_t flags);

/*
 * Send @nlh and run @cb on each reply until the ACK or the end of a dump.
 * Returns 0 or -errno; the error's extack message is in nl->errmsg.
 */
int pw_nl_talk(struct pw_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb,
	       void *data);

#endif
