// SPDX-License-Identifier: GPL-2.0
/*
 * What others ask of an engine without changing it (see engine.h): its
 * state's name, its host, its connections' cookies, and which engine
 * holds a cookie. Views, kernel events and tests read these; engine.c, which runs
 * the engine, only calls down here.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "container_of.h"
#include "engine.h"

const char *engine_state_name(enum engine_state s)
{
	static const char *const names[] = {
		[ENGINE_PENDING] = "pending",
		[ENGINE_HEALTHY] = "healthy",
		[ENGINE_SUSPECT] = "suspect",
		[ENGINE_UNHEALTHY] = "unhealthy",
		[ENGINE_DOWN] = "down",
		[ENGINE_REMOVED] = "removed",
	};

	return (unsigned int)s < ENGINE_NSTATES ? names[s] : "?";
}

const char *engine_host(const struct engine *e)
{
	return e->addr + strlen(e->addr) + 1;
}

uint64_t engine_cookie(const struct engine *e)
{
	return channel_cookie(&e->poll.ch);
}

uint64_t engine_events_cookie(const struct engine *e)
{
	return e->events ? channel_cookie(&e->events->ch) : 0;
}

struct engine *engine_by_cookie(struct engine_env *env, uint64_t cookie)
{
	struct channel *ch = channel_by_cookie(&env->chan, cookie);

	return ch ? container_of(ch, struct engine_chan, ch)->e : NULL;
}
