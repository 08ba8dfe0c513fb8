// SPDX-License-Identifier: GPL-2.0
/*
 * The control socket: a UNIX stream socket taking one command per line
 * and answering each with one line, "ok ..." or "error: <reason>". The
 * protocol is documented at the top of main.c. Also the client side,
 * "enginesim ctl PATH COMMAND...", for shell tests.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl.h"
#include "events.h"
#include "faults.h"
#include "sim_conn.h"
#include "sim_fleet.h"

#define CTL_LINE_MAX	512
#define CTL_CLIENTS_MAX	64
#define CTL_ARGS_MAX	6
#define CTL_REPLY_MAX	1024
#define CTL_TIMEOUT_S	10
#define CTL_RETRY_MS	100

struct ctl {
	struct loop_io io;
	struct loop_timer retry;
	struct sim *sim;
	char *path;
	struct list_head clients;
	unsigned int nr_clients;
};

struct ctl_client {
	struct loop_io io;
	struct loop_defer dfr;
	struct list_head node;
	struct ctl *ctl;
	size_t len;
	char line[CTL_LINE_MAX];
};

static void client_free_deferred(struct loop_defer *d)
{
	free(container_of(d, struct ctl_client, dfr));
}

static void client_close(struct ctl_client *cl)
{
	struct ctl *ctl = cl->ctl;

	if (cl->io.fd < 0)
		return;
	loop_io_del(ctl->sim->loop, &cl->io);
	close(cl->io.fd);
	cl->io.fd = -1;
	list_del(&cl->node);
	ctl->nr_clients--;
	loop_defer(ctl->sim->loop, &cl->dfr, client_free_deferred);
}

/* "A", "A-B" (IPv4, inside the fleet) or "all", as engine indexes. */
static int parse_range(struct fleet *f, const char *s, unsigned int *lo,
		       unsigned int *hi)
{
	char a[16], b[16];
	const char *dash;
	struct in_addr ia, ib;
	struct engine *ea, *eb;

	if (!strcmp(s, "all")) {
		*lo = 0;
		*hi = f->count - 1;
		return 0;
	}
	dash = strchr(s, '-');
	if (strlen(s) >= sizeof(a) + sizeof(b) ||
	    (dash && (size_t)(dash - s) >= sizeof(a)) ||
	    (!dash && strlen(s) >= sizeof(a)))
		return -EINVAL;
	if (dash) {
		memcpy(a, s, dash - s);
		a[dash - s] = '\0';
		snprintf(b, sizeof(b), "%s", dash + 1);
	} else {
		snprintf(a, sizeof(a), "%s", s);
		snprintf(b, sizeof(b), "%s", s);
	}
	if (inet_pton(AF_INET, a, &ia) != 1 || inet_pton(AF_INET, b, &ib) != 1)
		return -EINVAL;
	ea = fleet_lookup(f, ntohl(ia.s_addr));
	eb = fleet_lookup(f, ntohl(ib.s_addr));
	if (!ea || !eb)
		return -ENOENT;
	if (ea > eb)
		return -ERANGE;
	*lo = ea->index;
	*hi = eb->index;
	return 0;
}

static int range_error(int err, const char *s, char *reply, size_t size)
{
	if (err == -ENOENT)
		snprintf(reply, size, "error: %s: not in the fleet", s);
	else if (err == -ERANGE)
		snprintf(reply, size, "error: %s: range is reversed", s);
	else
		snprintf(reply, size, "error: %s: not an address or range", s);
	return err;
}

