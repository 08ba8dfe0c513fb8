// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel's dead-peer events (peerwatch.ko) in the loop: one
 * non-blocking generic netlink socket joined to nlctrl's "notify" group,
 * so that the module loaded, unloaded or reloaded at any time is seen at
 * once, and to the module's "events" group while the family exists.
 * Events are matched to the owner's connections by cookie and tuple, and
 * reported to it through kevents_ops.
 * Lost events (ENOBUFS) are answered by checking every connection.
 *
 * With --kernel-policy, one module policy rule per engine port gives the
 * connections of other programs to the engines (an operator's docker CLI)
 * our user timeout too; exactly those rules are removed at exit.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/genetlink.h>

#include "container_of.h"
#include "kevents.h"
#include "log.h"
#include "loop.h"
#include "nl.h"

/* A mass failure sends one event per connection: room for tens of thousands. */
#define KEVENTS_RCVBUF		(8 << 20)
/* Datagrams read per wakeup, so that a storm cannot starve the engines. */
#define KEVENTS_READS_PER_WAKEUP 64

struct kevents_rule {
	uint16_t family;
	uint16_t port;
	uint32_t id;
};

struct kevents {
	struct loop *loop;
	const struct kevents_ops *ops;
	void *arg;			/* of ops */
	struct kevents_cfg cfg;
	struct mnl_socket *sock;	/* nlctrl notify + peerwatch events */
	struct loop_io io;
	struct pw_nl ctl;		/* requests; sock NULL without module */
	uint16_t family_id;		/* 0 while not subscribed */
	bool busy;			/* inside kevents_drain() */
	struct kevents_rule *rules;	/* policy rules we installed */
	size_t nrules;
	struct kevents_stats stats;
	char buf[PW_NL_RECV_SIZE];
};

const struct kevents_stats *kevents_stats(const struct kevents *k)
{
	return &k->stats;
}

static enum cause cause_of_reason(unsigned int reason)
{
	switch (reason) {
	case PEERWATCH_REASON_USER_TIMEOUT:
		return CAUSE_KERNEL_USER_TIMEOUT;
	case PEERWATCH_REASON_RETRIES:
		return CAUSE_KERNEL_RETRIES;
	case PEERWATCH_REASON_KEEPALIVE:
		return CAUSE_KERNEL_KEEPALIVE;
	case PEERWATCH_REASON_ZERO_WINDOW:
		return CAUSE_KERNEL_ZERO_WINDOW;
	case PEERWATCH_REASON_RESET:
		return CAUSE_KERNEL_RESET;
	default:
		return CAUSE_KERNEL_ABORT;
	}
}

static bool tuple_matches(const struct sockaddr *sa,
			  const struct pw_event *ev)
{
	const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;

	if (ev->family != sa->sa_family)
		return false;
	if (ev->family == AF_INET)
		return ntohs(s4->sin_port) == ev->dport &&
		       s4->sin_addr.s_addr == ev->daddr.v4.s_addr;
	return ntohs(s6->sin6_port) == ev->dport &&
	       !memcmp(&s6->sin6_addr, &ev->daddr.v6, sizeof(ev->daddr.v6));
}

/* By cookie (O(1)); the tuple guards against a cookie of another netns. */
static bool ours(struct kevents *k, const struct pw_event *ev)
{
	const struct sockaddr *sa = k->ops->peer(k->arg, ev->cookie);

	return sa && tuple_matches(sa, ev);
}

int kevents_apply(struct kevents *k, const struct pw_event *ev)
{
	char why[160];

	if (ev->event <= PEERWATCH_EVENT_MAX)
		k->stats.events[ev->event]++;
	if (ev->event == PEERWATCH_EVENT_DEAD && ev->reason <= PEERWATCH_REASON_MAX)
		k->stats.dead[ev->reason]++;
	if (!ours(k, ev))
		return -ENOENT;
	k->stats.matched++;
	switch (ev->event) {
	case PEERWATCH_EVENT_SUSPECT:
	case PEERWATCH_EVENT_RECOVERED:
		k->ops->suspect(k->arg, ev->cookie,
				ev->event == PEERWATCH_EVENT_SUSPECT);
		return 0;
	case PEERWATCH_EVENT_DEAD:
		snprintf(why, sizeof(why),
			 "kernel: %s in %s after %u retransmits, last ACK %u ms ago",
			 pw_reason_name(ev->reason),
			 pw_tcp_state_name(ev->state), ev->retransmits,
			 ev->last_ack_ms);
		k->ops->failed(k->arg, ev->cookie, cause_of_reason(ev->reason),
			       why);
		return 0;
	default:
		return -EINVAL;
	}
}

/* One connection after lost events: 1 if acted on, else 0. */
static int check_conn(struct kevents *k, const struct kevents_conn *c)
{
	struct tcp_info ti;
	socklen_t len;
	char why[96];
	int soerr = 0;

	if (c->fd < 0)
		return 0;
	len = sizeof(soerr);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len))
		soerr = errno;
	/* Reading SO_ERROR clears it: this is now the only report of it. */
	if (soerr) {
		snprintf(why, sizeof(why), "%s (found after lost kernel events)",
			 strerror(soerr));
		k->ops->failed(k->arg, c->cookie, cause_from_errno(-soerr, true),
			       why);
		return 1;
	}
	len = sizeof(ti);
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len))
		return 0;
	if (ti.tcpi_state == TCP_ESTABLISHED &&
	    (ti.tcpi_retransmits || ti.tcpi_backoff) != c->suspect) {
		k->ops->suspect(k->arg, c->cookie, !c->suspect);
		return 1;
	}
	return 0;
}

