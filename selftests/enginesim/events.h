/* SPDX-License-Identifier: GPL-2.0 */
#ifndef ENGINESIM_EVENTS_H
#define ENGINESIM_EVENTS_H

#include <stddef.h>

struct conn;
struct engine;
struct fleet;

int events_subscribe(struct conn *c);
void events_unsubscribe(struct conn *c);
void events_init(struct fleet *f);
int events_command(struct engine *e, const char *action, const char *name,
		   char *reply, size_t size);

#endif
