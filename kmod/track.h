/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_TRACK_H
#define _PEERWATCH_TRACK_H

#include <linux/atomic.h>
#include <net/sock.h>

#include "pernet.h"

/* Sockets in an episode, in every netns. */
extern atomic_t pw_track_count;

/* Cheap test for the per-packet hook: is any socket in an episode? */
static inline bool pw_track_any(void)
{
	return atomic_read(&pw_track_count) > 0;
}

/* The episode table of each netns: set up and freed with it. */
extern const struct pw_net_user pw_track_net_user;

int pw_track_add(const struct sock *sk, u64 cookie);
bool pw_track_del(const struct sock *sk);
bool pw_track_find(const struct sock *sk);
unsigned int pw_track_net_count(const struct net *net);

int pw_track_init(void);
void pw_track_exit(void);

#endif /* _PEERWATCH_TRACK_H */