static int cmd_fault(struct sim *s, int argc, char **argv, char *reply,
		     size_t size)
{
	unsigned int lo, hi, i;
	uint64_t arg;
	int kind, err;

	if (argc < 3 || argc > 4) {
		snprintf(reply, size, "error: usage: fault ADDR[-ADDR2] KIND [ARG]");
		return -EINVAL;
	}
	err = parse_range(s->fleet, argv[1], &lo, &hi);
	if (err)
		return range_error(err, argv[1], reply, size);
	err = fault_parse(argv[2], argc == 4 ? argv[3] : NULL, &kind, &arg);
	if (err == -EINVAL) {
		snprintf(reply, size, "error: unknown fault: %s (freeze reset "
			 "slow malformed oversized close-after id-change refuse)",
			 argv[2]);
		return err;
	}
	if (err) {
		snprintf(reply, size, "error: %s: bad or missing argument",
			 argv[2]);
		return err;
	}
	for (i = lo; i <= hi; i++)
		fault_set(&s->fleet->engines[i], kind, arg);
	snprintf(reply, size, "ok fault %s on %u engines", argv[2], hi - lo + 1);
	return 0;
}

static int cmd_clear(struct sim *s, int argc, char **argv, char *reply,
		     size_t size)
{
	unsigned int lo, hi, i;
	int err;

	if (argc != 2) {
		snprintf(reply, size, "error: usage: clear ADDR[-ADDR2] | clear all");
		return -EINVAL;
	}
	err = parse_range(s->fleet, argv[1], &lo, &hi);
	if (err)
		return range_error(err, argv[1], reply, size);
	for (i = lo; i <= hi; i++)
		fault_clear(&s->fleet->engines[i]);
	snprintf(reply, size, "ok cleared %u engines", hi - lo + 1);
	return 0;
}

/* Names as dockerd accepts them: [a-zA-Z0-9][a-zA-Z0-9_.-]*. */
static int valid_name(const char *s)
{
	const char *p;

	if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9')))
		return 0;
	for (p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			    "0123456789_.-", *p))
			return 0;
	return 1;
}

static int cmd_event(struct sim *s, int argc, char **argv, char *reply,
		     size_t size)
{
	char msg[CTL_REPLY_MAX / 2];
	unsigned int lo, hi, i;
	int err;

	if (argc < 3 || argc > 4) {
		snprintf(reply, size,
			 "error: usage: event ADDR start|stop|die|create [NAME]");
		return -EINVAL;
	}
	err = parse_range(s->fleet, argv[1], &lo, &hi);
	if (err)
		return range_error(err, argv[1], reply, size);
	if (argc == 4 && !valid_name(argv[3])) {
		snprintf(reply, size, "error: invalid container name");
		return -EINVAL;
	}
	for (i = lo; i <= hi; i++) {
		err = events_command(&s->fleet->engines[i], argv[2],
				     argc == 4 ? argv[3] : NULL, msg,
				     sizeof(msg));
		if (err) {
			snprintf(reply, size, "error: %s", msg);
			return err;
		}
	}
	if (lo == hi)
		snprintf(reply, size, "ok %s", msg);
	else
		snprintf(reply, size, "ok %s on %u engines", argv[2], hi - lo + 1);
	return 0;
}

static int cmd_stats(struct sim *s, char *reply, size_t size)
{
	const struct sim_stats *st = &s->stats;
	const uint64_t *r = st->requests;

	snprintf(reply, size, "{\"engines\":%u,\"connections\":%llu,"
		 "\"streams\":%llu,\"accepted\":%llu,\"rejected\":%llu,"
		 "\"requests\":{\"ping\":%llu,\"version\":%llu,\"info\":%llu,"
		 "\"containers\":%llu,\"inspect\":%llu,\"events\":%llu,"
		 "\"notfound\":%llu,\"bad\":%llu},\"events_sent\":%llu,"
		 "\"faults_active\":%u}",
		 s->fleet->count, (unsigned long long)st->conns_open,
		 (unsigned long long)st->streams_open,
		 (unsigned long long)st->accepted,
		 (unsigned long long)st->rejected,
		 (unsigned long long)r[API_PING],
		 (unsigned long long)r[API_VERSION],
		 (unsigned long long)r[API_INFO],
		 (unsigned long long)r[API_CONTAINERS],
		 (unsigned long long)r[API_INSPECT],
		 (unsigned long long)r[API_EVENTS],
		 (unsigned long long)r[API_NOTFOUND],
		 (unsigned long long)r[API_BAD],
		 (unsigned long long)st->events_sent, faults_active(s->fleet));
	return 0;
}

