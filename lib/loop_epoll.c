// SPDX-License-Identifier: GPL-2.0
/*
 * The epoll backend of the event loop: the only file that speaks epoll,
 * translating the loop's readiness bits both ways.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "loop_backend.h"
#include "loop_events.h"

#define BACKEND_MAX_EVENTS 1024

struct loop_backend {
	int epfd;
	struct epoll_event events[BACKEND_MAX_EVENTS];
};

int backend_new(struct loop_backend **bp)
{
	struct loop_backend *b;

	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (b->epfd < 0) {
		int err = -errno;

		free(b);
		return err;
	}
	*bp = b;
	return 0;
}

void backend_free(struct loop_backend *b)
{
	if (!b)
		return;
	close(b->epfd);
	free(b);
}

static uint32_t to_epoll(uint32_t events)
{
	return (events & LOOP_READ ? EPOLLIN : 0) |
	       (events & LOOP_WRITE ? EPOLLOUT : 0) |
	       (events & LOOP_HANGUP ? EPOLLRDHUP : 0) |
	       (events & LOOP_EDGE ? EPOLLET : 0);
}

static uint32_t from_epoll(uint32_t events)
{
	return (events & EPOLLIN ? LOOP_READ : 0) |
	       (events & EPOLLOUT ? LOOP_WRITE : 0) |
	       (events & EPOLLRDHUP ? LOOP_HANGUP : 0) |
	       (events & (EPOLLERR | EPOLLHUP) ? LOOP_ERROR : 0);
}

static int ctl(struct loop_backend *b, int op, int fd, uint32_t events,
	       void *ptr)
{
	struct epoll_event ev = { .events = to_epoll(events), .data.ptr = ptr };

	return epoll_ctl(b->epfd, op, fd, &ev) ? -errno : 0;
}

int backend_add(struct loop_backend *b, int fd, uint32_t events, void *ptr)
{
	return ctl(b, EPOLL_CTL_ADD, fd, events, ptr);
}

int backend_mod(struct loop_backend *b, int fd, uint32_t events, void *ptr)
{
	return ctl(b, EPOLL_CTL_MOD, fd, events, ptr);
}

int backend_del(struct loop_backend *b, int fd)
{
	return ctl(b, EPOLL_CTL_DEL, fd, 0, NULL);
}

int backend_poll(struct loop_backend *b, struct loop_fired *fired, int max,
		 int timeout_ms)
{
	int i, n;

	if (max > BACKEND_MAX_EVENTS)
		max = BACKEND_MAX_EVENTS;
	n = epoll_wait(b->epfd, b->events, max, timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	for (i = 0; i < n; i++) {
		fired[i].ptr = b->events[i].data.ptr;
		fired[i].events = from_epoll(b->events[i].events);
	}
	return n;
}