unsigned int kevents_resync(struct kevents *k)
{
	struct kevents_conn c;
	unsigned int found = 0;
	size_t i;

	k->stats.resyncs++;
	/* Each looked at only now: acting on one may close another. */
	for (i = 0; k->ops->conn(k->arg, i, &c); i++)
		found += check_conn(k, &c);
	k->stats.resync_found += found;
	return found;
}

static int policy_id_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *attr;

	mnl_attr_for_each(attr, nlh, sizeof(struct genlmsghdr))
		if (mnl_attr_get_type(attr) == PEERWATCH_A_POLICY_ID &&
		    mnl_attr_validate(attr, MNL_TYPE_U32) >= 0)
			*(uint32_t *)data = mnl_attr_get_u32(attr);
	return MNL_CB_OK;
}

static int policy_add(struct kevents *k, uint16_t family, uint16_t port,
		      uint32_t *id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int err;

	nlh = pw_nl_request(&k->ctl, buf, PEERWATCH_CMD_POLICY_ADD, 0);
	mnl_attr_put_u16(nlh, PEERWATCH_A_FAMILY, family);
	mnl_attr_put_u32(nlh, PEERWATCH_A_USER_TIMEOUT, k->cfg.user_timeout_ms);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MIN, port);
	mnl_attr_put_u16(nlh, PEERWATCH_A_DPORT_MAX, port);
	*id = 0;
	err = pw_nl_talk(&k->ctl, nlh, policy_id_cb, id);
	if (!err && !*id)
		err = -EPROTO;
	return err;
}

static int policy_del(struct kevents *k, uint32_t id)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;

	nlh = pw_nl_request(&k->ctl, buf, PEERWATCH_CMD_POLICY_DEL, 0);
	mnl_attr_put_u32(nlh, PEERWATCH_A_POLICY_ID, id);
	return pw_nl_talk(&k->ctl, nlh, NULL, NULL);
}

static bool peers_use(const struct kevents *k, uint16_t family,
		      uint16_t port)
{
	uint16_t f, p;
	size_t i;

	for (i = 0; k->ops->port(k->arg, i, &f, &p); i++)
		if (p == port && f == family)
			return true;
	return false;
}

static bool have_rule(const struct kevents *k, uint16_t family, uint16_t port)
{
	size_t i;

	for (i = 0; i < k->nrules; i++)
		if (k->rules[i].port == port && k->rules[i].family == family)
			return true;
	return false;
}