static void ctl_execute(struct sim *s, char *line, char *reply, size_t size)
{
	char *argv[CTL_ARGS_MAX + 1], *save = NULL, *tok;
	int argc = 0;

	for (tok = strtok_r(line, " \t\r", &save); tok;
	     tok = strtok_r(NULL, " \t\r", &save)) {
		if (argc == CTL_ARGS_MAX) {
			snprintf(reply, size, "error: too many arguments");
			return;
		}
		argv[argc++] = tok;
	}
	if (!argc)
		snprintf(reply, size, "error: empty command");
	else if (!strcmp(argv[0], "fault"))
		cmd_fault(s, argc, argv, reply, size);
	else if (!strcmp(argv[0], "clear"))
		cmd_clear(s, argc, argv, reply, size);
	else if (!strcmp(argv[0], "event"))
		cmd_event(s, argc, argv, reply, size);
	else if (!strcmp(argv[0], "stats") && argc == 1)
		cmd_stats(s, reply, size);
	else
		snprintf(reply, size, "error: unknown command: %s (fault clear "
			 "event stats)", argv[0]);
}

/* Replies are short; one that does not fit the socket drops the client. */
static int client_reply(struct ctl_client *cl, const char *reply)
{
	size_t len = strlen(reply);
	struct iovec iov[2] = {
		{ .iov_base = (void *)reply, .iov_len = len },
		{ .iov_base = "\n", .iov_len = 1 },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };

	return sendmsg(cl->io.fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT) ==
	       (ssize_t)len + 1 ? 0 : -EIO;
}

static void client_on_io(struct loop_io *io, uint32_t events)
{
	struct ctl_client *cl = container_of(io, struct ctl_client, io);
	char reply[CTL_REPLY_MAX];

	(void)events;
	for (;;) {
		ssize_t n = recv(io->fd, cl->line + cl->len,
				 sizeof(cl->line) - cl->len, 0);
		char *nl;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0)
			break;
		cl->len += n;
		while ((nl = memchr(cl->line, '\n', cl->len))) {
			size_t used = nl - cl->line + 1;

			*nl = '\0';
			/* Commands that change the fleet, for whoever reads the log. */
			if (strncmp(cl->line, "stats", 5))
				sim_log(cl->ctl->sim, "ctl: %s", cl->line);
			ctl_execute(cl->ctl->sim, cl->line, reply, sizeof(reply));
			if (client_reply(cl, reply))
				goto out;
			cl->len -= used;
			memmove(cl->line, cl->line + used, cl->len);
		}
		if (cl->len == sizeof(cl->line)) {
			client_reply(cl, "error: line too long");
			break;
		}
	}
out:
	client_close(cl);
}

static void ctl_on_io(struct loop_io *io, uint32_t events)
{
	struct ctl *ctl = container_of(io, struct ctl, io);
	struct ctl_client *cl;
	int fd;

	(void)events;
	for (;;) {
		fd = accept4(io->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			/* Out of descriptors: pause, or the loop would spin. */
			if (errno == EMFILE || errno == ENFILE) {
				loop_io_mod(ctl->sim->loop, io, 0);
				loop_timer_start(ctl->sim->loop, &ctl->retry,
						 CTL_RETRY_MS);
			}
			return;
		}
		cl = ctl->nr_clients < CTL_CLIENTS_MAX ?
			calloc(1, sizeof(*cl)) : NULL;
		if (!cl) {
			close(fd);
			continue;
		}
		cl->io.fd = fd;
		cl->ctl = ctl;
		if (loop_io_add(ctl->sim->loop, &cl->io, fd, LOOP_READ | LOOP_EDGE,
				client_on_io)) {
			close(fd);
			free(cl);
			continue;
		}
		list_add_tail(&cl->node, &ctl->clients);
		ctl->nr_clients++;
	}
}

