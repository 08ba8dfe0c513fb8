// SPDX-License-Identifier: GPL-2.0
/*
 * floor: the least a poller can do, for make bench to set peerwatchd's
 * CPU per poll against. One epoll loop, one keep-alive connection per
 * engine, the same GET /containers/json?all=1 sent again as soon as its
 * answer is whole; of the answer only the headers' end and Content-Length
 * are looked for, and the body's bytes counted. No parsing, no timers, no
 * state but the byte count.
 *
 *   floor --count N [--base ADDR] [--port PORT]
 *
 * Engine i (0..N-1) is at base + i, as enginesim numbers them. It prints
 * "floor: all N connected" once every connection is up, then runs until
 * SIGTERM. Any error ends it (exit 1): the bench's fleet does not fail.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST "GET /containers/json?all=1 HTTP/1.1\r\nHost: engine\r\n\r\n"
#define HEAD_MAX 4096

struct poller {
	int fd;
	size_t head_len;		/* header bytes held, until their end */
	long long body_left;		/* -1: in the headers */
	char head[HEAD_MAX];
};

static int die(const char *what)
{
	fprintf(stderr, "floor: %s: %s\n", what, strerror(errno));
	exit(1);
}

static void ask(struct poller *p)
{
	if (send(p->fd, REQUEST, sizeof(REQUEST) - 1, MSG_NOSIGNAL) !=
	    (ssize_t)sizeof(REQUEST) - 1)
		die("send");
	p->head_len = 0;
	p->body_left = -1;
}

/* Bytes of an answer: the headers' end, Content-Length, then counting. */
static void take(struct poller *p, const char *buf, size_t len)
{
	const char *end, *cl;
	size_t used;

	while (len) {
		if (p->body_left < 0) {
			used = len < HEAD_MAX - 1 - p->head_len ?
			       len : HEAD_MAX - 1 - p->head_len;
			memcpy(p->head + p->head_len, buf, used);
			p->head[p->head_len + used] = '\0';
			end = strstr(p->head, "\r\n\r\n");
			if (!end) {
				p->head_len += used;
				if (p->head_len == HEAD_MAX - 1)
					die("headers too long");
				return;
			}
			cl = strcasestr(p->head, "\r\nContent-Length:");
			if (!cl || cl > end)
				die("no Content-Length");
			used = (size_t)(end + 4 - p->head) - p->head_len;
			p->body_left = atoll(cl + 17);
			buf += used;
			len -= used;
		}
		used = (long long)len < p->body_left ? len : (size_t)p->body_left;
		p->body_left -= used;
		buf += used;
		len -= used;
		if (!p->body_left)
			ask(p);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "base", required_argument, NULL, 'b' },
		{ "port", required_argument, NULL, 'p' },
		{ 0 },
	};
	struct sockaddr_in sa = { .sin_family = AF_INET };
	struct epoll_event ev, evs[256];
	static char buf[65536];
	struct poller *ps;
	int n = 0, port = 2375, ep, i, k, c;
	in_addr_t base = inet_addr("127.1.0.1");
	ssize_t got;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n = atoi(optarg);
		else if (c == 'b')
			base = inet_addr(optarg);
		else if (c == 'p')
			port = atoi(optarg);
		else
			return 2;
	}
	if (n <= 0) {
		fprintf(stderr, "usage: floor --count N [--base ADDR] [--port PORT]\n");
		return 2;
	}
	ps = calloc(n, sizeof(*ps));
	ep = epoll_create1(0);
	if (!ps || ep < 0)
		die("setup");
	sa.sin_port = htons(port);
	for (i = 0; i < n; i++) {
		sa.sin_addr.s_addr = htonl(ntohl(base) + i);
		ps[i].fd = socket(AF_INET, SOCK_STREAM, 0);
		if (ps[i].fd < 0 ||
		    connect(ps[i].fd, (struct sockaddr *)&sa, sizeof(sa)))
			die("connect");
		ev.events = EPOLLIN;
		ev.data.ptr = &ps[i];
		if (epoll_ctl(ep, EPOLL_CTL_ADD, ps[i].fd, &ev))
			die("epoll_ctl");
		ask(&ps[i]);
	}
	printf("floor: all %d connected\n", n);
	fflush(stdout);
	for (;;) {
		k = epoll_wait(ep, evs, 256, -1);
		if (k < 0 && errno != EINTR)
			die("epoll_wait");
		for (i = 0; i < k; i++) {
			struct poller *p = evs[i].data.ptr;

			got = recv(p->fd, buf, sizeof(buf), 0);
			if (got <= 0)
				die("recv");
			take(p, buf, (size_t)got);
		}
	}
}