static void policy_sync(struct kevents *k)
{
	struct kevents_rule *r;
	uint16_t family, port;
	size_t i = 0;
	int err;

	while (i < k->nrules) {
		r = &k->rules[i];
		if (peers_use(k, r->family, r->port)) {
			i++;
			continue;
		}
		err = policy_del(k, r->id);
		if (err && err != -ENOENT)
			log_warn("kernel policy: removing rule %u: %s", r->id,
				 strerror(-err));
		*r = k->rules[--k->nrules];
	}
	for (i = 0; k->ops->port(k->arg, i, &family, &port); i++) {
		if (have_rule(k, family, port))
			continue;
		r = realloc(k->rules, (k->nrules + 1) * sizeof(*r));
		if (!r)
			return;
		k->rules = r;
		r = &k->rules[k->nrules];
		r->family = family;
		r->port = port;
		err = policy_add(k, family, port, &r->id);
		if (err) {
			log_warn("kernel policy: port %u: %s%s%s", port,
				 strerror(-err), k->ctl.errmsg[0] ? ": " : "",
				 k->ctl.errmsg);
			return;
		}
		log_info("kernel policy: rule %u: user timeout %u ms for every connection to port %u",
			 r->id, k->cfg.user_timeout_ms, port);
		k->nrules++;
	}
}

void kevents_fleet_changed(struct kevents *k)
{
	if (k && k->cfg.policy && k->family_id)
		policy_sync(k);
}

static void policy_remove_all(struct kevents *k)
{
	while (k->nrules) {
		int err = policy_del(k, k->rules[--k->nrules].id);

		if (err)
			log_warn("kernel policy: removing rule %u: %s",
				 k->rules[k->nrules].id, strerror(-err));
	}
}

/* Resolve the family and join its events group: 0 or -errno. */
static int subscribe(struct kevents *k)
{
	int grp, err;

	pw_nl_close(&k->ctl);
	err = pw_nl_open(&k->ctl);
	if (err)
		return err;
	grp = (int)k->ctl.events_grp;
	if (mnl_socket_setsockopt(k->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0) {
		err = -errno;
		pw_nl_close(&k->ctl);
		return err;
	}
	k->family_id = k->ctl.family_id;
	k->stats.subscribed = true;
	k->stats.subscribes++;
	return 0;
}

static const char *why_off(int err)
{
	switch (err) {
	case -ENOENT:
		return "peerwatch.ko is not loaded (subscribing when it is)";
	case -EPERM:
		return "joining the peerwatch events group needs CAP_NET_ADMIN";
	default:
		return strerror(-err);
	}
}

/* The family appeared: subscribe, then catch up on what we missed. */
static void family_new(struct kevents *k)
{
	int err;

	if (k->family_id)
		return;
	err = subscribe(k);
	if (err) {
		log_warn("kernel events: off: %s", why_off(err));
		return;
	}
	log_info("kernel events: on (peerwatch.ko loaded)");
	kevents_resync(k);
	kevents_fleet_changed(k);
}

static void family_del(struct kevents *k)
{
	if (!k->family_id)
		return;
	/* The kernel dropped our membership, and the rules died with it. */
	k->family_id = 0;
	k->stats.subscribed = false;
	k->nrules = 0;
	pw_nl_close(&k->ctl);
	log_warn("kernel events: off: peerwatch.ko unloaded (subscribing again when it is back)");
}

static void ctrl_msg(struct kevents *k, const struct nlmsghdr *nlh)
{
	const struct genlmsghdr *genl;
	const struct nlattr *attr;
	bool ours = false;

	if (nlh->nlmsg_len < mnl_nlmsg_size(sizeof(*genl)))
		return;
	genl = mnl_nlmsg_get_payload(nlh);
	if (genl->cmd != CTRL_CMD_NEWFAMILY && genl->cmd != CTRL_CMD_DELFAMILY)
		return;
	mnl_attr_for_each(attr, nlh, sizeof(*genl))
		if (mnl_attr_get_type(attr) == CTRL_ATTR_FAMILY_NAME &&
		    mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) >= 0 &&
		    !strcmp(mnl_attr_get_str(attr), PEERWATCH_GENL_NAME))
			ours = true;
	if (!ours)
		return;
	if (genl->cmd == CTRL_CMD_NEWFAMILY)
		family_new(k);
	else
		family_del(k);
}

