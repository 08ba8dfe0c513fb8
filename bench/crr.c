// SPDX-License-Identifier: GPL-2.0
/*
 * What the module costs a busy host's TCP, measured by bench/kmod.sh in the
 * test guest:
 *
 *   crr crr SECONDS   connect, a one-byte request and answer, close, over
 *                     loopback, as netperf's TCP_CRR: connections per second
 *   crr bulk MIB      one connection carrying MIB mebibytes: MiB per second
 *
 * Every connection passes the module's state-change hook twice (ESTABLISHED
 * on each side, where a policy is looked up) and its close hooks; the bulk
 * transfer passes its per-segment hooks. One line of figures on stdout.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"

/* Reserved in the bench's netns: never a client's ephemeral port. */
#define CRR_PORT	7101
#define BULK_PORT	7102
#define BULK_CHUNK	(64 * 1024)

static int die(const char *what)
{
	fprintf(stderr, "crr: %s: %s\n", what, strerror(errno));
	exit(1);
}

static int listener(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int one = 1, fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * A socket of the last run on this port may not be gone yet: wait
	 * for it, up to 10 s. (A client's TIME_WAIT on it, which lasts a
	 * minute, cannot happen: kmod.sh reserves both ports.)
	 */
	for (int tries = 0; bind(fd, (struct sockaddr *)&a, sizeof(a)); tries++) {
		if (errno != EADDRINUSE || tries == 100)
			die("bind");
		usleep(100 * 1000);
	}
	if (listen(fd, 128))
		die("listen");
	return fd;
}

static int dial(int port)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
	int fd;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	fd = socket(AF_INET, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	return fd;
}

/*
 * One process plays both ends: a loopback connect() completes in the
 * kernel, so the listener's accept() finds it at once. The client closes
 * first, as an HTTP client does; the guest's tcp_tw_reuse lets its ports
 * come back.
 */
static void crr(double seconds)
{
	uint64_t t0 = clock_mono_ms(), n = 0, ms;
	int lfd = listener(CRR_PORT);
	char c = 'q';

	do {
		int cfd = dial(CRR_PORT), sfd = accept(lfd, NULL, NULL);

		if (sfd < 0)
			die("accept");
		if (write(cfd, &c, 1) != 1 || read(sfd, &c, 1) != 1 ||
		    write(sfd, &c, 1) != 1 || read(cfd, &c, 1) != 1)
			die("request/answer");
		close(cfd);
		close(sfd);
		n++;
		ms = clock_mono_ms() - t0;
	} while (ms < seconds * 1000);
	close(lfd);
	printf("crr %llu connections in %llu ms: %.1f per second\n",
	       (unsigned long long)n, (unsigned long long)ms, n * 1000.0 / ms);
}

static void bulk(unsigned int mib)
{
	static char buf[BULK_CHUNK];
	uint64_t t0, ms, left = (uint64_t)mib << 20;
	int lfd = listener(BULK_PORT), fd, status;
	pid_t pid;

	pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		ssize_t r;

		fd = accept(lfd, NULL, NULL);
		if (fd < 0)
			die("accept");
		close(lfd);
		while ((r = read(fd, buf, sizeof(buf))) > 0)
			;
		_exit(r < 0);
	}
	close(lfd);
	fd = dial(BULK_PORT);
	t0 = clock_mono_ms();
	while (left) {
		ssize_t w = write(fd, buf, left < sizeof(buf) ? left : sizeof(buf));

		if (w <= 0)
			die("write");
		left -= w;
	}
	close(fd);
	if (waitpid(pid, &status, 0) != pid || status)
		die("receiver");
	ms = clock_mono_ms() - t0;
	printf("bulk %u MiB in %llu ms: %.1f MiB per second\n", mib,
	       (unsigned long long)ms, mib * 1000.0 / (ms ? ms : 1));
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "crr") && atof(argv[2]) > 0 &&
	    atof(argv[2]) <= 600) {
		crr(atof(argv[2]));
		return 0;
	}
	if (argc == 3 && !strcmp(argv[1], "bulk") && atoi(argv[2]) > 0 &&
	    atoi(argv[2]) <= 65536) {
		bulk(atoi(argv[2]));
		return 0;
	}
	fprintf(stderr, "usage: crr crr SECONDS (0-600] | crr bulk MIB (1-65536)\n");
	return 2;
}