static void ctl_resume(struct loop_timer *t)
{
	struct ctl *ctl = container_of(t, struct ctl, retry);

	loop_io_mod(ctl->sim->loop, &ctl->io, LOOP_READ);
}

static int ctl_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

int ctl_new(struct sim *s, const char *path, struct ctl **out)
{
	struct sockaddr_un sun;
	struct ctl *ctl;
	struct stat st;
	int err;

	err = ctl_addr(path, &sun);
	if (err)
		return err;
	ctl = calloc(1, sizeof(*ctl));
	if (!ctl)
		return -ENOMEM;
	ctl->sim = s;
	loop_timer_init(&ctl->retry, ctl_resume);
	list_init(&ctl->clients);
	ctl->path = strdup(path);
	ctl->io.fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (!ctl->path || ctl->io.fd < 0) {
		err = ctl->path ? -errno : -ENOMEM;
		goto err_free;
	}
	/* A socket left by an earlier run is replaced; any other file is not. */
	if (!lstat(path, &st) && S_ISSOCK(st.st_mode))
		unlink(path);
	if (bind(ctl->io.fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    listen(ctl->io.fd, 16)) {
		err = -errno;
		goto err_free;
	}
	err = loop_io_add(s->loop, &ctl->io, ctl->io.fd, LOOP_READ, ctl_on_io);
	if (err)
		goto err_unlink;
	*out = ctl;
	return 0;

err_unlink:
	unlink(path);
err_free:
	if (ctl->io.fd >= 0)
		close(ctl->io.fd);
	free(ctl->path);
	free(ctl);
	return err;
}

void ctl_free(struct ctl *ctl)
{
	struct list_head *pos, *tmp;

	if (!ctl)
		return;
	list_for_each_safe(pos, tmp, &ctl->clients)
		client_close(container_of(pos, struct ctl_client, node));
	loop_timer_stop(ctl->sim->loop, &ctl->retry);
	loop_io_del(ctl->sim->loop, &ctl->io);
	close(ctl->io.fd);
	unlink(ctl->path);
	free(ctl->path);
	free(ctl);
}

/* Sends argv joined by spaces; prints the reply; 0 unless it is "error: ...". */
int ctl_client(const char *path, int argc, char **argv)
{
	struct timeval tv = { .tv_sec = CTL_TIMEOUT_S };
	char line[CTL_LINE_MAX], reply[CTL_REPLY_MAX + 1];
	struct sockaddr_un sun;
	size_t len = 0, got = 0;
	int fd, i, err;
	char *nl = NULL;

	for (i = 0; i < argc; i++) {
		int n = snprintf(line + len, sizeof(line) - len, "%s%s",
				 i ? " " : "", argv[i]);

		if (n < 0 || (size_t)n >= sizeof(line) - len - 1) {
			fprintf(stderr, "enginesim ctl: command too long\n");
			return -E2BIG;
		}
		len += n;
	}
	line[len++] = '\n';
	err = ctl_addr(path, &sun);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) ||
	    send(fd, line, len, MSG_NOSIGNAL) != (ssize_t)len) {
		err = -errno;
		fprintf(stderr, "enginesim ctl: %s: %s\n", path, strerror(errno));
		goto out;
	}
	while (!nl && got < CTL_REPLY_MAX) {
		ssize_t n = recv(fd, reply + got, CTL_REPLY_MAX - got, 0);

		if (n <= 0)
			break;
		got += n;
		reply[got] = '\0';
		nl = strchr(reply, '\n');
	}
	if (!nl) {
		fprintf(stderr, "enginesim ctl: %s: no reply\n", path);
		err = -EIO;
		goto out;
	}
	*nl = '\0';
	printf("%s\n", reply);
	err = strncmp(reply, "error", 5) ? 0 : -EINVAL;
out:
	close(fd);
	return err;
}