static void input(struct kevents *k, const void *buf, int len)
{
	const struct nlmsghdr *nlh;
	struct pw_event ev;

	for (nlh = buf; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
		if (nlh->nlmsg_type == GENL_ID_CTRL) {
			ctrl_msg(k, nlh);
			continue;
		}
		if (!k->family_id || nlh->nlmsg_type != k->family_id)
			continue;
		if (pw_event_parse(nlh, &ev) || ev.cmd != PEERWATCH_CMD_EVENT) {
			k->stats.invalid++;
			continue;
		}
		kevents_apply(k, &ev);
	}
}

void kevents_drain(struct kevents *k)
{
	bool lost = false;
	int i;

	if (!k || k->busy)
		return;
	k->busy = true;
	for (i = 0; i < KEVENTS_READS_PER_WAKEUP; i++) {
		ssize_t n = mnl_socket_recvfrom(k->sock, k->buf, sizeof(k->buf));

		if (n >= 0) {
			input(k, k->buf, (int)n);
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != ENOBUFS)
			break;
		k->stats.lost++;
		lost = true;
	}
	/*
	 * Once, after what the queue still held was applied: a storm that
	 * overflows it again and again costs one check of every connection
	 * per wakeup, not one per overflow.
	 */
	if (lost)
		log_warn("kernel events: some lost (receive queue full); checking every connection: %u acted on",
			 kevents_resync(k));
	k->busy = false;
}

static void kevents_io(struct loop_io *io, uint32_t events)
{
	(void)events;
	kevents_drain(container_of(io, struct kevents, io));
}

/* The socket that hears the module come and go, whatever our rights. */
static int open_sock(struct kevents *k)
{
	int size = (int)(k->cfg.rcvbuf ?: KEVENTS_RCVBUF);
	int one = 1;
	uint16_t ctrl_id;
	uint32_t grp;
	int fd, err;

	k->sock = mnl_socket_open(NETLINK_GENERIC);
	if (!k->sock)
		return -errno;
	if (mnl_socket_bind(k->sock, 0, MNL_SOCKET_AUTOPID) < 0)
		return -errno;
	fd = mnl_socket_get_fd(k->sock);
	/* Past rmem_max needs CAP_NET_ADMIN; the default is a fallback. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof(size));
	/*
	 * Without it, an event dropped at our full queue is invisible to the
	 * sender: the module's count of undelivered events would miss it.
	 */
	setsockopt(fd, SOL_NETLINK, NETLINK_BROADCAST_ERROR, &one, sizeof(one));
	/* Blocking only for this request, answered before sendto() returns. */
	err = pw_genl_resolve(k->sock, "nlctrl", "notify", &ctrl_id, &grp);
	if (err)
		return err;
	if (mnl_socket_setsockopt(k->sock, NETLINK_ADD_MEMBERSHIP, &grp,
				  sizeof(grp)) < 0)
		return -errno;
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC))
		return -errno;
	return loop_io_add(k->loop, &k->io, fd, LOOP_READ, kevents_io);
}

int kevents_new(struct kevents **kp, struct loop *loop,
		const struct kevents_cfg *cfg, const struct kevents_ops *ops,
		void *arg)
{
	struct kevents *k;
	int err;

	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->loop = loop;
	k->ops = ops;
	k->arg = arg;
	k->cfg = *cfg;
	err = open_sock(k);
	if (err)
		goto err;
	err = subscribe(k);
	if (err)
		log_warn("kernel events: off: %s", why_off(err));
	else
		log_info("kernel events: on");
	*kp = k;
	return 0;

err:
	kevents_free(k);
	return err;
}

void kevents_free(struct kevents *k)
{
	if (!k)
		return;
	if (k->family_id)
		policy_remove_all(k);
	if (k->io.active)
		loop_io_del(k->loop, &k->io);
	if (k->sock)
		mnl_socket_close(k->sock);
	pw_nl_close(&k->ctl);
	free(k->rules);
	free(k);
}
