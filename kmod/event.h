/* SPDX-License-Identifier: GPL-2.0 */
#ifndef _PEERWATCH_EVENT_H
#define _PEERWATCH_EVENT_H

#include <net/sock.h>
#include <linux/peerwatch.h>

bool pw_event_listening(const struct sock *sk);
void pw_event_send(struct sock *sk, enum peerwatch_event event,
		   enum peerwatch_reason reason, int state);
void pw_event_stop(void);

#endif /* _PEERWATCH_EVENT_H */
